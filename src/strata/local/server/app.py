"""The Lambda API application: what a request means, in front of a blocking ``dispatch(operation, params)``.

``strata.local.server.http`` calls ``admit`` when a request's head is in: Host allowed -> not from a browser ->
(authenticate) -> route (model, cached per method, path and query) -> the body limit. Then ``respond`` with the body:
(verify signature, claim it against replays, drop unsigned headers) -> content type -> params (model) -> dispatch ->
serialize by the output shape. ``strata serve`` always gives the app a verifier and the hosts it answers to
(``runner.serve_home``); an app without them is for in-process tests and benchmarks. Invokes and control operations
run in separate thread pools, so handlers busy in every invoke thread never hold up ``CreateFunction`` and co. Every
response carries ``x-amzn-RequestId``; every failure is a Lambda-style error, and nothing a client sends can raise out
of here (an unexpected exception is a ``ServiceException`` 500 and is logged). Other AWS protocols share the port
through ``mounts`` (``json_protocol.JsonProtocol``: CodeDeploy's hook status): after the Host and browser checks, a
request a mount claims is admitted and answered by it.

Invoke is the hot path. When the dispatcher has ``invoke_async(params, executor)`` (``ServiceDispatch`` does) it is
awaited on the event loop: a warm worker's reply is waited for there, with no thread hop, and only what blocks (a cold
start, a look-up missing the cache) goes to the invoke pool. At most ``invoke_threads`` invocations run at once either
way; the rest wait their turn in arrival order. Invoke's params come from a precompiled reader
(``RequestReader.read_parts``), so a warm Invoke walks no model.
"""
from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol, cast
from urllib.parse import parse_qsl

from strata.errors import StrataError
from strata.local.lambda_service.context import random_uuid
from strata.local.server import limits
from strata.local.server.auth import AllowedHosts, Authorization, SignedRequest, Verifier, signed_headers_only
from strata.local.server.errors import (
    BrowserRequestException,
    MisdirectedRequestException,
    UnknownOperationException,
)
from strata.local.server.http import Deferred, Response
from strata.local.server.model import OperationSpec, ServiceSpec
from strata.local.server.request import RequestReader
from strata.local.server.response import render, render_error, render_invoke
from strata.local.server.routes import RouteTable
from strata.model.lambda_errors import LambdaError, ServiceException, UnsupportedMediaTypeException

if TYPE_CHECKING:
    from strata.local.runtime.api import OnDone

log = logging.getLogger("strata.local.server")

Dispatch = Callable[[str, dict[str, Any]], dict[str, Any]]


class Mount(Protocol):
    """Another protocol served beside Lambda's rest-json API (``json_protocol.JsonProtocol``): it claims a request
    by its head, after the app's Host and browser checks, and its admitted request answers itself."""

    def claims(self, method: str, raw_path: str, headers: dict[str, str]) -> bool: ...
    def admit(self, method: str, raw_path: str, raw_query: str, headers: dict[str, str],
              connection: object | None = None) -> MountedRequest: ...
    def close(self) -> None: ...


class MountedRequest(Protocol):
    limit: int

    def too_large(self, size: int) -> LambdaError: ...
    def respond(self, body: bytes) -> Response | Any: ...


class InvokeAsync(Protocol):
    """A dispatcher's optional Invoke for the event loop: ``dispatch("Invoke", params)``'s result, awaited; what
    blocks runs in ``executor``."""

    def __call__(self, params: dict[str, Any], executor: Executor | None = None) -> Awaitable[dict[str, Any]]: ...


class StartInvoke(Protocol):
    """A dispatcher's optional warm Invoke: started on the loop, ``on_done(invoke_result, error)`` called when it
    ends; False when it cannot start that way."""

    def __call__(self, params: dict[str, Any], on_done: OnDone, executor: Executor | None = None) -> bool: ...


INVOKE_OPERATIONS = frozenset({"Invoke", "InvokeAsync", "InvokeWithResponseStream"})

