"""``strata validate`` with cfn-lint, as a user runs it: every cfn-lint finding at the template's file:line:column,
errors exit 1, warnings are shown and exit 0, ``--no-lint`` skips it; ``plan`` and ``deploy`` never import it."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from strata_testkit import run_cli

from strata.cli.main import main

SRC = Path(__file__).resolve().parents[2] / "src"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "layered-app"

# issue 20's three cases: `sam validate --lint` catches each, strata validate said "valid" before cfn-lint ran
LINT_CASES = (Path(__file__).resolve().parents[1] / "data" / "lint-cases" / "template.yaml").read_text()


@pytest.fixture
def template(tmp_path):
    def write(text: str, name: str = "template.yaml") -> str:
        (tmp_path / "src").mkdir(exist_ok=True)
        (tmp_path / "src" / "app.py").write_text("def handler(event, context):\n    return 1\n")
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return str(path)
    return write


def test_each_lint_case_is_reported_at_its_file_line_column(capsys, template) -> None:
    path = template(LINT_CASES)
    code, out, err = run_cli(main, ["validate", "-t", path], capsys)
    assert code == 1 and out == ""
    assert err.splitlines() == [
        "Error: 3 problems in template:",
        f"  {path}:6:7 [Queue]: E3002 Additional properties are not allowed ('VisibilityTimeoutt' was unexpected. "
        "Did you mean 'VisibilityTimeout'?) (cfn-lint)",
        f"  {path}:7:7 [Queue]: E3034 10 is less than the minimum of 60 (cfn-lint)",
        f"  {path}:14:7 [Fn]: E3034 100000 is greater than the maximum of 32768 (cfn-lint)",
    ]


def test_no_lint_skips_cfn_lint(capsys, template) -> None:
    path = template(LINT_CASES)
    code, out, err = run_cli(main, ["validate", "-t", path, "--no-lint"], capsys)
    assert (code, err) == (0, "")
    assert out == f"{path} is valid (2 resources, 0 parameters)\n"


def test_lint_in_a_sam_template_without_transform(capsys, template) -> None:
    # strata reads any template with AWS::Serverless:: resources as SAM; cfn-lint is told so (no E3038)
    path = template(LINT_CASES.replace("Transform: AWS::Serverless-2016-10-31\n", ""))
    code, _, err = run_cli(main, ["validate", "-t", path], capsys)
    assert code == 1
    assert "E3038" not in err
    assert f"{path}:13:7 [Fn]: E3034 100000 is greater than the maximum of 32768 (cfn-lint)" in err


def test_warnings_are_shown_and_do_not_fail(capsys, template) -> None:
    path = template("""\
        Parameters:
          Unused:
            Type: String
            Default: x
        Resources:
          Queue:
            Type: AWS::SQS::Queue
            Properties:
              QueueName: !Sub plain-name
        """)
    code, out, err = run_cli(main, ["validate", "-t", path], capsys)
    assert code == 0
    assert out == f"{path} is valid (1 resource, 1 parameter)\n"
    assert err.splitlines() == [f"warning: {path}:2:3: W2001 Parameter Unused not used. (cfn-lint)",
                                f"warning: {path}:9:18 [Queue]: W1020 'Fn::Sub' isn't needed because there are no "
                                "variables (cfn-lint)"]
    code, out, _ = run_cli(main, ["validate", "-t", path, "--output", "json"], capsys)
    found = json.loads(out)
    assert code == 0 and found["valid"] is True and found["problems"] == []
    assert [(w["line"], w["column"], w["logical_id"], w["message"][:5]) for w in found["warnings"]] == [
        (2, 3, None, "W2001"), (9, 18, "Queue", "W1020")]


def test_lint_errors_in_json(capsys, template) -> None:
    path = template(LINT_CASES)
    code, out, _ = run_cli(main, ["validate", "-t", path, "--output", "json"], capsys)
    found = json.loads(out)
    assert code == 1 and found["valid"] is False
    assert [(p["file"], p["line"], p["column"], p["message"].split()[0]) for p in found["problems"]] == [
        (path, 6, 7, "E3002"), (path, 7, 7, "E3034"), (path, 14, 7, "E3034")]


def test_the_example_app_passes_lint(capsys) -> None:
    code, out, err = run_cli(main, ["validate", "-t", str(EXAMPLE / "template.yaml")], capsys)
    assert (code, err) == (0, "") and "is valid" in out


def test_validate_as_a_process_lints_in_a_child(template) -> None:
    # a cold process hands cfn-lint to a child interpreter, so its ~1 s of imports and rules overlaps the checks
    path = template(LINT_CASES)
    env = dict(os.environ, PYTHONPATH=str(SRC), STRATA_NO_DAEMON="1")
    launch = "from strata.cli.launch import main; main()"
    done = subprocess.run([sys.executable, "-c", launch, "validate", "-t", path], env=env, capture_output=True,
                          text=True, cwd=Path(path).parent)
    assert done.returncode == 1
    assert f"{path}:6:7 [Queue]: E3002" in done.stderr and f"{path}:14:7 [Fn]: E3034" in done.stderr


PROBE = """\
import sys
from strata.cli.main import main
for argv in (["plan", "-t", sys.argv[1]], ["deploy", "-t", sys.argv[1]], ["plan", "-t", sys.argv[1]]):
    try:
        main(argv)
    except SystemExit as exc:
        assert not exc.code, (argv, exc.code)
print(sorted(name for name in sys.modules if name.split(".")[0] == "cfnlint"))
"""


def test_plan_and_deploy_never_import_cfn_lint(tmp_path) -> None:
    app = tmp_path / "app"
    shutil.copytree(EXAMPLE, app)
    env = dict(os.environ, PYTHONPATH=str(SRC), STRATA_NO_DAEMON="1")
    done = subprocess.run([sys.executable, "-c", PROBE, str(app / "template.yaml")], env=env, capture_output=True,
                          text=True, cwd=app)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_through_the_daemon_lint_finds_the_same(template, tmp_path) -> None:
    # the daemon loads cfn-lint and its rules once; the validate it forks lints in process and says the same
    path = template(LINT_CASES)
    strata = str(Path(sys.executable).parent / "strata")
    runtime_dir = Path("/tmp") / f"strata-lint-{os.getpid()}-{tmp_path.name[-12:]}"   # AF_UNIX paths stay short
    runtime_dir.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k not in ("STRATA_NO_DAEMON", "PYTHONDONTWRITEBYTECODE")}
    env.update(XDG_RUNTIME_DIR=str(runtime_dir), STRATA_HOME=str(tmp_path / "home"),
               PYTHONPATH=os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH")) if p))
    try:
        started = subprocess.run([strata, "daemon", "start"], env=env, capture_output=True, text=True, timeout=120)
        assert started.returncode == 0, started.stderr
        local = subprocess.run([strata, "validate", "-t", path], env={**env, "STRATA_NO_DAEMON": "1"},
                               capture_output=True, text=True, timeout=120)
        warm = subprocess.run([strata, "validate", "-t", path], env=env, capture_output=True, text=True, timeout=120)
        assert (warm.returncode, warm.stdout, warm.stderr) == (local.returncode, local.stdout, local.stderr)
        assert warm.returncode == 1 and f"{path}:6:7 [Queue]: E3002" in warm.stderr
    finally:
        subprocess.run([strata, "daemon", "stop"], env=env, capture_output=True, timeout=60)
        shutil.rmtree(runtime_dir, ignore_errors=True)
