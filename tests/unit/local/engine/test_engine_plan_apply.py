"""apply executes the plan it is given: what ran is what was planned, and a plan made over another state of the
stack (or for another request) is refused before anything changes."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from engine_helpers import ROLE_ARN, handler_code, layer_code, result, service_snapshot, stack_snapshot

from strata.local.engine.api import StalePlan
from strata.local.engine.apply import PlanMismatch
from strata.local.engine.model import Action


def app(home: Path, *, layer: str = "a", version_id: str = "FnVersionA", plain: bool = True,
        timeout: int = 3) -> dict:
    resources = {
        "Shared": {"Type": "AWS::Lambda::LayerVersion", "UpdateReplacePolicy": "Retain",
                   "Properties": {"LayerName": "shared", "Content": layer_code(home, layer)}},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
            "Handler": "app.handler", "Runtime": "python3.12", "Role": ROLE_ARN, "Timeout": timeout,
            "Code": handler_code(home, "1"), "Layers": [{"Ref": "Shared"}]}},
        version_id: {"Type": "AWS::Lambda::Version", "DeletionPolicy": "Retain",
                     "Properties": {"FunctionName": {"Ref": "Fn"}}},
        "Live": {"Type": "AWS::Lambda::Alias", "Properties": {
            "FunctionName": {"Ref": "Fn"}, "Name": "live", "FunctionVersion": {"Fn::GetAtt": [version_id, "Version"]}}},
    }
    if plain:
        resources["Plain"] = {"Type": "AWS::Lambda::Function", "Properties": {
            "Handler": "app.handler", "Runtime": "python3.12", "Role": ROLE_ARN, "Code": handler_code(home, "p")}}
    return {"Resources": resources}


def steps(changes) -> list[tuple[str, Action]]:
    return [(c.logical_id, c.action) for c in changes]


def observe(engine) -> tuple:
    return (stack_snapshot(engine, "s"), service_snapshot(engine.client), engine.state.deploys("s"),
            engine.state.revision("s"))


def test_the_changes_executed_are_the_planned_ones(engine, home):
    first = engine.plan("s", result(app(home)))
    report = engine.deploy("s", result(app(home)), plan=first)
    assert report.status == "complete", report.error
    assert report.plan is first
    assert steps(report.executed) == steps(first.effective)
    assert {a for _, a in steps(report.executed)} == {Action.CREATE}
    # a layer change (replace, update, new version, alias move), a removal and a retained version
    second = engine.plan("s", result(app(home, layer="b", version_id="FnVersionB", plain=False)))
    assert steps(second.effective) == [("Shared", Action.REPLACE), ("Fn", Action.UPDATE),
                                       ("FnVersionB", Action.CREATE), ("Live", Action.UPDATE),
                                       ("Plain", Action.DELETE), ("FnVersionA", Action.RETAIN)]
    report = engine.deploy("s", result(app(home, layer="b", version_id="FnVersionB", plain=False)), plan=second)
    assert report.status == "complete", report.error
    assert sorted(steps(report.executed)) == sorted(steps(second.effective))
    assert steps(report.executed)[:4] == steps(second.effective)[:4]     # creates/updates in the planned order
    # without a plan given, deploy plans under the lock and executes that plan
    third = engine.deploy("s", result(app(home, layer="b", version_id="FnVersionB", plain=False, timeout=9)))
    assert steps(third.executed) == steps(third.plan.effective) == [("Fn", Action.UPDATE)]


def test_a_plan_is_a_value_that_names_what_it_was_made_from(engine, home):
    engine.deploy("s", result(app(home)))
    one, two = engine.plan("s", result(app(home, timeout=5))), engine.plan("s", result(app(home, timeout=5)))
    assert one == two and one.state_revision == engine.state.revision("s")
    assert one.to_dict()["StateRevision"] == one.state_revision and one.request_digest
    assert engine.plan("s", result(app(home, timeout=6))).request_digest != one.request_digest


def _stale(engine, home, plan, result_, match):
    before = observe(engine)
    calls = len(engine.client.calls)
    with pytest.raises(StalePlan, match=match) as caught:
        engine.deploy("s", result_, plan=plan)
    assert caught.value.hint == "plan again"
    assert len(engine.client.calls) == calls and observe(engine) == before      # nothing called, nothing changed


def test_a_deploy_between_plan_and_apply_is_detected(engine, home):
    engine.deploy("s", result(app(home)))
    plan = engine.plan("s", result(app(home, timeout=5)))
    assert engine.deploy("s", result(app(home, timeout=7))).status == "complete"
    _stale(engine, home, plan, result(app(home, timeout=5)), "the stack s changed since this plan was made")


def test_a_rollback_between_plan_and_apply_is_detected(engine, home):
    from strata.ops.rollback import rollback_local

    engine.deploy("s", result(app(home)))
    engine.deploy("s", result(app(home, layer="b", version_id="FnVersionB")))
    plan = engine.plan("s", result(app(home, layer="b", version_id="FnVersionB", timeout=5)))
    rollback_local(home, "s", "Fn", client=engine.client, verify=False)
    _stale(engine, home, plan, result(app(home, layer="b", version_id="FnVersionB", timeout=5)), "changed since")


def test_a_change_recorded_in_state_between_plan_and_apply_is_detected(engine, home):
    engine.deploy("s", result(app(home)))
    plan = engine.plan("s", result(app(home, timeout=5)))
    fn = engine.state.resources("s")["Fn"]
    with engine.state.transaction():
        engine.state.put_resource("s", replace(fn, properties=fn.properties | {"MemorySize": 256}))
    _stale(engine, home, plan, result(app(home, timeout=5)), "changed since")


def test_a_plan_for_another_template_is_refused(engine, home):
    engine.deploy("s", result(app(home)))
    plan = engine.plan("s", result(app(home, timeout=5)))
    _stale(engine, home, plan, result(app(home, timeout=6)), "made for another template")


def test_a_plan_that_does_not_cover_the_stack_is_refused_before_any_change(engine, home):
    engine.deploy("s", result(app(home)))
    plan = engine.plan("s", result(app(home, timeout=5)))
    short = replace(plan, changes=tuple(c for c in plan.changes if c.logical_id != "Plain"))
    before = observe(engine)
    with pytest.raises(PlanMismatch, match="does not match the stack"):
        engine.deploy("s", result(app(home, timeout=5)), plan=short)
    assert observe(engine) == before


def test_a_step_that_no_longer_matches_the_plan_fails_and_rolls_back(engine, home):
    engine.deploy("s", result(app(home)))
    plan = engine.plan("s", result(app(home, timeout=5)))
    # the plan says Fn stays as it is (as if planned over another state): applying finds an update instead
    doctored = replace(plan, changes=tuple(replace(c, action=Action.NOOP, reasons=()) if c.logical_id == "Fn" else c
                                           for c in plan.changes))
    assert not doctored.effective
    report = engine.deploy("s", result(app(home, timeout=5)), plan=replace(doctored, outputs_changed=True))
    assert report.status == "rolled-back"
    assert "the plan says no-op, but the stack now needs update" in report.error.reason
    assert engine.state.resources("s")["Fn"].properties["Timeout"] == 3
