"""Every packageable local path, end to end through the real CLI (``strata.artifacts.packageable``): a function with
no CodeUri (``sam init``'s default), a code folder that holds the template, local definition files, nested stacks."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

from deploy_helpers import describe, service_snapshot, strata

SAM_INIT_TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    Timeout: 3
Resources:
  HelloFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.lambda_handler
      AutoPublishAlias: live
      Tags:
        team: a
"""


def _sam_init_app(app: Path, template: str = SAM_INIT_TEMPLATE) -> Path:
    app.mkdir(parents=True)
    (app / "template.yaml").write_text(template)
    (app / "app.py").write_text("def lambda_handler(event, context):\n    return {'message': 'hello'}\n")
    (app / "samconfig.toml").write_text('version = 0.1\n[default.deploy.parameters]\nstack_name = "web"\n')
    for folder in (".git", ".aws-sam/build", ".hg"):
        (app / folder).mkdir(parents=True)
        (app / folder / "HEAD").write_text("x\n")
    return app


def _zipped_names(home: Path) -> set[str]:
    """Every name in every code zip the store holds."""
    names: set[str] = set()
    for path in home.glob("artifacts/**/*"):
        if path.is_file() and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                names.update(zf.namelist())
    return names


def test_a_function_without_code_uri_deploys_invokes_and_a_tag_edit_publishes_nothing(tmp_path):
    app, home = _sam_init_app(tmp_path / "web"), tmp_path / "home"
    out = strata(app, home, "deploy")
    assert "Stack web deployed." in out.stdout, out.stdout + out.stderr
    info = describe(app, home)
    name = info["Functions"]["HelloFunction"]["FunctionName"]
    assert json.loads(strata(app, home, "invoke", f"{name}:live").stdout) == {"message": "hello"}
    assert _zipped_names(home) == {"app.py"}

    (app / "template.yaml").write_text(SAM_INIT_TEMPLATE.replace("team: a", "team: b"))
    (app / "samconfig.toml").write_text('version = 0.1\n[default.deploy.parameters]\nstack_name = "web"\n# edited\n')
    plan = strata(app, home, "plan").stdout
    assert "publish" not in plan and "AWS::Lambda::Version" not in plan, plan
    strata(app, home, "deploy")
    versions = service_snapshot(home)["functions"][name]["versions"]
    assert sorted(versions) == ["$LATEST", "1"]

    (app / "app.py").write_text("def lambda_handler(event, context):\n    return {'message': 'again'}\n")
    strata(app, home, "deploy")
    assert json.loads(strata(app, home, "invoke", f"{name}:live").stdout) == {"message": "again"}
    assert sorted(service_snapshot(home)["functions"][name]["versions"]) == ["$LATEST", "1", "2"]


def test_code_uri_dot_leaves_the_project_files_out_and_explain_says_so(tmp_path):
    with_dot = SAM_INIT_TEMPLATE.replace("      Handler: app", "      CodeUri: .\n      Handler: app")
    app, home = _sam_init_app(tmp_path / "web", with_dot), tmp_path / "home"
    (app / ".strata").mkdir()
    (app / ".strata" / "x").write_text("state\n")
    explain = strata(app, home, "transform", "--explain").stdout
    assert "code zip excludes: template.yaml; samconfig.toml; any file or folder named" in explain
    assert ".git" in explain and ".strata" in explain and ".aws-sam" in explain
    explained = json.loads(strata(app, home, "transform", "--explain", "--output", "json").stdout)
    assert explained[0]["code_excludes"][:2] == ["template.yaml", "samconfig.toml"]
    strata(app, home, "build")
    assert _zipped_names(home) == {"app.py"}


STATE_MACHINE_TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  StepFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/step
      Handler: app.handler
      Runtime: python3.12
      AutoPublishAlias: live
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: statemachine/flow.asl.json
      DefinitionSubstitutions:
        StepArn: !Ref StepFunction.Alias
      Policies:
        - LambdaInvokePolicy:
            FunctionName: !Ref StepFunction
  Settings:
    Type: AWS::SQS::Queue
    Properties:
      Fn::Transform:
        Name: AWS::Include
        Parameters:
          Location: snippets/queue.yaml
"""

ASL = '{"StartAt": "Step", "States": {"Step": {"Type": "Task", "Resource": "${StepArn}", "End": true}}}\n'


def _state_machine_app(app: Path) -> Path:
    for rel, text in {"template.yaml": STATE_MACHINE_TEMPLATE, "statemachine/flow.asl.json": ASL,
                      "snippets/queue.yaml": "VisibilityTimeout: 60\n",
                      "functions/step/app.py": "def handler(event, context):\n    return event\n"}.items():
        (app / rel).parent.mkdir(parents=True, exist_ok=True)
        (app / rel).write_text(text)
    return app


def test_a_state_machine_with_a_local_definition_uri_deploys_locally(tmp_path):
    app, home = _state_machine_app(tmp_path / "flows"), tmp_path / "home"
    stack = json.loads(strata(app, home, "transform").stdout)["Resources"]
    machine = stack["Machine"]["Properties"]
    assert "DefinitionS3Location" not in machine
    assert machine["Definition"] == json.loads(ASL)
    assert stack["Settings"]["Properties"] == {"VisibilityTimeout": 60}
    explain = strata(app, home, "transform", "--explain").stdout
    assert f"packaged Machine.DefinitionUri: {app / 'statemachine/flow.asl.json'} (sha256:" in explain
    strata(app, home, "validate")
    out = strata(app, home, "deploy")
    assert "Stack flows deployed." in out.stdout

    (app / "statemachine/flow.asl.json").write_text(ASL.replace('"End": true', '"Next": "Done"').replace(
        '}}}', '}, "Done": {"Type": "Succeed"}}}'))
    plan = strata(app, home, "plan").stdout
    assert "Machine" in plan and "Definition.States" in plan, plan
    assert "publish" not in plan
    strata(app, home, "deploy")
    assert "No changes" in strata(app, home, "deploy").stdout
    assert sorted(service_snapshot(home)["functions"][describe(app, home)["Functions"]["StepFunction"]
                                                       ["FunctionName"]]["versions"]) == ["$LATEST", "1"]


def test_a_nested_stack_from_a_local_template_is_refused_at_plan_time_naming_the_property(tmp_path):
    app, home = _state_machine_app(tmp_path / "nested"), tmp_path / "home"
    (app / "child.yaml").write_text("Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n")
    (app / "template.yaml").write_text(STATE_MACHINE_TEMPLATE + (
        "  Child:\n    Type: AWS::Serverless::Application\n    Properties:\n      Location: child.yaml\n"
        "  Other:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: ./child.yaml\n"))
    assert strata(app, home, "validate").returncode == 0    # valid for --target aws
    plan = strata(app, home, "plan", check=False)
    assert plan.returncode != 0
    assert "template.yaml:30:7" in plan.stderr and "Child.Location: a nested stack from the local template " \
        "'child.yaml' cannot be deployed by the local target" in plan.stderr
    assert "Other.TemplateURL" in plan.stderr and "--target aws" in plan.stderr
    deploy = strata(app, home, "deploy", check=False)
    assert deploy.returncode != 0 and "Other.TemplateURL" in deploy.stderr
    assert not (home / "state.db").exists() or "Stack nested" not in strata(app, home, "stacks", check=False).stdout
