"""strata's HTTP layer alone, for ``bench_server.py``: the real ``LambdaApp`` on ``strata.local.server.http`` (routes,
parsing, validation, invoke slots, serialization, request ids) whose Invoke goes to the floor's minimal warm worker
instead of the control plane and ``WorkerPool``. Comparing it with the floor isolates what the server itself costs.

Invoke takes strata serve's hot path (``start_invoke``: the request is written to the worker and the response is
written from the loop's reader callback when the reply is there), so the only difference from strata serve is what
runs around the worker: here nothing, there the control plane look-up, ``WorkerPool``'s bookkeeping and strata's
worker protocol.

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

from strata.local.lambda_service.context import random_uuid  # noqa: E402
from strata.local.runtime.api import InvokeResult  # noqa: E402
from strata.local.server.app import LambdaApp  # noqa: E402
from strata.local.server.model import service_spec  # noqa: E402
from strata.local.server.runner import bind, make_server  # noqa: E402


class LoopWorker:
    """The floor's worker, its reply read when the loop says it is there (registered once, as strata's workers are);
    one invoke at a time (the app's slots see to it)."""

    def __init__(self) -> None:
        self.worker = Worker()
        os.set_blocking(self.worker.rfd, False)
        self.buffer = b""
        self.on_reply = None
        self.loop = None

    def start(self, payload: bytes, on_reply) -> None:  # noqa: ANN001 - called with the reply bytes
        loop = asyncio.get_running_loop()
        if self.loop is not loop:
            loop.add_reader(self.worker.rfd, self._readable)
            self.loop = loop
        self.on_reply = on_reply
        os.write(self.worker.wfd, struct.pack(">I", len(payload)) + payload)

    def _readable(self) -> None:
        self.buffer += os.read(self.worker.rfd, 65536)
        if len(self.buffer) >= 4:
            (size,) = struct.unpack(">I", self.buffer[:4])
            if len(self.buffer) >= 4 + size:
                reply, self.buffer = self.buffer[4:4 + size], self.buffer[4 + size:]
                on_reply, self.on_reply = self.on_reply, None
                on_reply(reply)


class Dispatch:
    """Invoke straight to the floor's worker, by the same hot path strata's ``ServiceDispatch`` offers the app
    (``start_invoke``: a callback from the loop's reader, no coroutine)."""

    def __init__(self) -> None:
        self.worker = LoopWorker()

    def __call__(self, operation: str, params: dict) -> dict:
        raise NotImplementedError(operation)

    def start_invoke(self, params: dict, on_done, executor: object = None) -> bool:  # noqa: ANN001
        request_id = random_uuid()
        self.worker.start(params["Payload"], lambda payload: on_done(
            InvokeResult(200, payload, "$LATEST", request_id), None))
        started = getattr(on_done, "started", None)       # as strata's invoke.start_invoke tells it
        if started is not None:
            started(request_id, "$LATEST")
        return True

    async def invoke_async(self, params: dict, executor: object = None) -> dict:
        waiter = asyncio.get_running_loop().create_future()
        self.worker.start(params["Payload"], waiter.set_result)
        return {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": await waiter}


def main(port_file: str) -> None:
    app = LambdaApp(Dispatch(), service_spec(), invoke_threads=1)
    sock = bind("127.0.0.1", 0)
    with open(port_file + ".tmp", "w") as fh:
        fh.write(str(sock.getsockname()[1]))
    os.replace(port_file + ".tmp", port_file)
    make_server(app, sock).run(sockets=[sock])


if __name__ == "__main__":
    main(sys.argv[1])
