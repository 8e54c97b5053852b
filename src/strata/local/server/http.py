"""strata's HTTP/1.1 server: httptools (llhttp) parses; this module owns connections, keep-alive, pipelining order,
size limits, timeouts and shutdown, and hands each request to the app in two calls.

Why not uvicorn (strata served on it until the Invoke latency target was measured): ASGI's per-request machinery, a
task per request, message dicts, a ``receive()`` round trip for the body and two awaited ``send()``s for the
response, cost about 45 us of a 140 us budget per warm Invoke (``bench/bench_server.py``). The app interface here is:

- ``app.admit(method, path, query, headers, connection) -> Admitted`` as soon as the head is in: routing, the
  signature's precheck, the body limit (``admitted.limit``). A ``LambdaError`` raised here is the answer; with
  ``close_connection`` set it goes out at once and the connection closes instead of reading the body.
- ``app.too_large(admitted, size) -> LambdaError`` when a body outgrows the limit: the 413 goes out once the rest has
  been read and discarded (a client that sends its whole body before reading gets it on a live connection; closing
  with unread bytes would reset the connection and lose the answer). Past ``DRAIN_CAP`` bytes it goes out at once
  and the connection closes.
- ``app.respond(admitted, body) -> Response | Deferred | Awaitable[Response]``: a ready response (errors, anything
  answered without waiting), a ``Deferred`` the app resolves from a callback, or an awaitable run as a task.
  ``app.error_response(exc) -> Response`` renders errors this module raises itself (malformed HTTP, a slow client).
- optional ``app.head_renderer``: set to ``HttpServer.head``, so the app can render the head of an answer it
  expects (``Deferred.expect``) before its work starts; the reply then only adds content-length and the body.

A ``Response`` is ``(status, headers, body, close)``; this module adds ``date``, ``content-length`` and, when the
connection ends, ``connection: close``, and writes it in one ``write`` (no Nagle stall: performance-floors 4).

Per connection, requests are answered one at a time in arrival order (pipelined ones queue; reading pauses while
``MAX_QUEUED`` wait). A request whose head or body stops arriving gets 408 after ``body_timeout``; an idle keep-alive
connection closes after ``keep_alive``. Both are checked by one server-wide tick, so no timer is armed per request.
A client that disconnects mid-invoke does not cancel it (Lambda runs it anyway); the answer is dropped. An answer
that closes the connection lingers (FIN, then input read and discarded for up to 2 s) so a reset cannot destroy it; a
client that half-closes still gets the answers it asked for. Malformed input gets 400, a head over 64 KiB 431.
"""
from __future__ import annotations

import asyncio
import collections
import functools
import http
import logging
import signal
import socket
import threading
from collections.abc import Awaitable, Callable
from email.utils import formatdate
from typing import Any, Protocol, cast

import httptools

from strata.local.server.errors import BadRequestException, HeaderTooLargeException, RequestTimeoutException
from strata.local.server.limits import DRAIN_CAP
from strata.model.lambda_errors import LambdaError

log = logging.getLogger("strata.local.server")

Response = tuple[int, list[tuple[bytes, bytes]], bytes, bool]
Head = tuple[int, list[tuple[bytes, bytes]]]
HeadRenderer = Callable[[int, list[tuple[bytes, bytes]]], bytes]
# a complete request waiting its turn: (admitted, error, body, method, keep_alive)
Queued = tuple[Any, LambdaError | None, bytes, str, bool]

MAX_HEAD = 64 * 1024        # request line + headers; larger gets 431 and a close
READ_SLACK = 64 * 1024      # a read may also carry the end of the previous message
LINGER = 2.0                # seconds an answered-and-closing connection keeps reading (and discarding) input
LINGER_BYTES = 16 * 1024 * 1024
MAX_QUEUED = 16             # pipelined requests waiting on one connection before reading pauses
TICK = 0.1                  # seconds between the server's looks at timeouts (and the date header's refresh)

