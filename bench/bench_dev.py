"""Benchmark ``strata dev``: save-to-serving latency, from the file write until the first invoke through the served
API (boto3, signed with the home's keys) answers the new code; p50 and p90 over ``--saves`` saves.

Cases (each against a running ``strata dev`` over a generated app):
- one function, a code edit: target p50 <= 150 ms;
- 50 functions sharing a layer, a layer edit (all 50 publish; timed until the LAST function in the template, whose
  alias moves last, answers the new layer): target p50 <= 400 ms.
Floors, same run, same edits, after ``strata dev`` stopped: the in-process deploy (transform + engine plan/apply,
what the loop runs; no watcher, no cold start) and the ``strata deploy`` command a user would otherwise run.

Usage: ``.venv/bin/python bench/bench_dev.py [--saves 20] [--functions 50] [--keep DIR]``.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STRATA = [sys.executable, "-m", "strata.cli.main"]
FUNCTION = """\
  Fn{i}:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/fn{i}
      Handler: app.handler
      AutoPublishAlias: live
"""
TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
{layers}Resources:
{layer}{functions}"""
LAYER = """\
  Shared:
    Type: AWS::Serverless::LayerVersion
    Properties:
      LayerName: shared
      ContentUri: layer
"""
CODE = ("import shared\n\nMARK = 0\n\n"
        "def handler(event, context):\n    return {{'fn': {i}, 'mark': MARK, 'layer': shared.MARK}}\n")
PLAIN = "MARK = 0\n\ndef handler(event, context):\n    return {{'fn': {i}, 'mark': MARK}}\n"


def make_app(root: Path, name: str, functions: int, layer: bool) -> Path:
    app = root / name
    if layer:
        (app / "layer" / "python").mkdir(parents=True)
        (app / "layer" / "python" / "shared.py").write_text("MARK = 0\n")
    for i in range(functions):
        src = app / "src" / f"fn{i}"
        src.mkdir(parents=True)
        (src / "app.py").write_text((CODE if layer else PLAIN).format(i=i))
    (app / "template.yaml").write_text(TEMPLATE.format(
        layers="    Layers: [!Ref Shared]\n" if layer else "", layer=LAYER if layer else "",
        functions="".join(FUNCTION.format(i=i) for i in range(functions))))
    return app


class Dev:
    """``strata dev --port 0`` over ``app`` with its state in ``home``; output in files."""

    def __init__(self, app: Path, home: Path, env: dict[str, str]) -> None:
        self.out, self.err = app.parent / f"{app.name}.dev.out", app.parent / f"{app.name}.dev.err"
        with open(self.out, "w") as out, open(self.err, "w") as err:
            self.process = subprocess.Popen([*STRATA, "dev", "--port", "0"], cwd=app, env=env, stdout=out,
                                            stderr=err)
        deadline = time.monotonic() + 300
        while "Ctrl+C stops" not in self.err.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"strata dev did not start:\n{self.out.read_text()}\n{self.err.read_text()}")
            time.sleep(0.05)
        import boto3
        from botocore.config import Config

        from strata.local import credentials
        from strata.local.discovery import running_server

        keys = credentials.load(home)
        assert keys is not None
        self.lam = boto3.client("lambda", endpoint_url=running_server(home), region_name="us-east-1",
                                aws_access_key_id=keys.access_key_id, aws_secret_access_key=keys.secret_access_key,
                                config=Config(retries={"total_max_attempts": 1}))
        names = [f["FunctionName"] for f in self.lam.list_functions(MaxItems=1000)["Functions"]]
        self.names = {n.split("-")[-2]: n for n in names}

    def invoke(self, logical: str) -> dict:
        response = self.lam.invoke(FunctionName=self.names[logical], Qualifier="live", Payload=b"{}")
        return json.loads(response["Payload"].read())

    def lines(self) -> list[str]:
        return self.out.read_text().splitlines()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=60)


