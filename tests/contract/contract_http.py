"""The contract suite's HTTP transport: a real boto3 client against ``strata serve``'s app on a loopback port.

One server (``strata.local.server.http`` on a thread, free port) per test session and worker; each test's
``LambdaService`` over its own home is swapped in as the app's dispatcher, so tests stay isolated while paying the
server start once.
"""
from __future__ import annotations

import atexit
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_lock = threading.Lock()
_shared: dict[str, Any] = {}


def _server() -> dict[str, Any]:
    with _lock:
        if not _shared:
            from strata.local.server.app import LambdaApp
            from strata.local.server.model import service_spec
            from strata.local.server.runner import run_in_thread

            app = LambdaApp(_unset, service_spec())
            served, stop = run_in_thread(app)
            atexit.register(stop)
            _shared.update(app=app, url=served.url)
        return _shared


def _unset(operation: str, params: dict[str, Any]) -> dict[str, Any]:
    raise AssertionError("no LambdaService is attached to the contract server")


class _WithoutMetadata:
    """The boto3 client, its results without ``ResponseMetadata`` (HTTP bookkeeping the suite compares around)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        if not callable(method):
            return method

        def call(**params: Any) -> Any:
            result = method(**params)
            if isinstance(result, dict):
                result.pop("ResponseMetadata", None)
            return result

        return call


@contextmanager
def over_http(home: Path) -> Iterator[Any]:
    """A boto3 Lambda client whose requests are served over HTTP by a ``LambdaService`` over ``home``."""
    import boto3
    from botocore.config import Config

    from strata.local.lambda_service.service import LambdaService
    from strata.local.server.operations import ServiceDispatch

    server = _server()
    service = LambdaService(home)
    server["app"].dispatch = ServiceDispatch(service)
    # no client-side validation (the suite sends what boto3 would refuse, to see the service's answer) and no retries
    config = Config(retries={"total_max_attempts": 1}, parameter_validation=False)
    client = boto3.client("lambda", endpoint_url=server["url"], region_name="us-east-1", aws_access_key_id="x",
                          aws_secret_access_key="x", config=config)
    try:
        yield _WithoutMetadata(client)
    finally:
        server["app"].dispatch = _unset
        client.close()
        service.close()
