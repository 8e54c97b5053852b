"""strata rollback on the local engine: moves and pins the alias, verifies, deploys respect the pin until --force."""
from __future__ import annotations

import base64

import pytest
from ops_helpers import app, payload, result

from strata.artifacts.store import ArtifactStore
from strata.local.engine.api import Engine
from strata.local.engine.history import AliasHistory, AliasMove
from strata.local.engine.render import plan_text
from strata.local.verify import verify_local
from strata.ops.rollback import RollbackRefused, previous_version, rollback_local


@pytest.fixture
def deployed(tmp_path):
    """Stack s deployed twice: version 1 (layer a), then version 2 (new code and layer b); alias live -> 2."""
    home = tmp_path / ".strata"
    engine = Engine(home)
    assert engine.deploy("s", result(app(home, "1", layer="a"))).status == "complete"
    assert engine.deploy("s", result(app(home, "2", layer="b"))).status == "complete"
    yield home, engine
    engine.close()


def _alias(engine, name):
    return engine.client.get_alias(FunctionName=name, Name="live")


def test_rollback_moves_pins_and_verifies(deployed):
    home, engine = deployed
    name = engine.state.resources("s")["Fn"].physical_id
    report = rollback_local(home, "s", "Fn", client=engine.client)
    assert (report.from_version, report.to_version, report.pinned) == ("2", "1", True)
    assert report.verify.ok, report.verify.findings
    assert any("pinned by rollback to version 1" in n for n in report.verify.notes)
    assert _alias(engine, name)["FunctionVersion"] == "1"
    assert payload(engine.client.invoke(FunctionName=name, Qualifier="live"))["answer"] == "1"
    assert "Rolled back alias live of Fn" in report.text() and report.to_dict()["Pinned"] is True
    # the stack state records it: the alias resource, a history row, a pin, an event
    assert engine.state.resources("s")["FnAliaslive"].properties["FunctionVersion"] == "1"
    history = AliasHistory(engine.state.db)
    assert [(m.from_version, m.to_version, m.cause) for m in history.moves(name, "live")][-1] == ("2", "1", "rollback")
    assert history.pins("s")["FnAliaslive"].version == "1"
    assert engine.state.events("s", 1)[0]["ResourceStatusReason"].startswith("strata rollback: version 2 -> 1")
    # verify on its own agrees, and --repair leaves the pin alone
    assert verify_local(home, "s", client=engine.client, repair=True).ok
    assert _alias(engine, name)["FunctionVersion"] == "1"


def test_next_deploy_respects_the_pin_and_force_moves_it_forward(deployed):
    home, engine = deployed
    name = engine.state.resources("s")["Fn"].physical_id
    rollback_local(home, "s", "Fn", client=engine.client)
    # the same template again: nothing to do, and the plan says why the alias stays
    same = engine.deploy("s", result(app(home, "2", layer="b")))
    assert same.status == "no-changes"
    reason = "pinned by rollback to version 1 (strata deploy --force moves it forward)"
    assert any(reason in w for w in same.plan.warnings)
    assert reason in plan_text(same.plan)
    # a new release publishes version 3 but the alias stays pinned
    third = engine.deploy("s", result(app(home, "3", layer="b")))
    assert third.status == "complete", third.error
    assert "FnAliaslive" not in {c.logical_id for c in third.plan.effective}
    assert _alias(engine, name)["FunctionVersion"] == "1"
    assert verify_local(home, "s", client=engine.client).ok
    # --force: the alias moves to the template's version, the pin goes
    forced = engine.deploy("s", result(app(home, "3", layer="b")), force=True)
    assert forced.status == "complete", forced.error
    change = next(c for c in forced.plan.effective if c.logical_id == "FnAliaslive")
    assert change.action.value == "update"
    assert any("--force moves it forward" in w for w in forced.plan.warnings)
    assert _alias(engine, name)["FunctionVersion"] == "3"
    assert AliasHistory(engine.state.db).pins("s") == {}
    assert verify_local(home, "s", client=engine.client).ok
    assert engine.deploy("s", result(app(home, "3", layer="b"))).status == "no-changes"


def test_to_version_and_refusals(deployed):
    home, engine = deployed
    name = engine.state.resources("s")["Fn"].physical_id
    with pytest.raises(RollbackRefused, match="already serves version 2"):
        rollback_local(home, "s", "Fn", to_version="2", client=engine.client)
    with pytest.raises(RollbackRefused, match="version 7 of .* does not exist"):
        rollback_local(home, "s", name, to_version="7", client=engine.client)
    # a version whose layer was deleted is refused
    engine.client.delete_layer_version(LayerName="shared", VersionNumber=1)
    with pytest.raises(RollbackRefused, match=r"uses layer .*:layer:shared:1, which was deleted"):
        rollback_local(home, "s", "Fn", client=engine.client)
    assert _alias(engine, name)["FunctionVersion"] == "2"


def test_refuses_a_version_whose_code_no_longer_verifies(deployed, monkeypatch):
    home, engine = deployed
    name = engine.state.resources("s")["Fn"].physical_id
    config = engine.client.get_function_configuration(FunctionName=name, Qualifier="1")
    ArtifactStore(home).path_for(base64.b64decode(config["CodeSha256"]).hex()).unlink()
    with pytest.raises(RollbackRefused, match="no longer in the artifact store"):
        rollback_local(home, "s", "Fn", client=engine.client)
    # a version that no longer holds what it was deployed with (the recorded code sha256) is refused by verify's
    # checker (the artifact check is switched off to reach it)
    monkeypatch.setattr(ArtifactStore, "has", lambda self, sha: True)
    engine.state.db.execute("UPDATE stack_alias_moves SET expected = json_set(expected, '$.code_sha256', ?) "
                            "WHERE function_name = ? AND to_version = '1'",
                            (base64.b64encode(b"x" * 32).decode(), name))
    with pytest.raises(RollbackRefused, match="version 1 has code sha256 .* the deployed code has sha256"):
        rollback_local(home, "s", "Fn", client=engine.client)
    assert _alias(engine, name)["FunctionVersion"] == "2"


def test_previous_version_walks_back_and_skips_rolled_back_versions():
    def move(frm, to, cause="deploy"):
        return AliasMove("s", "A", "f", "live", frm, to, {}, cause)

    moves = [move(None, "1"), move("1", "2"), move("2", "3")]
    assert previous_version(moves, "3", ["$LATEST", "1", "2", "3"]) == "2"
    moves.append(move("3", "2", "rollback"))
    assert previous_version(moves, "2", ["$LATEST", "1", "2", "3"]) == "1"
    assert previous_version(moves, "2", ["$LATEST", "2", "3"]) is None          # version 1 is gone
    assert previous_version([], "5", ["$LATEST", "2", "4", "5"]) == "4"         # no history: highest below
