"""A template edit costs what it reaches: a resource whose template entry, dependencies and parameters are as last
deployed is a no-op without being resolved (``untouched``), and the plan is the plan a full pass would make; the
shortcut is off whenever the state may not be what the stored template made (a failed deploy kept, new parameters)."""
from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

from engine_helpers import ROLE_ARN, app, handler_code, layer_code, result, service_snapshot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strata.local.engine.api import Engine
from strata.local.engine.describe import resolve_function
from strata.local.engine.model import Action
from strata.local.engine.planner import plan as make_plan


def _fn(home: Path, name: str) -> str:
    return resolve_function(home, "s", name)


def untouched(plan) -> set[str]:
    return {c.logical_id for c in plan.changes if c.untouched}


def full_plan(engine: Engine, template: dict, parameters: dict | None = None):
    """The plan a pass that resolves every resource makes (no stored template given)."""
    request = engine.request_for("s", result(template, parameters))
    stack = engine.state.stack("s")
    return make_plan("s", request.desired(), request.resolver(), engine.state.resources("s"),
                     stored_outputs=stack.outputs if stack else {})


def test_an_edit_resolves_only_what_it_reaches(engine, home):
    engine.deploy("s", result(app(home)))
    edited = app(home)
    edited["Resources"]["Plain"]["Properties"]["Timeout"] = 30
    plan = engine.plan("s", result(edited))
    assert [(c.logical_id, c.action) for c in plan.effective] == [("Plain", Action.UPDATE)]
    assert untouched(plan) == {"Role", "Shared", "Fn", "FnVersionA", "Live"}
    report = engine.deploy("s", result(edited))
    assert report.status == "complete"
    config = service_snapshot(engine.client)["functions"][_fn(home, "Plain")]["versions"]["$LATEST"]
    assert config["Timeout"] == 30


def test_a_change_reaches_every_resource_that_depends_on_it(engine, home):
    engine.deploy("s", result(app(home)))
    plan = engine.plan("s", result(app(home, layer="b", version_id="FnVersionB")))
    # the layer is new, so the function that uses it, its new version and the alias are resolved and decided
    assert untouched(plan) == {"Role", "Plain"}
    assert {c.logical_id for c in plan.effective} >= {"Shared", "Fn", "FnVersionB", "Live"}


def test_new_parameter_values_turn_the_shortcut_off(engine, home):
    def template() -> dict:
        t = app(home)
        t["Parameters"] = {"Size": {"Type": "Number"}}
        t["Resources"]["Plain"]["Properties"]["MemorySize"] = {"Ref": "Size"}
        return t

    engine.deploy("s", result(template(), {"Size": "256"}))
    plan = engine.plan("s", result(template(), {"Size": "512"}))
    assert untouched(plan) == set()
    assert [(c.logical_id, c.action) for c in plan.effective] == [("Plain", Action.UPDATE)]
    engine.deploy("s", result(template(), {"Size": "512"}))
    config = service_snapshot(engine.client)["functions"][_fn(home, "Plain")]["versions"]["$LATEST"]
    assert config["MemorySize"] == 512


def test_a_failed_deploy_kept_as_it_failed_is_converged_in_full(engine, home):
    """--disable-rollback keeps what the failed deploy did, while the stack's stored template is the last good one:
    the next deploy of that template must undo the kept change, so nothing can be skipped."""
    good = app(home)
    engine.deploy("s", result(good))
    bad = app(home, alias_name="2024")          # an alias name Lambda refuses: the deploy fails at Live
    bad["Resources"]["Plain"]["Properties"]["Timeout"] = 30
    bad["Resources"]["Live"]["DependsOn"] = "Plain"     # Plain is updated before Live fails
    assert engine.deploy("s", result(bad), disable_rollback=True).status == "failed"
    assert service_snapshot(engine.client)["functions"][_fn(home, "Plain")]["versions"]["$LATEST"]["Timeout"] == 30
    plan = engine.plan("s", result(good))
    assert untouched(plan) == set()
    assert engine.deploy("s", result(good)).status == "complete"
    config = service_snapshot(engine.client)["functions"][_fn(home, "Plain")]["versions"]["$LATEST"]
    assert config["Timeout"] == 3


EDITS = st.lists(st.sampled_from(["timeout", "layer", "plain-code", "tags", "drop-plain", "extra", "dependson"]),
                 max_size=4)


def _edited(home: Path, edits: list[str]) -> dict:
    template = app(home, timeout=9 if "timeout" in edits else 3, layer="b" if "layer" in edits else "a",
                   version_id="FnVersionB" if {"timeout", "layer"} & set(edits) else "FnVersionA",
                   tags={"app": "other"} if "tags" in edits else None)
    resources = template["Resources"]
    if "plain-code" in edits:
        resources["Plain"]["Properties"]["Code"] = handler_code(home, "changed")
    if "drop-plain" in edits:
        del resources["Plain"]
    if "extra" in edits:
        resources["Extra"] = {"Type": "AWS::Lambda::Function", "Properties": {
            "Handler": "app.handler", "Runtime": "python3.12", "Role": ROLE_ARN, "Code": layer_code(home, "x")}}
    if "dependson" in edits:
        resources["Live"]["DependsOn"] = "Role"
    return template


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=EDITS, second=EDITS)
def test_the_shortcut_plans_what_a_full_pass_plans(tmp_path_factory, first, second):
    """Whatever was deployed and whatever is deployed next, the plan with the shortcut is the plan without it
    (``untouched`` is not part of a change's equality), and applying it leaves the state a full pass would."""
    home = tmp_path_factory.mktemp("untouched") / ".strata"
    engine = Engine(home)
    try:
        assert engine.deploy("s", result(_edited(home, first))).status == "complete"
        template = _edited(home, second)
        fast = engine.plan("s", result(copy.deepcopy(template)))
        full = full_plan(engine, copy.deepcopy(template))
        assert fast.changes == full.changes
        assert not untouched(full)
        assert [replace(c, reasons=()) for c in fast.changes if c.untouched] == \
            [replace(c, reasons=()) for c in full.changes if c.logical_id in untouched(fast)]
        assert engine.deploy("s", result(template)).status in ("complete", "no-changes")
        again = engine.plan("s", result(copy.deepcopy(template)))
        assert again.is_empty and again.changes == full_plan(engine, copy.deepcopy(template)).changes
    finally:
        engine.close()
