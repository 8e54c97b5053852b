"""A tiny Invoke client for a running ``strata serve`` (``strata invoke`` and the stack engine use the server's warm
workers through it instead of cold-starting their own).

``http.client`` with one keep-alive connection per (thread, server), no boto3 import. Requests are SigV4-signed with
the home's credentials for the server's region (``discovery.connect`` finds both), as the server requires of every
request. Lambda errors come back as the same ``LambdaError`` classes.
"""
from __future__ import annotations

import http.client
import json
import threading
from urllib.parse import quote, urlsplit

from strata.local.discovery import ServerAccess
from strata.local.runtime.api import InvokeResult
from strata.local.server.auth import sign
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


def invoke_via_server(server: ServerAccess | str, function_name: str, qualifier: str | None = None,
                      payload: bytes = b"", invocation_type: str = "RequestResponse", log_type: str = "None",
                      client_context: str | None = None, timeout: float = 960.0) -> InvokeResult:
    """POST ``.../functions/{name}/invocations`` on ``server`` (signed when it comes with credentials; a bare URL
    is for an app without a verifier); raises ``LambdaError`` on API errors."""
    url = server if isinstance(server, str) else server.url
    path = f"/2015-03-31/functions/{quote(function_name, safe='')}/invocations"
    query = f"Qualifier={quote(qualifier, safe='')}" if qualifier else ""
    headers = {"X-Amz-Invocation-Type": invocation_type, "X-Amz-Log-Type": log_type,
               "Content-Type": "application/json"}
    if client_context:
        headers["X-Amz-Client-Context"] = client_context
    target = path + (f"?{query}" if query else "")
    while True:
        conn = _connection(url, timeout)
        reused = conn.sock is not None
        sent = headers
        if not isinstance(server, str) and server.credentials is not None:   # afresh per attempt: no replays
            sent = sign(server.credentials, server.region, "POST", urlsplit(url).netloc, path, query, headers,
                        payload)
        try:
            conn.request("POST", target, body=payload, headers=sent)
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
