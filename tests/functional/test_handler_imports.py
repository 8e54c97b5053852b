"""What a deployed handler can import, through the real ``strata`` executable: what Lambda gives it (its code, its
layers, the runtime's boto3, at the versions the INIT_START line names) and nothing of strata's own environment, so
a requirement the function forgot to declare fails here as it would on AWS."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from deploy_helpers import strata

RUNTIME = "python%d.%d" % sys.version_info[:2]
TEMPLATE = f"""\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Deps:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layer
  Probe:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: probe
      Handler: app.handler
      Runtime: {RUNTIME}
      Layers: [!Ref Deps]
  Vendored:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: vendored
      Handler: app.handler
      Runtime: {RUNTIME}
"""
PROBE = """\
import importlib

import layerpkg


def handler(event, context):
    found = {}
    for name in ("yaml", "click", "strata", "moto"):
        try:
            importlib.import_module(name)
            found[name] = "imported"
        except ImportError as exc:
            found[name] = type(exc).__name__
    import boto3
    return {"imports": found, "boto3": boto3.__version__, "layer": layerpkg.VALUE}
"""
VENDORED = "import boto3\n\n\ndef handler(event, context):\n    return {'boto3': boto3.__version__}\n"


def _app(root: Path) -> Path:
    app = root / "imports"
    for relative, text in {"template.yaml": TEMPLATE, "probe/app.py": PROBE, "vendored/app.py": VENDORED,
                           "vendored/boto3/__init__.py": "__version__ = '0.0.vendored'\n",
                           "layer/python/layerpkg.py": "VALUE = 'from the layer'\n"}.items():
        (app / relative).parent.mkdir(parents=True, exist_ok=True)
        (app / relative).write_text(text)
    return app


def test_a_handler_imports_what_lambda_gives_it_and_nothing_of_strata(tmp_path):
    app, home = _app(tmp_path), tmp_path / "home"
    strata(app, home, "deploy")
    probe = strata(app, home, "invoke", "Probe", "--log-type", "Tail")
    answer = json.loads(probe.stdout)
    assert answer["imports"] == {name: "ModuleNotFoundError" for name in ("yaml", "click", "strata", "moto")}
    assert answer["layer"] == "from the layer"
    init = next(line for line in probe.stderr.splitlines() if line.startswith("INIT_START"))
    assert f"SDK: boto3 {answer['boto3']}, botocore " in init                  # the version the handler got is said
    record = Path(init.rsplit("(", 1)[1].rstrip(")"))
    assert dict(json.loads(record.read_text())["packages"])["boto3"] == answer["boto3"]

    vendored = strata(app, home, "invoke", "Vendored")
    assert json.loads(vendored.stdout) == {"boto3": "0.0.vendored"}        # the function's own copy wins, as on AWS