def save_to_serving(dev: Dev, path: Path, watch: str, key: str, saves: int, republished: int) -> list[float]:
    """Write ``saves`` new values into ``path``; each time, the ms until ``watch``'s alias answers the value under
    ``key``. Waits for the round's lines (``republished`` of them) before the next save."""
    times = []
    for n in range(1, saves + 1):
        before = len(dev.lines())
        text = path.read_text()
        old = next(line for line in text.splitlines() if line.startswith("MARK = "))
        start = time.perf_counter()
        path.write_text(text.replace(old, f"MARK = {n}"))
        deadline = time.monotonic() + 60
        while dev.invoke(watch)[key] != n:
            if time.monotonic() > deadline:
                raise SystemExit(f"save {n} never served:\n{dev.out.read_text()}\n{dev.err.read_text()}")
            time.sleep(0.001)
        times.append((time.perf_counter() - start) * 1000)
        deadline = time.monotonic() + 60
        while len(dev.lines()) < before + republished:
            if time.monotonic() > deadline:
                raise SystemExit(f"save {n}: expected {republished} lines:\n{dev.out.read_text()}")
            time.sleep(0.005)
        if len(dev.lines()) != before + republished:
            raise SystemExit(f"save {n}: {len(dev.lines()) - before} functions changed, not {republished}")
    return times


def floors(app: Path, home: Path, env: dict[str, str], path: Path, reps: int) -> tuple[list[float], list[float]]:
    """The same edit deployed in process (transform + engine deploy: the loop's own work) and by ``strata deploy``."""
    from strata.deploy.settings import resolve_deploy
    from strata.local.deploy import _engine, transform_for

    os.environ["STRATA_HOME"] = str(home)
    settings = resolve_deploy(template_file=str(app / "template.yaml"))
    in_process, command = [], []
    for n in range(reps):
        text = path.read_text()
        old = next(line for line in text.splitlines() if line.startswith("MARK = "))
        path.write_text(text.replace(old, f"MARK = {1000 + 2 * n}"))
        start = time.perf_counter()
        engine = _engine(settings)
        try:
            report = engine.deploy(settings.stack_name, transform_for(settings))
        finally:
            engine.close()
        in_process.append((time.perf_counter() - start) * 1000)
        assert report.status == "complete", report.status
        path.write_text(path.read_text().replace(f"MARK = {1000 + 2 * n}", f"MARK = {1001 + 2 * n}"))
        start = time.perf_counter()
        done = subprocess.run([*STRATA, "deploy"], cwd=app, env=env, capture_output=True, text=True)
        command.append((time.perf_counter() - start) * 1000)
        if done.returncode != 0:
            raise SystemExit(done.stderr)
    return in_process, command


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_case(root: Path, env: dict[str, str], name: str, functions: int, layer: bool, saves: int) -> dict:
    app = make_app(root, name, functions, layer)
    home = root / f"{name}-home"
    case_env = {**env, "STRATA_HOME": str(home)}
    started = time.perf_counter()
    dev = Dev(app, home, case_env)
    print(f"{name}: strata dev up in {time.perf_counter() - started:.1f} s ({functions} function(s))", flush=True)
    last = f"Fn{functions - 1}"
    path = app / "layer" / "python" / "shared.py" if layer else app / "src" / "fn0" / "app.py"
    try:
        times = save_to_serving(dev, path, last if layer else "Fn0", "layer" if layer else "mark", saves,
                                functions if layer else 1)
        if layer:       # every user publishes and serves the last value
            served = {fid: dev.invoke(fid)["layer"] for fid in dev.names}
            assert set(served.values()) == {saves}, served
    finally:
        dev.stop()
    in_process, command = floors(app, home, case_env, path, max(5, saves // 4))
    return {"name": name, "p50": statistics.median(times), "p90": pct(times, 0.9), "times": times,
            "in_process": statistics.median(in_process), "command": statistics.median(command)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--saves", type=int, default=20)
    parser.add_argument("--functions", type=int, default=50)
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-dev-"))
    root.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRATA_")}
    env["STRATA_NO_DAEMON"] = "1"
    try:
        results = [(run_case(root, env, "one", 1, False, args.saves), 150),
                   (run_case(root, env, "layered", args.functions, True, args.saves), 400)]
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    labels = {"one": "1 function, code edit", "layered": f"{args.functions} functions, layer edit (all publish)"}
    print()
    print("| case | save-to-serving p50 | p90 | target p50 | floor: in-process deploy | floor: `strata deploy` |")
    print("| --- | --- | --- | --- | --- | --- |")
    for result, target in results:
        verdict = "met" if result["p50"] <= target else "missed"
        print(f"| {labels[result['name']]} | {result['p50']:.0f} ms | {result['p90']:.0f} ms | <= {target} ms "
              f"({verdict}) | {result['in_process']:.0f} ms | {result['command']:.0f} ms |")
    for result, _ in results:
        print(f"{result['name']}: " + " ".join(f"{t:.0f}" for t in result["times"]))


if __name__ == "__main__":
    main()
