"""``strata validate`` as a user runs it: messages with file:line:col, exit codes 0/1/2, JSON for scripts."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from strata_testkit import run_cli

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
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
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
                    .split("  Table:")[0] + "  Table: {}\n")
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


# --- validate refuses what plan refuses, and bounded input (issue 19) ---------------------------------------------

FN = """\
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Runtime: python3.12
      CodeUri: src/
"""


def validate_and_plan(capsys, tmp_path, text: str) -> tuple[tuple[int, str], tuple[int, str]]:
    """(exit code, stderr) of ``strata validate`` and of ``strata plan`` on the same template."""
    (tmp_path / "src").mkdir(exist_ok=True)
    path = tmp_path / "template.yaml"
    path.write_text(textwrap.dedent(text))
    code, _, err = run_cli(main, ["validate", "-t", str(path)], capsys)
    plan_code, _, plan_err = run_cli(main, ["plan", "-t", str(path), "--stack-name", "s"], capsys)
    return (code, err), (plan_code, plan_err)


@pytest.mark.parametrize("text, message, plan_message", [
    (FN + "      Description: !GetAtt T2.TopicName\n  T1:\n    Type: AWS::SNS::Topic\n    Properties:\n"
          "      TopicName: !GetAtt T2.TopicName\n  T2:\n    Type: AWS::SNS::Topic\n    Properties:\n"
          "      TopicName: !GetAtt T1.TopicName\n",
     "template.yaml:9:3 [T1]: circular dependency: T1 -> T2 -> T1", "circular dependency: T1 -> T2 -> T1"),
    (FN + "  T1:\n    Type: AWS::SNS::Topic\n    Condition: Nope\n",
     "template.yaml:10:5 [T1]: resource T1: unknown condition 'Nope'", "unknown condition 'Nope'"),
    (FN + "      Description: !Select [-1, [a, b]]\n",
     "template.yaml:8:29 [Fn]: Fn::Select index -1 is out of range for a list of 2",
     "Fn::Select index -1 is out of range for a list of 2"),
    ("Parameters:\n  Kept:\n    Type: String\n    Default: k\n" + FN + "      Description: !Sub '${Gone}-x'\n",
     "template.yaml:12:20 [Fn]: Fn::Sub variable ${Gone} is not a parameter, resource or variable",
     "Fn::Sub variable ${Gone} is not a parameter, resource or variable"),
    (FN.replace("CodeUri: src/", "CodeUri: /dev/zero"),
     "template.yaml:7:7 [Fn]: Fn: CodeUri '/dev/zero' is neither a folder nor a regular file",
     "/dev/zero"),
    (FN + "  T1:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !Select [-1, [a, b]]\n",
     "template.yaml:11:27 [T1]: Fn::Select index -1 is out of range for a list of 2",
     "Fn::Select index -1 is out of range for a list of 2"),
])
def test_validate_refuses_what_plan_refuses(capsys, tmp_path, monkeypatch, text, message, plan_message) -> None:
    monkeypatch.setenv("STRATA_HOME", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)
    (code, err), (plan_code, plan_err) = validate_and_plan(capsys, tmp_path, text)
    assert plan_code == 1 and plan_message in plan_err
    assert code == 1, err
    assert f"{tmp_path}/{message}" in err


def bounded_validate(tmp_path, text: str, memory: int = 768 * 1024 * 1024) -> subprocess.CompletedProcess:
    """``strata validate`` in a child process whose address space is limited to ``memory`` bytes."""
    path = tmp_path / "template.yaml"
    path.write_text(text)
    probe = ("import resource, sys\n"
             "resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[1]), int(sys.argv[1])))\n"
             "from strata.cli.main import main\n"
             "main(['validate', '-t', sys.argv[2]])\n")
    return subprocess.run([sys.executable, "-c", probe, str(memory), str(path)], capture_output=True, text=True,
                          timeout=120)


def test_an_alias_bomb_is_refused_by_validate_in_bounded_memory(tmp_path) -> None:
    lines = ["Transform: AWS::Serverless-2016-10-31", "Resources:", "  Fn:", "    Type: AWS::Serverless::Function",
             "    Properties:", "      Handler: a.b", "      Runtime: python3.12", "      InlineCode: x",
             "      Environment:", "        Variables:",
             '          A: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefg", "bcdefgh"):
        lines.append(f"          {name.upper()}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    done = bounded_validate(tmp_path, "\n".join(lines) + "\n")
    assert done.returncode == 1
    assert done.stderr.startswith(f"Error: {tmp_path}/template.yaml:16:14: YAML aliases expand this list to "), \
        done.stderr[-2000:]


def test_a_one_mebibyte_api_method_is_refused_by_validate(tmp_path) -> None:
    template = ("Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
                "    Properties:\n      Handler: a.b\n      Runtime: python3.12\n      InlineCode: x\n"
                "      Events:\n        E:\n          Type: Api\n          Properties:\n            Path: /x\n"
                "            Method: %s\n")
    done = bounded_validate(tmp_path, template % ("G" * (1 << 20)))
    assert done.returncode == 1 and "more than the 1,048,576 CloudFormation accepts" in done.stderr, done.stderr
    done = bounded_validate(tmp_path, template % ("G" * 500_000))  # under the body quota: the Method itself
    assert done.returncode == 1 and "[Fn]: event E: Method 'GGGG" in done.stderr, done.stderr[-2000:]


def test_a_catastrophic_allowed_pattern_is_refused_by_validate(tmp_path) -> None:
    done = bounded_validate(tmp_path, "Parameters:\n  P:\n    Type: String\n    Default: " + "a" * 64 + "!\n"
                            "    AllowedPattern: (a|aa)+$\nResources:\n  T:\n    Type: AWS::SNS::Topic\n")
    assert done.returncode == 1
    assert f"{tmp_path}/template.yaml:5:5: parameter P: matching its value against the AllowedPattern" in done.stderr


def test_references_to_renamed_versions_and_aliases_are_valid(capsys, tmp_path, monkeypatch) -> None:
    """The post-pass renames each Version from its fingerprint: validate evaluates against the renamed stack, as the
    engine's resolver does, so outputs that name the version or the alias stay valid."""
    monkeypatch.setenv("STRATA_HOME", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)
    text = ("Transform: AWS::Serverless-2016-10-31\n" + FN + "      AutoPublishAlias: live\n"
            "Outputs:\n  V:\n    Value: !Ref Fn.Version\n  A:\n    Value: !Ref FnAliaslive\n")
    (code, err), (plan_code, _) = validate_and_plan(capsys, tmp_path, text)
    assert (code, err, plan_code) == (0, "", 0)


@pytest.mark.parametrize("present, expected", [
    (["template.yml"], "template.yml"),
    (["template.json", "template.yml"], "template.yml"),
    (["template.json"], "template.json"),
    (["template.yaml", "template.yml"], "template.yaml"),
])
def test_without_t_the_template_is_found_as_sam_finds_it(tmp_path, monkeypatch, capsys, present, expected):
    (tmp_path / "src").mkdir()
    for name in present:
        (tmp_path / name).write_text(VALID if name != "template.json" else json.dumps(
            {"Resources": {"Table": {"Type": "AWS::DynamoDB::Table", "Properties": {  # a table cfn-lint accepts
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}}}}))
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys)
    assert code == 0 and out.startswith(f"{expected} is valid"), out
    code, _, err = run(capsys, "-t", "other.yaml")     # an explicit -t is taken as given
    assert code != 0 and "other.yaml" in err
