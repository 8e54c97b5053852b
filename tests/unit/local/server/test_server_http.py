"""The server over real sockets: boto3's view of responses, and garbage that must never take it down."""
from __future__ import annotations

import base64
import http.client
import json
import os
import re
import socket
import threading
import time

import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::123456789012:role/r"


def _raw(server, data: bytes, *, read_timeout: float = 5.0, shutdown: bool = False) -> bytes:
    """Send raw bytes, return whatever the server answers before closing or going quiet."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=read_timeout) as sock:
        sock.sendall(data)
        if shutdown:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
                if b"\r\n\r\n" in b"".join(chunks) and not shutdown:
                    head, _, rest = b"".join(chunks).partition(b"\r\n\r\n")
                    length = [int(line.split(b":")[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length")]
                    if length and len(rest) >= length[0]:
                        break
        except (TimeoutError, ConnectionResetError):
            pass
        return b"".join(chunks)


def _request(server, method, path, body=b"", headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response, data


def _still_serving(server) -> None:
    response, data = _request(server, "GET", "/2016-08-19/account-settings")
    assert response.status == 200 and json.loads(data)["AccountLimit"]["ConcurrentExecutions"] == 1000


def test_boto3_round_trip_of_control_operations(lam, server):
    created = lam.create_function(FunctionName="f1", Role=ROLE, Runtime="python3.12", Handler="app.h",
                                  Code={"ZipFile": b"PK-zip-bytes"})
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["CodeSize"] == len(b"PK-zip-bytes")  # the blob arrived as bytes, base64 on the wire
    got = lam.get_function(FunctionName="f1")
    assert got["Configuration"]["FunctionName"] == "f1" and "ignored" not in str(got)
    assert lam.list_functions(MaxItems=5)["Functions"][0]["FunctionName"] == "f1"
    deleted = lam.delete_function(FunctionName="f1")
    assert deleted["StatusCode"] == 204 and deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as info:
        lam.get_function_configuration(FunctionName="f1")
    headers = info.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amzn-errortype"] == "ResourceNotFoundException" and headers["x-amzn-requestid"]


def test_boto3_invoke_headers_and_status_codes(lam):
    context = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
    out = lam.invoke(FunctionName="echo", Qualifier="live", Payload=b'{"hello": "world"}', LogType="Tail",
                     ClientContext=context)
    assert out["StatusCode"] == 200 and out["ExecutedVersion"] == "live"
    assert out["Payload"].read() == b'{"hello": "world"}'
    assert context in base64.b64decode(out["LogResult"]).decode()
    assert out["ResponseMetadata"]["RequestId"] == "11111111-2222-3333-4444-555555555555"
    assert lam.invoke(FunctionName="echo", InvocationType="Event", Payload=b"{}")["StatusCode"] == 202
    dry = lam.invoke(FunctionName="echo", InvocationType="DryRun")
    assert dry["StatusCode"] == 204 and dry["Payload"].read() == b""
    failed = lam.invoke(FunctionName="fails")
    assert (failed["StatusCode"], failed["FunctionError"]) == (200, "Unhandled")
    assert json.loads(failed["Payload"].read())["errorMessage"] == "boom"


def test_unimplemented_and_unknown_operations(lam, server):
    with pytest.raises(ClientError) as info:
        lam.list_event_source_mappings()
    assert info.value.response["Error"]["Code"] == "UnsupportedOperationException"
    response, data = _request(server, "GET", "/no/such/route")
    assert response.status == 404 and response.getheader("x-amzn-ErrorType") == "UnknownOperationException"
    assert response.getheader("x-amzn-RequestId")


def test_server_side_validation_reaches_boto3(lam):
    with pytest.raises(ClientError) as info:
        lam.create_function(FunctionName="f", Role=ROLE, Code={"ZipFile": b"z"}, KMSKeyArn="not-an-arn")
    error = info.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert error["Message"].startswith("1 validation error detected: Value 'not-an-arn' at 'kMSKeyArn'")


@pytest.mark.parametrize("size, invocation_type, text", [
    (6_291_457, "RequestResponse", "Request must be smaller than 6291456 bytes for the InvokeFunction operation"),
    (1_048_577, "Event", "1048577 byte payload is too large for the Event invocation type (limit 1048576 bytes)"),
])
def test_oversized_invoke_payloads(lam, server, size, invocation_type, text):
    with pytest.raises(ClientError) as info:
        lam.invoke(FunctionName="echo", InvocationType=invocation_type, Payload=b"x" * size)
    assert info.value.response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert info.value.response["Error"]["Message"] == text
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    _still_serving(server)


def test_ten_megabyte_bodies_get_413_on_a_connection_that_stays_usable(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    for path in ("/2015-03-31/functions/echo/invocations", "/2015-03-31/functions/f/configuration"):
        conn.request("POST" if "invocations" in path else "PUT", path, body=os.urandom(10 * 1024 * 1024))
        response = conn.getresponse()
        body = json.loads(response.read())
        assert response.status == 413 and body["message"].startswith("Request must be smaller than")
    conn.request("GET", "/2016-08-19/account-settings")  # same keep-alive connection
    assert conn.getresponse().status == 200
    conn.close()


def test_chunked_oversized_body_without_content_length(server):
    def chunks():
        for _ in range(8):
            yield b"x" * 1_048_576
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("POST", "/2015-03-31/functions/echo/invocations", body=chunks(),
                 headers={"Transfer-Encoding": "chunked", "X-Amz-Invocation-Type": "Event"}, encode_chunked=True)
    response = conn.getresponse()
    assert response.status == 413 and b"Event invocation type" in response.read()
    conn.close()
    _still_serving(server)


@pytest.mark.parametrize("body, content_type, status, code", [
    (b"{broken", "application/json", 400, "InvalidRequestContentException"),
    (b"[]", "application/json", 400, "InvalidRequestContentException"),
    (b'{"Name": "live", "FunctionVersion": "1"}', "text/html", 415, "UnsupportedMediaTypeException"),
    (b'{"Name": "live", "FunctionVersion": "1"}', "multipart/form-data; boundary=x", 415,
     "UnsupportedMediaTypeException"),
    (b'{"Name": 5, "FunctionVersion": "1"}', "application/json", 400, "ValidationException"),
])
def test_malformed_bodies_and_wrong_content_types(server, body, content_type, status, code):
    response, data = _request(server, "POST", "/2015-03-31/functions/f/aliases", body,
                              {"Content-Type": content_type})
    assert (response.status, response.getheader("x-amzn-ErrorType")) == (status, code)
    assert json.loads(data)["message"]


@pytest.mark.parametrize("garbage", [
    os.urandom(4096),
    b"\x00\x01\x02\x03 HTTP/1.1\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n",
    b"POST /2015-03-31/functions/echo/invocations HTTP/1.1\r\nContent-Length: 10\r\n\r\n" + b"\xff" * 5000,
    b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\n\r\n",
    b"BREW /coffee HTCPCP/1.0\r\n\r\n",
    b"GET / HTTP/1.1\r\n" + b"X-Long: " + b"y" * 200_000 + b"\r\n\r\n",
])
def test_garbage_gets_an_answer_or_a_close_and_the_server_keeps_serving(server, garbage):
    answer = _raw(server, garbage, shutdown=True)
    # a well-formed request at the front is answered as such (garbage3's 10-byte body); the garbage gets a 4xx
    statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", answer)
    assert answer == b"" or (answer.startswith(b"HTTP/1.1 ") and statuses[-1].startswith(b"4"))
    _still_serving(server)


def test_truncated_body_then_disconnect(server):
    head = (b"POST /2015-03-31/functions/echo/invocations HTTP/1.1\r\nHost: x\r\n"
            b"Content-Length: 100000\r\n\r\n")
    for _ in range(20):
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(head + b"{" * 1000)
    _still_serving(server)


def test_slow_client_gets_408_and_others_are_served_meanwhile(server):
    head = (b"POST /2015-03-31/functions/echo/invocations HTTP/1.1\r\nHost: x\r\n"
            b"Content-Length: 100\r\n\r\n{")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as slow:
        slow.sendall(head)
        _still_serving(server)  # answered while the slow client holds its connection...
        slow.setblocking(False)
        with pytest.raises(BlockingIOError):
            slow.recv(1)        # ...before the slow one was answered
        slow.setblocking(True)
        answer = slow.recv(65536)
    assert answer.startswith(b"HTTP/1.1 408") and b"RequestTimeoutException" in answer


def test_slow_invokes_block_neither_other_invokes_nor_the_control_plane(lam, server):
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(lam.invoke(FunctionName="blocker")["StatusCode"]))
               for _ in range(12)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    # every blocker is held until release is set below, so these are answered while all 12 are in flight
    assert lam.invoke(FunctionName="echo", Payload=b"1")["Payload"].read() == b"1"
    assert lam.get_account_settings()["AccountUsage"]
    assert len(results) == 0
    server.fake.release.set()
    for t in threads:
        t.join(10)
    server.fake.release.clear()
    assert results == [200] * 12


def test_many_invokes_in_flight_at_once(server):
    def call(_):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        conn.request("POST", "/2015-03-31/functions/gather/invocations", body=b"{}")
        return conn.getresponse().status
    from concurrent.futures import ThreadPoolExecutor

    server.fake.gathering = threading.Barrier(20)     # each handler returns only once all 20 are running together
    with ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(call, range(20)))
    assert statuses == [200] * 20


def test_invoke_is_awaited_on_the_loop_and_invoke_threads_queues_it(spec):
    """A dispatcher with ``invoke_async`` gets Invoke on the event loop (no thread), at most ``invoke_threads`` at
    once: the rest wait their turn (never a 429 from the server itself); other operations still use threads."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from server_fakes import FakeDispatch

    from strata.local.server.app import LambdaApp
    from strata.local.server.runner import run_in_thread

    class AsyncFake(FakeDispatch):
        def __init__(self) -> None:
            super().__init__()
            self.running = self.most = 0
            self.threads: set[str] = set()

        async def invoke_async(self, params, executor=None):
            self.threads.add(threading.current_thread().name)
            self.running += 1
            self.most = max(self.most, self.running)
            try:
                await asyncio.sleep(float(params.get("Payload") or b"0"))
            finally:
                self.running -= 1
            return {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": params["Payload"],
                    "ResponseMetadata": {"RequestId": "from-the-invocation"}}

    fake = AsyncFake()
    app = LambdaApp(fake, spec, invoke_threads=1)
    served, stop = run_in_thread(app)
    try:
        def call(_):
            conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
            conn.request("POST", "/2015-03-31/functions/echo/invocations", body=b"0.2")
            response = conn.getresponse()
            return response.status, response.read(), response.getheader("x-amzn-RequestId")
        with ThreadPoolExecutor(3) as pool:
            results = list(pool.map(call, range(3)))
        assert results == [(200, b"0.2", "from-the-invocation")] * 3
        assert fake.most == 1                                 # one at a time and fake.threads == {"strata-serve"}
        response, data = _request(served, "GET", "/2016-08-19/account-settings")
        assert response.status == 200 and fake.calls[-1][0] == "GetAccountSettings"   # through __call__
    finally:
        stop()
