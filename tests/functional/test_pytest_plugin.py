"""The pytest plugin (``strata.testing``): strata's own tests use its ``strata_stack`` fixture on the example app, and
a user's project gets it from the ``pytest11`` entry point alone (pytest in a subprocess, no ``-p``, no conftest)."""
from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from strata.testing import FunctionError, StackConfig, StrataStack

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "layered-app" / "template.yaml"


@pytest.fixture(scope="session")
def strata_config() -> StackConfig:
    """The example app, with a parameter override (the fixture override a user's conftest would write)."""
    return StackConfig(EXAMPLE, "plugin-demo", {"Greeting": "Howdy"})


def test_invoke_by_logical_id_alias_and_name(strata_stack: StrataStack):
    answer = strata_stack.invoke("HelloFunction", {"name": "plugin"})
    assert answer["message"] == "Howdy, plugin!"
    assert answer["function_version"] == "$LATEST"
    assert strata_stack.invoke("HelloFunction:live")["function_version"] == "1"
    name = strata_stack.functions["HelloFunction"]
    assert strata_stack.invoke(name, {"name": "n"})["message"] == "Howdy, n!"


def test_lambda_client_is_signed_for_the_server(strata_stack: StrataStack):
    names = {fn["FunctionName"] for fn in strata_stack.lambda_client.list_functions()["Functions"]}
    assert set(strata_stack.functions.values()) <= names
    alias = strata_stack.lambda_client.get_alias(FunctionName=strata_stack.functions["PlainFunction"], Name="live")
    assert alias["FunctionVersion"] == "1"
    assert strata_stack.http_urls == {}


def test_state_lives_in_a_private_home_not_beside_the_template(strata_stack: StrataStack):
    assert (strata_stack.home / "state.db").is_file()
    assert not (EXAMPLE.parent / ".strata").exists()
    assert strata_stack.url.startswith("http://127.0.0.1:")


USER_HANDLER = """\
def handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"sum": event["a"] + event["b"], "version": context.function_version}
"""
USER_TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Parameters:
  Suffix:
    Type: String
    Default: none
Resources:
  AddFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src
      Handler: app.handler
      Runtime: python3.12
      AutoPublishAlias: live
      Environment:
        Variables:
          SUFFIX: !Ref Suffix
"""
USER_TESTS = """\
import pytest
from strata.testing import FunctionError


def test_add(strata_stack):
    assert strata_stack.invoke("AddFunction", {"a": 2, "b": 3}) == {"sum": 5, "version": "$LATEST"}
    assert strata_stack.invoke("AddFunction:live", {"a": 1, "b": 1})["version"] == "1"


def test_error_and_client(strata_stack):
    with pytest.raises(FunctionError, match="ValueError: asked to fail"):
        strata_stack.invoke("AddFunction", {"fail": True})
    config = strata_stack.lambda_client.get_function_configuration(
        FunctionName=strata_stack.functions["AddFunction"])
    assert config["Environment"]["Variables"]["SUFFIX"] == "given"
    assert strata_stack.stack_name == "user-app"
"""
USER_INI = """\
[pytest]
strata_template = template.yaml
strata_stack_name = user-app
strata_parameter_overrides =
    Suffix=given
"""


def _dist_info_from_pyproject(where: Path) -> Path:
    """The metadata pip writes for strata (name, version, entry points), from pyproject.toml as it is in this
    checkout: what a user's ``pip install strata`` makes pytest read, whichever checkout the test environment's own
    install was made from (an editable install keeps the entry points of the day it was made)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    info = where / f"strata-{project['version']}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: strata\nVersion: {project['version']}\n")
    lines = []
    for group, entries in project.get("entry-points", {}).items():
        lines.append(f"[{group}]")
        lines += [f"{name} = {value}" for name, value in entries.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    return where


def test_a_user_project_gets_the_fixture_from_the_entry_point(tmp_path: Path):
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "app.py").write_text(USER_HANDLER)
    (project / "template.yaml").write_text(USER_TEMPLATE)
    (project / "pytest.ini").write_text(USER_INI)
    (project / "test_app.py").write_text(USER_TESTS)
    metadata = _dist_info_from_pyproject(tmp_path / "metadata")
    env = {name: value for name, value in os.environ.items() if not name.startswith(("PYTEST_", "STRATA_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(metadata), str(ROOT / "src"), env.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                           "--basetemp", str(tmp_path / "basetemp")],
                          cwd=project, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
    assert not (project / ".strata").exists()                  # the state went to a temporary home
    assert "server.json" not in {p.name for p in (tmp_path / "basetemp").rglob("*")}   # the server was stopped


def test_without_a_template_the_fixture_says_what_to_set(tmp_path: Path):
    (tmp_path / "test_x.py").write_text("def test_x(strata_stack):\n    pass\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    env = {name: value for name, value in os.environ.items() if not name.startswith(("PYTEST_", "STRATA_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(_dist_info_from_pyproject(tmp_path / "metadata")), str(ROOT / "src")])
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "strata_template" in done.stdout + done.stderr


def test_a_failed_deploy_raises_with_strata_s_message(tmp_path: Path):
    (tmp_path / "template.yaml").write_text("Resources:\n  Broken:\n    Type: AWS::Serverless::Function\n"
                                            "    Properties: {Handler: app.handler}\n")
    with pytest.raises(Exception, match="strata deploy of .* failed") as info:
        StrataStack.start(StackConfig(tmp_path / "template.yaml", "broken"), tmp_path / "home")
    assert not isinstance(info.value, FunctionError)