# Content types a body may be declared with: JSON in its spellings, and what clients send for raw payloads
# (botocore sends none for Invoke; curl sends form-urlencoded). Anything else is AWS's 415.
_ACCEPTED_MEDIA = frozenset({"", "application/json", "application/x-amz-json-1.0", "application/x-amz-json-1.1",
                             "application/octet-stream", "binary/octet-stream", "text/plain",
                             "application/x-www-form-urlencoded"})

_ACCEPTED_DECLARED: set[str] = set(_ACCEPTED_MEDIA)   # Content-Type values seen to be acceptable, as sent

# A web page can send these without asking the server first (a CORS "simple" request): never to the control plane
# (multipart/form-data, the third, is no JSON: a 415 anyway).
_FORM_MEDIA = ("text/plain", "application/x-www-form-urlencoded")
_BROWSER_HEADERS = ("origin", "sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest")
FROM_A_BROWSER = ("Requests from web pages are refused: the local Lambda API takes no cross-origin or browser "
                  "requests (no CORS). Use an AWS SDK or the AWS CLI (`eval \"$(strata env)\"`).")

_MATCH_CACHE_MAX = 1024
_REQUEST_ID = b"x-amzn-requestid"
_EXECUTED_VERSION = b"X-Amz-Executed-Version"
_JSON_CONTENT = (b"content-type", b"application/json")


class Admitted:
    """A request whose head passed: its operation, where its members are, and how large its body may be."""

    __slots__ = ("op", "labels", "query", "headers", "method", "raw_path", "raw_query", "auth", "invocation_type",
                 "limit", "connection")

    def __init__(self, op: OperationSpec, labels: dict[str, str], query: list, headers: dict[str, str], method: str,
                 raw_path: str, raw_query: str, auth: Authorization | None, invocation_type: str | None,
                 limit: int, connection: object | None = None) -> None:
        self.op, self.labels, self.query, self.headers = op, labels, query, headers
        self.method, self.raw_path, self.raw_query, self.auth = method, raw_path, raw_query, auth
        self.invocation_type, self.limit, self.connection = invocation_type, limit, connection


