"""Benchmark big stacks (issue 18): an app of N functions sharing a layer, each with an ``Api`` event, for N = 50,
200, 499 (``--sizes``; 499 functions and the layer make CloudFormation's 500-resource limit, which strata enforces),
with plain ``strata deploy`` processes (the CLI, ``STRATA_NO_DAEMON=1``), as the issue measured:

- first local deploy (fresh state home), no-op deploy, one-file code edit deploy, template edit of one function's
  environment (the incremental transform: ``strata.transform.incremental``);
- the bare translator: aws-sam-translator on the same template (strata's adapter ``strata.transform.sam.translate``,
  no cache, in this process, the translator already imported), as shipped (its own deep copies of the API body:
  what ``sam build`` pays on every template edit) and with strata's exact copies (``strata.transform.py27_copy``).
Prints medians (``--reps`` for N < 400, ``--big-reps`` from 400), a markdown table, and the exponent of first-deploy
time vs N fitted by log-log least squares. Targets: template edit at N = 500 <= 1 s; first deploy at N = 500 <= 10 s.
Usage: ``.venv/bin/python bench/bench_big_stacks.py [--sizes 50 200 499] [--reps 3] [--big-reps 1] [--daemon]``
(``--daemon``: every command through ``strata daemon``, whose warm imports include the translator's).
"""
from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from layered_app import make_app, template_text, timed

from strata.artifacts.cache import RACY_SLACK_NS

STRATA = str(Path(sys.executable).parent / "strata")
def bare_translator(functions: int, *, as_shipped: bool) -> float:
    """aws-sam-translator alone on the same template, its code locations already in S3 (what `sam build` hands it):
    ``as_shipped`` with its own API-body copies (what SAM CLI pays), else with strata's (the same output)."""
    from strata.template.load import load_template_text
    from strata.transform import sam

    text = template_text(functions, api_events=True)
    data = load_template_text(text.replace("CodeUri: src/", "CodeUri: s3://bucket/").replace(
        "ContentUri: layer", "ContentUri: s3://bucket/layer.zip")).data
    values = {"AWS::Region": "us-east-1", "AWS::Partition": "aws"}
    sam.translate({"Transform": data["Transform"], "Resources": {"Shared": data["Resources"]["Shared"]}}, values,
                  region="us-east-1")        # the import, outside the measure
    start = time.perf_counter()
    sam.translate(data, values, region="us-east-1", as_shipped=as_shipped)
    return time.perf_counter() - start


def _clean_env() -> dict[str, str]:
    """This environment without strata's settings, and with bytecode caching on, as a user's install runs (a shell
    with PYTHONDONTWRITEBYTECODE compiles every module strata changed since its last cached bytecode, every run)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("STRATA_") and k != "PYTHONDONTWRITEBYTECODE"}


def measure(functions: int, reps: int, daemon_env: dict[str, str] | None = None) -> dict[str, float]:
    root = Path(tempfile.mkdtemp(prefix=f"bench-big-{functions}-"))
    try:
        env = dict(daemon_env) if daemon_env is not None else _clean_env()
        if daemon_env is None:
            env["STRATA_NO_DAEMON"] = "1"
        first, noop, code, tmpl = [], [], [], []
        for rep in range(reps):
            env["STRATA_HOME"] = str(root / f"home{rep}")
            app = make_app(root / f"r{rep}", functions, name="bigapp", api_events=True)
            # Sources as a checkout leaves them: older than the build cache's racy-timestamp window. Files written
            # within it are hashed again by the next build (their stat may not show a same-second rewrite), so
            # without this wait the no-op would re-hash all 500 sources once (+0.35 s at N = 499).
            time.sleep(RACY_SLACK_NS / 1e9 + 0.1)
            first.append(timed([STRATA, "deploy"], app, env))
            noop.append(timed([STRATA, "deploy"], app, env))
            target = app / "src" / "fn7" / "app.py"
            target.write_text(target.read_text() + f"# change {rep}\n")
            code.append(timed([STRATA, "deploy"], app, env))
            template = app / "template.yaml"
            template.write_text(template.read_text().replace("FN_ID: '3'\n", f"FN_ID: 'three-{rep}'\n"))
            tmpl.append(timed([STRATA, "deploy"], app, env))
            shutil.rmtree(root / f"r{rep}", ignore_errors=True)
            shutil.rmtree(root / f"home{rep}", ignore_errors=True)
        times = max(1, min(reps, 2))
        bare = [bare_translator(functions, as_shipped=True) for _ in range(times)]
        ours = [bare_translator(functions, as_shipped=False) for _ in range(max(3, times))]
        return {"first": statistics.median(first), "noop": statistics.median(noop), "code": statistics.median(code),
                "template": statistics.median(tmpl), "bare": statistics.median(bare),
                "translate": statistics.median(ours)}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def exponent(points: list[tuple[int, float]]) -> float:
    """The slope of log(time) over log(N), least squares."""
    xs, ys = [math.log(n) for n, _ in points], [math.log(t) for _, t in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200, 499])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--big-reps", type=int, default=1)
    parser.add_argument("--daemon", action="store_true",
                        help="run every strata command through `strata daemon` (its imports, the translator's "
                             "included, are warm)")
    args = parser.parse_args()
    daemon_env = None
    if args.daemon:
        daemon_env = _clean_env()
        daemon_env["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="sbb-", dir="/tmp")   # a private socket folder
        subprocess.run([STRATA, "daemon", "start"], env=daemon_env, check=True, capture_output=True)
    print("mode:", "through `strata daemon`" if args.daemon else
          "plain processes (`strata deploy`, STRATA_NO_DAEMON=1)", "; bare translator in this process")
    rows = []
    try:
        for n in args.sizes:
            result = measure(n, args.big_reps if n >= 400 else args.reps, daemon_env)
            rows.append((n, result))
            print(f"N={n}: " + ", ".join(f"{k} {v:.2f} s" for k, v in result.items()), flush=True)
    finally:
        if daemon_env is not None:
            alive = subprocess.run([STRATA, "daemon", "status"], env=daemon_env, capture_output=True).returncode == 0
            print("daemon still running at the end:", alive, "" if alive else "(a source change stopped it: re-run)")
            subprocess.run([STRATA, "daemon", "stop"], env=daemon_env, capture_output=True)
    print()
    print("| N | first local deploy | no-op deploy | one-file code edit deploy | template edit (one env var) "
          "| aws-sam-translator as shipped | the same, strata's copies |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for n, r in rows:
        print(f"| {n} | {r['first']:.1f} s | {r['noop']:.2f} s | {r['code']:.2f} s | {r['template']:.2f} s "
              f"| {r['bare']:.1f} s | {r['translate']:.2f} s |")
    if len(rows) > 1:
        print(f"\nfirst deploy ~ N^{exponent([(n, r['first']) for n, r in rows]):.2f} (log-log least squares); "
              f"translator as shipped ~ N^{exponent([(n, r['bare']) for n, r in rows]):.2f}; "
              f"with strata's copies ~ N^{exponent([(n, r['translate']) for n, r in rows]):.2f}")
    big = [r for n, r in rows if n >= 400]
    if big:
        print(f"targets at N=499: template edit {big[0]['template']:.2f} s (<= 1 s), "
              f"first deploy {big[0]['first']:.1f} s (<= 10 s)")


if __name__ == "__main__":
    main()
