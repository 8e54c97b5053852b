"""The ASGI application: Lambda's REST API in front of a blocking ``dispatch(operation, params)``.

One request: (authenticate) -> route (model) -> read the body within its limit -> (verify signature) -> parse and
validate params (model) -> run ``dispatch`` in a thread pool -> serialize by the output shape. Invokes and control
operations run in separate pools, so handlers busy in every invoke thread never hold up ``CreateFunction`` and co.
Every response carries ``x-amzn-RequestId``; every failure is a Lambda-style error, and nothing a client sends can
raise out of here (an unexpected exception is a ``ServiceException`` 500 and is logged).
"""
from __future__ import annotations

import asyncio
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable
from urllib.parse import parse_qsl

from strata.lambda_.errors import LambdaError, ServiceException, UnsupportedMediaTypeException
from strata.server import limits
from strata.server.auth import SignedRequest, Verifier
from strata.server.errors import RequestTimeoutException, UnknownOperationException
from strata.server.model import ServiceSpec
from strata.server.request import HttpRequest, RequestReader
from strata.server.response import render, render_error
from strata.server.routes import RouteTable

log = logging.getLogger("strata.server")

Dispatch = Callable[[str, dict[str, Any]], dict[str, Any]]

INVOKE_OPERATIONS = frozenset({"Invoke", "InvokeAsync", "InvokeWithResponseStream"})

# Content types a body may be declared with: JSON in its spellings, and what clients send for raw payloads
# (botocore sends none for Invoke; curl sends form-urlencoded). Anything else is AWS's 415.
_ACCEPTED_MEDIA = frozenset({"", "application/json", "application/x-amz-json-1.0", "application/x-amz-json-1.1",
                             "application/octet-stream", "binary/octet-stream", "text/plain",
                             "application/x-www-form-urlencoded"})


class _ClientGone(Exception):
    """The client disconnected before its request was complete: there is nobody to answer."""


class LambdaApp:
    """ASGI callable. ``dispatch`` is blocking (the control plane and warm workers); it runs in thread pools."""

    def __init__(self, dispatch: Dispatch, spec: ServiceSpec, *, verifier: Verifier | None = None,
                 invoke_threads: int = 64, control_threads: int = 8, body_timeout: float = 30.0) -> None:
        self.dispatch = dispatch
        self.operations = spec.operations
        self.routes = RouteTable.from_spec(spec)
        self.reader = RequestReader(spec)
        self.verifier = verifier
        self.body_timeout = body_timeout
        self.invoke_pool = ThreadPoolExecutor(invoke_threads, thread_name_prefix="strata-invoke")
        self.control_pool = ThreadPoolExecutor(control_threads, thread_name_prefix="strata-control")

    def close(self) -> None:
        self.invoke_pool.shutdown(wait=False, cancel_futures=True)
        self.control_pool.shutdown(wait=False, cancel_futures=True)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return

    async def _http(self, scope: dict, receive: Callable, send: Callable) -> None:
        request_id = str(uuid.uuid4())
        close = False
        try:
            status, headers, body, request_id = await self._handle(scope, receive, request_id)
        except _ClientGone:
            return
        except RequestTimeoutException as exc:
            (status, headers, body), close = render_error(exc), True
        except LambdaError as exc:
            status, headers, body = render_error(exc)
            close = bool(getattr(exc, "close_connection", False))
        except Exception:  # a bug, not the client's fault: answer 500 and keep serving
            log.exception("internal error serving %s %s", scope.get("method"), scope.get("path"))
            status, headers, body = render_error(ServiceException("An internal error occurred."))
        raw = [(b"x-amzn-requestid", request_id.encode()), (b"content-length", str(len(body)).encode())]
        for name, value in headers:
            try:
                raw.append((name.encode("latin-1"), value.encode("latin-1")))
            except UnicodeEncodeError:  # a header that HTTP cannot carry is dropped, never fatal
                log.warning("dropped response header %s: not latin-1", name)
        if close:
            raw.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})

    async def _handle(self, scope: dict, receive: Callable, request_id: str
                      ) -> tuple[int, list[tuple[str, str]], bytes, str]:
        method = scope["method"]
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        raw_query = scope.get("query_string", b"").decode("latin-1")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        auth = self.verifier.precheck(headers) if self.verifier else None
        query = parse_qsl(raw_query, keep_blank_values=True) if raw_query else []
        found = self.routes.match(method, raw_path, query)
        if found is None:
            raise UnknownOperationException(f"No Lambda operation matches {method} {raw_path}")
        op = self.operations[found[0]]
        invocation_type = headers.get("x-amz-invocation-type")
        body = await self._read_body(receive, headers, op.name, invocation_type)
        if auth is not None:
            self.verifier.verify(SignedRequest(method, raw_path, raw_query, headers, body), auth)
        if body and (op.payload is not None or op.body):
            media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if media not in _ACCEPTED_MEDIA and not media.endswith("+json"):
                raise UnsupportedMediaTypeException(f"The content type '{media}' of the request body is not JSON.")
        params = self.reader.read(op, found[1], HttpRequest(method, raw_path, query, headers, body))
        pool = self.invoke_pool if op.name in INVOKE_OPERATIONS else self.control_pool
        result = await asyncio.get_running_loop().run_in_executor(pool, self.dispatch, op.name, params)
        meta = result.get("ResponseMetadata") if isinstance(result, dict) else None
        if isinstance(meta, dict) and isinstance(meta.get("RequestId"), str):
            request_id = meta["RequestId"]
        status, out_headers, out_body = render(op, result)
        return status, out_headers, out_body, request_id

    async def _read_body(self, receive: Callable, headers: dict[str, str], operation: str,
                         invocation_type: str | None) -> bytes:
        """The whole body, or AWS's 413 as soon as it is known to be too large (uvicorn discards the rest)."""
        limit = limits.body_limit(operation, invocation_type)
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            error = limits.too_large(operation, invocation_type, int(declared))
            error.close_connection = int(declared) > limits.DRAIN_CAP  # not worth reading all of it to discard it
            raise error
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.body_timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        raise _ClientGone
                    chunk = message.get("body", b"")
                    if chunk:
                        size += len(chunk)
                        if size > limit:
                            raise limits.too_large(operation, invocation_type, size)
                        chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            raise RequestTimeoutException(
                f"The client did not send the request body within {self.body_timeout:g} seconds.") from None
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)
