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
