"""A boto3-shaped result -> HTTP status, headers and body, by the operation's output shape.

Header members go to headers, the ``statusCode``-bound member (Invoke's ``StatusCode``) becomes the status, a payload
member is the raw body, and the remaining members are the JSON body (blobs base64, timestamps epoch seconds, as
rest-json wants). Members the model does not list (``ResponseMetadata``) are not sent. Errors become
``x-amzn-ErrorType`` + AWS's body.
"""
from __future__ import annotations

import base64
import json
import logging
from datetime import datetime
from typing import Any

from strata.local.server.model import OperationSpec
from strata.model.lambda_errors import LambdaError

JSON = "application/json"
log = logging.getLogger("strata.local.server")


def _default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":"), default=_default).encode()


def _header_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.strftime("%a, %d %b %Y %H:%M:%S GMT")
    return str(value)


Headers = list[tuple[bytes, bytes]]
_JSON_HEADER = (b"content-type", JSON.encode())
_names: dict[str, bytes] = {}


def _header(name: str, value: Any, headers: Headers) -> None:
    """Append ``name: value`` as HTTP bytes; a value HTTP cannot carry (not latin-1) is dropped, never fatal."""
    raw_name = _names.get(name)
    if raw_name is None:
        raw_name = _names[name] = name.encode("latin-1")
    try:
        headers.append((raw_name, (value if type(value) is str else _header_text(value)).encode("latin-1")))
    except UnicodeEncodeError:
        log.warning("dropped response header %s: not latin-1", name)


def render(op: OperationSpec, result: dict[str, Any]) -> tuple[int, Headers, bytes]:
    """``(status, headers, body)`` for a successful call, headers as HTTP bytes; the caller adds the request id."""
    status = op.status
    if op.out_status is not None:
        bound = result.get(op.out_status.name)
        if isinstance(bound, int) and not isinstance(bound, bool):
            status = bound
    headers: Headers = []
    for m in op.out_headers:
        value = result.get(m.name)
        if value is not None:
            _header(m.wire_name, value, headers)
    if status == 204:
        return status, headers, b""
    if op.out_payload is not None:
        payload = result.get(op.out_payload.name)
        if payload is None:
            return status, headers, b""
        if isinstance(payload, str):
            payload = payload.encode()
        elif not isinstance(payload, (bytes, bytearray)):
            payload = dumps(payload)
        headers.append(_JSON_HEADER)
        return status, headers, payload if type(payload) is bytes else bytes(payload)
    document = {m.wire_name: result[m.name] for m in op.out_body if result.get(m.name) is not None}
    if not document and op.output_shape is None:
        return status, headers, b""
    headers.append(_JSON_HEADER)
    return status, headers, dumps(document)


_FUNCTION_ERROR = b"X-Amz-Function-Error"
_LOG_RESULT = b"X-Amz-Log-Result"
_EXECUTED_VERSION = b"X-Amz-Executed-Version"


def render_invoke(result: Any) -> tuple[int, Headers, bytes]:
    """Invoke's response straight from the runtime's ``InvokeResult``: the same status, headers and body as
    ``render(Invoke, wire.invoke_result(result))`` (a test holds them equal), without the boto3-shaped dict and the
    walk over the output shape. The hot path of ``strata serve``."""
    status = result.status_code
    headers: Headers = []
    try:
        if result.function_error:
            headers.append((_FUNCTION_ERROR, result.function_error.encode("latin-1")))
        if result.log_result:
            headers.append((_LOG_RESULT, result.log_result.encode("latin-1")))
        if status == 200 and result.executed_version:
            headers.append((_EXECUTED_VERSION, result.executed_version.encode("latin-1")))
    except UnicodeEncodeError:       # not what the runtime makes; the generic path drops what HTTP cannot carry
        from strata.local.lambda_service.wire import invoke_result
        from strata.local.server.model import service_spec

        return render(service_spec().operations["Invoke"], invoke_result(result))
    if status == 204:
        return status, headers, b""
    headers.append(_JSON_HEADER)
    payload = result.payload
    return status, headers, payload if type(payload) is bytes else bytes(payload or b"")


def render_error(error: LambdaError) -> tuple[int, Headers, bytes]:
    """AWS's error response: status from the error, ``x-amzn-ErrorType`` and its JSON body (reference 1.2)."""
    headers: Headers = []
    _header("x-amzn-ErrorType", error.code, headers)
    headers.append(_JSON_HEADER)
    return error.status, headers, dumps(error.to_body())
