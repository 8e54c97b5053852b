"""A tiny Invoke client for a running ``strata serve`` (``strata invoke`` and the stack engine use the server's warm
workers through it instead of cold-starting their own).

``http.client`` with one keep-alive connection per (thread, server): no boto3 import, no signing (the server only
listens on loopback unless it was given credentials). Lambda errors come back as the same ``LambdaError`` classes.
"""
from __future__ import annotations

import http.client
import json
import threading
from urllib.parse import quote, urlsplit

from strata.local.runtime.api import InvokeResult
from strata.model.lambda_errors import ERRORS_BY_CODE, LambdaError, ServiceException

_local = threading.local()


def _connection(url: str, timeout: float) -> http.client.HTTPConnection:
    pool: dict[str, http.client.HTTPConnection] = getattr(_local, "pool", None) or {}
    _local.pool = pool
    conn = pool.get(url)
    if conn is None:
        parts = urlsplit(url)
        if parts.hostname is None:
            raise ValueError(f"no host in the server URL {url!r}")
        conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
        pool[url] = conn
    conn.timeout = timeout
    return conn


def _drop(url: str) -> None:
    conn = getattr(_local, "pool", {}).pop(url, None)
    if conn is not None:
        conn.close()


def invoke_via_server(url: str, function_name: str, qualifier: str | None = None, payload: bytes = b"",
                      invocation_type: str = "RequestResponse", log_type: str = "None",
                      client_context: str | None = None, timeout: float = 960.0) -> InvokeResult:
    """POST ``.../functions/{name}/invocations`` on the server at ``url``; raises ``LambdaError`` on API errors."""
    path = f"/2015-03-31/functions/{quote(function_name, safe='')}/invocations"
    if qualifier:
        path += f"?Qualifier={quote(qualifier, safe='')}"
    headers = {"X-Amz-Invocation-Type": invocation_type, "X-Amz-Log-Type": log_type,
               "Content-Type": "application/json"}
    if client_context:
        headers["X-Amz-Client-Context"] = client_context
    while True:
        conn = _connection(url, timeout)
        reused = conn.sock is not None
        try:
            conn.request("POST", path, body=payload, headers=headers)
            response = conn.getresponse()
            body = response.read()
            break
        except (ConnectionError, http.client.BadStatusLine, http.client.CannotSendRequest) as exc:
            _drop(url)
            if not reused:  # only a kept-alive connection the server closed while idle is worth one more try
                raise ServiceException(f"strata server at {url} is not answering: {exc}") from exc
        except OSError:
            _drop(url)
            raise
    request_id = response.getheader("x-amzn-RequestId", "")
    if response.getheader("connection", "").lower() == "close":
        _drop(url)
    error_type = response.getheader("x-amzn-ErrorType")
    if error_type or response.status >= 400:
        raise _error(error_type, response.status, body)
    return InvokeResult(
        status_code=response.status,
        payload=body,
        executed_version=response.getheader("X-Amz-Executed-Version", ""),
        request_id=request_id,
        function_error=response.getheader("X-Amz-Function-Error"),
        log_result=response.getheader("X-Amz-Log-Result"),
    )


def _error(error_type: str | None, status: int, body: bytes) -> LambdaError:
    code = (error_type or "ServiceException").split(":", 1)[0]
    try:
        document = json.loads(body) if body else {}
    except ValueError:
        document = {}
    message = ""
    if isinstance(document, dict):
        message = str(document.get("message") or document.get("Message") or "")
    cls = ERRORS_BY_CODE.get(code)
    if cls is not None:
        return cls(message)
    error = LambdaError(message or f"HTTP {status}")
    error.code, error.status = code, status  # an error type this client has no class for keeps its wire code
    return error
