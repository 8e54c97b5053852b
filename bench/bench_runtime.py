"""Runtime benchmark: warm invoke and cold start through ``WorkerPool`` against same-run floors.

Floors (reference/performance-floors.md section 3):
- warm: a bare round trip to a child process over the same transport (Unix socketpair) and framing (4-byte length +
  marshal), 100-byte JSON event, tiny handler; the parent json.dumps the event and json.loads the reply;
- cold: spawning the interpreter (``-I -S``) to import the handler, call it once and exit.
Prints medians and ratios as a markdown table. ``--quick`` for a short run.

    .venv/bin/python bench/bench_runtime.py [--quick]
"""
from __future__ import annotations

import argparse
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from strata.build.store import ArtifactStore  # noqa: E402
from strata.runtime.api import FunctionSnapshot, InvokeRequest  # noqa: E402
from strata.runtime.interpreter import current  # noqa: E402
from strata.runtime.pool import WorkerPool  # noqa: E402
from strata.runtime.protocol import FrameBuffer, frame, read_message, write_all  # noqa: E402

HERE = Path(__file__).resolve().parent
HANDLER = "def handler(event, context):\n    return {'ok': True, 'n': event['n']}\n"
EVENT = {"n": 1, "pad": "x" * 80}
RUNTIME = "python%d.%d" % sys.version_info[:2]


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bare_warm(code_dir: Path, n: int, warmup: int) -> list[float]:
    parent, child = socket.socketpair()
    command = [current().path, "-I", "-S", str(HERE / "runtime_bare_child.py"), str(child.fileno()), str(code_dir)]
    proc = subprocess.Popen(command, pass_fds=(child.fileno(),))
    child.close()
    fd, buffer, samples = parent.fileno(), FrameBuffer(), []
    for i in range(warmup + n):
        start = time.perf_counter()
        write_all(fd, frame(("id", json.dumps(EVENT).encode(), 3000, "arn", None)))
        json.loads(read_message(fd, buffer)[1])
        if i >= warmup:
            samples.append(time.perf_counter() - start)
    parent.close()
    proc.wait()
    return samples


def pool_warm(pool: WorkerPool, snapshot: FunctionSnapshot, n: int, warmup: int) -> list[float]:
    payload = json.dumps(EVENT).encode()
    samples = []
    for i in range(warmup + n):
        request = InvokeRequest(payload, str(uuid.uuid4()), snapshot.function_arn)
        start = time.perf_counter()
        result = pool.invoke(snapshot, request)
        if i >= warmup:
            samples.append(time.perf_counter() - start)
    assert result.function_error is None, result.payload
    return samples


def bare_cold(code_dir: Path, event_file: Path, n: int) -> list[float]:
    command = [current().path, "-I", "-S", str(HERE / "runtime_bare_child.py"), "once", str(code_dir),
               str(event_file)]
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        samples.append(time.perf_counter() - start)
    return samples


def pool_cold(pool: WorkerPool, snapshot: FunctionSnapshot, n: int) -> list[float]:
    payload = json.dumps(EVENT).encode()
    samples = []
    for _ in range(n):
        # a new key means a new environment; the code is already unpacked (once per digest), as after a deploy
        fresh = replace(snapshot, revision_id=f"cold-{uuid.uuid4()}")
        request = InvokeRequest(payload, str(uuid.uuid4()), snapshot.function_arn)
        start = time.perf_counter()
        result = pool.invoke(fresh, request)
        samples.append(time.perf_counter() - start)
        assert result.function_error is None, result.payload
        pool.reap(now=time.monotonic() + 10 ** 9)                 # stop it (not timed)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    warm_n, warmup, cold_n = (2000, 50, 15) if args.quick else (10000, 100, 60)

    with tempfile.TemporaryDirectory(prefix="strata-bench-") as tmp:
        home = Path(tmp) / "home"
        code_dir = Path(tmp) / "code"
        code_dir.mkdir()
        (code_dir / "app.py").write_text(HANDLER)
        event_file = Path(tmp) / "event.json"
        event_file.write_text(json.dumps(EVENT))
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as archive:
            archive.writestr("app.py", HANDLER)
        art = ArtifactStore(home).put_bytes(buf.getvalue())
        snapshot = FunctionSnapshot("bench", "arn:aws:lambda:us-east-1:123456789012:function:bench", "$LATEST",
                                    "app.handler", RUNTIME, art.sha256, str(art.path))
        with WorkerPool(home) as pool:
            pool.invoke(snapshot, InvokeRequest(b"{\"n\": 0}", "prime", snapshot.function_arn))  # unpack, probe
            rows = []
            # alternate floor and strata in short rounds so machine noise (a shared 2-vCPU VM) hits both alike
            warm_floor, warm_pool = [], []
            rounds = 10
            for _ in range(rounds):
                warm_floor += bare_warm(code_dir, warm_n // rounds, warmup)
                warm_pool += pool_warm(pool, snapshot, warm_n // rounds, warmup)
            cold_floor, cold_pool = [], []
            for _ in range(cold_n):
                cold_floor += bare_cold(code_dir, event_file, 1)
                cold_pool += pool_cold(pool, snapshot, 1)
            interp = pool.prepare(snapshot).interpreter

    us = 1e6
    ms = 1e3
    fp50, fp99 = pct(warm_floor, 0.5) * us, pct(warm_floor, 0.99) * us
    pp50, pp99 = pct(warm_pool, 0.5) * us, pct(warm_pool, 0.99) * us
    f_rate, p_rate = len(warm_floor) / sum(warm_floor), len(warm_pool) / sum(warm_pool)
    cf50, cf99 = pct(cold_floor, 0.5) * ms, pct(cold_floor, 0.99) * ms
    cp50, cp99 = pct(cold_pool, 0.5) * ms, pct(cold_pool, 0.99) * ms
    print(f"strata runtime bench ({'quick' if args.quick else 'full'}): warm n={len(warm_pool)}, "
          f"cold n={len(cold_pool)}, interpreter {interp.path}")
    print()
    print("| measure | floor | strata WorkerPool | ratio | target |")
    print("| --- | --- | --- | --- | --- |")
    print(f"| warm invoke p50 | {fp50:.1f} µs | {pp50:.1f} µs | {pp50 / fp50:.2f}x | ≤ 1.5x |")
    print(f"| warm invoke p99 | {fp99:.1f} µs | {pp99:.1f} µs | {pp99 / fp99:.2f}x | ≤ 2x |")
    print(f"| sequential invokes/s, one worker (n / total time) | {f_rate:,.0f} | {p_rate:,.0f} | "
          f"{p_rate / f_rate:.2f}x | ≥ 8k/s, ≥ 0.8x |")
    print(f"| sequential invokes/s, one worker (1 / p50) | {1e6 / fp50:,.0f} | {1e6 / pp50:,.0f} | "
          f"{fp50 / pp50:.2f}x | ≥ 8k/s |")
    print(f"| cold start p50 | {cf50:.1f} ms | {cp50:.1f} ms | {cp50 / cf50:.2f}x | ≤ 1.3x |")
    print(f"| cold start p99 | {cf99:.1f} ms | {cp99:.1f} ms | {cp99 / cf99:.2f}x | ≤ 45 ms |")
    print()
    print(f"warm floor: bare socketpair round trip, same framing; cold floor: `{Path(interp.path).name} -I -S` "
          f"import handler + one call + exit; rounds alternate floor and pool. Load average at the end: "
          f"{os.getloadavg()[0]:.1f} (2 vCPU: above ~1 the figures are noise-bound).")


if __name__ == "__main__":
    main()
