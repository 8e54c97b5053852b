"""The ASGI application: Lambda's REST API in front of a blocking ``dispatch(operation, params)``.

One request: (authenticate) -> route (model) -> read the body within its limit -> (verify signature) -> parse and
validate params (model) -> run ``dispatch`` in a thread pool -> serialize by the output shape. Invokes and control
operations run in separate pools, so handlers busy in every invoke thread never hold up ``CreateFunction`` and co.
Every response carries ``x-amzn-RequestId``; every failure is a Lambda-style error, and nothing a client sends can
raise out of here (an unexpected exception is a ``ServiceException`` 500 and is logged).

Invoke is the hot path. When the dispatcher has ``invoke_async(params, executor)`` (``ServiceDispatch`` does) it is
awaited on the event loop: a warm worker's reply is waited for there, with no thread hop, and only what blocks (a cold
start, a look-up missing the cache) goes to the invoke pool. At most ``invoke_threads`` invocations run at once either
way; the rest wait their turn in arrival order. Route matches are cached per (method, path, query), and Invoke's
params come from a precompiled reader (``RequestReader.read_parts``), so a warm Invoke walks no model.
"""
from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable
from urllib.parse import parse_qsl

from strata.lambda_.context import random_uuid
from strata.lambda_.errors import LambdaError, ServiceException, UnsupportedMediaTypeException
from strata.server import limits
from strata.server.auth import SignedRequest, Verifier
from strata.server.errors import RequestTimeoutException, UnknownOperationException
from strata.server.model import ServiceSpec
from strata.server.model import OperationSpec
from strata.server.request import RequestReader
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


_MATCH_CACHE_MAX = 1024


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
        self.invoke_slots = asyncio.Semaphore(invoke_threads)   # invocations at once, threads or not
        self._matches: dict[tuple[str, str, str], tuple[OperationSpec, dict[str, str], list]] = {}
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
        request_id = None
        close = False
        try:
            status, headers, body, request_id = await self._handle(scope, receive)
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
        headers[:0] = ((b"x-amzn-requestid", (request_id or random_uuid()).encode()),
                       (b"content-length", str(len(body)).encode()))
        if close:
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _match(self, method: str, raw_path: str, raw_query: str) -> tuple[OperationSpec, dict[str, str], list]:
        """``(operation, labels, parsed query)``, cached: a client calls the same few paths over and over."""
        key = (method, raw_path, raw_query)
        found = self._matches.get(key)
        if found is None:
            query = parse_qsl(raw_query, keep_blank_values=True) if raw_query else []
            match = self.routes.match(method, raw_path, query)
            if match is None:
                raise UnknownOperationException(f"No Lambda operation matches {method} {raw_path}")
            found = (self.operations[match[0]], match[1], query)
            if len(self._matches) >= _MATCH_CACHE_MAX:
                self._matches.clear()
            self._matches[key] = found
        return found

    async def _handle(self, scope: dict, receive: Callable
                      ) -> tuple[int, list[tuple[bytes, bytes]], bytes, str | None]:
        method = scope["method"]
        raw_path = scope.get("raw_path")
        raw_path = raw_path.decode("latin-1") if raw_path else scope["path"]
        raw_query = scope.get("query_string", b"").decode("latin-1")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        auth = self.verifier.precheck(headers) if self.verifier else None
        op, labels, query = self._match(method, raw_path, raw_query)
        name = op.name
        invocation_type = headers.get("x-amz-invocation-type")
        body = await self._read_body(receive, headers, name, invocation_type)
        if auth is not None:
            self.verifier.verify(SignedRequest(method, raw_path, raw_query, headers, body), auth)
        if body and (op.payload is not None or op.body):
            media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if media not in _ACCEPTED_MEDIA and not media.endswith("+json"):
                raise UnsupportedMediaTypeException(f"The content type '{media}' of the request body is not JSON.")
        params = self.reader.read_parts(op, labels, query, headers, body, method, raw_path)
        dispatch = self.dispatch
        if name in INVOKE_OPERATIONS:
            run = getattr(dispatch, "invoke_async", None) if name == "Invoke" else None
            async with self.invoke_slots:
                if run is not None:
                    result = await run(params, self.invoke_pool)
                else:
                    result = await asyncio.get_running_loop().run_in_executor(self.invoke_pool, dispatch, name,
                                                                              params)
        else:
            result = await asyncio.get_running_loop().run_in_executor(self.control_pool, dispatch, name, params)
        request_id = None
        meta = result.get("ResponseMetadata") if isinstance(result, dict) else None
        if isinstance(meta, dict) and isinstance(meta.get("RequestId"), str):
            request_id = meta["RequestId"]
        status, out_headers, out_body = render(op, result)
        return status, out_headers, out_body, request_id

    async def _read_body(self, receive: Callable, headers: dict[str, str], operation: str,
                         invocation_type: str | None) -> bytes:
        """The whole body, or AWS's 413 as soon as it is known to be too large (uvicorn discards the rest).

        The usual request arrived whole with its headers: its first ``receive()`` completes without waiting, and
        is run here by hand to see that. Only a ``receive()`` that has to wait gets the body timeout (arming and
        disarming a timer per request would cost more than the rest of reading the body)."""
        limit = limits.body_limit(operation, invocation_type)
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            error = limits.too_large(operation, invocation_type, int(declared))
            error.close_connection = int(declared) > limits.DRAIN_CAP  # not worth reading all of it to discard it
            raise error
        pending = receive()
        try:
            waiting_on = pending.send(None)
        except StopIteration as done:             # it did not have to wait
            message = done.value
            if message["type"] == "http.request" and not message.get("more_body", False):
                body = message.get("body", b"")
                if len(body) > limit:
                    raise limits.too_large(operation, invocation_type, len(body)) from None
                return body
            first = _Resume(None, message)
        else:
            first = _Resume(pending, waiting_on)
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.body_timeout):
                message = await first
                while True:
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
                    message = await receive()
        except TimeoutError:
            raise RequestTimeoutException(
                f"The client did not send the request body within {self.body_timeout:g} seconds.") from None
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)


class _Resume:
    """Awaiting it finishes a coroutine that was started by hand (``send(None)``) and is waiting on ``waiting_on``,
    under whatever the awaiting task is subject to (a timeout's cancellation is passed in). With ``coro`` None it
    just returns ``waiting_on`` (a result that was already there)."""

    __slots__ = ("coro", "waiting_on")

    def __init__(self, coro, waiting_on) -> None:  # noqa: ANN001 - a coroutine and what it yielded
        self.coro, self.waiting_on = coro, waiting_on

    def __await__(self):  # noqa: ANN204 - a generator, as the event loop's task protocol wants
        coro, waiting_on = self.coro, self.waiting_on
        if coro is None:
            return waiting_on
        while True:
            try:
                yield waiting_on              # the task waits on the coroutine's future, then resumes us
            except BaseException as exc:      # cancellation (the timeout) goes to the coroutine
                try:
                    waiting_on = coro.throw(exc)
                except StopIteration as done:
                    return done.value
                continue
            try:
                waiting_on = coro.send(None)
            except StopIteration as done:
                return done.value
