"""A minimal Debug Adapter Protocol client over TCP, as an editor speaks it to debugpy: enough to attach, set
breakpoints, see a stop, look at a frame and continue (``--debug`` tests). Messages are ``Content-Length`` framed
JSON; a reader thread queues them, and ``wait`` picks the first one a predicate accepts (keeping the others)."""
from __future__ import annotations

import json
import queue
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

Message = dict[str, Any]


class DapClient:
    def __init__(self, host: str, port: int, connect_timeout: float = 120.0) -> None:
        deadline = time.monotonic() + connect_timeout
        while True:
            try:
                self.sock = socket.create_connection((host, port), timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.sock.settimeout(None)
        self._seq = 0
        self._inbox: queue.Queue[Message | None] = queue.Queue()
        self._kept: list[Message] = []
        threading.Thread(target=self._read, name="dap-reader", daemon=True).start()

    def _read(self) -> None:
        stream = self.sock.makefile("rb")
        try:
            while True:
                headers: dict[str, str] = {}
                while True:
                    line = stream.readline()
                    if not line:
                        return
                    if not line.strip():
                        break
                    name, _, value = line.decode("ascii").partition(":")
                    headers[name.strip().lower()] = value.strip()
                self._inbox.put(json.loads(stream.read(int(headers["content-length"]))))
        except OSError:
            return
        finally:
            self._inbox.put(None)

    def send(self, command: str, **arguments: Any) -> int:
        """Send a request; its sequence number (``response(seq)`` waits for the answer)."""
        self._seq += 1
        body = json.dumps({"seq": self._seq, "type": "request", "command": command, "arguments": arguments}).encode()
        self.sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return self._seq

    def wait(self, accept: Callable[[Message], bool], timeout: float = 120.0) -> Message:
        for message in self._kept:
            if accept(message):
                self._kept.remove(message)
                return message
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no such DAP message within {timeout} s; seen: {self._kept}")
            try:
                message = self._inbox.get(timeout=left)
            except queue.Empty:
                continue
            if message is None:
                raise EOFError(f"the debug adapter closed the connection; seen: {self._kept}")
            if accept(message):
                return message
            self._kept.append(message)

    def response(self, seq: int, timeout: float = 120.0) -> Message:
        reply = self.wait(lambda m: m.get("type") == "response" and m.get("request_seq") == seq, timeout)
        assert reply.get("success"), reply
        return reply

    def event(self, name: str, timeout: float = 120.0) -> Message:
        return self.wait(lambda m: m.get("type") == "event" and m.get("event") == name, timeout)

    def request(self, command: str, **arguments: Any) -> Message:
        return self.response(self.send(command, **arguments))

    def attach(self, breakpoints: dict[str, list[int]], path_mappings: list[dict[str, str]] | None = None) -> None:
        """initialize, attach, setBreakpoints per file, configurationDone (debugpy answers attach only after it)."""
        self.request("initialize", clientID="strata-test", adapterID="debugpy", pathFormat="path",
                     linesStartAt1=True, columnsStartAt1=True)
        attach = self.send("attach", justMyCode=False, pathMappings=path_mappings or [])
        self.event("initialized")
        for path, lines in breakpoints.items():
            answer = self.request("setBreakpoints", source={"path": path},
                                  breakpoints=[{"line": line} for line in lines])
            assert all(bp["verified"] for bp in answer["body"]["breakpoints"]), answer
        self.request("configurationDone")
        self.response(attach)

    def stopped(self, timeout: float = 120.0) -> tuple[int, Message]:
        """The next stop: its thread id and its top frame (``source.path``, ``line``, ``id``)."""
        thread = self.event("stopped", timeout)["body"]["threadId"]
        frames = self.request("stackTrace", threadId=thread)["body"]["stackFrames"]
        return thread, frames[0]

    def evaluate(self, expression: str, frame_id: int) -> str:
        return str(self.request("evaluate", expression=expression, frameId=frame_id, context="repl")["body"]["result"])

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