class LambdaApp:
    """The app ``strata.local.server.http.HttpServer`` serves. ``dispatch`` is blocking (the control plane and warm
    workers); it runs in thread pools, except Invoke through ``dispatch.invoke_async`` on the loop."""

    def __init__(self, dispatch: Dispatch, spec: ServiceSpec, *, verifier: Verifier | None = None,
                 allowed_hosts: AllowedHosts | None = None, invoke_threads: int = 64, control_threads: int = 8,
                 body_timeout: float = 30.0) -> None:
        self.dispatch = dispatch
        self.allowed_hosts = allowed_hosts        # the Host values answered; None: any (the runner sets it)
        self.operations = spec.operations
        self.routes = RouteTable.from_spec(spec)
        self.reader = RequestReader(spec)
        self.verifier = verifier
        self.body_timeout = body_timeout
        self.invoke_pool = ThreadPoolExecutor(invoke_threads, thread_name_prefix="strata-invoke")
        self.invoke_slots = _Slots(invoke_threads)              # invocations at once, threads or not
        # set by the HTTP server: renders a response head (before a warm invoke)
        self.head_renderer: Callable[[int, list[tuple[bytes, bytes]]], bytes] | None = None
        self._matches: dict[tuple[str, str, str], tuple[OperationSpec, dict[str, str], list[tuple[str, str]]]] = {}
        self.control_pool = ThreadPoolExecutor(control_threads, thread_name_prefix="strata-control")
        self.mounts: list[Mount] = []       # other protocols on the same port (CodeDeploy's JSON 1.1)

    @property
    def dispatch(self) -> Dispatch:
        return self._dispatch

    @dispatch.setter
    def dispatch(self, dispatch: Dispatch) -> None:
        """Swappable (the contract suite attaches each test's service to one server); its Invoke doors with it."""
        self._dispatch = dispatch
        self.invoke_async: InvokeAsync | None = getattr(dispatch, "invoke_async", None)
        self.start_invoke: StartInvoke | None = getattr(dispatch, "start_invoke", None)

    def close(self) -> None:
        self.invoke_pool.shutdown(wait=False, cancel_futures=True)
        self.control_pool.shutdown(wait=False, cancel_futures=True)
        for mount in self.mounts:
            mount.close()

    # -- the HTTP server's calls -------------------------------------------------------------------------------------

    def admit(self, method: str, raw_path: str, raw_query: str, headers: dict[str, str],
              connection: object | None = None) -> Admitted | MountedRequest:
        """The head is in: to us, not from a browser, who, which operation, how much body. Raises the
        ``LambdaError`` that is the answer. ``connection`` identifies the client's connection (replay check)."""
        allowed = self.allowed_hosts
        if allowed is not None:
            host = headers.get("host", "")
            if host not in allowed:
                raise MisdirectedRequestException(
                    f"This server does not answer to Host '{host[:100]}': use one of {allowed}.")
        for name in _BROWSER_HEADERS:
            if name in headers:
                raise BrowserRequestException(FROM_A_BROWSER)
        for mount in self.mounts:
            if mount.claims(method, raw_path, headers):
                return mount.admit(method, raw_path, raw_query, headers, connection)
        auth = self.verifier.precheck(headers) if self.verifier else None
        op, labels, query = self._match(method, raw_path, raw_query)
        if op.name not in INVOKE_OPERATIONS and headers.get("content-type", "").lower().startswith(_FORM_MEDIA):
            raise BrowserRequestException(FROM_A_BROWSER)
        invocation_type = headers.get("x-amz-invocation-type")
        limit = limits.body_limit(op.name, invocation_type)
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            size = int(declared)
            # past DRAIN_CAP not worth reading all of it to discard it: answer and close
            raise limits.too_large(op.name, invocation_type, size, close_connection=size > limits.DRAIN_CAP)
        return Admitted(op, labels, query, headers, method, raw_path, raw_query, auth, invocation_type, limit,
                        connection)

    def too_large(self, admitted: Admitted | MountedRequest, size: int) -> LambdaError:
        if not isinstance(admitted, Admitted):
            return admitted.too_large(size)
        return limits.too_large(admitted.op.name, admitted.invocation_type, size)

    def respond(self, admitted: Admitted | MountedRequest, body: bytes) -> Response | Any:
        """The response, or an awaitable of it when the operation has to wait (dispatch, a worker)."""
        if not isinstance(admitted, Admitted):
            return admitted.respond(body)
        try:
            op = admitted.op
            headers = admitted.headers
            auth = admitted.auth
            if auth is not None:                     # only a verifier's precheck makes one
                verifier = cast(Verifier, self.verifier)
                verifier.verify(SignedRequest(admitted.method, admitted.raw_path, admitted.raw_query, headers, body),
                                auth, admitted.connection)
                headers = signed_headers_only(headers, auth)    # act on nothing the signature does not cover
            if body and (op.payload is not None or op.body):
                declared = headers.get("content-type", "")
                if declared not in _ACCEPTED_DECLARED:
                    media = declared.split(";", 1)[0].strip().lower()
                    if media not in _ACCEPTED_MEDIA and not media.endswith("+json"):
                        raise UnsupportedMediaTypeException(
                            f"The content type '{media}' of the request body is not JSON.")
                    if len(_ACCEPTED_DECLARED) < 256:
                        _ACCEPTED_DECLARED.add(declared)      # clients send the same few spellings
            params = self.reader.read_parts(op, admitted.labels, admitted.query, headers, body, admitted.method,
                                            admitted.raw_path)
        except LambdaError as exc:
            return self.error_response(exc)
        except Exception as exc:  # noqa: BLE001 - answered as a 500; the server keeps serving
            return self.error_response(_service_error(exc, f"{admitted.method} {admitted.raw_path}"))
        name = op.name
        if name == "Invoke":
            start_invoke = self.start_invoke
            if start_invoke is not None:
                slots = self.invoke_slots
                if slots.try_take():
                    answer = self._start_invoke(start_invoke, op, params)
                    if answer is not None:
                        return answer
                elif self.invoke_async is not None:   # every slot busy: wait in line as a callback, no task
                    answer = _InvokeAnswer(self, op, params)
                    slots.wait(answer)
                    return answer
            if self.invoke_async is not None:
                return self._invoke_on_loop(op, params)
        pool = self.invoke_pool if name in INVOKE_OPERATIONS else self.control_pool
        return self._in_thread(op, params, pool, name in INVOKE_OPERATIONS)

    def error_response(self, error: LambdaError, request_id: str | None = None) -> Response:
        status, headers, body = render_error(error)
        headers.insert(0, (_REQUEST_ID, (request_id or random_uuid()).encode()))
        close = error.close_connection
        return status, headers, body, close

    # -- answering ---------------------------------------------------------------------------------------------------

    def _start_invoke(self, start_invoke: StartInvoke, op: OperationSpec,
                      params: dict[str, Any]) -> Response | Deferred | None:
        """The hot path, holding a slot: a warm worker's reply answers the request from the loop's reader callback,
        rendered straight from the runtime's ``InvokeResult``. None (slot given back) when the invocation cannot
        start that way."""
        answer = _InvokeAnswer(self, op)
        slots = self.invoke_slots
        answer.sole = slots.free == slots.size - 1    # nothing else runs: the runtime may wait for a quick reply
        try:
            started = start_invoke(params, answer, self.invoke_pool)
        except BaseException as exc:
            self.invoke_slots.give()
            return self._answer(op, None, exc)
        if not started:
            self.invoke_slots.give()
            return None
        return answer

    def _start_queued(self, answer: _InvokeAnswer, params: dict[str, Any]) -> None:
        """A queued Invoke's turn (``answer`` holds a slot now): on the hot path when the warm worker is free, else
        as ``_invoke_on_loop`` with the slot it holds. Called from ``_Slots.give``: never raises."""
        op = answer.op
        try:
            # only queued (``respond``) when the dispatcher has start_invoke
            started = cast(StartInvoke, self.start_invoke)(params, answer, self.invoke_pool)
        except BaseException as exc:  # noqa: BLE001 - the caller's answer
            self.invoke_slots.give()
            answer.resolve(self._answer(op, None, exc))
            return
        if not started:
            task = asyncio.ensure_future(self._invoke_on_loop(op, params, holding=True))
            _waiting.add(task)                 # the loop keeps only a weak reference to a task
            task.add_done_callback(answer.resolve_task)

    async def _invoke_on_loop(self, op: OperationSpec, params: dict[str, Any], holding: bool = False) -> Response:
        """Invoke that has to wait: for a slot (unless ``holding`` one), a cold start, a resolution the cache does not
        hold."""
        slots = self.invoke_slots
        try:
            if not holding:
                await slots.take()
            try:
                result = None
                if self.start_invoke is not None:      # the slot came free: the warm worker may be idle now
                    waiter = asyncio.get_running_loop().create_future()
                    if self.start_invoke(params, lambda out, error: _settle(waiter, out, error), self.invoke_pool):
                        return _invoke_response(await waiter)     # the runtime's InvokeResult
                # called (``respond``, ``_start_queued``) only when the dispatcher has invoke_async
                result = await cast(InvokeAsync, self.invoke_async)(params, self.invoke_pool)
            finally:
                slots.give()
        except BaseException as exc:
            return self._answer(op, None, exc)
        return self._answer(op, result, None)

    def _answer(self, op: OperationSpec, result: Any, error: BaseException | None) -> Response:
        """The response for an operation's outcome; never raises (a bug is a logged 500)."""
        if error is None:
            try:
                return self._rendered(op, result)
            except Exception as exc:  # noqa: BLE001 - rendered below
                error = exc
        if isinstance(error, LambdaError):
            return self.error_response(error)
        if not isinstance(error, Exception):
            raise error                # cancellation, interpreter exit: not an answer
        return self.error_response(_service_error(error, op.name))

    async def _in_thread(self, op: OperationSpec, params: dict[str, Any], pool: ThreadPoolExecutor,
                         counted: bool) -> Response:
        loop = asyncio.get_running_loop()
        try:
            if counted:
                await self.invoke_slots.take()
                try:
                    result = await loop.run_in_executor(pool, self.dispatch, op.name, params)
                finally:
                    self.invoke_slots.give()
            else:
                result = await loop.run_in_executor(pool, self.dispatch, op.name, params)
            return self._rendered(op, result)
        except LambdaError as exc:
            return self.error_response(exc)
        except Exception as exc:  # noqa: BLE001 - answered as a 500; the server keeps serving
            return self.error_response(_service_error(exc, op.name))

    def _rendered(self, op: OperationSpec, result: Any) -> Response:
        request_id = None
        meta = result.get("ResponseMetadata") if isinstance(result, dict) else None
        if isinstance(meta, dict) and isinstance(meta.get("RequestId"), str):
            request_id = meta["RequestId"]
        status, headers, body = render(op, result)
        headers.insert(0, (_REQUEST_ID, (request_id or random_uuid()).encode()))
        return status, headers, body, False

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


