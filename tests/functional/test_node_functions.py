"""Node.js functions end to end through the real ``strata`` executable: a zip of hand-written JavaScript with a layer
deploys, runs through ``strata invoke`` and through boto3 against ``strata serve``, gets versions and an alias,
passes ``verify``, shifts traffic; a missing ``node`` major is a plan warning and a deploy refusal, with the fix."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from deploy_helpers import env_for, strata
from strata_testkit import start_serve, stop_serve

from strata.local import credentials
from strata.local.discovery import running_server

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="no node on PATH")

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: nodejs20.x
    Timeout: 30
Resources:
  Shared:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layer
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn
      Handler: index.handler
      FunctionName: greeter
      Layers: [!Ref Shared]
      AutoPublishAlias: live
{preference}
  PreHook:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hook
      Runtime: python3.11
      Handler: app.handler
      FunctionName: CodeDeployHook_pre
      DeploymentPreference:
        Enabled: false
"""
SHIFT = """\
      DeploymentPreference:
        Type: Linear10PercentEvery1Minute
        Hooks:
          PreTraffic: !Ref PreHook"""
HOOK = """\
import boto3

def handler(event, context):
    boto3.client("codedeploy").put_lifecycle_event_hook_execution_status(
        deploymentId=event["DeploymentId"],
        lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"], status="Succeeded")
"""


def write_app(root: Path, answer: str, shift: bool = False) -> Path:
    files = {
        "template.yaml": TEMPLATE.format(preference=SHIFT if shift else ""),
        "fn/index.mjs": ("import greet from 'greet';\n"
                         "export const handler = async (event, context) => {\n"
                         "  console.log('greeting', event.name);\n"
                         f"  return {{answer: {answer!r}, greeting: greet(event.name),\n"
                         "    version: context.functionVersion,\n"
                         "    endpoint: (process.env.AWS_ENDPOINT_URL_LAMBDA || '').startsWith('http://127.0.0.1')};\n"
                         "};\n"),
        "fn/node_modules/greet/index.js": "module.exports = (name) => require('shout')(`hello ${name}`);\n",
        "layer/nodejs/node_modules/shout/index.js": "module.exports = (text) => text.toUpperCase();\n",
        "hook/app.py": HOOK,
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def invoke(app: Path, home: Path, target: str, event: dict, tmp_path: Path, *args: str):
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(event))
    proc = strata(app, home, "invoke", target, "--event", str(event_file), *args)
    return json.loads(proc.stdout), proc.stderr


def test_deploy_invoke_versions_verify(tmp_path):
    home, app = tmp_path / "home", write_app(tmp_path / "app", "one")
    deployed = strata(app, home, "deploy")
    assert "Verified" in deployed.stdout, deployed.stdout
    assert "Lambda's Node.js runtimes bundle the AWS SDK for JavaScript v3; it is not installed here" \
        in deployed.stdout + deployed.stderr
    seen, log = invoke(app, home, "Fn:live", {"name": "ada"}, tmp_path, "--log-type", "Tail")
    assert seen == {"answer": "one", "greeting": "HELLO ADA", "version": "1", "endpoint": True}
    assert "INIT_START Runtime Version: nodejs20.x\tInterpreter: Node.js 20" in log
    assert "\tINFO\tgreeting ada" in log
    write_app(app, "two")
    strata(app, home, "deploy")
    assert invoke(app, home, "Fn:live", {"name": "bob"}, tmp_path)[0]["version"] == "2"
    assert invoke(app, home, "greeter:1", {"name": "bob"}, tmp_path)[0]["answer"] == "one"
    verified = strata(app, home, "verify")
    assert verified.returncode == 0 and "greeter" in verified.stdout + verified.stderr


def test_traffic_shifting_moves_the_alias_to_the_new_node_version(tmp_path):
    home, app = tmp_path / "home", write_app(tmp_path / "app", "one", shift=True)
    strata(app, home, "deploy")
    write_app(app, "two", shift=True)
    proc = strata(app, home, "deploy", "--shift-speed", "600")
    assert "BeforeAllowTraffic hook CodeDeployHook_pre: Succeeded" in proc.stdout, proc.stdout
    assert invoke(app, home, "Fn:live", {"name": "x"}, tmp_path)[0] == {"answer": "two", "greeting": "HELLO X",
                                                                        "version": "2", "endpoint": True}


def test_boto3_against_strata_serve(tmp_path):
    home, app = tmp_path / "home", write_app(tmp_path / "app", "one")
    strata(app, home, "deploy", "--no-verify")
    process = start_serve(home)
    try:
        keys = credentials.load(home)
        assert keys is not None
        lam = boto3.client("lambda", endpoint_url=running_server(home), region_name="us-east-1",
                           aws_access_key_id=keys.access_key_id, aws_secret_access_key=keys.secret_access_key,
                           config=Config(retries={"total_max_attempts": 1}, read_timeout=60))
        for _ in range(3):                                    # cold, then warm
            answer = lam.invoke(FunctionName="greeter", Qualifier="live", Payload=b'{"name": "eve"}')
            assert json.loads(answer["Payload"].read()) == {"answer": "one", "greeting": "HELLO EVE", "version": "1",
                                                            "endpoint": True}     # SDK v3 reads AWS_ENDPOINT_URL_*
            assert answer["ExecutedVersion"] == "1"
        failed = lam.invoke(FunctionName="greeter", Payload=b"null")          # null.name: a TypeError
        assert failed["FunctionError"] == "Unhandled"
        assert json.loads(failed["Payload"].read())["errorType"] == "TypeError"
    finally:
        stop_serve(process)


def test_a_missing_node_major_warns_in_plan_and_refuses_deploy(tmp_path):
    home, app = tmp_path / "home", write_app(tmp_path / "app", "one")
    (app / "template.yaml").write_text((app / "template.yaml").read_text().replace("nodejs20.x", "nodejs18.x"))
    empty = tmp_path / "empty"
    empty.mkdir()
    python_dir = os.path.dirname(os.path.realpath(shutil.which("python3.11") or "/usr/bin/python3"))
    env = env_for(home, PATH=f"{empty}:{python_dir}:/usr/sbin:/sbin", HOME=str(empty), NVM_DIR=str(empty),
                  VOLTA_HOME=str(empty), FNM_DIR=str(empty), ASDF_DATA_DIR=str(empty), XDG_DATA_HOME=str(empty))
    env.pop("STRATA_ALLOW_NODE_SUBSTITUTE", None)
    planned = strata(app, home, "plan", env=env)
    assert "Fn: Runtime nodejs18.x: no Node.js 18 found" in planned.stdout + planned.stderr
    refused = strata(app, home, "deploy", env=env, check=False)
    assert refused.returncode == 1 and "nothing was changed" in refused.stderr
    assert "--allow-node-substitute 18=" in refused.stderr and "nvm install 18" in refused.stderr
