"""Benchmark ``strata deploy`` (whole process, medians) on a generated 50-function SAM app with a shared layer.

- no-op deploy vs the floor ``python -c "import yaml"``: target within 4x (no file content read, no translator
  import, no Lambda call);
- one-file change (one function's code) vs no-op deploy + the rebuild of that one artifact (``strata build`` after
  the same change minus a no-op ``strata build``): target within 2x, and exactly one new version published.
Usage: ``.venv/bin/python bench/bench_deploy.py [--functions 50] [--reps 7] [--keep DIR]``.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from layered_app import make_app, timed

STRATA = str(Path(sys.executable).parent / "strata")
def versions(app: Path, env: dict[str, str]) -> dict[str, int]:
    """Published versions per function logical id, as the Lambda service holds them (retained ones included)."""
    from strata.local.engine.describe import describe
    from strata.local.lambda_service.service import LambdaService
    from strata.local.lambda_service.wire import dispatch

    home = Path(env["STRATA_HOME"])
    info = describe(home, app.name)
    service = LambdaService(home)
    try:
        return {k: len(dispatch(service, "ListVersionsByFunction", {"FunctionName": v["FunctionName"]})["Versions"]) - 1
                for k, v in info["Functions"].items()}
    finally:
        service.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--functions", type=int, default=50)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--keep", type=Path, default=None)
    parser.add_argument("--daemon", action="store_true", help="run every strata command through `strata daemon`")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-deploy-"))
    root.mkdir(parents=True, exist_ok=True)
    app = make_app(root, args.functions, name="benchapp")
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRATA_")}
    env["STRATA_HOME"] = str(root / "home")
    env.pop("PYTHONDONTWRITEBYTECODE", None)     # an installed strata has its bytecode cached; so does the floor
    runtime_dir = Path(tempfile.mkdtemp(prefix="sbd-", dir="/tmp"))  # a private daemon socket folder
    env["XDG_RUNTIME_DIR"] = str(runtime_dir)
    if args.daemon:
        subprocess.run([STRATA, "daemon", "start"], env=env, check=True, capture_output=True)
    else:
        env["STRATA_NO_DAEMON"] = "1"
    print("mode:", "through `strata daemon`" if args.daemon else "plain processes")
    first = timed([STRATA, "deploy"], app, env)
    print(f"first deploy ({args.functions} functions + layer): {first:.2f} s")

    floor, noop = [], []
    for _ in range(args.reps):     # alternate floor and strata in the same session
        floor.append(timed([sys.executable, "-c", "import yaml"], app, env))
        noop.append(timed([STRATA, "deploy"], app, env))
    floor_m, noop_m = statistics.median(floor), statistics.median(noop)

    build_noop, build_one, deploy_one = [], [], []
    before = versions(app, env)
    target = app / "src" / "fn7" / "app.py"
    for rep in range(args.reps):
        build_noop.append(timed([STRATA, "build"], app, env))
        target.write_text(target.read_text() + f"# change {rep}a\n")
        build_one.append(timed([STRATA, "build"], app, env))
        target.write_text(target.read_text() + f"# change {rep}b\n")
        deploy_one.append(timed([STRATA, "deploy"], app, env))
    after = versions(app, env)
    published = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
    rebuild = max(0.0, statistics.median(build_one) - statistics.median(build_noop))
    one_m = statistics.median(deploy_one)
    budget = noop_m + rebuild

    print(f"floor  python -c 'import yaml'      median {floor_m * 1000:7.1f} ms")
    print(f"no-op  strata deploy                median {noop_m * 1000:7.1f} ms   ratio {noop_m / floor_m:4.2f}x "
          f"(target <= 4x)")
    print(f"one-file strata build - no-op build median {rebuild * 1000:7.1f} ms")
    print(f"one-file strata deploy              median {one_m * 1000:7.1f} ms   ratio {one_m / budget:4.2f}x of "
          f"no-op deploy + rebuild (target <= 2x)")
    print(f"versions published by the {args.reps} one-file deploys: {published} (expected {{'Fn7': {args.reps}}})")
    print()
    print("| measure | median | ratio | target |")
    print("| --- | --- | --- | --- |")
    print(f"| no-op deploy vs import yaml | {noop_m * 1000:.0f} ms vs {floor_m * 1000:.0f} ms | "
          f"{noop_m / floor_m:.2f}x | 4x |")
    print(f"| one-file deploy vs no-op deploy + rebuild | {one_m * 1000:.0f} ms vs {budget * 1000:.0f} ms | "
          f"{one_m / budget:.2f}x | 2x |")
    if args.daemon:
        alive = subprocess.run([STRATA, "daemon", "status"], env=env, capture_output=True).returncode == 0
        print("daemon still running at the end:", alive, "" if alive else "(a source change stopped it: re-run)")
        subprocess.run([STRATA, "daemon", "stop"], env=env, capture_output=True)
    shutil.rmtree(runtime_dir, ignore_errors=True)
    if args.keep is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
