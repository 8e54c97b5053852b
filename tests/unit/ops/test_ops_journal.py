"""strata rollback and strata prune go through the engine's journal: a crash at any journal point, then any command
that opens the stack, leaves the alias (as the service serves it), the stack's alias record, the rollback pin and the
alias history agreeing; an interrupted prune is completed the same way.

The crash is simulated in-process by raising a BaseException at the point (as in ``test_engine_recovery``);
``tests/functional/test_crash_ops.py`` does it with SIGKILL through the CLI."""
from __future__ import annotations

import shutil

import pytest
from ops_helpers import app, payload, result
from strata_testkit import SimulatedCrash, crash_at

from strata.local.engine.api import Engine
from strata.local.engine.history import AliasHistory
from strata.local.engine.state import StackState
from strata.local.verify import verify_local
from strata.ops.prune import prune_local
from strata.ops.rollback import RollbackRefused, rollback_local

POINTS = ("before-intent", "after-intent", "after-call", "after-done")


@pytest.fixture(scope="module")
def two_releases(tmp_path_factory):
    """A home with stack s deployed twice (versions 1 and 2; alias live -> 2)."""
    home = tmp_path_factory.mktemp("ops-journal") / ".strata"
    engine = Engine(home)
    try:
        assert engine.deploy("s", result(app(home, "1", layer="a"))).status == "complete"
        assert engine.deploy("s", result(app(home, "2", layer="b"))).status == "complete"
    finally:
        engine.close()
    return home


@pytest.fixture
def home(two_releases, tmp_path):
    copy = tmp_path / ".strata"
    shutil.copytree(two_releases, copy)
    return copy


def observe(home):
    """(alias as served, alias as the stack records it, pin, last history move, rollback moves, unfinished?)."""
    engine = Engine(home)
    try:
        name = engine.state.resources("s")["Fn"].physical_id
        served = payload(engine.client.invoke(FunctionName=name, Qualifier="live"))["version"]
        live = engine.client.get_alias(FunctionName=name, Name="live")
        recorded = str(engine.state.resources("s")["FnAliaslive"].properties["FunctionVersion"])
        history = AliasHistory(engine.state.db)
        pin = history.pins("s").get("FnAliaslive")
        moves = history.moves(name, "live")
        return {"served": served, "live": live["FunctionVersion"], "routing": live.get("RoutingConfig"),
                "recorded": recorded, "pin": pin.version if pin else None, "last_move": moves[-1].to_version,
                "rollbacks": [(m.from_version, m.to_version) for m in moves if m.cause == "rollback"],
                "unfinished": engine.state.has_unfinished_deploy("s")}
    finally:
        engine.close()


def assert_agree(seen: dict, version: str, pinned: bool) -> None:
    assert not seen["unfinished"]
    assert seen["served"] == seen["live"] == seen["recorded"] == seen["last_move"] == version, seen
    assert seen["pin"] == (version if pinned else None), seen
    assert seen["rollbacks"] == ([("2", "1")] if pinned else []), seen


def _verify(home):
    assert verify_local(home, "s").ok


def _deploy(home):
    engine = Engine(home)
    try:
        report = engine.deploy("s", result(app(home, "2", layer="b")))
        assert report.status == "no-changes", report.error
    finally:
        engine.close()


def _prune(home):
    prune_local(home, "s", keep=5)


FOLLOW_UPS = {"verify": _verify, "deploy": _deploy, "prune": _prune}


@pytest.mark.parametrize("follow_up", sorted(FOLLOW_UPS))
@pytest.mark.parametrize("point", POINTS)
def test_rollback_crash_then_any_command_agrees(home, point, follow_up):
    with pytest.raises(SimulatedCrash):
        rollback_local(home, "s", "Fn", crash=crash_at(point), verify=False)
    FOLLOW_UPS[follow_up](home)
    # killed before its intent: nothing moved, the rollback is abandoned; after it: the rollback is completed
    assert_agree(observe(home), "2" if point == "before-intent" else "1", pinned=point != "before-intent")


