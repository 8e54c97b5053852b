"""``strata plan`` / ``deploy`` on a SAM app using features the local target does not emulate: warned at plan time
with the property path, an error with ``--strict`` before anything is deployed."""
from __future__ import annotations

import pytest
from strata_testkit import run_cli

from strata.cli.main import main

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
      AutoPublishAlias: live
      DurableConfig:
        ExecutionTimeout: 900
      Tracing: Active
"""


@pytest.fixture
def app(tmp_path, monkeypatch):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STRATA_NO_DAEMON", "1")
    return tmp_path


def test_plan_warns_about_each_unemulated_property(capsys, app) -> None:
    code, out, _ = run_cli(main, ["plan"], capsys)
    assert code in (0, None)
    assert ("warning: not emulated locally: Fn.Properties.DurableConfig: durable executions (checkpoints, replay, "
            "waits) are not run locally") in out
    assert "warning: not emulated locally: Fn.Properties.TracingConfig: no X-Ray traces are recorded" in out


def test_strict_makes_them_an_error_for_plan_and_deploy(capsys, app) -> None:
    for verb in ("plan", "deploy"):
        code, out, err = run_cli(main, [verb, "--strict"], capsys)
        assert code == 1, (verb, out, err)
        assert ("--strict: the local engine does not emulate Fn.Properties.DurableConfig, "
                "Fn.Properties.TracingConfig") in err
    code, out, _ = run_cli(main, ["plan"], capsys)            # nothing was deployed
    assert code in (0, None) and "Plan for stack" in out and "4 to create" in out
