"""SAM's VersionDescription through the real CLI on the local target: a description-only edit publishes nothing and
says when it takes effect, each version is verified against the description it was published with."""
from __future__ import annotations

from pathlib import Path

from deploy_helpers import service_snapshot, strata

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src
      Handler: app.handler
      Runtime: python3.12
      AutoPublishAlias: dev
      VersionDescription: "{description}"
"""


def _write(app: Path, description: str, answer: int) -> None:
    (app / "src").mkdir(parents=True, exist_ok=True)
    (app / "src" / "app.py").write_text(f"def handler(event, context):\n    return {{'v': {answer}}}\n")
    (app / "template.yaml").write_text(TEMPLATE.format(description=description))


def _versions(home: Path) -> dict[str, str]:
    (function,) = service_snapshot(home)["functions"].values()
    return {number: config.get("Description", "") for number, config in function["versions"].items()
            if number != "$LATEST"}


def _alias(home: Path) -> str:
    (function,) = service_snapshot(home)["functions"].values()
    return function["aliases"]["dev"][0]


def test_version_description_edit_publishes_nothing_and_verify_holds(tmp_path):
    app, home = tmp_path / "vd", tmp_path / "home"
    _write(app, "1", 1)
    first = strata(app, home, "deploy")
    assert "Verified: Fn serves what was deployed." in first.stdout
    assert _versions(home) == {"1": "1"} and _alias(home) == "1"
    assert "OK: every function serves" in strata(app, home, "verify").stdout
    repair = strata(app, home, "verify", "--repair")
    assert "OK: every function serves" in repair.stdout and "repaired" not in repair.stdout

    _write(app, "2", 1)
    plan = strata(app, home, "plan").stdout
    assert "No changes: stack vd is up to date." in plan and "publish a new version" not in plan
    assert "VersionDescription change takes effect at the next publish" in plan
    second = strata(app, home, "deploy")
    assert "VersionDescription change takes effect at the next publish" in second.stdout
    assert _versions(home) == {"1": "1"} and _alias(home) == "1"
    assert "OK: every function serves" in strata(app, home, "verify").stdout

    _write(app, "2", 2)
    third = strata(app, home, "deploy")
    assert "publish a new version of Fn because Code changed" in third.stdout
    assert "Verified: Fn serves what was deployed." in third.stdout
    assert _versions(home) == {"1": "1", "2": "2"} and _alias(home) == "2"
    assert "OK: every function serves" in strata(app, home, "verify").stdout