class _InvokeAnswer(Deferred):
    """The hot path's answer: ``Deferred`` for the HTTP server, and the ``on_done(result, error)`` the runtime calls
    when the invocation ends (one object per request, no closure). Gives the slot back, then resolves.

    With ``params`` it is also an Invoke waiting in line for a slot (``_Slots.wait``): ``set_result`` is its turn,
    which starts it (``LambdaApp._start_queued``). The runtime gives the environment back before ``on_done``, and
    ``succeeded`` gives the slot back before writing its answer, so the next in line is sent to the warm worker
    first and the worker runs it while this answer is written."""

    __slots__ = ("app", "op", "params", "sole")

    def __init__(self, app: LambdaApp, op: OperationSpec, params: dict[str, Any] | None = None) -> None:
        Deferred.__init__(self)
        self.app, self.op, self.params = app, op, params
        # the only invocation the server runs, started from a request (never from a slot's hand-over, which happens
        # while the previous answer waits to be written): the runtime may poll for its reply before the loop sleeps
        self.sole = False

    # -- waiting in line (``_Slots``): future-like ------------------------------------------------------------------

    def done(self) -> bool:
        """Its turn came, or its client went away first: nothing more to hand it."""
        return self.params is None

    def set_result(self, _: None) -> None:
        params, self.params = self.params, None
        self.app._start_queued(self, cast("dict[str, Any]", params))     # ``_Slots`` hands turns only to undone

    def cancel(self) -> None:
        """The client went away: an Invoke still in line never runs (one already running runs to its end)."""
        self.params = None

    def resolve_task(self, task: asyncio.Future) -> None:
        """The answer of ``_invoke_on_loop`` (the turn could not start on the hot path)."""
        _waiting.discard(task)
        if task.cancelled():                  # the server is stopping
            self.resolve(self.app.error_response(ServiceException("The server is shutting down.")))
        else:
            self.resolve(task.result())       # _invoke_on_loop answers every error itself

    def started(self, request_id: str, version: str) -> None:
        """The invocation runs (the runtime's hook, right after the request went to the worker): a plain success
        will be 200 with these headers, rendered now, while the worker works, so the reply only adds the body."""
        self.expect(200, [(_REQUEST_ID, request_id.encode()), (_EXECUTED_VERSION, version.encode("latin-1")),
                          _JSON_CONTENT], self.app.head_renderer)

    def succeeded(self, payload: bytes) -> bool:
        """A plain success (200, no function error, no log tail): the expected head and this body. False when
        ``started`` was not heard (the runtime then calls ``__call__`` with the whole result)."""
        if self.expected is None:
            return False
        self.app.invoke_slots.give()
        self.resolve_body(payload)            # as render_invoke would answer (a test holds them equal)
        return True

    def __call__(self, result: Any, error: BaseException | None) -> None:
        app = self.app
        app.invoke_slots.give()
        expected = self.expected
        if (error is None and expected is not None and result.status_code == 200 and result.function_error is None
                and result.log_result is None and type(result.payload) is bytes):
            self.resolve_body(result.payload)         # as render_invoke would answer (a test holds them equal)
            return
        if error is None:
            try:
                self.resolve(_invoke_response(result))
                return
            except Exception as exc:  # noqa: BLE001 - answered below
                error = exc
        self.resolve(app._answer(self.op, None, error))


