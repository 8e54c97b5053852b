"""Output that reads at any size, through the real CLI: a stack of more resources than a plan lists (``PLAN_LIMIT``)
deploys and deletes with count lines instead of a line per resource step; what a delete keeps is counted past
``LIST_LIMIT`` names; ``--output json`` and ``strata events`` keep every name and step."""
from __future__ import annotations

import json
from pathlib import Path

from deploy_helpers import strata

from strata.model.listing import PLAN_LIMIT

ROLES = PLAN_LIMIT + 10


def _app(folder: Path, roles: int) -> Path:
    folder.mkdir(parents=True)
    body = "".join(f"  Role{i}:\n    Type: AWS::IAM::Role\n    DeletionPolicy: Retain\n    Properties:\n"
                   f"      AssumeRolePolicyDocument: {{}}\n" for i in range(roles))
    (folder / "template.yaml").write_text("Resources:\n" + body)
    return folder


def test_a_big_stack_deploys_and_deletes_in_counts(tmp_path: Path) -> None:
    app, home = _app(tmp_path / "roles", ROLES), tmp_path / "home"
    out = strata(app, home, "deploy").stdout
    steps = [line for line in out.splitlines() if "resource steps done" in line]
    assert len(steps) == 10 and steps[-1].endswith(f"{ROLES} resource steps done: {ROLES} CREATE_COMPLETE")
    assert "Role5 " not in out and "CREATE_COMPLETE          roles" in out
    events = json.loads(strata(app, home, "events", "--output", "json").stdout)
    assert sum(1 for e in (events.get("Events") if isinstance(events, dict) else events)
               if e["ResourceStatus"] == "CREATE_COMPLETE") == ROLES + 1
    gone = strata(app, home, "delete").stdout
    assert f"{ROLES} resource steps done: {ROLES} DELETE_SKIPPED" in gone
    assert gone.strip().endswith(f"Stack roles deleted (kept: {ROLES} resources).")


def test_a_small_stack_lists_every_step_and_name(tmp_path: Path) -> None:
    app, home = _app(tmp_path / "few", 2), tmp_path / "home"
    out = strata(app, home, "deploy").stdout
    assert "resource steps done" not in out and "Role1" in out
    assert strata(app, home, "delete").stdout.strip().endswith("Stack few deleted (kept: Role0, Role1).")
