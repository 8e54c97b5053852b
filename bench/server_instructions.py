"""Instructions per warm Invoke in the server process, counted by callgrind: a figure without the VM's noise.

On the shared 2-vCPU VM the same code's p50 moves by 10-20% from minute to minute, so a change worth 2-5 us cannot
be seen in ``bench_server.py``'s latencies. User-space instructions are deterministic (within ~0.5%): this script
counts them for two paths, each driven in-process with a fake transport (no sockets), N requests after a warm-up:

- ``http``: strata's HTTP layer + ``LambdaApp`` with a dispatcher that answers at once (what the server costs);
- ``full``: the same in front of the real ``ServiceDispatch`` -> ``LambdaService`` -> ``WorkerPool`` with a warm
  worker process (the worker runs outside valgrind; its reply comes through the event loop, plain asyncio here);
- ``signed``: ``http`` as ``strata serve`` runs it, every request SigV4-signed (a signature is taken once, so each
  request is signed afresh, before the loop) and checked: Host allow-list, browser guard, signature, replay claim;
  ``sign-only`` makes the same signed requests and serves none, so ``signed - sign-only`` is the server's share.

Per request = (count at 3000 requests - count at 1000) / 2000, so start-up and imports cancel out. Kernel time
(system calls, wake-ups) is not counted: it is the same for every variant of the Python code. Needs valgrind
(Debian's ``valgrind`` package); about a minute per path.

    python bench/server_instructions.py             # both paths
    python bench/server_instructions.py --only full
"""
from __future__ import annotations

import argparse
import asyncio
import io
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

from bench_server import EVENT, HANDLER, REQUEST  # noqa: E402

WARMUP = 300


class _Transport:
    """Enough of an asyncio transport for ``HttpConnection``; wakes ``waiter`` when a response is written."""

    def __init__(self) -> None:
        self.out: list[bytes] = []
        self.waiter: asyncio.Future | None = None

    def write(self, data: bytes) -> None:
        self.out.append(data)
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def is_closing(self) -> bool:
        return False

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_extra_info(self, *args: object, **kwargs: object) -> None:
        return None


class _AtOnce:
    """A dispatcher that answers every Invoke at once, as a warm worker would (the ``http`` path)."""

    def __call__(self, operation: str, params: dict) -> dict:
        raise NotImplementedError(operation)

    def start_invoke(self, params: dict, on_done, executor: object = None) -> bool:  # noqa: ANN001
        from strata.local.lambda_service.context import random_uuid

        on_done.started(random_uuid(), "$LATEST")
        on_done.succeeded(params["Payload"])
        return True


async def _drive(path: str, n: int, home: Path) -> None:
    from strata.local.server.app import LambdaApp
    from strata.local.server.http import HttpConnection, HttpServer
    from strata.local.server.model import service_spec

    service = None
    if path == "full":
        from strata.local.lambda_service.service import LambdaService
        from strata.local.lambda_service.shapes import FunctionCode
        from strata.local.server.operations import ServiceDispatch

        service = LambdaService(home)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zf:
            zf.writestr("app.py", HANDLER)
        service.create_function(function_name="bench-fn", runtime="python3.12", handler="app.handler",
                                role="arn:aws:iam::123456789012:role/bench",
                                code=FunctionCode(zip_file=buffer.getvalue()))
        service.runtime.logs.flush_delay = 1.0     # valgrind runs ~50x slower: keep the log writer's looks as rare
        dispatch = ServiceDispatch(service)
    else:
        dispatch = _AtOnce()
    requests = [REQUEST] * (WARMUP + n)
    verifier = hosts = None
    if path in ("signed", "sign-only"):
        from strata.local.credentials import Credentials
        from strata.local.server.auth import AllowedHosts, Verifier, sign

        keys = Credentials("AKIDBENCHINSTRUCTION", "bench-secret-access-key-0000000000000000")
        head, _, body = REQUEST.partition(b"\r\n\r\n")
        request_line, *lines = head.decode().split("\r\n")
        method, target, _ = request_line.split(" ")
        base = dict(line.split(": ", 1) for line in lines if not line.lower().startswith("host:"))

        def signed() -> bytes:
            headers = sign(keys, "us-east-1", method, "127.0.0.1:3001", target, "", base, body)
            return (f"{request_line}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
                    + "\r\n").encode() + body

        requests = [signed() for _ in range(WARMUP + n)]
        if path == "sign-only":
            return
        verifier, hosts = Verifier(keys, "us-east-1"), AllowedHosts.for_bind("127.0.0.1", 3001)
    app = LambdaApp(dispatch, service_spec(), invoke_threads=1, verifier=verifier, allowed_hosts=hosts)
    server = HttpServer(app)
    loop = server.loop = asyncio.get_running_loop()
    server._refresh(loop.time())
    connection = HttpConnection(server)
    transport = _Transport()
    connection.connection_made(transport)
    for request in requests:
        transport.waiter = loop.create_future()
        connection.data_received(request)
        await transport.waiter
        if not transport.out[-1].endswith(EVENT):
            raise SystemExit(f"unexpected response: {transport.out[-1][:300]!r}")
        transport.out.clear()
    if service is not None:
        service.close()
    app.close()


def _count(path: str, n: int) -> int:
    out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__,
                          "--child", path, str(n)], capture_output=True, text=True)
    found = re.search(r"Collected : (\d+)", out.stderr)
    if out.returncode != 0 or found is None:
        raise SystemExit(f"valgrind run failed ({path}, {n}):\n{out.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=("http", "full", "signed"))
    parser.add_argument("--child", nargs=2, metavar=("PATH", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        with tempfile.TemporaryDirectory(prefix="bench-instructions-") as home:
            asyncio.run(_drive(args.child[0], int(args.child[1]), Path(home)))
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    print("| path | instructions per warm Invoke (server process, user space) |")
    print("| --- | --- |")
    label = {"http": "HTTP layer + app, answered at once", "full": "HTTP + app + service + pool + worker IPC",
             "signed": "HTTP layer + app, answered at once, each request SigV4-checked (signing not counted)"}
    for path in ([args.only] if args.only else ["http", "signed", "full"]):
        per_request = (_count(path, 3000) - _count(path, 1000)) // 2000
        if path == "signed":
            per_request -= (_count("sign-only", 3000) - _count("sign-only", 1000)) // 2000
        print(f"| {label[path]} | {per_request:,} |")


if __name__ == "__main__":
    main()
