"""Where the microseconds of a warm invoke go: the parts of ``LambdaService.invoke`` and ``WorkerPool.invoke``
timed one by one, in process, against the bare round trip.

    .venv/bin/python bench/runtime_profile.py [--n 5000]

Each line is the median of ``--n`` calls of one step (timed with ``perf_counter`` around a loop of that step alone,
so the figures are CPU cost, not the cost inside the full path where caches are colder). The end-to-end lines at the
top are per-call medians of the real thing.
"""
from __future__ import annotations

import argparse
import base64
import io
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_runtime import EVENT, HANDLER, RUNTIME, bare_warm  # noqa: E402

from strata.local.lambda_service.service import LambdaService  # noqa: E402
from strata.local.lambda_service.shapes import FunctionCode  # noqa: E402


def per_call(fn, n: int, reps: int = 7) -> float:
    """Median over ``reps`` of the mean time of ``n`` back-to-back calls, in µs."""
    results = []
    for _ in range(reps):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        results.append((time.perf_counter() - start) / n)
    return statistics.median(results) * 1e6


def samples(fn, n: int) -> float:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return statistics.median(out) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=5000)
    args = parser.parse_args()
    n = args.n
    with tempfile.TemporaryDirectory(prefix="strata-prof-") as tmp:
        home = Path(tmp) / "home"
        code_dir = Path(tmp) / "code"
        code_dir.mkdir()
        (code_dir / "app.py").write_text(HANDLER)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as archive:
            archive.writestr("app.py", HANDLER)
        service = LambdaService(home)
        service.create_function(function_name="bench", role="arn:aws:iam::123456789012:role/r",
                                code=FunctionCode(zip_file=buf.getvalue()), runtime=RUNTIME,
                                handler="app.handler")
        payload = json.dumps(EVENT).encode()
        service.invoke("bench", payload=payload)
        pool = service.runtime
        ctx = service.ctx

        from strata.local.lambda_service import invoke as inv
        from strata.local.lambda_service.lookup import resolve_target
        from strata.local.lambda_service.names import resolve_function
        from strata.local.runtime.api import InvokeRequest, InvokeResult
        from strata.local.runtime.environment import _result
        from strata.local.runtime.logs import invocation_block, report_line
        from strata.local.runtime.protocol import frame
        from strata.model.naming import LATEST

        ref = resolve_function("bench", None, region=ctx.region, namespaced=True, max_length=170)
        with ctx.db.transaction(write=False) as tx:
            target = resolve_target(tx, ctx, ref, missing_suffix=LATEST)
            snapshot = inv._snapshot(tx, ctx, target.version)
        request = InvokeRequest(payload, "rid", snapshot.function_arn)

        print(f"end to end, median per call over {n} (µs):")
        floor = sorted(bare_warm(code_dir, n, 200))[n // 2] * 1e6
        print(f"  bare round trip (floor)             {floor:8.1f}")
        print(f"  WorkerPool.invoke                   {samples(lambda: pool.invoke(snapshot, request), n):8.1f}")
        print(f"  LambdaService.invoke                "
              f"{samples(lambda: service.invoke('bench', payload=payload), n):8.1f}")
        print()
        print("service-side steps, per call (µs): [every] invoke, or only on a cache [miss] (the database changed)")

        def in_tx():
            with ctx.db.transaction(write=False) as tx:
                t = resolve_target(tx, ctx, ref, missing_suffix=LATEST)
                inv._snapshot(tx, ctx, t.version)

        def open_tx():
            with ctx.db.transaction(write=False):
                pass

        def get_fn():
            tx.get_function("bench")

        def get_ver():
            tx.get_version("bench", LATEST)

        cache = inv._cache_of(ctx.db)
        state = cache.data_version()
        steps = [
            ("[every] cache: PRAGMA data_version", cache.data_version),
            ("[every] cache: lookup (hit)", lambda: cache.get("bench", None, state)),
            ("[every] check_payload", lambda: inv.check_payload(payload, "RequestResponse")),
            ("[miss] resolve_function (name parsing)",
             lambda: resolve_function("bench", None, region=ctx.region, namespaced=True, max_length=170)),
            ("[miss] open+BEGIN+COMMIT+close a connection", open_tx),
            ("[miss] transaction + resolve_target + _snapshot", in_tx),
            ("[every] ctx.new_id (uuid4)", ctx.new_id),
            ("[miss] ctx.function_arn", lambda: ctx.function_arn("bench", None)),
            ("[every] InvokeRequest(...)",
             lambda: InvokeRequest(payload, "rid", "arn", "RequestResponse", "None", None)),
            ("[every] snapshot.key (cached)", lambda: snapshot.key),
        ]
        with ctx.db.transaction(write=False) as tx:
            steps += [("[miss]   tx.get_function", get_fn), ("[miss]   tx.get_version (JSON + from_wire)", get_ver)]
            for label, fn in steps[-2:]:
                print(f"  {label:48s} {per_call(fn, n):7.2f}")
        for label, fn in steps[:-2]:
            print(f"  {label:48s} {per_call(fn, n):7.2f}")
        print()
        print("pool-side steps, per call (µs):")
        lock = threading.Lock()
        env = next(iter(pool._idle[snapshot.key]))
        worker = env.worker
        text = ("START RequestId: x Version: $LATEST\nEND RequestId: x\n"
                + report_line("x", 0.5, 128, 20, None))

        def locked():
            with lock:
                pass

        fd = os.open(os.path.join(tmp, "log"), os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        pool_steps = [
            ("frame(request tuple)", lambda: frame(("rid", payload, 3000, "arn", None))),
            ("lock acquire+release", locked),
            ("time.monotonic()", time.monotonic),
            ("time.perf_counter()", time.perf_counter),
            ("poller.poll(0) on idle out pipe", lambda: worker.out_poller.poll(0)),
            ("report_line(...)", lambda: report_line("x", 0.5, 128, 20, None)),
            ("os.write(O_APPEND log fd, ~200 B)", lambda: os.write(fd, text.encode())),
            ("output.take() (empty)", worker.output.take),
            ("invocation_block(...) (what the pool uses)",
             lambda: invocation_block("", "x", "$LATEST", "", 0.5, 128, 20)),
            ("LogStore.append_later (queue only)", lambda: pool.logs._queue.append(("f", "v", text))),
            ("InvokeResult(...) constructor", lambda: InvokeResult(200, b"{}", "$LATEST", "rid", None, None)),
            ("environment._result(...) (what the pool uses)",
             lambda: _result(200, b"{}", "$LATEST", "rid", None, None)),
            ("base64 tail (Tail only)", lambda: base64.b64encode(text.encode()[-4096:]).decode("ascii")),
            ("uuid.uuid4() str", lambda: str(uuid.uuid4())),
        ]
        for label, fn in pool_steps:
            print(f"  {label:48s} {per_call(fn, n):7.2f}")
        os.close(fd)
        service.close()


if __name__ == "__main__":
    main()
