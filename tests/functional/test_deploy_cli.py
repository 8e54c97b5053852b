"""strata deploy end to end through the real CLI: a SAM app with an in-template layer (AutoPublishAlias live) and a
function without layers; each case in its own STRATA_HOME."""
from __future__ import annotations

import json
import subprocess
import time

import pytest
from deploy_helpers import (
    STRATA,
    change_layer,
    copy_app,
    describe,
    edit_template,
    env_for,
    service_snapshot,
    stack_view,
    strata,
)


def invoke(app, home, target: str) -> dict:
    return json.loads(strata(app, home, "invoke", target).stdout)


def fn_name(info: dict, logical_id: str) -> str:
    return info["Functions"][logical_id]["FunctionName"]


@pytest.fixture
def deployed(tmp_path):
    app, home = copy_app(tmp_path / "demo"), tmp_path / "home"
    out = strata(app, home, "deploy")
    assert "Stack demo deployed." in out.stdout
    return app, home


def test_deploy_invoke_change_layer_and_redeploy(deployed):
    app, home = deployed
    info = describe(app, home)
    hello = fn_name(info, "HelloFunction")
    first = invoke(app, home, f"{hello}:live")
    assert first["layer_revision"] == 1 and first["function_version"] == "1"
    again = strata(app, home, "deploy")
    assert "No changes" in again.stdout

    change_layer(app, 2)
    plan = strata(app, home, "plan").stdout
    assert "publish a new version of HelloFunction because" in plan
    assert "PlainFunction" not in plan.split("NOT EMULATED")[0].replace("PlainFunctionRole", "")
    plan_json = json.loads(strata(app, home, "plan", "--output", "json").stdout)
    versions = [c for c in plan_json["Changes"] if c["ResourceType"] == "AWS::Lambda::Version"
                and c["Action"] == "create"]
    assert len(versions) == 1 and versions[0]["LogicalResourceId"].startswith("HelloFunctionVersion")
    strata(app, home, "deploy")
    second = invoke(app, home, f"{hello}:live")
    assert second["layer_revision"] == 2 and second["function_version"] == "2"
    info = describe(app, home)
    assert info["Functions"]["HelloFunction"]["Aliases"][0]["FunctionVersion"] == "2"
    assert info["Functions"]["PlainFunction"]["Versions"][0]["Version"] == "1"
    service = service_snapshot(home)
    assert sorted(service["functions"][hello]["versions"]) == ["$LATEST", "1", "2"]   # v1 retained by SAM


def test_tag_only_change_publishes_nothing_and_parameter_change_publishes(deployed):
    app, home = deployed
    hello = fn_name(describe(app, home), "HelloFunction")
    edit_template(app, "app: layered-app", "app: renamed")
    out = json.loads(strata(app, home, "deploy", "--output", "json").stdout)
    assert out["Status"] == "complete"
    assert {c["Action"] for c in out["Plan"]["Changes"]} == {"update"}
    assert {c["ResourceType"] for c in out["Plan"]["Changes"]} <= {"AWS::Lambda::Function", "AWS::IAM::Role"}
    assert sorted(service_snapshot(home)["functions"][hello]["versions"]) == ["$LATEST", "1"]

    out = json.loads(strata(app, home, "deploy", "--output", "json", "--parameter-overrides", "Greeting=Hi").stdout)
    created = [c for c in out["Plan"]["Changes"] if c["Action"] == "create"]
    assert [c["ResourceType"] for c in created] == ["AWS::Lambda::Version"]
    assert "Environment" in created[0]["Reasons"][0] or "GREETING" in created[0]["Reasons"][0]
    result = invoke(app, home, f"{hello}:live")
    assert result["message"].startswith("Hi") and result["function_version"] == "2"


