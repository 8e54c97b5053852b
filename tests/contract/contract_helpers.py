"""Helpers for the Lambda contract suite (imported as ``contract_helpers``): the in-process client, error readers that
work for every transport, tiny zips, and a default function."""
from __future__ import annotations

import base64
import hashlib
import io
import re
import zipfile
from contextlib import contextmanager
from typing import Any

import pytest

ROLE = "arn:aws:iam::123456789012:role/lambda-role"
REGION = "us-east-1"
ACCOUNT = "123456789012"
ECHO = "def handler(event, context):\n    return event\n"
LAMBDA_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000")


class InProcessLambda:
    """boto3-like client over ``wire.dispatch``: ``lam.create_function(**params)`` -> ``dispatch("CreateFunction")``."""

    def __init__(self, service: Any) -> None:
        from strata.local.lambda_service.wire import OPERATIONS

        self.service = service
        self._operations = {method: operation for operation, method in OPERATIONS.items()}

    def __getattr__(self, name: str):
        from strata.local.lambda_service.wire import dispatch

        operation = self._operations.get(name)
        if operation is None:
            raise AttributeError(name)

        def call(**params: Any) -> dict[str, Any]:
            return dispatch(self.service, operation, params)

        return call


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:
        return response["Error"].get("Code", "")
    return getattr(exc, "code", type(exc).__name__)


def error_message(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:
        return response["Error"].get("Message", "")
    return getattr(exc, "message", str(exc))


@contextmanager
def fails(code: str, message: str | None = None, *, match: str | None = None):
    """Expect a Lambda error with ``code`` and exactly ``message`` (or a message matching regex ``match``)."""
    with pytest.raises(Exception) as info:
        yield info
    assert error_code(info.value) == code, (error_code(info.value), error_message(info.value))
    if message is not None:
        assert error_message(info.value) == message
    if match is not None:
        assert re.search(match, error_message(info.value)), error_message(info.value)


def make_zip(files: dict[str, str | bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in (files or {"app.py": ECHO}).items():
            zf.writestr(name, text)
    return buffer.getvalue()


def code_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def arn(name: str, qualifier: str | None = None) -> str:
    base = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    return f"{base}:{qualifier}" if qualifier else base


def layer_arn(name: str, version: int | None = None) -> str:
    base = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{name}"
    return f"{base}:{version}" if version is not None else base


def create(lam: Any, name: str = "fn", *, zip_bytes: bytes | None = None, **params: Any) -> dict[str, Any]:
    """A python3.12 function with an echo handler (``params`` override anything)."""
    request = {"FunctionName": name, "Role": ROLE, "Runtime": "python3.12", "Handler": "app.handler",
               "Code": {"ZipFile": zip_bytes if zip_bytes is not None else make_zip()}}
    request.update(params)
    return lam.create_function(**request)


def publish_layer(lam: Any, name: str = "shared", content: bytes | None = None, **params: Any) -> dict[str, Any]:
    zip_bytes = content if content is not None else make_zip({"python/shared.py": "VALUE = 1\n"})
    return lam.publish_layer_version(LayerName=name, Content={"ZipFile": zip_bytes}, **params)


def payload_of(response: dict[str, Any]) -> bytes:
    body = response.get("Payload", b"")
    return body.read() if hasattr(body, "read") else body
