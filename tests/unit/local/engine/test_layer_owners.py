"""Which stack created each layer version (``stack_layer_owners``): recorded with the resource, first stack wins,
a delete marks what it retained, and a home from before the table gets the owners its state shows."""
from __future__ import annotations

from strata.local.engine.layer_owners import LAYER, LayerOwner, LayerOwners
from strata.local.engine.model import DeployedResource
from strata.local.engine.state import StackState

ARN = "arn:aws:lambda:us-east-1:123456789012:layer:shared:{}"


def _layer(version: int, logical_id: str = "Shared") -> DeployedResource:
    return DeployedResource(logical_id, LAYER, ARN.format(version), {}, {}, ())


def _has_table(state: StackState) -> bool:
    return state.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'stack_layer_owners'").fetchone() is not None


def test_recorded_with_the_resource_first_stack_wins_and_delete_retains(tmp_path):
    state = StackState(tmp_path)
    with state.transaction():
        state.put_stack("a", "CREATE_COMPLETE")
        state.put_resource("a", _layer(1))
        state.put_resource("b", _layer(2))
        state.put_resource("b", _layer(1, "Adopted"))          # a's version stays a's
    owners = LayerOwners(state.db)
    assert owners.owners(["shared"]) == {("shared", 1): LayerOwner("a", False), ("shared", 2): LayerOwner("b", False)}
    assert owners.owners(["other"]) == {}
    with state.transaction():
        owners.retain_stack("b")
    found = owners.owners(["shared"])
    assert found[("shared", 2)] == LayerOwner("b", True)
    assert found[("shared", 2)].reason("b") == "kept by the delete of an earlier stack b"
    assert found[("shared", 1)].reason("b") == "created by stack a, not b"
    assert found[("shared", 1)].reason("a") is None
    state.close()


def test_a_home_without_the_table_reads_owners_from_events_and_resources_and_fills_it_on_first_write(tmp_path):
    state = StackState(tmp_path)
    with state.transaction():
        state.put_stack("a", "CREATE_COMPLETE")
        state.add_event("a", 1, "Shared", LAYER, ARN.format(1), "CREATE_COMPLETE")
        state.add_event("gone", 2, "Shared", LAYER, ARN.format(2), "CREATE_COMPLETE")
        state.add_event("a", 3, "Shared", LAYER, ARN.format(3), "CREATE_IN_PROGRESS")
        state.put_resource("a", _layer(4))
        state.db.execute("DROP TABLE stack_layer_owners")       # as written by a strata from before the table
    owners = LayerOwners(state.db)
    expected = {("shared", 1): LayerOwner("a", False), ("shared", 2): LayerOwner("gone", True),
                ("shared", 4): LayerOwner("a", False)}
    assert owners.owners(["shared"]) == expected
    assert not _has_table(state)                               # reading wrote nothing
    with state.transaction():
        state.put_resource("a", _layer(5))
    assert _has_table(state)
    assert LayerOwners(state.db).owners(["shared"]) == {**expected, ("shared", 5): LayerOwner("a", False)}
    state.close()