def test_removing_a_function_deletes_it_and_retained_versions_stay(deployed):
    app, home = deployed
    change_layer(app, 2)
    strata(app, home, "deploy")
    info = describe(app, home)
    hello, plain = fn_name(info, "HelloFunction"), fn_name(info, "PlainFunction")
    text = (app / "template.yaml").read_text()
    start = text.index("  PlainFunction:")
    end = text.index("Outputs:")
    (app / "template.yaml").write_text(text[:start] + text[end:])
    out = strata(app, home, "deploy").stdout
    assert "delete" in out and "PlainFunction" in out
    service = service_snapshot(home)
    assert plain not in service["functions"]
    assert sorted(service["functions"][hello]["versions"]) == ["$LATEST", "1", "2"]
    assert "PlainFunction" not in describe(app, home)["Functions"]


def test_failing_resource_rolls_back_to_exactly_the_previous_state(deployed):
    app, home = deployed
    before = stack_view(app, home)
    edit_template(app, "    Timeout: 5\n", "    Timeout: 9\n")
    edit_template(app, "Outputs:", "  Broken:\n    Type: AWS::Lambda::Alias\n    DependsOn: HelloFunctionAliaslive\n"
                  "    Properties:\n      FunctionName: !Ref HelloFunction\n      FunctionVersion: $LATEST\n"
                  "      Name: '2024'\n\nOutputs:")
    proc = strata(app, home, "deploy", check=False)
    assert proc.returncode == 1
    assert "Broken" in proc.stderr and "rolled back" in proc.stderr and "2024" in proc.stderr
    after = stack_view(app, home)
    assert after["service"] == before["service"]
    assert {k: v for k, v in after.items() if k != "status"} == {k: v for k, v in before.items() if k != "status"}
    assert describe(app, home)["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    events = json.loads(strata(app, home, "events", "--output", "json").stdout)
    assert any(e["ResourceStatus"] == "CREATE_FAILED" and e["LogicalResourceId"] == "Broken" for e in events)


def test_no_execute_changes_nothing(deployed):
    app, home = deployed
    before = stack_view(app, home)
    change_layer(app, 3)
    out = strata(app, home, "deploy", "--no-execute").stdout
    assert "Not executed" in out and "publish a new version of HelloFunction" in out
    assert stack_view(app, home) == before


def test_stacks_events_and_delete(deployed):
    app, home = deployed
    stacks = json.loads(strata(app, home, "stacks", "--output", "json").stdout)
    assert [s["StackName"] for s in stacks] == ["demo"]
    events = strata(app, home, "events").stdout
    assert "CREATE_COMPLETE" in events
    out = strata(app, home, "delete").stdout
    assert "Stack demo deleted" in out
    assert service_snapshot(home)["functions"] == {}
    assert json.loads(strata(app, home, "stacks", "--output", "json").stdout) == []


def test_two_deploys_at_once_one_fails_fast_and_wait_waits(deployed):
    app, home = deployed
    from strata.local.engine.lock import StackLock

    change_layer(app, 2)
    strata(app, home, "plan")      # builds, so the timed deploys below are short
    with StackLock(home, "demo"):
        proc = strata(app, home, "deploy", check=False)     # would hang (and time out) if it waited for the lock
        assert proc.returncode == 1 and "being deployed by another process" in proc.stderr
        waiting = subprocess.Popen([STRATA, "deploy", "--wait"], cwd=app, env=env_for(home),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        assert waiting.poll() is None          # still waiting for the lock
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    assert "deployed" in out
    info = describe(app, home)
    assert info["StackStatus"] == "UPDATE_COMPLETE" and not info["Interrupted"]


def test_two_real_deploys_race(tmp_path):
    app, home = copy_app(tmp_path / "race"), tmp_path / "home"
    strata(app, home, "plan")     # build + translate once
    procs = [subprocess.Popen([STRATA, "deploy"], cwd=app, env=env_for(home), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in procs]
    assert any(code == 0 for code, _, _ in results)
    for code, _, err in results:
        assert code == 0 or "being deployed by another process" in err, err
    info = describe(app, home)
    assert info["StackStatus"] == "CREATE_COMPLETE"
    assert [v["Version"] for v in info["Functions"]["HelloFunction"]["Versions"]] == ["1"]
