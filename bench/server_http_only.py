"""strata's HTTP layer alone, for ``bench_server.py``: the real ``LambdaApp`` on uvicorn (routes, parsing, validation,
invoke slots, serialization, request ids) whose Invoke goes to the floor's minimal warm worker instead of the control
plane and ``WorkerPool``. Comparing it with the floor isolates what the server itself costs.

Invoke is awaited on the event loop as ``strata serve`` does it (``invoke_async``: the request is written to the worker
and its reply read when ``add_reader`` says it is there), so the only difference from strata serve is what runs
around the worker: here nothing, there the control plane look-up and ``WorkerPool``'s bookkeeping.

Run: ``python bench/server_http_only.py PORT_FILE`` (writes the port, serves until killed).
"""
from __future__ import annotations

import asyncio
import os
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from server_floor import Worker  # noqa: E402

from strata.server.app import LambdaApp  # noqa: E402
from strata.server.model import service_spec  # noqa: E402
from strata.server.runner import bind, make_server  # noqa: E402


class LoopWorker:
    """The floor's worker, its reply awaited on the event loop (one invoke at a time: the app's slots see to it)."""

    def __init__(self) -> None:
        self.worker = Worker()
        os.set_blocking(self.worker.rfd, False)
        self.buffer = b""

    async def call(self, payload: bytes) -> bytes:
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        loop.add_reader(self.worker.rfd, self._readable, waiter)
        try:
            os.write(self.worker.wfd, struct.pack(">I", len(payload)) + payload)
            return await waiter
        finally:
            loop.remove_reader(self.worker.rfd)

    def _readable(self, waiter: asyncio.Future) -> None:
        self.buffer += os.read(self.worker.rfd, 65536)
        if len(self.buffer) >= 4:
            (size,) = struct.unpack(">I", self.buffer[:4])
            if len(self.buffer) >= 4 + size and not waiter.done():
                waiter.set_result(self.buffer[4:4 + size])
                self.buffer = self.buffer[4 + size:]


class Dispatch:
    def __init__(self) -> None:
        self.worker = LoopWorker()

    def __call__(self, operation: str, params: dict) -> dict:
        raise NotImplementedError(operation)

    async def invoke_async(self, params: dict, executor: object = None) -> dict:
        payload = await self.worker.call(params["Payload"])
        return {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": payload}


def main(port_file: str) -> None:
    app = LambdaApp(Dispatch(), service_spec(), invoke_threads=1)
    sock = bind("127.0.0.1", 0)
    with open(port_file + ".tmp", "w") as fh:
        fh.write(str(sock.getsockname()[1]))
    os.replace(port_file + ".tmp", port_file)
    make_server(app, sock).run(sockets=[sock])


if __name__ == "__main__":
    main(sys.argv[1])
