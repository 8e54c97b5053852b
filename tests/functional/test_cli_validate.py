"""``strata validate`` as a user runs it: messages with file:line:col, exit codes 0/1/2, JSON for scripts."""
from __future__ import annotations

import json
import textwrap

import pytest

from strata.cli.main import main

VALID = """\
Parameters:
  Stage:
    Type: String
    Default: dev
    AllowedValues: [dev, prod]
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Runtime: python3.12
      CodeUri: src/
      MemorySize: !If [IsProd, 1024, 128]
  Table:
    Type: AWS::DynamoDB::Table
"""


def run(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(["validate", *argv])
    out, err = capsys.readouterr()
    return info.value.code, out, err


@pytest.fixture
def template(tmp_path):
    def write(text: str, name: str = "template.yaml") -> str:
        (tmp_path / "src").mkdir(exist_ok=True)  # the CodeUri that VALID names: validate checks code folders exist
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return str(path)
    return write


def test_valid_template(capsys, template) -> None:
    path = template(VALID)
    code, out, err = run(capsys, "-t", path)
    assert (code, err) == (0, "")
    assert out == f"{path} is valid (2 resources, 1 parameter)\n"


def test_every_problem_with_line_and_column(capsys, template) -> None:
    path = template(VALID.replace("Handler: app.handler", "Handler: !Sbu x\n      Runtime: python3.11")
                    .replace("  Table:\n    Type: AWS::DynamoDB::Table\n", "  Table: {}\n"))
    code, out, err = run(capsys, "-t", path)
    assert code == 1 and out == ""
    assert err.splitlines() == [
        "Error: 3 problems in template:",
        f"  {path}:12:16 [Fn]: unknown tag !Sbu; did you mean !Sub?",
        f"  {path}:14:7 [Fn]: duplicate key 'Runtime' (first defined at line 13)",
        f"  {path}:17:3 [Table]: resource Table has no Type",
    ]


def test_parameter_problems_name_the_parameter(capsys, template) -> None:
    path = template(VALID)
    code, _, err = run(capsys, "-t", path, "--parameter-overrides", "Stage=qa Unknown=1")
    assert code == 1
    assert (f"{path}:5:5: parameter Stage: value 'qa' (from --parameter-overrides) is not one of the "
            "AllowedValues") in err
    assert "sets 'Unknown', which the template does not declare (its parameters: Stage)" in err


def test_overrides_and_region_are_used(capsys, template) -> None:
    # (a !Sub string is not a CodeUri SAM accepts; the mapping form takes intrinsics)
    path = template(VALID.replace("CodeUri: src/", "CodeUri: {Bucket: !Sub 'b-${AWS::Region}', Key: !Ref Stage}"))
    code, out, _ = run(capsys, "-t", path, "--parameter-overrides", "Stage=prod", "--region", "cn-north-1")
    assert code == 0 and "is valid" in out


def test_json_output(capsys, template) -> None:
    path = template("Resources:\n  A: {Properties: {}}\n")
    code, out, err = run(capsys, "-t", path, "--output", "json")
    assert code == 1 and err == ""
    assert json.loads(out) == {"valid": False, "problems": [
        {"file": path, "line": 2, "column": 3, "logical_id": "A", "message": "resource A has no Type"}]}
    code, out, _ = run(capsys, "-t", template(VALID, "ok.yaml"), "--output", "json")
    assert code == 0 and json.loads(out) == {"valid": True, "problems": []}


def test_yaml_syntax_error(capsys, template) -> None:
    path = template("Resources:\n  Fn: [a, b\n  X: 1\n")
    code, _, err = run(capsys, "-t", path)
    assert code == 1 and err.startswith(f"Error: {path}:3:4: YAML syntax error:")
    assert "Traceback" not in err


def test_missing_file_is_an_error_not_a_traceback(capsys, tmp_path) -> None:
    code, _, err = run(capsys, "-t", str(tmp_path / "nope.yaml"))
    assert code == 1 and "cannot read template" in err


@pytest.mark.parametrize("argv", [["--output", "xml"], ["--no-such-option"], ["--parameter-overrides", "junk"]])
def test_usage_errors_exit_2(capsys, template, argv) -> None:
    code, _, err = run(capsys, "-t", template(VALID), *argv)
    assert code == 2 and err


def test_missing_code_folder_is_a_located_problem(capsys, tmp_path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(textwrap.dedent(VALID))
    code, _, err = run(capsys, "-t", str(path))
    assert code == 1
    assert "Fn: CodeUri 'src/' does not exist" in err
