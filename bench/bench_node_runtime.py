"""Node.js runtime benchmark: warm invoke through ``WorkerPool.invoke`` and ``LambdaService.invoke`` of a
``nodejs20.x`` function, and its cold start, against same-run Node floors (as ``bench_runtime.py`` does for Python).

Floors:
- warm: a bare Node round trip over the same transport (two pipes) and framing (4-byte length + marshal):
  ``runtime_bare_child.js`` reads a frame, JSON.parses the event, awaits the handler, writes the reply frame; the
  parent json.dumps the event and json.loads the reply, as every row does;
- cold: ``node -e`` starting, requiring the handler, calling it once, printing the result and exiting.
Floor, pool and service run in alternating short rounds (the order rotates) so machine noise hits all alike. Prints
medians and ratios as a markdown table; targets p50 <= 1.5x and cold <= 1.3x of the floor. ``--quick`` for a short run.

    .venv/bin/python bench/bench_node_runtime.py [--quick]
"""
from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_runtime import EVENT, bare_child_warm, pct, pool_cold, pool_warm, service_warm  # noqa: E402

from strata.artifacts.store import ArtifactStore  # noqa: E402
from strata.local.lambda_service.service import LambdaService  # noqa: E402
from strata.local.lambda_service.shapes import FunctionCode  # noqa: E402
from strata.local.runtime.api import FunctionSnapshot, InvokeRequest  # noqa: E402
from strata.local.runtime.pool import WorkerPool  # noqa: E402

HERE = Path(__file__).resolve().parent
HANDLER = "exports.handler = async (event) => ({ok: true, n: event.n});\n"
RUNTIME = "nodejs20.x"


def node_binary(pool: WorkerPool, snapshot: FunctionSnapshot) -> str:
    return pool.prepare(snapshot).interpreter.path


# The floors run with a bare environment, as workers do (``sandbox.environment``): an inherited NODE_OPTIONS or
# NODE_EXTRA_CA_CERTS (which parses a whole CA bundle at start-up) would slow the floor, not strata.
FLOOR_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "en_US.UTF-8", "TZ": ":UTC"}


def bare_warm(node: str, code_dir: Path, n: int, warmup: int) -> list[float]:
    return bare_child_warm([node, str(HERE / "runtime_bare_child.js")], code_dir, n, warmup, env=FLOOR_ENV)


def bare_cold(node: str, code_dir: Path, n: int) -> list[float]:
    program = (f"const {{handler}} = require({json.dumps(str(code_dir / 'app.js'))});"
               f"Promise.resolve(handler({json.dumps(EVENT)})).then(r => process.stdout.write(JSON.stringify(r)));")
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        subprocess.run([node, "-e", program], check=True, stdout=subprocess.DEVNULL, env=FLOOR_ENV)
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    if shutil.which("node") is None:
        raise SystemExit("no node on PATH")
    warm_n, warmup, cold_n, rounds = (3000, 50, 15, 10) if args.quick else (12000, 100, 60, 20)
    load_start = os.getloadavg()[0]
    os.environ.setdefault("STRATA_ALLOW_NODE_SUBSTITUTE", "20=" + subprocess.run(
        ["node", "--version"], capture_output=True, text=True).stdout.strip().lstrip("v").split(".")[0])
    if os.environ["STRATA_ALLOW_NODE_SUBSTITUTE"] == "20=20":
        del os.environ["STRATA_ALLOW_NODE_SUBSTITUTE"]

    with tempfile.TemporaryDirectory(prefix="strata-bench-node-") as tmp:
        home = Path(tmp) / "home"
        code_dir = Path(tmp) / "code"
        code_dir.mkdir()
        (code_dir / "app.js").write_text(HANDLER)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as archive:
            archive.writestr("app.js", HANDLER)
        art = ArtifactStore(home).put_bytes(buf.getvalue())
        snapshot = FunctionSnapshot("bench", "arn:aws:lambda:us-east-1:123456789012:function:bench", "$LATEST",
                                    "app.handler", RUNTIME, art.sha256, str(art.path))
        with WorkerPool(home) as pool, LambdaService(home) as service:
            service.create_function(function_name="bench-svc", role="arn:aws:iam::123456789012:role/bench",
                                    code=FunctionCode(zip_file=buf.getvalue()), runtime=RUNTIME,
                                    handler="app.handler")
            pool.invoke(snapshot, InvokeRequest(b"{\"n\": 0}", "prime", snapshot.function_arn))  # unpack, probe
            service.invoke("bench-svc", payload=b"{\"n\": 0}")
            node = node_binary(pool, snapshot)
            warm: dict[str, list[float]] = {"floor": [], "pool": [], "service": []}
            runs = {"floor": lambda: bare_warm(node, code_dir, warm_n // rounds, warmup),
                    "pool": lambda: pool_warm(pool, snapshot, warm_n // rounds, warmup),
                    "service": lambda: service_warm(service, "bench-svc", warm_n // rounds, warmup)}
            order = list(runs)
            for r in range(rounds):
                for kind in order[r % 3:] + order[:r % 3]:
                    warm[kind] += runs[kind]()
            cold_floor, cold_pool = [], []
            for _ in range(cold_n):
                cold_floor += bare_cold(node, code_dir, 1)
                cold_pool += pool_cold(pool, snapshot, 1)
            version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    load_end = os.getloadavg()[0]

    us, ms = 1e6, 1e3
    p50 = {kind: pct(v, 0.5) * us for kind, v in warm.items()}
    p99 = {kind: pct(v, 0.99) * us for kind, v in warm.items()}
    cf50, cf99 = pct(cold_floor, 0.5) * ms, pct(cold_floor, 0.99) * ms
    cp50, cp99 = pct(cold_pool, 0.5) * ms, pct(cold_pool, 0.99) * ms
    f = "floor"
    print(f"strata Node.js runtime bench ({'quick' if args.quick else 'full'}): warm n={len(warm['pool'])} each in "
          f"{rounds} rounds, cold n={len(cold_pool)}, node {version} ({node}), load average {load_start:.2f} -> "
          f"{load_end:.2f} ({os.cpu_count()} CPUs)")
    print()
    print("| measure | floor | WorkerPool.invoke | ratio | LambdaService.invoke | ratio | target |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print(f"| warm invoke p50 | {p50[f]:.1f} µs | {p50['pool']:.1f} µs | {p50['pool'] / p50[f]:.2f}x | "
          f"{p50['service']:.1f} µs | {p50['service'] / p50[f]:.2f}x | ≤ 1.5x |")
    print(f"| warm invoke p99 | {p99[f]:.1f} µs | {p99['pool']:.1f} µs | {p99['pool'] / p99[f]:.2f}x | "
          f"{p99['service']:.1f} µs | {p99['service'] / p99[f]:.2f}x | |")
    print(f"| cold start p50 | {cf50:.1f} ms | {cp50:.1f} ms | {cp50 / cf50:.2f}x | | | ≤ 1.3x |")
    print(f"| cold start p99 | {cf99:.1f} ms | {cp99:.1f} ms | {cp99 / cf99:.2f}x | | | |")
    print()
    print("warm floor: bare Node round trip over two pipes, same framing (runtime_bare_child.js), parent "
          "json.dumps/json.loads as every row does; cold floor: `node -e` require handler + one call + exit. On "
          "2 vCPUs shared with other work the absolute figures are noise-bound; compare the ratios.")


if __name__ == "__main__":
    main()
