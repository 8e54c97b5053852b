"""The floor for ``bench_server.py``: a minimal asyncio HTTP responder forwarding each event to ONE warm worker.

Same shape as performance-floors section 4 "hand-written asyncio + warm worker": an ``asyncio.Protocol`` with its
own tiny HTTP/1.1 parsing (keep-alive, Content-Length bodies only), one worker subprocess that ``json.loads`` the
event, calls a tiny handler and ``json.dumps`` the result, over a 4-byte length-prefixed pipe, one invoke at a time.
It does nothing strata must do (routing, validation, request ids, a control plane): it is what the hardware allows.

Run: ``python bench/server_floor.py PORT_FILE`` (writes the port it listens on, serves until killed).
"""
from __future__ import annotations

import asyncio
import os
import struct
import subprocess
import sys

WORKER = r"""
import json, os, struct, sys
def handler(event, context):
    return event
def read_exact(n):
    data = b""
    while len(data) < n:
        chunk = os.read(0, n - len(data))
        if not chunk:
            sys.exit(0)
        data += chunk
    return data
while True:
    (size,) = struct.unpack(">I", read_exact(4))
    event = json.loads(read_exact(size))
    out = json.dumps(handler(event, None)).encode()
    os.write(1, struct.pack(">I", len(out)) + out)
"""


class Worker:
    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     bufsize=0)
        self.wfd, self.rfd = self.proc.stdin.fileno(), self.proc.stdout.fileno()

    def call(self, payload: bytes) -> bytes:
        os.write(self.wfd, struct.pack(">I", len(payload)) + payload)
        head = b""
        while len(head) < 4:
            head += os.read(self.rfd, 4 - len(head))
        (size,) = struct.unpack(">I", head)
        data = b""
        while len(data) < size:
            data += os.read(self.rfd, size - len(data))
        return data


class Responder(asyncio.Protocol):
    worker: Worker

    def connection_made(self, transport) -> None:  # noqa: ANN001
        self.transport, self.buffer = transport, b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            length = 0
            for line in self.buffer[:head_end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            end = head_end + 4 + length
            if len(self.buffer) < end:
                return
            body, self.buffer = self.buffer[head_end + 4:end], self.buffer[end:]
            out = self.worker.call(body)
            self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                                 + str(len(out)).encode() + b"\r\n\r\n" + out)


async def main(port_file: str) -> None:
    Responder.worker = Worker()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Responder, "127.0.0.1", 0)
    with open(port_file + ".tmp", "w") as fh:
        fh.write(str(server.sockets[0].getsockname()[1]))
    os.replace(port_file + ".tmp", port_file)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))  # stdlib asyncio, as the floor in performance-floors section 4