def _service_error(error: Exception, serving: str) -> ServiceException:
    """A 500 for what is not the client's fault. A strata error (damaged or full state storage, ...) says what and
    how to fix it, as the CLI would; anything else is a bug, logged with its traceback and answered generically."""
    if isinstance(error, StrataError):
        log.error("serving %s: %s", serving, error.render())
        return ServiceException(" ".join(line.strip() for line in error.render().splitlines()))
    log.error("internal error serving %s", serving, exc_info=error)
    return ServiceException("An internal error occurred.")


def _invoke_response(result: Any) -> Response:
    """Invoke's response for the runtime's ``InvokeResult``, its request id the invocation's own."""
    status, headers, body = render_invoke(result)
    headers.insert(0, (_REQUEST_ID, (result.request_id or random_uuid()).encode()))
    return status, headers, body, False


def _settle(waiter: asyncio.Future, result: Any, error: BaseException | None) -> None:
    if waiter.done():
        return
    if error is not None:
        waiter.set_exception(error)
    else:
        waiter.set_result(result)


_waiting: set[asyncio.Future[Response]] = set()      # tasks of queued Invokes that could not start on the hot path


class _Waiter(Protocol):
    """Future-like, for ``_Slots``: an asyncio future, or a queued Invoke's answer."""

    def done(self) -> bool: ...
    def set_result(self, result: None, /) -> None: ...


