"""One API's listener: the request pipeline of API Gateway in front of the local Lambda service.

``admit`` (the head is in): Host guard (127.0.0.1/localhost with this listener's port: DNS rebinding; no SigV4, API
Gateway endpoints are public) -> CORS preflight (answered by the gateway) -> route (404/403 as API Gateway answers a
missing one) -> the 10 MB body limit. ``respond`` (the body is in): the event for the route's payload version ->
[authorizer, when the route has one] -> Invoke of the integration's ARN through the service's warm path (the same one
Lambda's Invoke takes, so an alias's weights split HTTP traffic too), bounded by the integration timeout (504) ->
the function's answer as HTTP (502 when it failed or is malformed; 6 MB cap) + CORS headers -> one access-log line.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from strata.local.gateway import auth_hook, cors, payloads
from strata.local.gateway.authorizers import Authorizers, AuthOutcome
from strata.local.gateway.jwks import JwksSource
from strata.local.gateway.model import REQUEST_LIMIT, RESPONSE_LIMIT, Api, Route
from strata.local.gateway.routes import RouteTable
from strata.local.lambda_service.context import random_uuid
from strata.local.server.http import Deferred, Response
from strata.model.lambda_errors import LambdaError

log = logging.getLogger("strata.local.gateway")

INTERNAL_ERROR = "Internal server error"
TIMED_OUT = "Endpoint request timed out"


class GatewayError(LambdaError):
    """An answer of the gateway itself: ``{"message": ...}`` with ``status``."""

    code = "GatewayError"
    message_key = "message"

    def __init__(self, status: int, message: str, close: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.close_connection = close


@dataclass
class Invoker:
    """The local Lambda service's Invoke as the gateway uses it: the warm path on the loop (``start_invoke``), else
    ``invoke_async``; ``slots`` bound invocations at once together with Lambda's API on the same server."""

    service: Any
    slots: Any
    pool: Executor | None = None

    async def invoke(self, function: str, payload: bytes) -> Any:
        """One RequestResponse invocation of ``function`` (a name or ARN, qualified or not) holding an invoke slot:
        the runtime's ``InvokeResult`` (``payload``, ``function_error``, ``executed_version``). For the gateway's own
        calls outside a route's integration (Lambda authorizers)."""
        await self.slots.take()
        try:
            return await self.service.invoke_async(function, payload=payload, executor=self.pool)
        finally:
            self.slots.give()


class _Admitted:
    __slots__ = ("answer", "route", "params", "method", "raw_path", "raw_query", "headers", "raw_headers", "peer",
                 "started", "limit")

    def __init__(self, answer: Response | None, route: Route | None, params: dict[str, str], method: str,
                 raw_path: str, raw_query: str, headers: dict[str, str], raw_headers: list[tuple[str, str]],
                 peer: str) -> None:
        self.answer, self.route, self.params, self.method = answer, route, params, method
        self.raw_path, self.raw_query, self.headers, self.raw_headers = raw_path, raw_query, headers, raw_headers
        self.peer = peer
        self.started = time.monotonic()
        self.limit = REQUEST_LIMIT