_METHODS = {m.encode(): m for m in ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")}
_HEADER_NAMES: dict[bytes, str] = {}    # raw header name -> lower-case text, for the names clients keep sending
_STATUS_LINES = {s.value: f"HTTP/1.1 {s.value} {s.phrase}\r\n".encode("latin-1") for s in http.HTTPStatus}
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_HEAD_TOO_LARGE = "The request line and headers are larger than 64 KiB."


class App(Protocol):
    head_renderer: Any

    def admit(self, method: str, path: str, query: str, headers: dict[str, str], connection: object) -> Any: ...
    def too_large(self, admitted: Any, size: int) -> LambdaError: ...
    def respond(self, admitted: Any, body: bytes) -> Response | Deferred | Awaitable[Response]: ...
    def error_response(self, error: LambdaError) -> Response: ...


class Deferred:
    """An answer that arrives through a callback (``resolve``), for apps that finish a request in a reader callback
    (strata's warm Invoke): the response is written right there, with no task and no trip through the loop's
    ready queue."""

    __slots__ = ("answer", "_callback", "expected", "expected_head")

    def __init__(self) -> None:
        self.answer: Response | None = None
        self._callback: Callable[[Response], None] | None = None
        # (status, headers) the app expects to answer with, told before the work starts (``expect``): the server
        # renders that head meanwhile (``render`` is ``HttpServer.head``, handed to the app as ``head_renderer``),
        # and ``resolve_body`` answers with it and just the body
        self.expected: Head | None = None
        self.expected_head: bytes | None = None

    def expect(self, status: int, headers: list[tuple[bytes, bytes]], render: HeadRenderer | None = None) -> None:
        self.expected = (status, headers)
        if render is not None:
            self.expected_head = render(status, headers)

    def resolve_body(self, body: bytes) -> None:
        """Answer with the expected status and headers (``expect`` was called) and ``body``."""
        status, headers = cast("Head", self.expected)     # set by ``expect``, which callers call first
        self.resolve((status, headers, body, False))

    def resolve(self, answer: Response) -> None:
        if self.answer is not None:
            return
        self.answer = answer
        callback, self._callback = self._callback, None
        if callback is not None:
            callback(answer)

    def then(self, callback: Callable[[Response], None]) -> None:
        if self.answer is not None:
            callback(self.answer)
        else:
            self._callback = callback

    def cancel(self) -> None:
        """Nothing to stop: the app finishes the work (an invocation runs to its end, as in Lambda)."""


class _Stop(Exception):
    """Raised in a parser callback to stop parsing; the connection's ``problem`` says why."""


def listening_socket(host: str, port: int) -> socket.socket:
    """A non-blocking socket listening on ``host:port`` (an IPv6 host gets an IPv6 socket); ``OSError`` as bind or
    listen raised it, for the caller to word (``strata serve``) or to try another port (the local gateway)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(1024)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


class HttpServer:
    """Serve ``app`` on listening sockets until ``should_exit`` (SIGINT/SIGTERM in the main thread set it)."""

    def __init__(self, app: App, *, keep_alive: float = 75.0, body_timeout: float = 30.0,
                 shutdown_grace: float = 10.0, handle_signals: bool = True) -> None:
        self.app = app
        self.handle_signals = handle_signals     # False: a companion server on another's loop (the local gateway)
        # called with the loop once serving (companions start their own servers on it: the local gateway)
        self.on_serving: list[Callable[[asyncio.AbstractEventLoop], None]] = []
        self.keep_alive = keep_alive
        self.body_timeout = body_timeout
        self.shutdown_grace = shutdown_grace
        self.connections: set[HttpConnection] = set()
        self.started = False
        self.should_exit = False
        self.force_exit = False
        self.now = 0.0                 # loop time at the last tick: coarse timestamps cost nothing per request
        self.date_line = b""
        self.loop: asyncio.AbstractEventLoop | None = None
        if hasattr(app, "head_renderer"):   # lets the app render an expected head before its work starts
            app.head_renderer = self.head

    def handle_exit(self) -> None:
        """First signal: stop accepting, finish what is in flight. Second: stop now."""
        if self.should_exit:
            self.force_exit = True
        self.should_exit = True

    def run(self, sockets: list[socket.socket]) -> None:
        """Serve on ``sockets`` (bound, listening) in a new event loop, uvloop when installed."""
        try:
            import uvloop
        except ImportError:  # pragma: no cover - uvloop is a dependency on Linux and macOS
            asyncio.run(self.serve(sockets))
        else:
            uvloop.run(self.serve(sockets))

    async def serve(self, sockets: list[socket.socket]) -> None:
        loop = asyncio.get_running_loop()
        self.loop = loop
        signals = self.handle_signals and threading.current_thread() is threading.main_thread()
        if signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, self.handle_exit)
        self._refresh(loop.time())
        servers = [await loop.create_server(lambda: HttpConnection(self), sock=sock, backlog=1024)
                   for sock in sockets]
        self.started = True
        for hook in self.on_serving:
            hook(loop)
        try:
            while not self.should_exit:
                await asyncio.sleep(TICK)
                self._refresh(loop.time())
                for connection in list(self.connections):
                    connection.check(self.now)
        finally:
            for server in servers:
                server.close()
            for connection in list(self.connections):
                connection.shutdown()
            deadline = loop.time() + self.shutdown_grace
            while self.connections and not self.force_exit and loop.time() < deadline:
                await asyncio.sleep(TICK / 4)
                self._refresh(loop.time())
            for connection in list(self.connections):
                connection.abort()
            if signals:
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.remove_signal_handler(sig)

    def head(self, status: int, headers: list[tuple[bytes, bytes]]) -> bytes:
        """Status line, date and ``headers``: a response head up to its content-length."""
        parts = [_STATUS_LINES.get(status) or f"HTTP/1.1 {status} Unknown\r\n".encode("latin-1"), self.date_line]
        for name, value in headers:
            parts += (name, b": ", value, b"\r\n")
        return b"".join(parts)

    def _refresh(self, now: float) -> None:
        self.now = now
        self.date_line = b"date: " + formatdate(usegmt=True).encode("ascii") + b"\r\n"


class HttpConnection(asyncio.Protocol):
    """One client connection: parse, queue complete requests, answer them in order."""

    transport: asyncio.Transport        # set by connection_made, asyncio's first call (so never None when used)

    def __init__(self, server: HttpServer) -> None:
        self.server = server
        self.app = server.app
        loop = server.loop
        assert loop is not None, "connections are made while the server serves"
        self.loop = loop
        self.parser = httptools.HttpRequestParser(self)
        self.queue: collections.deque[Queued] = collections.deque()
        self.task: asyncio.Future | Deferred | None = None           # the request being answered, if it waits
        self.task_method = "GET"                                     # ... its method and keep-alive
        self.task_keep_alive = True
        self._on_resolved = self._resolved                           # bound once, not per request
        self.closed = False
        self.broken = False                # parsing stopped (malformed input, or an answer that closes)
        self.problem: LambdaError | None = None
        self.writing_paused = False
        self.reading_paused = False
        self.idle_since = server.now
        # the message being received
        self.in_message = False
        self.head_done = False
        self.head_bytes = 0                # bytes received while the head was incomplete
        self.continue_pending = False      # a pipelined request waits for its 100 Continue
        self.linger_until: float | None = None   # answered with a close: discarding input until then
        self.peer_eof = False                    # the client half-closed: close once its answers are out
        self.lingered = 0
        self.partial_since: float | None = None
        self.url = b""
        self.raw_headers: list[tuple[bytes, bytes]] = []
        self.read_size = 0
        self.method = "GET"
        self.keep_alive = True
        self.admitted: Any = None
        self.error: LambdaError | None = None
        self.chunks: list[bytes] = []
        self.size = 0

    # -- asyncio.Protocol --------------------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)     # a stream server's transport
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.server.connections.discard(self)
        self.queue.clear()

    def eof_received(self) -> bool | None:
        """The client will send nothing more: answer what it asked, then close (a half-closed client still reads)."""
        self.peer_eof = True
        if self.linger_until is None and (self.task is not None or self.queue):
            return True                  # keep the transport open for the answers; ``_pump`` closes after them
        return None                      # nothing pending (or lingering): close now

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        self._pump()

    def data_received(self, data: bytes) -> None:
        if self.broken:
            if self.linger_until is not None:      # answered and closing: read what the client still sends
                self.lingered += len(data)
                if self.lingered > LINGER_BYTES:
                    self.abort()
            return
        self.read_size = len(data)       # a head that came whole in a read no larger than 64 KiB is within bounds
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(BadRequestException("Protocol upgrades are not supported."))
            return
        except httptools.HttpParserError as exc:
            problem, self.problem = self.problem, None
            self._fail(problem or BadRequestException(f"Malformed HTTP request: {_reason(exc)}"))
            return
        if self.in_message:
            if self.partial_since is None:
                self.partial_since = self.server.now
            if not self.head_done:
                # httptools holds an unfinished header itself: bound what a head that never ends can make it keep
                # (the exact 64 KiB check runs on whole headers, in on_url/on_header)
                self.head_bytes += len(data)
                if self.head_bytes > MAX_HEAD + READ_SLACK:
                    self._fail(HeaderTooLargeException(_HEAD_TOO_LARGE))
                    return
        if self.task is None and self.queue:
            self._pump()
        if len(self.queue) >= MAX_QUEUED and not self.reading_paused:
            self.reading_paused = True
            self.transport.pause_reading()

    # -- httptools callbacks -----------------------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self.in_message = True
        self.method = ""                 # unknown until the head is in: an early error's answer keeps its body
        self.head_done = False
        self.head_bytes = 0
        self.url = b""
        self.raw_headers = []
        self.error = None
        self.size = 0

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.raw_headers.append((name, value))

    def on_headers_complete(self) -> None:
        # what a head may hold is checked here, once (data_received bounds what an unfinished one can grow to)
        raw_headers = self.raw_headers
        if self.head_bytes + self.read_size > MAX_HEAD and \
                len(self.url) + sum(len(name) + len(value) + 4 for name, value in raw_headers) > MAX_HEAD:
            self._stop(HeaderTooLargeException(_HEAD_TOO_LARGE))
        self.head_done = True
        parser = self.parser
        raw_method = parser.get_method()
        method = self.method = _METHODS.get(raw_method) or raw_method.decode("latin-1")
        self.keep_alive = parser.should_keep_alive()
        names = _HEADER_NAMES
        headers = {}
        for name, value in raw_headers:
            key = names.get(name)
            if key is None:
                key = name.decode("latin-1").lower()
                if len(names) < 256:
                    names[name] = key
            headers[key] = value.decode("latin-1")
        self.chunks = []
        path, _, query = self.url.partition(b"?")
        try:
            self.admitted = self.app.admit(method, path.decode("latin-1"), query.decode("latin-1"), headers, self)
        except LambdaError as exc:
            if exc.close_connection or _expects_continue(headers):
                self._stop(exc)          # answer now; the body is not worth reading (or was not sent yet)
            self.error = exc             # answered once the body is in (and discarded): the connection stays usable
            return
        if "expect" in headers and _expects_continue(headers):
            if self.task is None and not self.queue:
                self.transport.write(_CONTINUE)
            else:                        # pipelined behind others: sent when its turn comes (``_pump``)
                self.continue_pending = True

    def on_body(self, body: bytes) -> None:
        self.continue_pending = False    # the client did not wait for it
        size = self.size = self.size + len(body)
        if self.error is not None:       # discarded: the answer is already decided
            if size > DRAIN_CAP:         # a chunked body that will not end: answer now and close
                self._stop(self.error)
            return
        if size > self.admitted.limit:
            self.error = self.app.too_large(self.admitted, size)
            self.chunks = []
            return
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        self.in_message = False
        self.partial_since = None
        chunks = self.chunks
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        self.chunks = []
        self.queue.append((self.admitted, self.error, body, self.method, self.keep_alive))

    # -- answering ---------------------------------------------------------------------------------------------------

    def _stop(self, problem: LambdaError) -> None:
        self.problem = problem
        raise _Stop

    def _fail(self, error: LambdaError) -> None:
        """Answer ``error`` after whatever is already queued, then close; read nothing more."""
        self.broken = True
        self.in_message = False
        self.partial_since = None
        if not self.reading_paused and self.transport is not None:
            self.reading_paused = True
            self.transport.pause_reading()
        self.queue.append((None, error, b"", self.method, False))
        self._pump()

    def _pump(self) -> None:
        """Answer queued requests in order until one has to wait."""
        queue = self.queue
        while queue and self.task is None and not self.writing_paused and not self.closed:
            admitted, error, body, method, keep_alive = queue.popleft()
            if error is not None:
                self._send(self.app.error_response(error), method, keep_alive)
                continue
            try:
                answer = self.app.respond(admitted, body)
            except Exception:  # noqa: BLE001 - the app answers its own errors; this is a bug, not the client's
                log.exception("internal error answering %s", method)
                answer = self.app.error_response(_internal())
            if type(answer) is Deferred or isinstance(answer, Deferred):
                if answer.answer is None:
                    self.task = answer
                    self.task_method, self.task_keep_alive = method, keep_alive
                    answer.then(self._on_resolved)
                    return
                deferred, answer = answer, answer.answer
                self._send(answer, method, keep_alive, deferred)
                continue
            if type(answer) is tuple:
                self._send(answer, method, keep_alive)
                continue
            task = self.task = asyncio.ensure_future(cast("Awaitable[Response]", answer))
            task.add_done_callback(functools.partial(self._answered, method=method, keep_alive=keep_alive))
            return
        if self.reading_paused and not self.broken and not queue and not self.closed:
            self.reading_paused = False
            self.transport.resume_reading()
        if self.peer_eof and not queue and self.task is None and not self.closed:
            self.transport.close()
            return
        if self.continue_pending and not queue and self.task is None and not self.closed:
            self.continue_pending = False    # the request waiting for it is next: let its body come
            self.transport.write(_CONTINUE)
        if not queue and self.task is None:
            self.idle_since = self.server.now

    def _answered(self, task: asyncio.Future, method: str, keep_alive: bool) -> None:
        self.task = None
        if task.cancelled():
            self.abort()
            return
        error = task.exception()
        if error is not None:
            log.error("internal error answering %s", method, exc_info=error)
            answer = self.app.error_response(_internal())
        else:
            answer = task.result()
        if not self.closed:
            self._send(answer, method, keep_alive)
            self._pump()

    def _resolved(self, answer: Response) -> None:
        """A ``Deferred`` answered (from the app's callback): write it now; a pipelined next request starts on the
        next loop pass, once the app has finished its bookkeeping for this one (its worker given back)."""
        deferred, self.task = cast(Deferred, self.task), None     # only a Deferred calls back here
        if not self.closed:
            self._send(answer, self.task_method, self.task_keep_alive, deferred)
            if self.queue:
                self.loop.call_soon(self._pump)
            elif self.reading_paused or self.peer_eof or self.continue_pending or self.closed:
                self._pump()
            else:
                self.idle_since = self.server.now      # what _pump would conclude: nothing left to do

    def _send(self, answer: Response, method: str, keep_alive: bool, deferred: Deferred | None = None) -> None:
        """Write ``answer``; a ``deferred``'s answer with the head it expected (``Deferred.expect``, told once the work
        started) adds only content-length and the body to that head, rendered while the work ran."""
        status, headers, body, close = answer
        close = close or not keep_alive or self.server.should_exit
        if deferred is not None and not close and method != "HEAD":
            expected = deferred.expected
            if expected is not None and expected[1] is headers:
                head = deferred.expected_head or self.server.head(status, headers)
                self.transport.write(b"%scontent-length: %d\r\n\r\n%s" % (head, len(body), body))
                return
        parts = [self.server.head(status, headers), b"content-length: %d\r\n" % len(body)]
        if close:
            parts.append(b"connection: close\r\n")
        parts.append(b"\r\n")
        if body and method != "HEAD":
            parts.append(body)
        self.transport.write(b"".join(parts))
        if close:
            self.broken = True
            self.queue.clear()
            self._linger()

    def _linger(self) -> None:
        """Close after the answer without losing it: closing a socket with unread input makes the kernel send a
        reset, which can destroy the answer before the client reads it (a client still sending its body, say).
        So send the answer and our end of file, and read and discard what still comes for up to ``LINGER`` seconds
        (``LINGER_BYTES`` bytes), until the client closes too (``eof_received``)."""
        transport = self.transport
        if not transport.can_write_eof():
            transport.close()
            return
        transport.write_eof()
        self.linger_until = self.server.now + LINGER
        if self.reading_paused:
            self.reading_paused = False
            transport.resume_reading()

    # -- the server's looks ------------------------------------------------------------------------------------------

    def check(self, now: float) -> None:
        """408 for a request that stopped arriving; close an idle keep-alive connection."""
        if self.closed:
            return
        if self.linger_until is not None:
            if now > self.linger_until:
                self.abort()
            return
        if self.partial_since is not None and now - self.partial_since > self.server.body_timeout:
            timeout = self.server.body_timeout
            self._fail(RequestTimeoutException(
                f"The client did not send the whole request within {timeout:g} seconds."))
            if self.task is not None:    # an earlier request still runs: nothing can be answered in order
                self.abort()
        elif (self.task is None and not self.queue and not self.in_message
              and now - self.idle_since > self.server.keep_alive):
            self.transport.close()

    def shutdown(self) -> None:
        """The server stops: close now if idle, else after the answer in progress."""
        if self.task is None and not self.queue or self.linger_until is not None:
            self.transport.close()
        else:
            self.broken = True

    def abort(self) -> None:
        if self.task is not None:
            self.task.cancel()
        if self.transport is not None and not self.closed:
            self.transport.abort()


def _expects_continue(headers: dict[str, str]) -> bool:
    expect = headers.get("expect")
    return expect is not None and expect.lower() == "100-continue"


def _reason(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


def _internal() -> LambdaError:
    from strata.model.lambda_errors import ServiceException

    return ServiceException("An internal error occurred.")