class _Slots:
    """At most ``n`` invocations at once, first come first served. Taking a free slot is a plain call (the hot
    path has no coroutine to await in); a waiter is handed the slot of the invocation that ends. A waiter is
    future-like (``done()``, ``set_result(None)``): an asyncio future (``take``), or a queued Invoke's answer
    (``wait``), whose ``set_result`` starts it right there."""

    __slots__ = ("size", "free", "waiters", "giving")

    def __init__(self, n: int) -> None:
        self.size = n
        self.free = n
        self.waiters: collections.deque[_Waiter] = collections.deque()
        self.giving = False

    def try_take(self) -> bool:
        if self.free > 0 and not self.waiters:
            self.free -= 1
            return True
        return False

    def wait(self, waiter: _Waiter) -> None:
        """Queue ``waiter`` for the next free slot (the caller found none: ``try_take`` was False)."""
        self.waiters.append(waiter)
        self._hand_out()

    async def take(self) -> None:
        if self.try_take():
            return
        waiter = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.give()            # handed over just as we were cancelled: pass it on
            raise

    def give(self) -> None:
        """A slot comes free: to the first waiter still waiting, else back to the pool. A waiter's ``set_result`` may
        give a slot back at once (its Invoke failed to start): handed on by the loop here, not by recursion."""
        self.free += 1
        self._hand_out()

    def _hand_out(self) -> None:
        if self.giving:
            return
        self.giving = True
        try:
            waiters = self.waiters
            while self.free > 0 and waiters:
                waiter = waiters.popleft()
                if not waiter.done():
                    self.free -= 1
                    waiter.set_result(None)
        finally:
            self.giving = False
