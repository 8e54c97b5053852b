"""``strata build`` end to end through the CLI's error boundary."""
from __future__ import annotations

import json
import zipfile

import pytest
from strata_testkit import run_cli

from strata.cli.main import main

TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/hello
      Handler: app.handler
      Role: !GetAtt Role.Arn
  Again:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/hello/
      Handler: app.other
  Shared:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layer
  Remote:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: s3://bucket/key.zip
      Handler: x.y
  Role:
    Type: AWS::IAM::Role
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.delenv("STRATA_HOME", raising=False)
    (tmp_path / "src/hello").mkdir(parents=True)
    (tmp_path / "src/hello/app.py").write_text("def handler(event, context):\n    return 'hi'\n")
    (tmp_path / "layer").mkdir()
    (tmp_path / "layer/shared.py").write_text("X = 1\n")
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    return tmp_path


def test_build_prints_one_row_per_target_then_caches(project, capsys):
    code, out, err = run_cli(main, ["build", "-t", str(project / "template.yaml")], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["RESOURCE", "SOURCE", "SHA256", "SIZE", "STATUS"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert sorted(rows) == ["Again", "Hello", "Shared"]
    assert rows["Hello"][1] == "src/hello" and rows["Hello"][-1] == "built"
    assert rows["Hello"][2] == rows["Again"][2] and len(rows["Hello"][2]) == 12
    assert (project / ".strata" / "artifacts").is_dir()

    code, out, _ = run_cli(main, ["build", "-t", str(project / "template.yaml"), "--output", "json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert [r["logical_id"] for r in data] == ["Hello", "Again", "Shared"]
    assert all(r["status"] == "cached" for r in data)
    with zipfile.ZipFile(data[0]["path"]) as zf:
        assert zf.namelist() == ["app.py"]
    assert len(data[0]["sha256"]) == 64 and data[0]["code_sha256"].endswith("=")


def test_fast_mode_and_strata_home(project, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("STRATA_HOME", str(tmp_path / "elsewhere"))
    code, out, _ = run_cli(main, ["build", "-t", str(project / "template.yaml"), "--fast", "--output", "json"], capsys)
    assert code == 0
    assert all(r["path"].startswith(str(tmp_path / "elsewhere")) for r in json.loads(out))


def test_missing_folder_exits_1_naming_resource_and_property(project, capsys):
    (project / "src/hello/app.py").unlink()
    (project / "src/hello").rmdir()
    code, out, err = run_cli(main, ["build", "-t", str(project / "template.yaml")], capsys)
    assert code == 1 and out == ""
    assert err.startswith("Error: Hello: CodeUri 'src/hello' does not exist")
    assert "Traceback" not in err


def test_escaping_symlink_exits_1(project, capsys):
    (project / "src/hello/leak").symlink_to(project / "template.yaml")
    code, _, err = run_cli(main, ["build", "-t", str(project / "template.yaml")], capsys)
    assert code == 1 and "points outside the source folder" in err and "leak" in err


def test_template_without_code(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("STRATA_HOME", raising=False)
    (tmp_path / "t.yaml").write_text("Resources:\n  Role:\n    Type: AWS::IAM::Role\n")
    code, out, _ = run_cli(main, ["build", "-t", str(tmp_path / "t.yaml")], capsys)
    assert code == 0 and out.startswith("Nothing to build")
