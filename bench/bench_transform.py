"""Transform benchmark: strata's transform against its floors, in one run, as medians and same-run ratios.

Rows:
- cached path: a code-only change (template and parameters unchanged) through ``strata transform`` (whole process)
  against ``python -c "import yaml"`` (target: within 1.5x);
- uncached path: ``strata transform`` of a generated 100-function template with the translator cache cleared,
  against bare aws-sam-translator translating the same template in a fresh process (target: within 1.15x);
- ``strata --help`` against ``python -c "import click"``.

Every strata row runs twice: as a plain process (``STRATA_NO_DAEMON=1``) and through the opt-in warm daemon
(``strata daemon start``), which removes the ~100 ms of imports a process pays before doing a few ms of work.

Usage: python bench/bench_transform.py [--quick] [--runs N]
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

VENV_BIN = Path(sys.executable).parent
STRATA = str(VENV_BIN / "strata")
PY = sys.executable

BARE_TRANSLATOR = r"""
import sys, json
from samtranslator.yaml_helper import yaml_parse
from samtranslator.translator.transform import transform
from samtranslator.internal.managed_policies import get_bundled_managed_policy_map
from samtranslator.translator.arn_generator import ArnGenerator
class _S: region_name = "us-east-1"
from samtranslator.translator.translator import Translator
from samtranslator.parser.parser import Parser
from samtranslator.utils.py27hash_fix import to_py27_compatible_template
ArnGenerator.BOTO_SESSION_REGION_NAME = "us-east-1"
data = yaml_parse(open(sys.argv[1]).read())
for lid, res in data["Resources"].items():  # local folders -> S3 URIs, as any deploy tool must do first
    props = res.get("Properties", {})
    for key in ("CodeUri", "ContentUri"):
        if isinstance(props.get(key), str):
            props[key] = f"s3://bucket/{lid}.zip"
params = {"AWS::Region": "us-east-1", "AWS::Partition": "aws"}
to_py27_compatible_template(data, params)  # what samtranslator's own transform() does first
out = Translator(None, Parser(), boto_session=_S()).translate(
    data, params, get_managed_policy_map=lambda: get_bundled_managed_policy_map("aws"))
