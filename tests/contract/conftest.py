"""The Lambda contract suite runs once per transport in ``TRANSPORTS``.

A transport is a context manager factory ``(home: Path) -> client``: the client has boto3's Lambda client methods
(``lam.create_function(FunctionName=..., ...)``) returning boto3-shaped dicts and raising an exception that
``contract_helpers.error_code`` / ``error_message`` can read (a Lambda error, or botocore's ``ClientError``).
To add a transport (e.g. "http": a real boto3 client against ``strata serve``), add one entry to ``TRANSPORTS``.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from contract_helpers import InProcessLambda
from contract_http import over_http


@contextmanager
def in_process(home: Path) -> Iterator[Any]:
    """``strata.local.lambda_service.wire.dispatch`` called directly on a ``LambdaService`` over ``home``."""
    from strata.local.lambda_service.service import LambdaService

    service = LambdaService(home)
    try:
        yield InProcessLambda(service)
    finally:
        service.close()


TRANSPORTS: dict[str, Callable[[Path], AbstractContextManager[Any]]] = {
    "inprocess": in_process,
    "http": over_http,
}


@pytest.fixture(params=list(TRANSPORTS))
def lam(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    with TRANSPORTS[request.param](tmp_path / "home") as client:
        yield client
