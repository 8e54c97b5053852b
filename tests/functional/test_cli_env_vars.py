"""``--env-vars FILE`` (SAM CLI's format) through the real ``strata`` executable: the function sees the overridden
values in ``os.environ``, only for variables its template declares; no version is published for it (the alias keeps
serving version 1, plan and deploy see no change); describe and plan show the overrides with values masked; a bad
file is an error naming it."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from deploy_helpers import strata

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  EnvFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
      AutoPublishAlias: live
      Environment:
        Variables:
          TABLE: prod-table
          STAGE: prod
  OtherFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
      FunctionName: other-fn
      Environment:
        Variables:
          STAGE: prod
"""
CODE = """\
import os


def handler(event, context):
    return {"TABLE": os.environ.get("TABLE"), "STAGE": os.environ.get("STAGE"),
            "UNDECLARED": os.environ.get("UNDECLARED"), "version": context.function_version}
"""
SECRET = "local-table-s3cret"


@pytest.fixture
def app(tmp_path: Path) -> tuple[Path, Path]:
    app = tmp_path / "envapp"
    (app / "src").mkdir(parents=True)
    (app / "template.yaml").write_text(TEMPLATE)
    (app / "src" / "app.py").write_text(CODE)
    home = tmp_path / "home"
    strata(app, home, "deploy")
    return app, home


def _env_file(app: Path, data: dict | str) -> str:
    path = app / "env.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2))
    return str(path)


def test_invoke_sees_the_override_and_no_version_is_published(app):
    app, home = app
    env = _env_file(app, {"Parameters": {"STAGE": "dev"}, "EnvFunction": {"TABLE": SECRET, "UNDECLARED": "x"}})
    proc = strata(app, home, "invoke", "EnvFunction:live", "--env-vars", env, "--log-type", "Tail")
    assert json.loads(proc.stdout) == {"TABLE": SECRET, "STAGE": "dev", "UNDECLARED": None, "version": "1"}
    assert "EnvFunction does not declare UNDECLARED" in proc.stderr          # as SAM CLI: declared ones only
    assert "local --env-vars override active: STAGE, TABLE (not part of version 1)" in proc.stderr
    # the version is what it was: without the file the deployed values come back, and nothing is to deploy
    plain = json.loads(strata(app, home, "invoke", "EnvFunction:live").stdout)
    assert plain == {"TABLE": "prod-table", "STAGE": "prod", "UNDECLARED": None, "version": "1"}
    assert "No changes: stack envapp is up to date." in strata(app, home, "plan", "--env-vars", env).stdout
    assert "No changes" in strata(app, home, "deploy").stdout
    info = json.loads(strata(app, home, "describe", "--output", "json").stdout)
    assert [v["Version"] for v in info["Functions"]["EnvFunction"]["Versions"]] == ["1"]


def test_parameters_reach_every_function_and_a_function_name_or_path_names_one(app):
    app, home = app
    env = _env_file(app, {"Parameters": {"STAGE": "all"}, "other-fn": {"STAGE": "by-name"},
                          "envapp/EnvFunction": {"TABLE": "by-path"}})
    assert json.loads(strata(app, home, "invoke", "other-fn", "--env-vars", env).stdout)["STAGE"] == "by-name"
    answer = json.loads(strata(app, home, "invoke", "EnvFunction:live", "--env-vars", env).stdout)
    assert answer["TABLE"] == "by-path" and answer["STAGE"] == "all"
    env = _env_file(app, {"EnvFunction": {"TABLE": "by-id"}, "envapp/EnvFunction": {"TABLE": "by-path"}})
    answer = json.loads(strata(app, home, "invoke", "EnvFunction:live", "--env-vars", env).stdout)
    assert answer["TABLE"] == "by-id"                    # the logical id comes first, as in SAM CLI


def test_describe_and_plan_show_the_overrides_masked(app):
    app, home = app
    env = _env_file(app, {"EnvFunction": {"TABLE": SECRET}, "Parameters": {"STAGE": "dev"}})
    text = strata(app, home, "describe", "--env-vars", env).stdout
    assert "Local overrides (--env-vars" in text and "EnvFunction: STAGE=****, TABLE=****" in text
    assert "OtherFunction: STAGE=****" in text
    assert SECRET not in text and "dev" not in text.split("Local overrides")[1]
    info = json.loads(strata(app, home, "describe", "--output", "json", "--env-vars", env).stdout)
    assert info["LocalOverrides"]["Stacks"]["envapp"]["EnvFunction"] == {"STAGE": "****", "TABLE": "****"}
    plan = strata(app, home, "plan", "--env-vars", env)
    assert "EnvFunction: STAGE=****, TABLE=****" in plan.stdout and SECRET not in plan.stdout + plan.stderr
    plan_json = json.loads(strata(app, home, "plan", "--output", "json", "--env-vars", env).stdout)
    assert plan_json["Empty"] is True and plan_json["LocalOverrides"]["Stacks"]["envapp"]["OtherFunction"] == {
        "STAGE": "****"}
    by_name = _env_file(app, {info["Functions"]["EnvFunction"]["FunctionName"]: {"TABLE": SECRET}})
    plan = strata(app, home, "plan", "--env-vars", by_name).stdout     # the deployed name, generated by deploy
    assert "EnvFunction: TABLE=****" in plan and "names no function" not in plan


def test_a_key_naming_no_function_is_a_warning(app):
    app, home = app
    env = _env_file(app, {"NoSuchFunction": {"TABLE": "x"}, "EnvFunction": {"TABLE": "y"}})
    proc = strata(app, home, "invoke", "EnvFunction:live", "--env-vars", env)
    assert json.loads(proc.stdout)["TABLE"] == "y"
    assert "'NoSuchFunction' names no function" in proc.stderr


def test_a_bad_file_is_an_error_naming_it(app):
    app, home = app
    env = _env_file(app, '{\n  "EnvFunction": {"TABLE": "x",}\n}\n')
    proc = strata(app, home, "invoke", "EnvFunction:live", "--env-vars", env, check=False)
    assert proc.returncode == 1 and proc.stdout == ""
    assert f"{env}:2:32: the --env-vars file is not valid JSON" in proc.stderr and "Traceback" not in proc.stderr
    env = _env_file(app, '{"EnvFunction": {"TABLE": ["a"]}}')
    proc = strata(app, home, "describe", "--env-vars", env, check=False)
    assert proc.returncode == 1 and "EnvFunction.TABLE must be a string, number or boolean" in proc.stderr
    proc = strata(app, home, "invoke", "EnvFunction:live", "--env-vars", str(app / "missing.json"), check=False)
    assert proc.returncode == 1 and "missing.json: cannot read it" in proc.stderr


def test_serve_applies_the_overrides_to_its_workers(app):
    from strata_testkit import start_serve, stop_serve

    app, home = app
    env = _env_file(app, {"EnvFunction": {"TABLE": SECRET}})
    process = start_serve(home, "--env-vars", env)
    try:
        served = json.loads(strata(app, home, "invoke", "EnvFunction:live").stdout)   # through the server
        assert served == {"TABLE": SECRET, "STAGE": "prod", "UNDECLARED": None, "version": "1"}
        other = _env_file(app, {"EnvFunction": {"TABLE": "here"}})
        proc = strata(app, home, "invoke", "EnvFunction:live", "--env-vars", other)
        assert json.loads(proc.stdout)["TABLE"] == "here" and "invoking in this process" in proc.stderr
    finally:
        err = stop_serve(process)
    assert "local overrides from --env-vars" in err and "EnvFunction" not in err.split("--env-vars")[0]
    assert SECRET not in err
