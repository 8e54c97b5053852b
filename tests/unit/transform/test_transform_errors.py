"""Errors the transform stage gives a user: what, where and what to do, exit code 1 (never "Internal error")."""
from __future__ import annotations

import pytest

from strata.cli.main import main

RESERVED_BUCKET = """\
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Handler: app.handler
      Runtime: python3.12
      Role: arn:aws:iam::123456789012:role/r
      Code:
        S3Bucket: strata-placeholder
        S3Key: Fn/Code
"""


def test_code_in_the_reserved_placeholder_bucket_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STRATA_HOME", str(tmp_path / "home"))
    template = tmp_path / "template.yaml"
    template.write_text(RESERVED_BUCKET)
    with pytest.raises(SystemExit) as exit_info:
        main(["transform", "-t", str(template)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 1
    assert "Internal error" not in err
    assert "resource Fn: Code points at s3://strata-placeholder/Fn/Code, but strata built nothing for it" in err
    assert "hint: give Fn's Code a local path" in err
