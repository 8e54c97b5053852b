"""Runtime benchmark: warm invoke through ``WorkerPool.invoke`` and ``LambdaService.invoke``, and cold start,
against same-run floors.

Floors (reference/performance-floors.md section 3):
- warm: a bare round trip to a child process over the same transport (two pipes) and framing (4-byte length +
  marshal), 100-byte JSON event, tiny handler; the parent json.dumps the event and json.loads the reply;
- cold: spawning the interpreter (``-I -S``) to import the handler, call it once and exit.
Every warm sample does the same client work: ``json.dumps`` the event, invoke, ``json.loads`` the reply.
- pool: a caller holding a ``FunctionSnapshot`` builds an ``InvokeRequest`` and calls ``WorkerPool.invoke``;
- service: ``LambdaService.invoke(name, payload=...)``, what the CLI and ``strata serve`` call: name validation,
  the resolved-snapshot cache check (``PRAGMA data_version``), a new request id, then the pool.
Floor, pool and service run in alternating short rounds (the order rotates) so machine noise hits all alike.
Prints medians and ratios as a markdown table. ``--quick`` for a short run.

    env -u PYTHONDONTWRITEBYTECODE .venv/bin/python bench/bench_runtime.py [--quick]
"""
from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from strata.artifacts.store import ArtifactStore  # noqa: E402
from strata.local.lambda_service.service import LambdaService  # noqa: E402
from strata.local.lambda_service.shapes import FunctionCode  # noqa: E402
from strata.local.runtime.api import FunctionSnapshot, InvokeRequest  # noqa: E402
from strata.local.runtime.interpreter import current  # noqa: E402
from strata.local.runtime.pool import WorkerPool  # noqa: E402
from strata.local.runtime.protocol import FrameBuffer, frame, read_message, write_all  # noqa: E402

HERE = Path(__file__).resolve().parent
HANDLER = "def handler(event, context):\n    return {'ok': True, 'n': event['n']}\n"
EVENT = {"n": 1, "pad": "x" * 80}
RUNTIME = "python%d.%d" % sys.version_info[:2]


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bare_warm(code_dir: Path, n: int, warmup: int) -> list[float]:
    return bare_child_warm([current().path, "-I", "-S", str(HERE / "runtime_bare_child.py")], code_dir, n, warmup)


def bare_child_warm(command: list[str], code_dir: Path, n: int, warmup: int,
                    env: dict[str, str] | None = None) -> list[float]:
    """The floor: ``command`` (a bare child that imports the handler in ``code_dir`` and answers strata's frames on
    two pipes, Python's or Node's) timed per request, after ``warmup`` requests."""
    request_read, request_write = os.pipe()
    reply_read, reply_write = os.pipe()
    proc = subprocess.Popen([*command, f"{request_read},{reply_write}", str(code_dir)],
                            pass_fds=(request_read, reply_write), env=env)
    os.close(request_read)
    os.close(reply_write)
    buffer, samples = FrameBuffer(), []
    for i in range(warmup + n):
        start = time.perf_counter()
        write_all(request_write, frame(("id", json.dumps(EVENT).encode(), 3000, "arn", None)))
        json.loads(read_message(reply_read, buffer)[1])
        if i >= warmup:
            samples.append(time.perf_counter() - start)
    os.close(request_write)
    os.close(reply_read)
    proc.wait()
    return samples


def pool_warm(pool: WorkerPool, snapshot: FunctionSnapshot, n: int, warmup: int) -> list[float]:
    ids = [str(uuid.uuid4()) for _ in range(warmup + n)]      # request ids are the caller's; the floor sends "id"
    arn = snapshot.function_arn
    samples = []
    for i in range(warmup + n):
        start = time.perf_counter()
        result = pool.invoke(snapshot, InvokeRequest(json.dumps(EVENT).encode(), ids[i], arn))
        json.loads(result.payload)
        if i >= warmup:
            samples.append(time.perf_counter() - start)
    assert result.function_error is None, result.payload
    return samples