@pytest.mark.parametrize("point", POINTS)
def test_running_rollback_again_after_a_crash_rolls_back_once(home, point):
    with pytest.raises(SimulatedCrash):
        rollback_local(home, "s", "Fn", crash=crash_at(point), verify=False)
    if point == "after-done":          # it had finished: there is nothing before version 1 to go back to
        with pytest.raises(RollbackRefused, match="no earlier version"):
            rollback_local(home, "s", "Fn")
    else:
        report = rollback_local(home, "s", "Fn")
        assert (report.from_version, report.to_version) == ("2", "1")
        assert report.verify.ok, report.verify.findings
        if point != "before-intent":
            assert any("Completed the interrupted rollback of alias live" in n for n in report.notes), report.notes
    assert_agree(observe(home), "1", pinned=True)


def test_a_crashed_rollback_is_completed_before_a_different_one(home):
    with pytest.raises(SimulatedCrash):
        rollback_local(home, "s", "Fn", to_version="1", crash=crash_at("after-call"), verify=False)
    report = rollback_local(home, "s", "Fn", to_version="2")
    assert (report.from_version, report.to_version) == ("1", "2")
    assert any("Completed the interrupted rollback" in n for n in report.notes), report.notes
    seen = observe(home)
    assert seen["served"] == seen["live"] == seen["recorded"] == seen["last_move"] == seen["pin"] == "2", seen
    assert seen["rollbacks"] == [("2", "1"), ("1", "2")] and not seen["unfinished"]


def test_an_interrupted_rollback_is_recorded_as_completed(home):
    with pytest.raises(SimulatedCrash):
        rollback_local(home, "s", "Fn", crash=crash_at("after-call"), verify=False)
    report = verify_local(home, "s")
    assert report.ok, report.findings
    assert any("Completed the interrupted rollback of alias live" in n for n in report.notes), report.notes
    state = StackState(home)
    try:
        kinds = [(d["Kind"], d["Status"]) for d in state.deploys("s")]
        assert kinds[-1] == ("rollback", "COMPLETE")
        assert "completed after an interruption" in state.events("s", 1)[0]["ResourceStatusReason"]
    finally:
        state.close()


# ---- prune -----------------------------------------------------------------------------------------------------------

def _versions(home) -> list[str]:
    engine = Engine(home)
    try:
        name = engine.state.resources("s")["Fn"].physical_id
        return sorted(v["Version"] for v in engine.client.list_versions_by_function(FunctionName=name)["Versions"])
    finally:
        engine.close()


@pytest.fixture
def prunable(home):
    """Versions 1..3 of Fn, alias on 3: prune --keep 1 deletes 1 and 2 (and layer versions with layers)."""
    engine = Engine(home)
    try:
        assert engine.deploy("s", result(app(home, "3", layer="c"))).status == "complete"
    finally:
        engine.close()
    return home


@pytest.mark.parametrize("point,nth", [("before-intent", 1), ("after-intent", 1), ("after-call", 1),
                                       ("after-done", 1), ("after-call", 2)])
def test_prune_crash_then_any_command_completes_it(prunable, point, nth):
    home = prunable
    with pytest.raises(SimulatedCrash):
        prune_local(home, "s", keep=1, crash=crash_at(point, nth))
    verify_local(home, "s")                      # any command that opens the stack settles the prune
    state = StackState(home)
    try:
        assert not state.has_unfinished_deploy("s")
        assert state.deploys("s")[-1]["Kind"] == "prune" and state.deploys("s")[-1]["Status"] == "COMPLETE"
    finally:
        state.close()
    # each version whose intent was committed is gone; the rest stays until the next prune
    deleted = {"before-intent": 0, "after-intent": 1, "after-call": 1, "after-done": 1}[point] + (nth - 1)
    assert _versions(home) == ["$LATEST"] + [str(v) for v in range(1 + deleted, 4)]
    report = prune_local(home, "s", keep=1)
    assert not report.failures
    assert _versions(home) == ["$LATEST", "3"]
    assert verify_local(home, "s").ok
    engine = Engine(home)
    try:
        assert engine.deploy("s", result(app(home, "3", layer="c"))).status == "no-changes"
    finally:
        engine.close()
