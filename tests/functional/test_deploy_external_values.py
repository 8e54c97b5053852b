"""Values from outside the template on the local target, through the real CLI: ``Fn::ImportValue`` from another
stack's exports, SSM-typed parameters and ``{{resolve:ssm...}}`` from ``strata ssm``, public layer ARNs from
``--layer-source`` / samconfig.toml / Powertools' PyPI package. Each is resolved before plan: what cannot be is an
error naming the property and the fix, and nothing is applied."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import zipfile
from pathlib import Path

from deploy_helpers import edit_template, env_for, service_snapshot, strata

POWERTOOLS = "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:7"
OTHER_LAYER = "arn:aws:lambda:us-east-1:999999999999:layer:team-utils:4"

SHARED = """\
Transform: AWS::Serverless-2016-10-31
Parameters:
  Table:
    Type: String
    Default: orders-v1
Resources:
  Shared:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
Outputs:
  TableName:
    Value: !Ref Table
    Export:
      Name: !Sub "${AWS::StackName}-table"
"""

APP = """\
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage:
    Type: AWS::SSM::Parameter::Value<String>
    Default: /demo/stage
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
      AutoPublishAlias: live
      Layers:
        - LAYER
      Environment:
        Variables:
          STAGE: !Ref Stage
          TABLE: !ImportValue shared-table
          SECRET: '{{resolve:ssm-secure:/demo/secret}}'
"""

HANDLER = """\
import os
import team_utils


def handler(event, context):
    return {"stage": os.environ["STAGE"], "table": os.environ["TABLE"], "secret": os.environ["SECRET"],
            "utils": team_utils.REVISION}
