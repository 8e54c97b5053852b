from __future__ import annotations

import pytest
from server_fakes import start_server

from strata.local.server.model import service_spec


@pytest.fixture(scope="session")
def spec():
    return service_spec()


@pytest.fixture(scope="module")
def server(spec):
    """A server on a free loopback port in front of the fake dispatcher (short body timeout for slow clients)."""
    s = start_server(spec, body_timeout=1.0)
    yield s
    s.fake.release.set()
    s.stop()


@pytest.fixture
def lam(server):
    import boto3
    from botocore.config import Config

    return boto3.client("lambda", endpoint_url=server.url, region_name="us-east-1", aws_access_key_id="x",
                        aws_secret_access_key="x", config=Config(retries={"max_attempts": 1}))
