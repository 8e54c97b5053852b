"""``strata prune --include-layers`` touches only what the named stack created: two stacks of the layered example app
share one state home and one layer name (``shared-dev``); pruning one never deletes the other's layer versions, nor
the one the other's delete retained."""
from __future__ import annotations

import json
import sqlite3

from deploy_helpers import change_layer, copy_app, service_snapshot, strata


def _prune(app, home, *extra: str) -> dict:
    return json.loads(strata(app, home, "prune", "--keep", "1", "--include-layers", "--output", "json",
                             *extra).stdout)


def test_prune_keeps_the_layer_versions_another_stack_created_or_its_delete_retained(tmp_path):
    home = tmp_path / "home"
    demo, other = copy_app(tmp_path / "demo"), copy_app(tmp_path / "other")
    strata(demo, home, "deploy")                         # shared-dev:1 (demo)
    strata(other, home, "deploy")                        # shared-dev:2 (other)
    change_layer(other, 2)
    strata(other, home, "deploy")                        # shared-dev:3 (other); 2 retained on replacement
    change_layer(demo, 3)
    strata(demo, home, "deploy")                         # shared-dev:4 (demo); 1 retained on replacement
    assert service_snapshot(home)["layers"]["shared-dev"] == [1, 2, 3, 4]

    dry = _prune(demo, home, "--dry-run")
    assert [i["Version"] for i in dry["Deleted"] if i["Kind"] == "layer"] == ["1"]
    kept = {i["Version"]: i["Reason"] for i in dry["Kept"] if i["Kind"] == "layer"}
    assert kept["2"] == kept["3"] == "created by stack other, not demo"

    strata(other, home, "delete")                        # retains shared-dev:3 (RetentionPolicy: Retain)
    pruned = _prune(demo, home)
    assert [(i["Kind"], i["Version"]) for i in pruned["Deleted"] if i["Kind"] == "layer"] == [("layer", "1")]
    assert service_snapshot(home)["layers"]["shared-dev"] == [2, 3, 4]

    # a new stack under the deleted one's name does not inherit what that delete retained
    strata(other, home, "deploy")                        # shared-dev:5 (the new "other")
    change_layer(other, 4)
    strata(other, home, "deploy")                        # shared-dev:6; 5 retained on replacement
    pruned = _prune(other, home)
    assert sorted(i["Version"] for i in pruned["Deleted"] if i["Kind"] == "layer") == ["5"]
    kept = {i["Version"]: i["Reason"] for i in pruned["Kept"] if i["Kind"] == "layer"}
    assert kept["2"] == kept["3"] == "kept by the delete of an earlier stack other"
    assert kept["4"] == "created by stack demo, not other"
    assert service_snapshot(home)["layers"]["shared-dev"] == [2, 3, 4, 6]
    strata(demo, home, "verify")
    strata(other, home, "verify")


def test_a_home_from_before_the_owner_record_learns_the_owners_from_its_state(tmp_path):
    """Migration: the owner table dropped (as in a home written by an earlier strata) is rebuilt from the state's
    events and resources; prune still keeps the other stack's versions."""
    home = tmp_path / "home"
    demo, other = copy_app(tmp_path / "demo"), copy_app(tmp_path / "other")
    strata(demo, home, "deploy")                         # shared-dev:1 (demo)
    strata(other, home, "deploy")                        # shared-dev:2 (other)
    change_layer(demo, 2)
    strata(demo, home, "deploy")                         # shared-dev:3 (demo)
    db = sqlite3.connect(home / "state.db")
    db.execute("DROP TABLE stack_layer_owners")
    db.commit()
    db.close()

    dry = _prune(demo, home, "--dry-run")                # reads only: derives the owners without writing
    assert [i["Version"] for i in dry["Deleted"] if i["Kind"] == "layer"] == ["1"]
    change_layer(other, 3)
    strata(other, home, "deploy")                        # the first write creates and fills the table
    pruned = _prune(demo, home)
    assert [i["Version"] for i in pruned["Deleted"] if i["Kind"] == "layer"] == ["1"]
    assert service_snapshot(home)["layers"]["shared-dev"] == [2, 3, 4]
