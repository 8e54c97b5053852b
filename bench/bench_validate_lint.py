"""Validate-with-lint benchmark: ``strata validate`` (its own checks plus cfn-lint) against ``sam validate --lint``
on the same templates, side by side in one run, as medians and same-run ratios (target: <= 0.5x).

SAM CLI is installed in a bench-only virtualenv (``--sam-venv``, default ``bench/.venv-sam``, not committed): the
first run creates it with ``pip install aws-sam-cli``. strata runs twice per run: as a plain process
(``STRATA_NO_DAEMON=1``: cfn-lint runs cold in a child interpreter alongside strata's own checks) and through the
opt-in warm daemon (``strata daemon start``: cfn-lint and its rules loaded once). The three commands are interleaved
run by run so a busy machine slows them alike; each run's exit status is checked against the case's expectation (the
lint-cases template must fail in all, the others pass in all).

Cases: examples/layered-app, a template with the three lint cases of issue 20 (a property typo, a value below its
minimum, a MemorySize above its maximum), and a generated 30-function template with Api events and Globals.

Usage: python bench/bench_validate_lint.py [--runs N] [--quick] [--sam-venv DIR]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_SCRIPT = Path(sys.executable).parent / "strata"
STRATA = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-c", "from strata.cli.launch import main; main()"]

# issue 20's three lint cases, shared with the tests
LINT_CASES = (ROOT / "tests" / "data" / "lint-cases" / "template.yaml").read_text()


def generated_template(functions: int) -> str:
    lines = ["Transform: AWS::Serverless-2016-10-31", "Parameters:", "  Stage: {Type: String, Default: dev}",
             "Globals:", "  Function: {Runtime: python3.12, Timeout: 5, MemorySize: 256}", "Resources:",
             "  Shared:", "    Type: AWS::Serverless::LayerVersion",
             "    Properties: {ContentUri: layer, CompatibleRuntimes: [python3.12]}",
             "  Table:", "    Type: AWS::DynamoDB::Table",
             "    Properties:", "      BillingMode: PAY_PER_REQUEST",
             "      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]",
             "      KeySchema: [{AttributeName: pk, KeyType: HASH}]"]
    for i in range(functions):
        lines += [f"  Fn{i}:", "    Type: AWS::Serverless::Function", "    Properties:",
                  "      CodeUri: src/", "      Handler: app.handler", "      AutoPublishAlias: live",
                  "      Layers: [!Ref Shared]",
                  "      Environment: {Variables: {STAGE: !Ref Stage, TABLE: !Ref Table}}",
                  "      Policies: [{DynamoDBReadPolicy: {TableName: !Ref Table}}]",
                  "      Events:", f"        Get{i}:", "          Type: Api",
                  f"          Properties: {{Path: /fn{i}, Method: get}}"]
    return "\n".join(lines) + "\n"


def make_cases(root: Path) -> list[tuple[str, Path, bool]]:
    """(name, template, expected valid) for every case; the generated ones under ``root``."""
    for name, text in (("lint-cases", LINT_CASES), ("generated-30", generated_template(30))):
        folder = root / name
        (folder / "src").mkdir(parents=True)
        (folder / "src" / "app.py").write_text("def handler(event, context):\n    return 1\n")
        (folder / "layer" / "python").mkdir(parents=True)
        (folder / "layer" / "python" / "shared.py").write_text("X = 1\n")
        (folder / "template.yaml").write_text(text)
    return [("examples/layered-app", ROOT / "examples" / "layered-app" / "template.yaml", True),
            ("generated, 30 functions with Api events", root / "generated-30" / "template.yaml", True),
            ("issue 20's three lint cases (E3002, E3034 x2)", root / "lint-cases" / "template.yaml", False)]


def sam_venv(folder: Path) -> Path:
    """The bench-only virtualenv's ``sam``, created on first use."""
    sam = folder / "bin" / "sam"
    if not sam.exists():
        print(f"creating {folder} with aws-sam-cli (once) ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
        subprocess.run([str(folder / "bin" / "pip"), "install", "-q", "aws-sam-cli"], check=True)
    return sam


def timed(argv: list[str], cwd: Path, env: dict[str, str], valid: bool) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    elapsed = time.perf_counter() - start
    if (done.returncode == 0) != valid:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}, expected {'0' if valid else 'non-zero'}:\n"
                         + done.stdout.decode(errors="replace")[-2000:])
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--quick", action="store_true", help="3 runs per case")
    parser.add_argument("--sam-venv", type=Path, default=ROOT / "bench" / ".venv-sam")
    args = parser.parse_args()
    runs = 3 if args.quick else args.runs
    sam = sam_venv(args.sam_venv)
    version = subprocess.run([str(sam), "--version"], stdout=subprocess.PIPE, text=True).stdout.strip()
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}    # users have bytecode caches
    env = dict(base, SAM_CLI_TELEMETRY="0")
    runtime_dir = Path(tempfile.mkdtemp(prefix="sbl-", dir="/tmp"))                  # AF_UNIX paths stay short
    daemon_env = dict(env, XDG_RUNTIME_DIR=str(runtime_dir),
                      PYTHONPATH=os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH")) if p))
    plain_env = dict(daemon_env, STRATA_NO_DAEMON="1")
    print(f"{version}; strata from {ROOT / 'src'}; {runs} runs per case, interleaved; load average "
          f"{os.getloadavg()[0]:.1f}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        plain_env["STRATA_HOME"] = daemon_env["STRATA_HOME"] = str(home)
        subprocess.run([*STRATA, "daemon", "start"], check=True, stdout=subprocess.DEVNULL, env=daemon_env)
        try:
            for name, template, valid in make_cases(Path(tmp)):
                cwd = template.parent
                strata_argv = [*STRATA, "validate", "-t", str(template)]
                sam_argv = [str(sam), "validate", "--lint", "-t", str(template)]
                for argv, run_env in ((strata_argv, plain_env), (strata_argv, daemon_env), (sam_argv, env)):
                    timed(argv, cwd, run_env, valid)        # warm the file cache and bytecode, once each
                plain, warm, theirs = [], [], []
                for _ in range(runs):
                    plain.append(timed(strata_argv, cwd, plain_env, valid))
                    warm.append(timed(strata_argv, cwd, daemon_env, valid))
                    theirs.append(timed(sam_argv, cwd, env, valid))
                rows.append((name, statistics.median(plain), statistics.median(warm), statistics.median(theirs)))
            alive = subprocess.run([*STRATA, "daemon", "status"], env=daemon_env,
                                   stdout=subprocess.DEVNULL).returncode == 0
        finally:
            subprocess.run([*STRATA, "daemon", "stop"], stdout=subprocess.DEVNULL, env=daemon_env)
            shutil.rmtree(runtime_dir, ignore_errors=True)
    print("\n| case | `sam validate --lint` | `strata validate`, plain process | ratio | through `strata daemon` "
          "| ratio |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, plain_s, warm_s, theirs in rows:
        print(f"| {name} | {theirs * 1000:.0f} ms | {plain_s * 1000:.0f} ms | {_ratio(plain_s, theirs)} "
              f"| {warm_s * 1000:.0f} ms{'' if alive else ' (DAEMON DIED: invalid)'} | {_ratio(warm_s, theirs)} |")
    print(f"\ntarget: <= 0.5x; load average after: {os.getloadavg()[0]:.1f}")


def _ratio(ours: float, theirs: float) -> str:
    ratio = ours / theirs
    return f"{ratio:.2f}x" + ("" if ratio <= 0.5 else " (missed)")


if __name__ == "__main__":
    main()
