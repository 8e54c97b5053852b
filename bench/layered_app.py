"""The app the deploy and big-stack benchmarks deploy: N Python functions sharing a layer, each with
``AutoPublishAlias: live`` (with ``api_events``: an environment variable and an ``Api`` event each, the shape issue 18
measured); and the timing of one strata command. One home for both, so their figures describe the same app."""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

FUNCTION = """\
  Fn{i}:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/fn{i}
      Handler: app.handler
      AutoPublishAlias: live
"""
API_EVENT = """\
      Environment:
        Variables:
          FN_ID: '{i}'
      Events:
        Get:
          Type: Api
          Properties:
            Path: /fn{i}
            Method: get
"""
TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    Layers: [!Ref Shared]
Resources:
  Shared:
    Type: AWS::Serverless::LayerVersion
    Properties:
      LayerName: shared
      ContentUri: layer
{functions}"""


def template_text(functions: int, *, api_events: bool = False) -> str:
    one = FUNCTION + (API_EVENT if api_events else "")
    return TEMPLATE.format(functions="".join(one.format(i=i) for i in range(functions)))


def make_app(root: Path, functions: int, *, name: str, api_events: bool = False) -> Path:
    """The app's folder ``root/name``: the template, the shared layer and one source folder per function."""
    app = root / name
    (app / "layer" / "python").mkdir(parents=True)
    (app / "layer" / "python" / "shared.py").write_text("ANSWER = 42\n")
    for i in range(functions):
        src = app / "src" / f"fn{i}"
        src.mkdir(parents=True)
        (src / "app.py").write_text(f"import shared\n\ndef handler(event, context):\n    return {{'fn': {i}}}\n")
    (app / "template.yaml").write_text(template_text(functions, api_events=api_events))
    return app


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Seconds ``cmd`` took; a failure stops the benchmark with the end of its output."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return elapsed
