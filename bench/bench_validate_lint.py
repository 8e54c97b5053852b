"""Validate-with-lint benchmark: ``strata validate`` (its own checks plus cfn-lint) against ``sam validate --lint``
on the same templates, side by side in one run, as medians and same-run ratios (target: <= 0.5x).

SAM CLI is installed in a bench-only virtualenv (``--sam-venv``, default ``bench/.venv-sam``, not committed): the
first run creates it with ``pip install aws-sam-cli``. Both tools run as plain processes, interleaved run by run so a
busy machine slows both alike; each run's exit status is checked against the case's expectation (the lint-cases
template must fail in both, the others pass in both).

Cases: examples/layered-app, a template with the three lint cases of issue 20 (a property typo, a value below its
minimum, a MemorySize above its maximum), and a generated 30-function template with Api events and Globals.

Usage: python bench/bench_validate_lint.py [--runs N] [--quick] [--sam-venv DIR]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_SCRIPT = Path(sys.executable).parent / "strata"
STRATA = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-c", "from strata.cli.launch import main; main()"]

LINT_CASES = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeoutt: 30
      MessageRetentionPeriod: 10
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
      MemorySize: 100000
"""


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
    env = dict(os.environ, STRATA_NO_DAEMON="1", SAM_CLI_TELEMETRY="0")
    strata_env = dict(env, PYTHONPATH=os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH")) if p))
    print(f"{version}; strata from {ROOT / 'src'}; {runs} runs per case, interleaved; load average "
          f"{os.getloadavg()[0]:.1f}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, template, valid in make_cases(Path(tmp)):
            cwd = template.parent
            strata_argv = [*STRATA, "validate", "-t", str(template)]
            sam_argv = [str(sam), "validate", "--lint", "-t", str(template)]
            timed(strata_argv, cwd, strata_env, valid)      # warm the file cache and bytecode, once each
            timed(sam_argv, cwd, env, valid)
            ours, theirs = [], []
            for _ in range(runs):
                ours.append(timed(strata_argv, cwd, strata_env, valid))
                theirs.append(timed(sam_argv, cwd, env, valid))
            rows.append((name, statistics.median(ours), statistics.median(theirs)))
    print("\n| case | `strata validate` (with cfn-lint) | `sam validate --lint` | ratio | target |")
    print("| --- | --- | --- | --- | --- |")
    for name, ours, theirs in rows:
        ratio = ours / theirs
        verdict = "<= 0.5x" if ratio <= 0.5 else "<= 0.5x (missed)"
        print(f"| {name} | {ours * 1000:.0f} ms | {theirs * 1000:.0f} ms | {ratio:.2f}x | {verdict} |")
    print(f"\nload average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
