"""A function's AWS calls go to the local service (issue 14, item 4), end to end through the real ``strata``
executable: real worker processes, the handler's own boto3, no strata code in any handler. With no ``strata serve``
running the command starts its own server on demand (and leaves no ``server.json``); with one running, that one
answers."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from deploy_helpers import strata
from strata_testkit import start_serve, stop_serve

from strata.local.discovery import server_file

pytest.importorskip("strata.local.runtime.pool")

HOOK = """\
import boto3

def handler(event, context):
    boto3.client("codedeploy").put_lifecycle_event_hook_execution_status(
        deploymentId=event["DeploymentId"],
        lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
        status="{status}")
"""

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.11
    Handler: app.handler
    Timeout: 30
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn
      AutoPublishAlias: live
      DeploymentPreference:
        Type: {shift}
        Hooks:
          PreTraffic: !Ref PreHook
  PreHook:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hook
      FunctionName: CodeDeployHook_pre
      DeploymentPreference:
        Enabled: false
"""

CALLER = """\
import json
import boto3

def handler(event, context):
    answer = boto3.client("lambda").invoke(FunctionName="callee:live", Payload=json.dumps(event))
    return {"callee": json.loads(answer["Payload"].read()), "version": answer["ExecutedVersion"]}
"""

CALLEE = "def handler(event, context):\n    return {'doubled': event['n'] * 2}\n"

PAIR = """\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.11
    Handler: app.handler
    Timeout: 30
Resources:
  Caller:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: caller
      FunctionName: caller
  Callee:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: callee
      FunctionName: callee
      AutoPublishAlias: live
"""


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _shift_app(root: Path, answer: str, status: str, shift: str) -> Path:
    return _write(root, {"template.yaml": TEMPLATE.format(shift=shift),
                         "fn/app.py": f"def handler(event, context):\n    return {answer!r}\n",
                         "hook/app.py": HOOK.format(status=status)})


def _live(app: Path, home: Path) -> str:
    out = strata(app, home, "invoke", "Fn:live").stdout      # default stack name: the folder's
    return json.loads(out)


@pytest.fixture(params=["on-demand", "serve"])
def server(request, tmp_path):
    """How the workers' AWS calls are answered: a server the command starts itself, or a ``strata serve``."""
    home = tmp_path / "home"
    process = start_serve(home) if request.param == "serve" else None
    yield request.param
    if process is not None:
        stop_serve(process)


def test_a_hook_reporting_succeeded_through_codedeploy_drives_the_shift_to_the_new_version(tmp_path, server):
    shift = "Canary10Percent5Minutes"
    home, app = tmp_path / "home", tmp_path / "app"
    strata(_shift_app(app, "one", "Succeeded", shift), home, "deploy")
    _shift_app(app, "two", "Succeeded", shift)
    proc = strata(app, home, "deploy", "--shift-speed", "600")
    assert "BeforeAllowTraffic hook CodeDeployHook_pre: Succeeded (reported Succeeded through CodeDeploy" \
        in proc.stdout, proc.stdout
    assert _live(app, home) == "two"
    if server == "on-demand":
        assert not server_file(home).exists()          # the command's own server was never advertised


def test_a_hook_reporting_failed_through_codedeploy_rolls_back_to_the_old_version(tmp_path, server):
    home, app = tmp_path / "home", tmp_path / "app"
    strata(_shift_app(app, "one", "Succeeded", "Linear10PercentEvery1Minute"), home, "deploy")
    _shift_app(app, "two", "Failed", "Linear10PercentEvery1Minute")
    proc = strata(app, home, "deploy", "--shift-speed", "600", check=False)
    assert proc.returncode == 1
    assert "BeforeAllowTraffic hook CodeDeployHook_pre: Failed (reported Failed through CodeDeploy" \
        in proc.stdout + proc.stderr
    assert "rolled back" in proc.stderr
    assert _live(app, home) == "one"


def test_a_function_invoking_another_through_boto3_gets_its_answer(tmp_path, server):
    home, app = tmp_path / "home", tmp_path / "app"
    _write(app, {"template.yaml": PAIR, "caller/app.py": CALLER, "callee/app.py": CALLEE})
    strata(app, home, "deploy")
    event = tmp_path / "event.json"
    event.write_text('{"n": 21}')
    proc = strata(app, home, "invoke", "caller", "--event", str(event))
    assert json.loads(proc.stdout) == {"callee": {"doubled": 42}, "version": "1"}
    if server == "on-demand":
        assert not server_file(home).exists()