def service_warm(service: LambdaService, name: str, n: int, warmup: int) -> list[float]:
    samples = []
    for i in range(warmup + n):
        start = time.perf_counter()
        result = service.invoke(name, payload=json.dumps(EVENT).encode())
        json.loads(result.payload)
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
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (about 15 s instead of a minute)")
    args = parser.parse_args()
    warm_n, warmup, cold_n, rounds = (3000, 50, 15, 10) if args.quick else (12000, 100, 60, 20)
    load_start = os.getloadavg()[0]

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
        with WorkerPool(home) as pool, LambdaService(home) as service:
            service.create_function(function_name="bench-svc", role="arn:aws:iam::123456789012:role/bench",
                                    code=FunctionCode(zip_file=buf.getvalue()), runtime=RUNTIME,
                                    handler="app.handler")
            pool.invoke(snapshot, InvokeRequest(b"{\"n\": 0}", "prime", snapshot.function_arn))  # unpack, probe
            service.invoke("bench-svc", payload=b"{\"n\": 0}")
            warm = {"floor": [], "pool": [], "service": []}
            runs = {"floor": lambda: bare_warm(code_dir, warm_n // rounds, warmup),
                    "pool": lambda: pool_warm(pool, snapshot, warm_n // rounds, warmup),
                    "service": lambda: service_warm(service, "bench-svc", warm_n // rounds, warmup)}
            order = list(runs)
            for r in range(rounds):
                for kind in order[r % 3:] + order[:r % 3]:                 # rotate who goes first
                    warm[kind] += runs[kind]()
            cold_floor, cold_pool = [], []
            for _ in range(cold_n):
                cold_floor += bare_cold(code_dir, event_file, 1)
                cold_pool += pool_cold(pool, snapshot, 1)
            interp = pool.prepare(snapshot).interpreter
    load_end = os.getloadavg()[0]

    us, ms = 1e6, 1e3
    p50 = {kind: pct(v, 0.5) * us for kind, v in warm.items()}
    p99 = {kind: pct(v, 0.99) * us for kind, v in warm.items()}
    rate = {kind: len(v) / sum(v) for kind, v in warm.items()}
    cf50, cf99 = pct(cold_floor, 0.5) * ms, pct(cold_floor, 0.99) * ms
    cp50, cp99 = pct(cold_pool, 0.5) * ms, pct(cold_pool, 0.99) * ms
    f = "floor"
    print(f"strata runtime bench ({'quick' if args.quick else 'full'}): warm n={len(warm['pool'])} each in {rounds} "
          f"rounds, cold n={len(cold_pool)}, interpreter {interp.path}, load average {load_start:.2f} -> "
          f"{load_end:.2f} ({os.cpu_count()} CPUs)")
    print()
    print("| measure | floor | WorkerPool.invoke | ratio | LambdaService.invoke | ratio | target |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print(f"| warm invoke p50 | {p50[f]:.1f} µs | {p50['pool']:.1f} µs | {p50['pool'] / p50[f]:.2f}x | "
          f"{p50['service']:.1f} µs | {p50['service'] / p50[f]:.2f}x | ≤ 1.5x |")
    print(f"| warm invoke p99 | {p99[f]:.1f} µs | {p99['pool']:.1f} µs | {p99['pool'] / p99[f]:.2f}x | "
          f"{p99['service']:.1f} µs | {p99['service'] / p99[f]:.2f}x | ≤ 2x |")
    print(f"| sequential invokes/s, one worker (n / time) | {rate[f]:,.0f} | {rate['pool']:,.0f} | "
          f"{rate['pool'] / rate[f]:.2f}x | {rate['service']:,.0f} | {rate['service'] / rate[f]:.2f}x | "
          f"≥ 0.8x and ≥ 8k/s |")
    print(f"| cold start p50 | {cf50:.1f} ms | {cp50:.1f} ms | {cp50 / cf50:.2f}x | | | ≤ 1.3x |")
    print(f"| cold start p99 | {cf99:.1f} ms | {cp99:.1f} ms | {cp99 / cf99:.2f}x | | | ≤ 45 ms |")
    print()
    print(f"warm floor: bare round trip over two pipes, same framing, parent json.dumps/json.loads as every row "
          f"does; cold floor: `{Path(interp.path).name} -I -S` import handler + one call + exit. Rounds alternate "
          f"floor, pool and service. On 2 vCPUs shared with other work (load above ~1) the absolute figures are "
          f"noise-bound; compare the ratios.")


if __name__ == "__main__":
    main()
