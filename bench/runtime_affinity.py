"""CPU-affinity experiment for the warm path (reference/performance-floors.md section 3: a round trip between two
processes pinned to one vCPU costs 20-35 µs against 50-100 µs across vCPUs).

    env -u PYTHONDONTWRITEBYTECODE .venv/bin/python bench/runtime_affinity.py [--n 3000] [--rounds 6]

Modes, in alternating rounds through the real ``WorkerPool`` (tiny handler, 100-byte event):
- ``free``: no affinity (what the pool does);
- ``same``: the invoking thread and its worker pinned to one CPU;
- ``worker``: only the worker pinned, to the CPU the invoking thread last ran on (the parent stays free);
- ``floor free`` / ``floor same``: the bare round trip of bench_runtime.py, unpinned and with both ends on one CPU;
and a parallel run: two threads invoking at once through two warm workers (``free`` vs each thread and its
worker pinned to a CPU of their own), total invokes/s. Prints medians, p99 and throughput.
"""
from __future__ import annotations

import argparse
import ctypes
import io
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_runtime import EVENT, HANDLER, RUNTIME, bare_warm, pct  # noqa: E402

from strata.artifacts.store import ArtifactStore  # noqa: E402
from strata.local.runtime.api import FunctionSnapshot, InvokeRequest  # noqa: E402
from strata.local.runtime.pool import WorkerPool  # noqa: E402

ALL = os.sched_getaffinity(0)
_libc = ctypes.CDLL(None, use_errno=True)


def current_cpu() -> int:
    return _libc.sched_getcpu()


def run(pool, snapshot, n, mode):
    env = pool._idle[snapshot.key][-1]            # the warm environment the next invoke takes (LIFO)
    pid = env.worker.pid
    if mode == "same":
        cpu = current_cpu()
        os.sched_setaffinity(0, {cpu})
        os.sched_setaffinity(pid, {cpu})
    elif mode == "worker":
        os.sched_setaffinity(pid, {current_cpu()})
    payload = json.dumps(EVENT).encode()
    samples = []
    try:
        for _ in range(n):
            start = time.perf_counter()
            request = InvokeRequest(json.dumps(EVENT).encode(), "r", snapshot.function_arn)
            json.loads(pool.invoke(snapshot, request).payload)
            samples.append(time.perf_counter() - start)
    finally:
        os.sched_setaffinity(0, ALL)
        os.sched_setaffinity(pid, ALL)
    del payload
    return samples


def floor(code_dir, n, pinned):
    if pinned:
        os.sched_setaffinity(0, {current_cpu()})       # the bare child inherits the mask: both on one CPU
    try:
        return bare_warm(code_dir, n, 100)
    finally:
        os.sched_setaffinity(0, ALL)


def parallel(pool, snapshot, n, pinned):
    envs = list(pool._idle[snapshot.key])
    assert len(envs) >= 2
    barrier = threading.Barrier(2)
    cpus = sorted(ALL)
    done = []

    def body(k):
        if pinned:
            os.sched_setaffinity(0, {cpus[k % len(cpus)]})
        barrier.wait()
        for _ in range(n):
            pool.invoke(snapshot, InvokeRequest(json.dumps(EVENT).encode(), "r", snapshot.function_arn))
        done.append(time.perf_counter())

    # with two threads each takes an idle environment; pin each worker to a CPU (if pinned) by its list position
    if pinned:
        for k, env in enumerate(envs[:2]):
            os.sched_setaffinity(env.worker.pid, {cpus[k % len(cpus)]})
    threads = [threading.Thread(target=body, args=(k,)) for k in range(2)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for env in envs:
        if env.worker is not None:
            os.sched_setaffinity(env.worker.pid, ALL)
    return 2 * n / (max(done) - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="strata-affinity-") as tmp:
        home = Path(tmp) / "home"
        code_dir = Path(tmp) / "code"
        code_dir.mkdir()
        (code_dir / "app.py").write_text(HANDLER)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as archive:
            archive.writestr("app.py", HANDLER)
        art = ArtifactStore(home).put_bytes(buf.getvalue())
        snapshot = FunctionSnapshot("aff", "arn:aws:lambda:us-east-1:123456789012:function:aff", "$LATEST",
                                    "app.handler", RUNTIME, art.sha256, str(art.path))
        with WorkerPool(home) as pool:
            # two warm environments: invoke twice at once
            ts = [threading.Thread(target=lambda: pool.invoke(snapshot, InvokeRequest(b"{\"n\": 1}", "w",
                                                                                      snapshot.function_arn)))
                  for _ in range(2)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            modes = ["free", "same", "worker", "floor free", "floor same"]
            got = {m: [] for m in modes}
            par = {False: [], True: []}
            for r in range(args.rounds):
                for m in modes[r % 5:] + modes[:r % 5]:
                    if m.startswith("floor"):
                        got[m] += floor(code_dir, args.n, m == "floor same")
                    else:
                        got[m] += run(pool, snapshot, args.n, m)
                for pinned in ((False, True) if r % 2 == 0 else (True, False)):
                    par[pinned].append(parallel(pool, snapshot, args.n // 2, pinned))
    print(f"load average {os.getloadavg()[0]:.2f}, CPUs {sorted(ALL)}")
    print("| mode | p50 µs | p99 µs | invokes/s (n / time) |")
    print("| --- | --- | --- | --- |")
    for m, v in got.items():
        print(f"| {m} | {pct(v, 0.5) * 1e6:.1f} | {pct(v, 0.99) * 1e6:.1f} | {len(v) / sum(v):,.0f} |")
    for pinned, v in par.items():
        print(f"| parallel, 2 threads x 2 workers, {'pinned per pair' if pinned else 'free'} | | | "
              f"{statistics.median(v):,.0f} (median of {len(v)} rounds) |")


if __name__ == "__main__":
    main()