"""


def _write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def _apps(tmp_path: Path, layer: str = OTHER_LAYER) -> tuple[Path, Path, Path]:
    shared = _write(tmp_path / "shared", {"template.yaml": SHARED, "src/app.py": "def handler(e, c):\n    return 1\n"})
    app = _write(tmp_path / "app", {"template.yaml": APP.replace("LAYER", layer), "src/app.py": HANDLER,
                                    "utils/python/team_utils.py": "REVISION = 1\n"})
    return shared, app, tmp_path / "home"


def _invoke(app: Path, home: Path) -> dict:
    return json.loads(strata(app, home, "invoke", "Fn:live", "--stack-name", "app").stdout)


def _live_version(app: Path, home: Path) -> str:
    info = json.loads(strata(app, home, "describe", "--output", "json").stdout)
    return info["Functions"]["Fn"]["Aliases"][0]["FunctionVersion"]


def test_unresolvable_values_are_plan_time_errors_naming_property_and_fix(tmp_path):
    shared, app, home = _apps(tmp_path)
    # validate knows no state: it cannot tell (--no-lint: cfn-lint's E1027 rightly says CloudFormation takes
    # {{resolve:ssm-secure}} only in some properties, not in Lambda's environment; the local target resolves it)
    assert strata(app, home, "validate", "--no-lint").returncode == 0
    failed = strata(app, home, "deploy", check=False)
    assert failed.returncode == 1
    # the SSM-typed parameter is found first (parameters are read before the template is translated)
    assert "parameter Stage reads SSM parameter '/demo/stage'" in failed.stderr
    assert "strata ssm put /demo/stage VALUE" in failed.stderr
    strata(app, home, "ssm", "put", "/demo/stage", "prod")
    failed = strata(app, home, "plan", check=False)
    assert failed.returncode == 1
    err = failed.stderr
    assert "3 problems" in err
    assert "Resources.Fn.Properties.Environment.Variables.TABLE: Fn::ImportValue 'shared-table'" in err
    assert "deploy the stack whose Outputs export 'shared-table' first" in err
    assert "Resources.Fn.Properties.Environment.Variables.SECRET: {{resolve:ssm-secure:/demo/secret}}" in err
    assert "strata ssm put /demo/secret VALUE --type SecureString" in err
    assert f"Resources.Fn.Properties.Layers[0]: layer {OTHER_LAYER}" in err
    assert f"--layer-source {OTHER_LAYER}=PATH" in err and "strata_layer_sources" in err
    assert "Traceback" not in err and "'Code':" not in err          # no raw dict dump
    # nothing was applied: no stack, no function, no layer
    assert strata(app, home, "deploy", check=False).returncode == 1
    assert "app" not in strata(app, home, "stacks").stdout
    assert service_snapshot(home) == {"functions": {}, "layers": {}}


def test_a_deployed_stack_is_left_as_it_is_when_one_value_becomes_unresolvable(tmp_path):
    shared, app, home = _apps(tmp_path)
    strata(shared, home, "deploy")
    strata(app, home, "ssm", "put", "/demo/stage", "prod")
    strata(app, home, "ssm", "put", "/demo/secret", "s3cr3t", "--type", "SecureString")
    edit_template(app, "TABLE: !ImportValue shared-table", "TABLE: !ImportValue shared-table  # imported")
    strata(app, home, "deploy", "--layer-source", f"{OTHER_LAYER}=utils")
    before = service_snapshot(home)
    events = strata(app, home, "events", "--stack-name", "app").stdout
    edit_template(app, "TABLE: !ImportValue shared-table", "TABLE: !ImportValue missing-export")
    failed = strata(app, home, "deploy", "--layer-source", f"{OTHER_LAYER}=utils", check=False)
    assert failed.returncode == 1
    assert "Fn::ImportValue 'missing-export'" in failed.stderr and "shared-table" in failed.stderr
    assert service_snapshot(home) == before
    assert strata(app, home, "events", "--stack-name", "app").stdout == events
    assert _invoke(app, home)["table"] == "orders-v1"


def test_imports_ssm_values_and_mapped_layers_resolve_and_publish_exactly_when_they_change(tmp_path):
    shared, app, home = _apps(tmp_path)
    (app / "samconfig.toml").write_text(
        f'version = 0.1\n[default.deploy.parameters]\nstrata_layer_sources = ["{OTHER_LAYER}=utils"]\n')
    strata(shared, home, "deploy")
    strata(app, home, "ssm", "put", "/demo/stage", "prod")
    strata(app, home, "ssm", "put", "/demo/secret", "s3cr3t", "--type", "SecureString")
    out = strata(app, home, "deploy").stdout
    assert "Stack app deployed." in out
    assert _invoke(app, home) == {"stage": "prod", "table": "orders-v1", "secret": "s3cr3t", "utils": 1}
    assert _live_version(app, home) == "1"
    assert "No changes" in strata(app, home, "deploy").stdout

    strata(app, home, "ssm", "put", "/demo/stage", "beta")          # an SSM value the version holds
    plan = strata(app, home, "plan").stdout
    assert "publish a new version of Fn because Environment.Variables.STAGE changed" in plan
    strata(app, home, "deploy")
    assert _invoke(app, home)["stage"] == "beta" and _live_version(app, home) == "2"

    (app / "utils" / "python" / "team_utils.py").write_text("REVISION = 2\n")    # the mapped layer's content
    assert "because Layers[1] changed" in strata(app, home, "plan").stdout
    strata(app, home, "deploy")
    assert _invoke(app, home)["utils"] == 2 and _live_version(app, home) == "3"

    strata(shared, home, "deploy", "--parameter-overrides", "Table=orders-v2")  # the exported value
    strata(app, home, "deploy")
    assert _invoke(app, home)["table"] == "orders-v2" and _live_version(app, home) == "4"
    assert "No changes" in strata(app, home, "deploy").stdout


def test_target_aws_leaves_outside_values_to_cloudformation(tmp_path):
    shared, app, home = _apps(tmp_path, layer=POWERTOOLS)
    out = strata(app, home, "transform").stdout
    template = json.loads(out) if out.lstrip().startswith("{") else None
    text = out if template is None else json.dumps(template)
    assert "Fn::ImportValue" in text and "{{resolve:ssm-secure:/demo/secret}}" in text and POWERTOOLS in text


def _wheel(folder: Path, version: str) -> Path:
    """A minimal pure-Python wheel of ``aws-lambda-powertools`` (no network, no build tools)."""
    dist = f"aws_lambda_powertools-{version}.dist-info"
    files = {"aws_lambda_powertools/__init__.py": f'__version__ = "{version}"\n',
             f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: aws-lambda-powertools\nVersion: {version}\n",
             f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: strata-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(text.encode())}")
    files[f"{dist}/RECORD"] = "\n".join(record + [f"{dist}/RECORD,,"]) + "\n"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"aws_lambda_powertools-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


def test_powertools_public_layer_defaults_to_its_pypi_package(tmp_path):
    app = _write(tmp_path / "pt", {
        "template.yaml": (
            "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
            "    Properties:\n      CodeUri: src/\n      Handler: app.handler\n      Runtime: python3.12\n"
            "      AutoPublishAlias: live\n      Layers:\n"
            "        - !Sub arn:aws:lambda:${AWS::Region}:017000801446:layer:"
            "AWSLambdaPowertoolsPythonV3-python312-x86_64:7\n"),
        "src/app.py": "import aws_lambda_powertools\n\n\ndef handler(event, context):\n"
                      "    return aws_lambda_powertools.__version__\n"})
    home = tmp_path / "home"
    wheels = tmp_path / "wheels"
    _wheel(wheels, "3.4.1")
    _wheel(wheels, "3.5.0")         # layer version 7 holds 3.5.0: that one is installed
    env = env_for(home, PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheels), PIP_CONFIG_FILE=os.devnull)
    strata(app, home, "deploy", env=env)
    assert json.loads(strata(app, home, "invoke", "Fn:live", "--stack-name", "pt", env=env).stdout) == "3.5.0"
    assert "No changes" in strata(app, home, "deploy", env=env).stdout
    # a user mapping wins over the default: a prebuilt folder
    _write(app, {"pt-local/python/aws_lambda_powertools/__init__.py": '__version__ = "local"\n'})
    arn = POWERTOOLS
    strata(app, home, "deploy", "--layer-source", f"{arn}=pt-local", env=env)
    assert json.loads(strata(app, home, "invoke", "Fn:live", "--stack-name", "pt", env=env).stdout) == "local"


def test_ssm_cli_hides_secure_strings_and_keeps_them_private(tmp_path):
    home = tmp_path / "home"
    here = _write(tmp_path / "work", {"params.yaml": "/app/db: {Value: hunter2, Type: SecureString}\n"
                                                     "/app/hosts: [a, b]\n/app/stage: prod\n"})
    assert "Stored 3 parameter(s)." in strata(here, home, "ssm", "load", "params.yaml").stdout
    listed = strata(here, home, "ssm", "list").stdout
    assert "/app/stage  String  v1  prod" in listed and "/app/hosts  StringList  v1  a,b" in listed
    assert "hunter2" not in listed and "/app/db  SecureString  v1  ****" in listed
    assert strata(here, home, "ssm", "get", "/app/db").stdout.strip() == "****"
    assert strata(here, home, "ssm", "get", "/app/db", "--with-decryption").stdout.strip() == "hunter2"
    assert "hunter2" not in strata(here, home, "ssm", "list", "--output", "json").stdout
    got = json.loads(strata(here, home, "ssm", "get", "/app/stage", "--output", "json").stdout)
    assert got == {"Name": "/app/stage", "Type": "String", "Value": "prod", "Version": 1}
    assert "version 2" in strata(here, home, "ssm", "put", "/app/stage", "beta").stdout
    assert stat.S_IMODE((home / "state.db").stat().st_mode) == 0o600
    assert "Deleted /app/stage." in strata(here, home, "ssm", "delete", "/app/stage").stdout
    missing = strata(here, home, "ssm", "get", "/app/stage", check=False)
    assert missing.returncode == 1 and "strata ssm put /app/stage VALUE" in missing.stderr
    bad = strata(here, home, "ssm", "put", "aws-reserved", "x", check=False)
    assert bad.returncode == 1 and "not a valid SSM parameter name" in bad.stderr