sys.stdout.write(json.dumps(out))
"""


def generated_template(functions: int) -> str:
    lines = ["Transform: AWS::Serverless-2016-10-31", "Parameters:", "  Stage: {Type: String, Default: dev}",
             "Globals:", "  Function: {Runtime: python3.12, Timeout: 5}", "Resources:",
             "  Shared:", "    Type: AWS::Serverless::LayerVersion",
             "    Properties: {ContentUri: layer, CompatibleRuntimes: [python3.12]}"]
    for i in range(functions):
        lines += [f"  Fn{i}:", "    Type: AWS::Serverless::Function", "    Properties:",
                  f"      CodeUri: src/fn{i % 10}", "      Handler: app.handler", "      AutoPublishAlias: live",
                  "      Layers: [!Ref Shared]",
                  "      Environment: {Variables: {STAGE: !Ref Stage, INDEX: '" + str(i) + "'}}",
                  "      Events:", f"        Get{i}:", "          Type: Api",
                  f"          Properties: {{Path: /fn{i}, Method: get}}"]
    return "\n".join(lines) + "\n"


def make_project(root: Path, functions: int) -> Path:
    (root / "layer" / "python").mkdir(parents=True)
    (root / "layer" / "python" / "shared.py").write_text("X = 1\n")
    for i in range(10):
        (root / "src" / f"fn{i}").mkdir(parents=True)
        (root / "src" / f"fn{i}" / "app.py").write_text(f"def handler(e, c):\n    return {i}\n")
    (root / "template.yaml").write_text(generated_template(functions))
    return root / "template.yaml"


def timed(cmd: list[str], env: dict | None = None, before=None) -> float:
    if before:
        before()
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=0)
    args = parser.parse_args()
    runs = args.runs or (5 if args.quick else 15)
    work = Path(tempfile.mkdtemp(prefix="strata-bench-transform-"))
    try:
        rows = []
        base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # users have bytecode caches
        runtime_dir = Path(tempfile.mkdtemp(prefix="sbd-", dir="/tmp"))
        base["XDG_RUNTIME_DIR"] = str(runtime_dir)
        env = {**base, "STRATA_HOME": str(work / "home-small"), "STRATA_NO_DAEMON": "1"}
        denv = {**env}
        denv.pop("STRATA_NO_DAEMON")
        subprocess.run([STRATA, "daemon", "start"], check=True, stdout=subprocess.DEVNULL, env=denv)
        small = make_project(work / "small", 5)
        subprocess.run([STRATA, "transform", "-t", str(small)], check=True, stdout=subprocess.DEVNULL, env=env)
        counter = iter(range(10**6))

        def touch_code() -> None:  # a real content change each run: the post-pass must rebuild and re-fingerprint
            (work / "small" / "src" / "fn0" / "app.py").write_text(f"def handler(e, c):\n    return {next(counter)}\n")

        floor, cached, cached_d, helps, helps_d, click_floor = [], [], [], [], [], []
        for _ in range(runs):
            floor.append(timed([PY, "-c", "import yaml"], base))
            cached.append(timed([STRATA, "transform", "-t", str(small)], env, touch_code))
            cached_d.append(timed([STRATA, "transform", "-t", str(small)], denv, touch_code))
            click_floor.append(timed([PY, "-c", "import click"], base))
            helps.append(timed([STRATA, "--help"], env))
            helps_d.append(timed([STRATA, "--help"], denv))
        alive = subprocess.run([STRATA, "daemon", "status"], env=denv, stdout=subprocess.DEVNULL).returncode == 0
        rows.append(("code-only change, 5 functions (translator cached), plain process", median_ms(cached),
                     'python -c "import yaml"', median_ms(floor), 1.5))
        rows.append(("same, through `strata daemon`" + ("" if alive else " (DAEMON DIED: figure invalid)"),
                     median_ms(cached_d), 'python -c "import yaml"', median_ms(floor), 1.5))
        rows.append(("strata --help, plain process", median_ms(helps), 'python -c "import click"',
                     median_ms(click_floor), None))
        rows.append(("strata --help, through `strata daemon`", median_ms(helps_d), 'python -c "import click"',
                     median_ms(click_floor), None))
        subprocess.run([STRATA, "daemon", "stop"], stdout=subprocess.DEVNULL, env=denv)
        shutil.rmtree(runtime_dir, ignore_errors=True)

        big = make_project(work / "big", 100)
        bare_script = work / "bare.py"
        bare_script.write_text(BARE_TRANSLATOR)
        env_big = {**env, "STRATA_HOME": str(work / "home-big")}
        subprocess.run([STRATA, "build", "-t", str(big)], check=True, stdout=subprocess.DEVNULL, env=env_big)
        bare, uncached = [], []
        for _ in range(max(3, runs // 3)):
            bare.append(timed([PY, str(bare_script), str(big)], base))
            uncached.append(timed([STRATA, "transform", "-t", str(big)], env_big,
                                  lambda: shutil.rmtree(work / "home-big" / "cache" / "transform", ignore_errors=True)))
        rows.append(("100 functions with Api events, translator cache cleared", median_ms(uncached),
                     "bare aws-sam-translator, same template", median_ms(bare), 1.15))

        print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; {runs} runs, medians\n")
        print("| case | strata (ms) | floor | floor (ms) | ratio | target |")
        print("| --- | --- | --- | --- | --- | --- |")
        for name, value, floor_name, floor_value, target in rows:
            ratio = value / floor_value
            goal = f"<= {target}x" if target else "-"
            print(f"| {name} | {value:.0f} | {floor_name} | {floor_value:.0f} | {ratio:.2f}x | {goal} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
