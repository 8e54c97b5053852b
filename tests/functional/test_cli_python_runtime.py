"""A function runs on the Python its Runtime names, found where the user keeps it or given by them; never silently
another. A missing Python: ``plan`` warns, ``deploy`` refuses before anything changes; a named substitution runs it
on another version and says so (deploy, describe, INIT_START). A runtime the local target cannot run, or
Architectures Lambda refuses, is refused by plan and deploy before apply.

Discovery is confined to folders under the test's own tmp_path: ``python3.11`` there is a symlink to the real
interpreter running the suite (3.11), ``python3.12`` is missing unless a test makes a fake one.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from strata_testkit import run_cli

from strata.cli.main import main
from strata.local.runtime import interpreter
from strata.model.python import PythonSettings

REAL = os.path.realpath(sys.executable)
HERE = "%d.%d" % sys.version_info[:2]
MISSING = "3.%d" % (sys.version_info[1] + 1)

HANDLER = "import sys\n\ndef handler(event, context):\n    return list(sys.version_info[:2])\n"


def template(runtime: str, extra: str = "") -> str:
    return ("Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
            f"    Properties:\n      CodeUri: src/\n      Handler: app.handler\n      Runtime: {runtime}\n{extra}")


@pytest.fixture
def app(tmp_path, monkeypatch):
    """An app folder; discovery sees only ``tmp_path/pythons`` (PATH) and empty pyenv/uv/asdf roots."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(HANDLER)
    pythons = tmp_path / "pythons"
    pythons.mkdir()
    (pythons / f"python{HERE}").symlink_to(REAL)
    for name in ("pyenv", "uv", "asdf", "home", "xdg"):
        (tmp_path / name).mkdir()
    monkeypatch.setenv("PATH", f"{pythons}{os.pathsep}/usr/bin{os.pathsep}/bin")
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", str(tmp_path / "uv"))
    monkeypatch.setenv("ASDF_DATA_DIR", str(tmp_path / "asdf"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("STRATA_PYTHON", raising=False)
    monkeypatch.delenv("STRATA_ALLOW_PYTHON_SUBSTITUTE", raising=False)
    monkeypatch.setenv("STRATA_NO_DAEMON", "1")
    monkeypatch.chdir(tmp_path)
    if Path(f"/usr/bin/python{MISSING}").exists():
        pytest.skip(f"python{MISSING} is installed in /usr/bin: it cannot be missing here")
    interpreter.use(PythonSettings())
    yield tmp_path
    interpreter.use(PythonSettings())         # `strata invoke --python` sets this process's own settings


def write(app: Path, runtime: str, extra: str = "") -> None:
    (app / "template.yaml").write_text(template(runtime, extra))


def describe(capsys) -> dict:
    code, out, err = run_cli(main, ["describe", "--output", "json"], capsys)
    assert code in (0, None), err
    return json.loads(out)


def test_the_runtimes_python_runs_the_function(app, capsys):
    write(app, f"python{HERE}")
    code, out, err = run_cli(main, ["deploy"], capsys)
    assert code in (0, None), err
    code, out, err = run_cli(main, ["invoke", "Fn"], capsys)
    assert json.loads(out) == [3, sys.version_info[1]]
    runs = describe(capsys)["Functions"]["Fn"]["Runs"]
    assert runs["Interpreter"] == REAL and not runs["Substituted"]
    assert f"python{HERE} from PATH ({app / 'pythons' / f'python{HERE}'} -> {REAL})" in runs["Note"]


def test_missing_python_plan_warns_and_deploy_refuses_before_anything_changes(app, capsys):
    write(app, f"python{HERE}")
    assert run_cli(main, ["deploy"], capsys)[0] in (0, None)
    before = describe(capsys)
    write(app, f"python{MISSING}")
    code, out, err = run_cli(main, ["plan"], capsys)
    assert code in (0, None), err
    assert f"warning: Fn: Runtime python{MISSING}: no Python {MISSING} found" in out
    assert "`strata deploy` refuses it" in out
    code, out, err = run_cli(main, ["deploy"], capsys)
    assert code == 1
    assert "the local target cannot run this function as declared; nothing was changed" in err
    assert f"Fn: Runtime python{MISSING}: no Python {MISSING} found" in err
    assert (f"hint: install Python {MISSING} (e.g. `pyenv install {MISSING}`, `uv python install {MISSING}` or "
            f"`apt install python{MISSING}`), or pass --python {MISSING}=/path/to/python{MISSING}, or allow running "
            f"these functions on another version: --allow-python-substitute {MISSING}={HERE}") in err
    assert "Verified" not in out
    assert describe(capsys) == before                     # same status, same versions, same update time
    assert json.loads(run_cli(main, ["invoke", "Fn"], capsys)[1]) == [3, sys.version_info[1]]


def test_a_named_substitution_runs_it_and_says_so(app, capsys):
    write(app, f"python{MISSING}", "      AutoPublishAlias: live\n")
    code, out, err = run_cli(main, ["deploy", "--allow-python-substitute", f"{MISSING}={HERE}"], capsys)
    assert code in (0, None), err
    said = (f"Fn: python{MISSING} runs on Python {HERE} (Python {HERE} substituted for python{MISSING}, allowed by "
            f"--allow-python-substitute {MISSING}={HERE}")
    assert f"warning: {said}" in out and "Verified: Fn" in out
    runs = describe(capsys)["Functions"]["Fn"]["Runs"]
    assert runs["Substituted"] and runs["InterpreterVersion"] == HERE and runs["Interpreter"] == REAL
    code, out, _ = run_cli(main, ["describe"], capsys)
    assert f"runs on Python {HERE}, not python{MISSING}: Python {HERE} substituted" in out
    code, out, err = run_cli(main, ["invoke", "Fn:live", "--log-type", "Tail"], capsys)
    assert json.loads(out) == [3, sys.version_info[1]]
    assert (f"INIT_START Runtime Version: python{MISSING}\tInterpreter: Python {HERE} (Python {HERE} substituted "
            f"for python{MISSING}, allowed by --allow-python-substitute {MISSING}={HERE}") in err
    # --output json carries it too
    code, out, _ = run_cli(main, ["deploy", "--allow-python-substitute", f"{MISSING}={HERE}", "--output", "json"],
                           capsys)
    document = json.loads(out)
    assert document["PythonSubstitutions"][0]["Runtime"] == f"python{MISSING}"
    assert document["PythonSubstitutions"][0]["InterpreterVersion"] == HERE
    assert any(said in w for w in document["Plan"]["Warnings"])


def test_samconfig_settings(app, capsys):
    write(app, f"python{MISSING}")
    (app / "samconfig.toml").write_text(f'version = 0.1\n[default.deploy.parameters]\n'
                                        f'allow_python_substitute = ["{MISSING}={HERE}"]\n')
    code, out, err = run_cli(main, ["deploy"], capsys)
    assert code in (0, None), err
    assert f"allowed by samconfig.toml allow_python_substitute = {MISSING}={HERE}" in out


def test_the_users_python_path(app, capsys):
    write(app, f"python{HERE}")
    code, out, err = run_cli(main, ["deploy", "--python", f"{HERE}={REAL}"], capsys)
    assert code in (0, None), err
    assert f"from --python ({REAL} -> {REAL})" in describe(capsys)["Functions"]["Fn"]["Runs"]["Note"]
    impostor = app / "opt" / f"python{MISSING}"
    impostor.parent.mkdir()
    impostor.symlink_to(REAL)
    write(app, f"python{MISSING}")
    for verb in ("plan", "deploy"):
        code, out, err = run_cli(main, [verb, "--python", f"{MISSING}={impostor}"], capsys)
        assert code == 1, (verb, out, err)
        assert f"--python {MISSING}={impostor}: {impostor} is Python {HERE}, not Python {MISSING}" in err
        assert f"hint: fix or drop --python {MISSING}={impostor}" in err


def test_a_symlinked_older_python_named_for_the_runtime_is_refused(app, capsys):
    (app / "pythons" / f"python{MISSING}").symlink_to(REAL)
    write(app, f"python{MISSING}")
    code, out, err = run_cli(main, ["deploy"], capsys)
    assert code == 1
    assert f"PATH {app / 'pythons' / f'python{MISSING}'} is Python {HERE}" in err


IMAGE = ("Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
         "    Properties:\n      PackageType: Image\n"
         "      ImageUri: 123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1\n")


@pytest.mark.parametrize("runtime", ["nodejs16.x", "java21", "provided.al2023", "dotnet8", "ruby3.3", "image"])
def test_a_runtime_the_local_target_cannot_run_is_refused(app, capsys, runtime):
    if runtime == "image":
        (app / "template.yaml").write_text(IMAGE)
        said = "Fn: PackageType Image: container image functions cannot run on the local target"
    else:
        write(app, runtime)
        said = (f"Fn: Runtime {runtime}: the local target cannot run it (it runs python3.8 to python3.15 and "
                "nodejs18.x to nodejs22.x)")
    for verb in ("plan", "deploy"):
        code, out, err = run_cli(main, [verb], capsys)
        assert code == 1, (verb, out, err)
        assert said in err and "nothing was changed" in err
        assert "hint: deploy it with --target aws, or remove the function from the template" in err
        assert "Verified" not in out
    code, _, err = run_cli(main, ["describe"], capsys)
    assert code == 1 and "does not exist" in err                # nothing was deployed


def test_two_architectures_are_refused_before_apply(app, capsys):
    write(app, f"python{HERE}", "      Architectures: [x86_64, arm64]\n")
    for verb in ("plan", "deploy"):
        code, out, err = run_cli(main, [verb], capsys)
        assert code == 1, (verb, out, err)
        assert ("Fn.Properties.Architectures [x86_64, arm64]: Lambda refuses it (Value '[x86_64, arm64]' at "
                "'architectures' failed to satisfy constraint: Member must have length less than or equal to 1)") in err
        assert "CREATE_IN_PROGRESS" not in out
    code, _, err = run_cli(main, ["describe"], capsys)
    assert code == 1 and "does not exist" in err


def test_verify_and_invoke_when_the_python_is_gone(app, capsys):
    fake = app / "pythons" / f"python{MISSING}"            # answers the probe as Python MISSING, then disappears
    fake.write_text(f"#!/bin/sh\nexec {REAL} -I -S -c 'import sys; print(sys.argv[1]); print(\"{MISSING}\")' \"$0\"\n")
    fake.chmod(0o755)
    write(app, f"python{MISSING}")
    code, out, err = run_cli(main, ["deploy"], capsys)
    assert code in (0, None), err
    assert run_cli(main, ["verify"], capsys)[0] in (0, None)
    fake.unlink()
    interpreter._memo.clear()              # each command is a new process: nothing remembered from the deploy
    code, out, err = run_cli(main, ["verify"], capsys)
    assert code == 1
    assert f"MISMATCH Fn: the local target cannot run it: Runtime python{MISSING}: no Python {MISSING} found" in out
    code, out, err = run_cli(main, ["verify", "--repair"], capsys)
    assert code == 1 and "not repaired: Fn: the local target cannot run it" in out
    code, out, err = run_cli(main, ["invoke", "Fn"], capsys)
    assert code == 1 and f"the function's runtime python{MISSING} cannot run here" in err
    code, out, err = run_cli(main, ["invoke", "Fn", "--allow-python-substitute", f"{MISSING}={HERE}"], capsys)
    assert code in (0, None), err
    assert json.loads(out) == [3, sys.version_info[1]]


def test_a_python312_function_runs_on_312_where_it_is_installed(tmp_path, monkeypatch, capsys):
    """Real discovery (PATH, pyenv, uv, asdf as this machine has them): skipped where no 3.12 is installed."""
    monkeypatch.delenv("STRATA_ALLOW_PYTHON_SUBSTITUTE", raising=False)
    monkeypatch.delenv("STRATA_PYTHON", raising=False)
    monkeypatch.setenv("STRATA_NO_DAEMON", "1")
    if interpreter.find((3, 12), tmp_path / "probe")[0] is None:
        pytest.skip("no Python 3.12 on this machine")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(HANDLER)
    write(tmp_path, "python3.12")
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(main, ["deploy"], capsys)
    assert code in (0, None), err
    code, out, err = run_cli(main, ["invoke", "Fn", "--log-type", "Tail"], capsys)
    assert json.loads(out) == [3, 12]
    assert "INIT_START Runtime Version: python3.12\tInterpreter: Python 3.12 (python3.12 from " in err


def test_strata_devs_rounds_take_the_same_check(app, capsys):
    """``strata dev`` deploys through the same preflight: a runtime it cannot run is an error of the round, and
    nothing is applied."""
    from strata.deploy.settings import resolve_deploy
    from strata.local.dev import DevLoop

    write(app, "nodejs16.x")
    errors: list[str] = []
    loop = DevLoop(resolve_deploy(template_file=str(app / "template.yaml")), out=lambda _line: None,
                   err=errors.append)
    done = loop.deploy()
    assert done.error is not None and not done.changed
    assert "Fn: Runtime nodejs16.x: the local target cannot run it" in errors[0]
    assert "still serving the last good versions" in errors[0]
    code, _, err = run_cli(main, ["describe"], capsys)
    assert code == 1 and "does not exist" in err