class GatewayApp:
    """The app ``HttpServer`` serves for one API stage or function URL (``api``, swappable on redeploy)."""

    def __init__(self, api: Api, invoker: Invoker, port: int, *,
                 access_log: Callable[[str], None] | None = None, authorizers: Authorizers | None = None,
                 jwks: JwksSource | None = None) -> None:
        self.invoker = invoker
        self.port = port
        self.allowed_hosts = frozenset({f"127.0.0.1:{port}", f"localhost:{port}"})
        self.access_log = access_log
        self.authorizers = authorizers if authorizers is not None else Authorizers(invoker.invoke, jwks)
        self.head_renderer: Any = None
        self.body_timeout = 30.0
        self.api = api

    @property
    def api(self) -> Api:
        return self._api

    @api.setter
    def api(self, api: Api) -> None:
        self._api = api
        self.table = RouteTable(api)
        self.auth_specs = auth_hook.specs(api)
        self.v1 = api.kind == "REST"

    # -- the server's interface --------------------------------------------------------------------------------------

    def admit(self, method: str, path: str, query: str, headers: dict[str, str], connection: object) -> _Admitted:
        if headers.get("host", "").lower() not in self.allowed_hosts:
            raise GatewayError(421, f"This local endpoint answers only to Host 127.0.0.1:{self.port} or "
                                    f"localhost:{self.port}.", close=True)
        raw = getattr(connection, "raw_headers", None)
        raw_headers = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in raw] if raw is not None else \
            list(headers.items())
        # the source address: these ports listen on 127.0.0.1 only
        admitted = _Admitted(None, None, {}, method, path, query, headers, raw_headers, "127.0.0.1")
        api = self._api
        if api.cors is not None and cors.is_preflight(method, headers):
            admitted.answer = (204, _encode(cors.preflight(api.cors, headers)), b"", False)
            return admitted
        if api.kind == "REST" and method == "OPTIONS":
            mock = self.table.preflight(path)
            if mock is not None and mock.mock_cors is not None:
                admitted.answer = (200, _encode([*cors.mock_preflight(mock.mock_cors),
                                                 ("content-type", "application/json")]), b"{}", False)
                return admitted
        found = self.table.match(method, path)
        if found is None:
            admitted.answer = self._error(404, "Not Found", headers) if api.kind != "REST" else \
                self._error(403, "Missing Authentication Token", headers)
            return admitted
        admitted.route, admitted.params = found
        return admitted

    def too_large(self, admitted: _Admitted, size: int) -> LambdaError:
        return GatewayError(413, "Request Entity Too Large")

    def error_response(self, error: LambdaError) -> Response:
        status = error.status if isinstance(error, GatewayError) else 500
        message = error.message if isinstance(error, GatewayError) else INTERNAL_ERROR
        return (status, [(b"content-type", b"application/json")], json.dumps({"message": message}).encode(),
                error.close_connection)

    def respond(self, admitted: _Admitted, body: bytes) -> Any:
        if admitted.answer is not None:
            self._log(admitted, admitted.answer[0], "-")
            return admitted.answer
        route = admitted.route
        assert route is not None
        request = payloads.Request(admitted.method, admitted.raw_path, admitted.raw_query, admitted.headers,
                                   admitted.raw_headers, body, admitted.peer, random_uuid(), time.time())
        if route.integration is None:
            message = route.unsupported or "no integration"
            log.warning("%s %s: %s", admitted.method, admitted.raw_path, message)
            return self._finish(admitted, self._error(500, INTERNAL_ERROR, admitted.headers), "-")
        if route.authorizer is not None:
            return self._authorized(admitted, route, request)
        return self._invoke(admitted, route, request, None)

    # -- the pipeline ------------------------------------------------------------------------------------------------

    async def _authorized(self, admitted: _Admitted, route: Route, request: payloads.Request) -> Response:
        api = self._api
        spec = self.auth_specs.get(str(route.authorizer))
        if spec is None:        # a Cognito user pool authorizer: not enforced locally (announced per API)
            outcome = AuthOutcome(200)
        else:
            auth_request = auth_hook.auth_request(api, route, request, admitted.params, spec)
            # -- the authorizer call site --
            outcome = await self.authorizers.check(spec, auth_request)
        if outcome.status != 200:
            log.info("%s %s: %s", admitted.method, admitted.raw_path, outcome.error)
            return self._finish(admitted, self._auth_refusal(outcome, admitted.headers), "-")
        answer = self._invoke(admitted, route, request, outcome.context if spec is not None else None)
        if isinstance(answer, Deferred):
            waiter: asyncio.Future[Response] = asyncio.get_running_loop().create_future()

            def settle(response: Response) -> None:
                if not waiter.done():
                    waiter.set_result(response)

            answer.then(settle)
            return await waiter
        if isinstance(answer, tuple):
            return answer
        return await answer

    def _invoke(self, admitted: _Admitted, route: Route, request: payloads.Request,
                authorizer: dict[str, Any] | None) -> Any:
        api = self._api
        integration = route.integration
        assert integration is not None
        if integration.payload_version == "2.0":
            event = payloads.event_v2(api, route, request, admitted.params, authorizer)
        else:
            event = payloads.event_v1(api, route, request, admitted.params, authorizer)
        payload = _dumps(event).encode()
        answer = _Answer(self, admitted, integration.payload_version == "2.0",
                         integration.function_name.split(":", 1)[0])
        # the integration timeout: armed before the invocation starts (a reply may come before ``start`` returns),
        # cancelled by the reply
        answer.timer = asyncio.get_running_loop().call_later(integration.timeout_ms / 1000, answer.timed_out)
        answer.queued = (integration.function_arn, payload)
        slots = self.invoker.slots
        if slots.try_take():
            answer.sole = slots.free == slots.size - 1
            answer.set_result(None)
        else:                     # every invoke slot busy: wait in line (as Lambda API's Invokes do), no task
            slots.wait(answer)
        return answer

    def start(self, answer: _Answer) -> None:
        """``answer``'s turn (it holds a slot): the warm worker's hot path when it can go that way, else
        ``invoke_async`` in a task. Never raises: every failure is the answer's."""
        function, payload = answer.taken
        answer.holding = True
        invoker = self.invoker
        start = getattr(invoker.service, "start_invoke", None)
        if start is not None:
            try:
                if start(function, None, payload, "RequestResponse", "None", None, answer, invoker.pool):
                    return
            except BaseException as exc:  # noqa: BLE001 - answered
                answer(None, exc)
                return
        task = asyncio.ensure_future(self._invoke_async(answer, function, payload))
        _running.add(task)
        task.add_done_callback(_running.discard)

    async def _invoke_async(self, answer: _Answer, function: str, payload: bytes) -> None:
        try:
            result = await self.invoker.service.invoke_async(function, payload=payload, executor=self.invoker.pool)
        except BaseException as exc:  # noqa: BLE001 - answered
            answer(None, exc)
            return
        answer(result, None)

    # -- answers -----------------------------------------------------------------------------------------------------

    def _auth_refusal(self, outcome: AuthOutcome, headers: dict[str, str]) -> Response:
        """An authorizer's 401/403/500 with API Gateway's body for it, its extra headers and CORS."""
        out = [("content-type", "application/json"), *outcome.headers.items()]
        if self._api.cors is not None:
            out += cors.response_headers(self._api.cors, headers)
        body = (outcome.message or json.dumps({"message": INTERNAL_ERROR})).encode()
        return outcome.status, _encode(out), body, False

    def _error(self, status: int, message: str, headers: dict[str, str]) -> Response:
        out = [(b"content-type", b"application/json")]
        api = self._api
        if api.cors is not None:
            out += _encode(cors.response_headers(api.cors, headers))
        return status, out, json.dumps({"message": message}).encode(), False

    def answer_for(self, admitted: _Admitted, v2: bool, result: Any, error: BaseException | None) -> Response:
        """The HTTP answer for an invocation's outcome; never raises."""
        if error is not None:
            if isinstance(error, Exception):
                log.warning("%s %s: the integration failed: %s", admitted.method, admitted.raw_path, error)
                return self._error(502 if isinstance(error, LambdaError) else 500, INTERNAL_ERROR, admitted.headers)
            raise error
        if result.function_error:
            log.warning("%s %s: the function failed: %s", admitted.method, admitted.raw_path,
                        bytes(result.payload)[:500].decode("utf-8", "replace"))
            return self._error(502, INTERNAL_ERROR, admitted.headers)
        payload = result.payload if type(result.payload) is bytes else bytes(result.payload or b"")
        if len(payload) > RESPONSE_LIMIT:
            log.warning("%s %s: the function's response is larger than 6 MB", admitted.method, admitted.raw_path)
            return self._error(502, INTERNAL_ERROR, admitted.headers)
        try:
            status, headers, body = payloads.response_v2(payload) if v2 else payloads.response_v1(payload)
        except payloads.MalformedResponse as exc:
            log.warning("%s %s: malformed Lambda proxy response: %s", admitted.method, admitted.raw_path, exc)
            return self._error(502, INTERNAL_ERROR, admitted.headers)
        api = self._api
        if api.cors is not None:
            headers = [*headers, *cors.response_headers(api.cors, admitted.headers)]
        try:
            encoded = _encode(headers)
        except UnicodeEncodeError:
            return self._error(502, INTERNAL_ERROR, admitted.headers)
        return status, encoded, body if admitted.method != "HEAD" else b"", False

    def _finish(self, admitted: _Admitted, response: Response, version: str) -> Response:
        self._log(admitted, response[0], version)
        return response

    def _log(self, admitted: _Admitted, status: int, function: str) -> None:
        if self.access_log is None:
            return
        elapsed = (time.monotonic() - admitted.started) * 1000
        self.access_log(f"{_stamp()} {self._api.key} {admitted.method} "
                        f"{admitted.raw_path}{'?' + admitted.raw_query if admitted.raw_query else ''} {status} "
                        f"{elapsed:.1f}ms {function}\n")


