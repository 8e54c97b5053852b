"""HTTP/1.1 protocol behaviour of strata's own server (``strata.local.server.http``), as a client on a raw socket sees
it: pipelined answers in request order, ``Connection: close`` and HTTP/1.0, ``Expect: 100-continue``, the 64 KiB head
limit, HEAD answers without body bytes, the idle keep-alive close, and the headers every response carries."""
from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import pytest
from server_fakes import FakeDispatch

ACCOUNT = b"/2016-08-19/account-settings"
ECHO = b"/2015-03-31/functions/echo/invocations"
SLEEPER = b"/2015-03-31/functions/sleeper/invocations"


# -- a tiny HTTP/1.1 client over a raw socket --------------------------------------------------------------------------

@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]        # (lower-case name, value) in wire order
    body: bytes

    def header(self, name: str) -> str | None:
        found = [value for key, value in self.headers if key == name.lower()]
        assert len(found) <= 1, f"{name} sent {len(found)} times: {self.headers}"
        return found[0] if found else None

    @property
    def json(self):  # noqa: ANN201 - whatever the body holds
        return json.loads(self.body)


class Wire:
    """One client connection: send raw bytes, read responses one by one, framed by their ``content-length``."""

    def __init__(self, port: int, timeout: float = 5.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buffer = b""

    def __enter__(self) -> Wire:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError(f"the server closed the connection; unparsed: {self.buffer[:200]!r}")
        self.buffer += chunk

    def head(self) -> tuple[int, list[tuple[str, str]]]:
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        version, status, _reason = status_line.split(" ", 2)
        assert version == "HTTP/1.1", status_line
        headers = []
        for line in lines:
            name, sep, value = line.partition(":")
            assert sep and name == name.strip(), f"malformed header line {line!r}"
            headers.append((name.lower(), value.strip()))
        return int(status), headers

    def response(self, *, to_head: bool = False) -> Reply:
        """The next response; ``to_head``: it answers a HEAD request, so no body follows whatever its length says."""
        status, headers = self.head()
        reply = Reply(status, headers, b"")
        length = reply.header("content-length")
        assert length is not None and length.isdigit(), f"no usable content-length: {headers}"
        size = 0 if to_head else int(length)
        while len(self.buffer) < size:
            self._fill()
        reply.body, self.buffer = self.buffer[:size], self.buffer[size:]
        return reply

    def closed_within(self, seconds: float) -> bool:
        """True when the server closes the connection (EOF) within ``seconds`` without sending anything more."""
        assert self.buffer == b"", f"unexpected bytes after the last response: {self.buffer[:200]!r}"
        self.sock.settimeout(seconds)
        try:
            extra = self.sock.recv(65536)
        except TimeoutError:
            return False
        assert extra == b"", f"unexpected bytes instead of a close: {extra[:200]!r}"
        return True


def get(path: bytes, *extra: bytes, method: bytes = b"GET", version: bytes = b"HTTP/1.1") -> bytes:
    return b"\r\n".join([method + b" " + path + b" " + version, b"Host: 127.0.0.1", *extra, b"", b""])


def post(path: bytes, body: bytes, *extra: bytes) -> bytes:
    return b"\r\n".join([b"POST " + path + b" HTTP/1.1", b"Host: 127.0.0.1", b"Content-Length: %d" % len(body),
                         *extra, b"", b""]) + body


def still_serving(port: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", ACCOUNT.decode())
        response = conn.getresponse()
        assert response.status == 200 and json.loads(response.read())["AccountLimit"]["ConcurrentExecutions"] == 1000
    finally:
        conn.close()


# -- pipelining --------------------------------------------------------------------------------------------------------

def test_two_pipelined_requests_are_answered_in_order_on_one_connection(server):
    with Wire(server.port) as wire:
        wire.send(get(ACCOUNT) + post(ECHO, b'{"request": 2}'))
        first, second = wire.response(), wire.response()
        assert first.status == 200 and first.json["AccountLimit"]["ConcurrentExecutions"] == 1000
        assert second.status == 200 and second.body == b'{"request": 2}'
        assert second.header("x-amz-executed-version") == "$LATEST"
        # the connection is still usable after the pipelined pair
        wire.send(post(ECHO, b'{"request": 3}'))
        assert wire.response().body == b'{"request": 3}'


def test_three_pipelined_requests_keep_request_order_even_when_the_first_is_slowest(server):
    """The first request sleeps 0.2 s in the invoke pool while the other two would be ready at once: their answers
    still come after it, in the order asked, each framed so the next one parses."""
    with Wire(server.port) as wire:
        wire.send(post(SLEEPER, b"0.2") + get(ACCOUNT) + post(ECHO, b'{"request": 3}'))
        replies = [wire.response() for _ in range(3)]
    assert [r.status for r in replies] == [200, 200, 200]
    assert replies[0].body == b"0.2"
    assert replies[1].json["AccountUsage"]["FunctionCount"] >= 0
    assert replies[2].body == b'{"request": 3}'
    assert all(r.header("connection") is None for r in replies)   # keep-alive throughout


def test_pipelined_error_answers_stay_in_order_and_framed(server):
    """An answer decided at the head (404) does not overtake an earlier request still running."""
    with Wire(server.port) as wire:
        wire.send(post(SLEEPER, b"0.1") + get(b"/no/such/route") + post(ECHO, b"last"))
        slow, missing, last = wire.response(), wire.response(), wire.response()
    assert (slow.status, slow.body) == (200, b"0.1")
    assert missing.status == 404 and missing.header("x-amzn-errortype") == "UnknownOperationException"
    assert (last.status, last.body) == (200, b"last")


# -- closing -----------------------------------------------------------------------------------------------------------

def test_connection_close_is_answered_then_the_server_closes(server):
    with Wire(server.port) as wire:
        # a request pipelined after the closing one is not processed (RFC 9112 9.6)
        wire.send(get(ACCOUNT, b"Connection: close") + post(ECHO, b"never"))
        reply = wire.response()
        assert reply.status == 200 and reply.json["AccountLimit"]
        assert reply.header("connection") == "close"
        assert wire.closed_within(2.0)
    assert all(params.get("Payload") != b"never" for op, params in server.fake.calls if op == "Invoke")


def test_http_1_0_request_without_keep_alive_is_answered_and_closed(server):
    with Wire(server.port) as wire:
        wire.send(b"GET " + ACCOUNT + b" HTTP/1.0\r\n\r\n")
        reply = wire.response()
        assert reply.status == 200 and reply.json["AccountLimit"]["ConcurrentExecutions"] == 1000
        assert reply.header("connection") == "close"
        assert wire.closed_within(2.0)


# -- Expect: 100-continue ----------------------------------------------------------------------------------------------

def test_expect_continue_gets_100_before_the_body_then_the_answer(server):
    body = b'{"expect": "continue"}'
    with Wire(server.port) as wire:
        wire.send(b"POST " + ECHO + b" HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
                  b"Expect: 100-continue\r\n\r\n" % len(body))
        wire.sock.settimeout(2.0)
        while b"\r\n\r\n" not in wire.buffer:       # the body has not been sent: only the interim answer can come
            wire._fill()
        assert wire.buffer == b"HTTP/1.1 100 Continue\r\n\r\n"
        wire.buffer = b""
        wire.send(body)
        reply = wire.response()
        assert reply.status == 200 and reply.body == body
        assert reply.header("connection") is None
        wire.send(get(ACCOUNT))                       # still a keep-alive connection
        assert wire.response().status == 200


def test_expect_continue_over_the_limit_gets_413_without_sending_the_body_and_a_close(server):
    with Wire(server.port) as wire:
        wire.send(b"POST " + ECHO + b" HTTP/1.1\r\nHost: x\r\nX-Amz-Invocation-Type: Event\r\n"
                  b"Content-Length: 2000000\r\nExpect: 100-continue\r\n\r\n")
        wire.sock.settimeout(2.0)
        reply = wire.response()                       # the first thing back is the final answer, not 100
        assert reply.status == 413
        assert reply.header("x-amzn-errortype") == "RequestEntityTooLargeException"
        assert reply.json["message"] == ("2000000 byte payload is too large for the Event invocation type "
                                         "(limit 1048576 bytes)")
        assert reply.header("connection") == "close"
        assert wire.closed_within(2.0)
    still_serving(server.port)


def test_a_body_declared_past_the_drain_cap_gets_413_at_once_and_a_close(server):
    from strata.local.server.limits import DRAIN_CAP

    with Wire(server.port) as wire:
        wire.send(b"POST " + ECHO + b" HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (DRAIN_CAP + 1))
        wire.sock.settimeout(2.0)
        reply = wire.response()                       # answered before any body byte was sent
        assert reply.status == 413
        assert reply.header("x-amzn-errortype") == "RequestEntityTooLargeException"
        assert reply.json["message"] == "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
        assert reply.header("connection") == "close"
        assert wire.closed_within(2.0)
    still_serving(server.port)


def test_a_body_declared_over_the_limit_but_within_the_drain_cap_is_drained_and_the_connection_kept(server):
    body = b"x" * (6_291_456 + 1)
    with Wire(server.port) as wire:
        wire.send(post(ECHO, body))
        reply = wire.response()
        assert reply.status == 413
        assert reply.header("x-amzn-errortype") == "RequestEntityTooLargeException"
        assert reply.header("connection") is None
        wire.send(post(ECHO, b'{"after": 1}'))         # the same connection still serves
        assert wire.response().body == b'{"after": 1}'


def test_expect_continue_pipelined_behind_another_request_gets_100_once_its_turn_comes(server):
    with Wire(server.port, timeout=1.5) as wire:
        wire.send(post(SLEEPER, b"0.1") + b"POST " + ECHO + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                  b"Expect: 100-continue\r\n\r\n")
        assert wire.response().body == b"0.1"
        status, _ = wire.head()                       # 408 after body_timeout instead
        assert status == 100
        wire.send(b"hi")
        assert wire.response().body == b"hi"


# -- limits ------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("headers", [
    [b"X-Huge: " + b"h" * (70 * 1024)],                                     # one huge header
    [b"X-Many-%d: " % i + b"m" * 1000 for i in range(70)],                 # many that add up
], ids=["one-huge-header", "many-headers"])
def test_head_over_64_kib_gets_431_and_a_close_and_others_are_still_served(server, headers):
    with Wire(server.port) as wire:
        wire.send(get(ACCOUNT, *headers))
        reply = wire.response()
        assert reply.status == 431
        assert reply.header("x-amzn-errortype") == "RequestHeaderFieldsTooLarge"
        assert "64 KiB" in reply.json["message"]
        assert reply.header("connection") == "close"
        assert wire.closed_within(2.0)
    still_serving(server.port)


def test_head_just_under_the_limit_is_served(server):
    with Wire(server.port) as wire:
        wire.send(get(ACCOUNT, b"X-Big: " + b"b" * (60 * 1024)))
        reply = wire.response()
        assert reply.status == 200 and reply.header("connection") is None


# -- HEAD --------------------------------------------------------------------------------------------------------------

def test_head_to_an_unknown_route_has_a_length_but_no_body_and_the_next_answer_parses(server):
    with Wire(server.port) as wire:
        wire.send(get(b"/no/such/route", method=b"HEAD") + get(ACCOUNT))
        head = wire.response(to_head=True)
        assert head.status == 404 and int(head.header("content-length")) > 0
        assert head.header("x-amzn-errortype") == "UnknownOperationException"
        following = wire.response()                   # would fail to parse if HEAD's body bytes had been sent
        assert following.status == 200 and following.json["AccountLimit"]["ConcurrentExecutions"] == 1000
        assert head.header("x-amzn-requestid") != following.header("x-amzn-requestid")


@pytest.mark.parametrize("follow_up, status", [
    (get(ACCOUNT, b"X-Huge: " + b"h" * (70 * 1024)), 431),
    (b"\x00\x01 not http\r\n\r\n", 400),
    (b"GET " + ACCOUNT + b" HTTP/1.1\r\nHost: x\r\n", 408),          # the head stops arriving: body_timeout 1 s
], ids=["head-too-large", "malformed", "head-timeout"])
def test_error_after_a_head_request_carries_its_body(server, follow_up, status):
    with Wire(server.port) as wire:
        wire.send(get(b"/no/such/route", method=b"HEAD") + follow_up)
        assert wire.response(to_head=True).status == 404
        reply = wire.response()                       # EOFError: content-length says N, 0 body bytes, then close
        assert reply.status == status and reply.json["message"]


# -- keep-alive --------------------------------------------------------------------------------------------------------

@pytest.fixture
def short_keep_alive(spec):
    """A server whose keep-alive connections may idle 0.5 s."""
    from strata.local.server.app import LambdaApp
    from strata.local.server.http import HttpServer
    from strata.local.server.runner import bind

    app = LambdaApp(FakeDispatch(), spec, body_timeout=1.0)
    sock = bind("127.0.0.1", 0)
    server = HttpServer(app, keep_alive=0.5, body_timeout=1.0)
    thread = threading.Thread(target=server.run, args=([sock],), name="strata-serve-keepalive", daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.005)
    assert server.started
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(5)
        sock.close()
        app.close()
    assert not thread.is_alive()


def test_idle_keep_alive_connection_is_closed_after_the_keep_alive_period(short_keep_alive):
    with Wire(short_keep_alive) as wire:
        wire.send(get(ACCOUNT))
        assert wire.response().status == 200
        wire.send(get(ACCOUNT))                       # kept alive between requests
        reply = wire.response()
        assert reply.status == 200 and reply.header("connection") is None
        answered = time.monotonic()
        assert wire.closed_within(2.0)
        idle = time.monotonic() - answered
    assert 0.3 <= idle <= 2.0


def test_connection_that_never_sends_anything_is_closed_too(short_keep_alive):
    with Wire(short_keep_alive) as wire:
        assert wire.closed_within(2.0)


# -- headers on every response -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("request_bytes, status", [
    (get(ACCOUNT), 200),
    (post(ECHO, b'{"a": 1}'), 200),
    (post(ECHO, b"", b"X-Amz-Invocation-Type: DryRun"), 204),
    (post(ECHO, b"{}", b"X-Amz-Invocation-Type: Event"), 202),
    (post(b"/2015-03-31/functions/fails/invocations", b"{}"), 200),
    (get(b"/2015-03-31/functions/missing/configuration"), 404),
    (get(b"/no/such/route"), 404),
    (post(b"/2015-03-31/functions/f/aliases", b"{broken", b"Content-Type: application/json"), 400),
    (b"\x00\x01 not http\r\n\r\n", 400),
    (get(ACCOUNT, b"X-Huge: " + b"h" * (70 * 1024)), 431),
], ids=["get", "invoke", "dry-run", "event", "function-error", "not-found", "unknown-route", "bad-json",
        "malformed-http", "head-too-large"])
def test_every_response_carries_date_content_length_and_request_id(server, request_bytes, status):
    with Wire(server.port) as wire:
        wire.send(request_bytes)
        reply = wire.response()
    assert reply.status == status
    assert int(reply.header("content-length")) == len(reply.body)
    assert reply.header("x-amzn-requestid")
    date = parsedate_to_datetime(reply.header("date"))
    assert abs(date.timestamp() - time.time()) < 5


def test_a_header_value_that_never_ends_gets_431_without_waiting_for_the_timeout(server):
    """httptools keeps an unfinished header itself; the server bounds what it reads of a head that never ends."""
    with Wire(server.port) as wire:
        wire.send(b"GET " + ACCOUNT + b" HTTP/1.1\r\nHost: x\r\nX-Endless: " + b"a" * (200 * 1024))
        reply = wire.response()
        assert reply.status == 431 and reply.header("connection") == "close"   # not the body timeout's 408
        assert wire.closed_within(2.0)
    still_serving(server.port)


def test_a_client_that_half_closes_after_its_request_still_gets_the_slow_answer(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(post(SLEEPER, b"0.2"))
        sock.shutdown(socket.SHUT_WR)                 # "nothing more from me", as `nc -N` does
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200") and data.endswith(b"0.2")
