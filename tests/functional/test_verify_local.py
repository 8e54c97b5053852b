"""``strata verify`` on the local target: the seed's symptoms made by hand through the local Lambda service (an alias
moved to an old version; $LATEST's layers changed outside the stack; $LATEST's code replaced), verify failing with
the right words, ``--repair`` fixing it, verify passing again."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from strata_testkit import run_cli, zip_bytes

from strata.cli.main import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
STACK = "demo"


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> Path:
    """examples/layered-app deployed to the local engine as stack ``demo``; returns the template path."""
    target = tmp_path / "layered-app"
    shutil.copytree(EXAMPLES / "layered-app", target)
    monkeypatch.setenv("STRATA_HOME", str(tmp_path / "home"))
    template = target / "template.yaml"
    code, out, err = run_cli(main, ["deploy", "-t", str(template), "--stack-name", STACK], capsys)
    assert code == 0, out + err
    return template


@pytest.fixture
def client(tmp_path: Path):
    from strata.local.engine.client import LocalLambdaClient

    lam = LocalLambdaClient(tmp_path / "home", region="us-east-1", account_id="123456789012")
    yield lam
    lam.close()


def _function(client, logical_id: str) -> str:
    from strata.local.verify import local_deployed_stack

    stack = local_deployed_stack(client.home, STACK)
    return stack.resources[logical_id].physical_id


def _verify(template: Path, capsys, *extra: str) -> tuple[int, dict]:
    code, out, _ = run_cli(main, ["verify", "-t", str(template), "--stack-name", STACK, "--output", "json", *extra],
                           capsys)
    return code, json.loads(out)


def test_a_fresh_deploy_verifies(app, capsys):
    code, out, _ = run_cli(main, ["verify", "-t", str(app), "--stack-name", STACK], capsys)
    assert code == 0
    assert "checked HelloFunction" in out and "alias live -> 1" in out
    assert "OK: every function serves what was deployed." in out


def test_alias_moved_to_an_old_version_is_found_and_repaired(app, client, capsys):
    code, out, err = run_cli(main, ["deploy", "-t", str(app), "--stack-name", STACK, "--parameter-overrides",
                                    "Greeting=Hi"], capsys)
    assert code == 0, out + err
    name = _function(client, "HelloFunction")
    assert client.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "2"
    client.update_alias(FunctionName=name, Name="live", FunctionVersion="1")   # the seed's symptom, by hand

    code, report = _verify(app, capsys)
    assert code == 1 and not report["ok"]
    messages = [f["message"] for f in report["findings"]]
    assert "alias live serves version 1; the stack deployed version 2" in messages
    assert ("alias live serves version 1 with environment variable GREETING=Hello; "
            "the deployed configuration has GREETING=Hi") in messages
    assert all(f["function"] == "HelloFunction" for f in report["findings"])

    code, report = _verify(app, capsys, "--repair")
    assert code == 0 and report["ok"], report
    assert "HelloFunction: alias live now serves version 2" in report["repairs"]
    assert client.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "2"
    assert _verify(app, capsys)[0] == 0


def test_latest_layers_changed_outside_the_stack(app, client, capsys):
    name = _function(client, "HelloFunction")
    deployed_layer = client.get_function_configuration(FunctionName=name)["Layers"][0]["Arn"]
    layer_name = deployed_layer.split(":")[6]
    new = client.publish_layer_version(LayerName=layer_name, Content={"ZipFile": zip_bytes(
        {"python/shared_greeting.py": "def greet(name):\n    return 'changed ' + name\n"})})["LayerVersionArn"]
    client.update_function_configuration(FunctionName=name, Layers=[new])
    version = client.publish_version(FunctionName=name)["Version"]
    client.update_alias(FunctionName=name, Name="live", FunctionVersion=version)

    code, out, _ = run_cli(main, ["verify", "-t", str(app), "--stack-name", STACK], capsys)
    assert code == 1
    assert (f"HelloFunction: $LATEST has layer {layer_name}:2; the deployed configuration uses {layer_name}:1"
            in out)
    assert (f"HelloFunction: alias live serves version 2 with layer {layer_name}:2; the deployed configuration "
            f"uses {layer_name}:1") in out
    assert "PlainFunction" not in out.split("MISMATCH", 1)[1]

    code, report = _verify(app, capsys, "--repair")
    assert code == 0, report
    assert "HelloFunction: restored $LATEST Layers" in report["repairs"]
    live = client.get_function_configuration(FunctionName=name)
    assert [layer["Arn"] for layer in live["Layers"]] == [deployed_layer]
    assert client.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "1"   # the stack's version


def _replace_code(client, name: str) -> None:
    client.update_function_code(FunctionName=name,
                                ZipFile=zip_bytes({"app.py": "def handler(event, context):\n    return 'hacked'\n"}))
    version = client.publish_version(FunctionName=name)["Version"]
    client.update_alias(FunctionName=name, Name="live", FunctionVersion=version)


def test_latest_code_replaced_outside_the_stack(app, client, capsys):
    name = _function(client, "PlainFunction")
    before = client.get_function_configuration(FunctionName=name)["CodeSha256"]
    _replace_code(client, name)

    code, report = _verify(app, capsys)
    assert code == 1
    settings = {(f["subject"], f["setting"]) for f in report["findings"]}
    assert settings == {("$LATEST", "CodeSha256"), ("alias live", "CodeSha256"), ("alias live", "FunctionVersion")}
    assert any(f["message"].startswith("$LATEST has code sha256 ") and "; the deployed code has sha256 " in f["message"]
               for f in report["findings"])

    code, report = _verify(app, capsys, "--repair")
    assert code == 0, report
    assert any(line.startswith("PlainFunction: restored $LATEST code from s3://") for line in report["repairs"])
    assert "PlainFunction: alias live now serves version 1" in report["repairs"]
    assert client.get_function_configuration(FunctionName=name)["CodeSha256"] == before


def test_deleted_stack_version_publishes_with_the_code_sha_precondition(app, client, capsys):
    name = _function(client, "PlainFunction")
    before = client.get_function_configuration(FunctionName=name)["CodeSha256"]
    _replace_code(client, name)
    client.delete_function(FunctionName=name, Qualifier="1")                      # the stack's version is gone

    code, report = _verify(app, capsys, "--repair")
    assert "PlainFunction: published version 3 from the deployed $LATEST" in report["repairs"]
    assert client.get_function_configuration(FunctionName=name, Qualifier="live")["CodeSha256"] == before
    # The alias serves the deployed content under another number: a note. The stack's own version 1 is gone for
    # good (numbers are never reused): that stays a finding, and the repair says why.
    assert any("serves version 3, not the stack's version 1" in note for note in report["notes"])
    assert code == 1
    assert [f["message"] for f in report["findings"]] == ["version 1, which the stack published, no longer exists"]
    assert any("version 1 cannot be recreated" in line for line in report["repairs"])


def test_verify_of_an_unknown_stack_says_so(app, capsys):
    code, out, err = run_cli(main, ["verify", "-t", str(app), "--stack-name", "nope"], capsys)
    assert code == 1 and "stack 'nope' does not exist locally (stacks: demo)" in err


def test_verify_local_api_reads_through_the_same_checker(app, tmp_path):
    from strata.local.verify import verify_local

    report = verify_local(tmp_path / "home", STACK)
    assert report.ok and report.target == "local"
    assert [line.split(" ")[0] for line in report.checked] == ["HelloFunction", "PlainFunction"]


def test_an_alias_deleted_outside_the_stack_is_reported_missing(app, client, capsys):
    name = _function(client, "HelloFunction")
    client.delete_alias(FunctionName=name, Name="live")
    code, report = _verify(app, capsys)
    assert code == 1 and not report["ok"]
    assert [(f["function"], f["message"]) for f in report["findings"]] == [
        ("HelloFunction", "alias live does not exist; the stack deployed it serving version 1")]