class _Answer(Deferred):
    """The pending HTTP answer of one invocation: the runtime's ``on_done`` (a warm reply resolves it from the loop's
    reader callback), or the integration timeout's 504, whichever comes first."""

    __slots__ = ("app", "admitted", "v2", "holding", "sole", "timer", "function", "queued", "taken")

    def __init__(self, app: GatewayApp, admitted: _Admitted, v2: bool, function: str) -> None:
        Deferred.__init__(self)
        self.app, self.admitted, self.v2, self.function = app, admitted, v2, function
        self.holding = False            # holds an invoke slot (given back when the invocation ends)
        self.sole = False               # the runtime's hint: nothing else runs, poll for a quick reply
        self.timer: asyncio.TimerHandle | None = None
        self.queued: tuple[str, bytes] | None = None    # (function, payload) until its turn
        self.taken: tuple[str, bytes] = ("", b"")

    # -- waiting in line for an invoke slot (``_Slots``): future-like ------------------------------------------------

    def done(self) -> bool:
        """Its turn came, or it was answered first (timed out): nothing more to hand it."""
        return self.queued is None

    def set_result(self, _: None) -> None:
        """Its turn: it holds a slot now."""
        queued, self.queued = self.queued, None
        if queued is None:                 # answered while in line: the slot goes back
            self.app.invoker.slots.give()
            return
        self.taken = queued
        self.app.start(self)

    def cancel(self) -> None:
        """The client went away: a request still in line never runs (one already running runs to its end)."""
        self.queued = None

    # -- the invocation's end ----------------------------------------------------------------------------------------

    def __call__(self, result: Any, error: BaseException | None) -> None:
        app = self.app
        if self.holding:
            self.holding = False
            app.invoker.slots.give()
        if self.timer is not None:
            self.timer.cancel()
        if self.answer is not None:          # timed out already: the late answer is dropped
            return
        response = app.answer_for(self.admitted, self.v2, result, error)
        version = f"{self.function}:{result.executed_version}" if result is not None else self.function
        self.resolve(app._finish(self.admitted, response, version))

    def timed_out(self) -> None:
        self.queued = None                 # still in line: it never runs
        if self.answer is None:
            log.warning("%s %s: the integration timed out", self.admitted.method, self.admitted.raw_path)
            self.resolve(self.app._finish(self.admitted, self.app._error(504, TIMED_OUT, self.admitted.headers),
                                          f"{self.function}:timeout"))


_running: set[asyncio.Future] = set()
_dumps = json.JSONEncoder(separators=(",", ":")).encode      # compact, and one encoder for every event
_stamp_cache: list = [None, ""]


def _stamp() -> str:
    """The access log's UTC time stamp, formatted once per second."""
    now = time.time()
    second = int(now)
    if _stamp_cache[0] != second:
        _stamp_cache[0], _stamp_cache[1] = second, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))
    return _stamp_cache[1]


def _encode(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers
            if name.lower() not in ("content-length", "connection", "transfer-encoding", "date")]
