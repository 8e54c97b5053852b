"""Text output that reads at any size: a big plan is grouped by action and type with counts, a big verify report
counts what it checked, and small ones keep listing every name (``strata.model.listing``)."""
from __future__ import annotations

from strata.local.engine.model import Action, Change, Plan
from strata.local.engine.render import plan_text
from strata.model.listing import names_or_count
from strata.verify.model import VerifyReport


def _plan(functions: int, updated: int = 0) -> Plan:
    changes = []
    for i in range(functions):
        changes.append(Change(f"Fn{i}", "AWS::Lambda::Function", Action.CREATE, ("new resource",)))
        changes.append(Change(f"Fn{i}Role", "AWS::IAM::Role", Action.CREATE, ("new resource",)))
    for i in range(updated):
        changes.append(Change(f"Old{i}", "AWS::Lambda::Function", Action.UPDATE, ("Environment.Variables.N changed",)))
    return Plan("big", tuple(changes))


def test_a_big_plan_is_grouped_by_action_and_type_with_counts() -> None:
    text = plan_text(_plan(500, updated=3))
    assert text.splitlines()[0] == "Plan for stack big: 1000 to create, 3 to update"
    assert "  + create   500 AWS::Lambda::Function: Fn0, Fn1, Fn2 and 497 more" in text
    assert "  + create   500 AWS::IAM::Role: Fn0Role, Fn1Role, Fn2Role and 497 more" in text
    assert "  ~ update   3 AWS::Lambda::Function: Old0, Old1, Old2" in text
    assert "      Environment.Variables.N changed (3)" in text
    assert len(text.splitlines()) < 10


def test_a_small_plan_lists_every_change() -> None:
    text = plan_text(_plan(3))
    assert "Fn2Role" in text and "and " not in text
    assert len(text.splitlines()) == 7


def test_verified_names_are_counted_past_the_limit() -> None:
    assert names_or_count(["A", "B"], "function") == "A, B"
    assert names_or_count([f"Fn{i}" for i in range(500)], "function") == "500 functions"


def test_a_big_verify_report_counts_what_it_checked_and_names_each_mismatch() -> None:
    checked = [f"Fn{i} (big-Fn{i}): $LATEST; alias live -> 1; version 1" for i in range(500)]
    report = VerifyReport("big", "local", checked=checked)
    assert report.text().splitlines()[1] == "  checked 500 functions ($LATEST, 500 aliases, 500 versions)"
    small = VerifyReport("small", "local", checked=checked[:2])
    assert "  checked Fn1 (big-Fn1): $LATEST; alias live -> 1; version 1" in small.text()
    assert report.to_json()["checked"] == checked        # --output json keeps every line


def test_api_gateway_resources_are_said_to_be_served_not_unrun() -> None:
    """The engine records API Gateway resources; the local gateway serves their routes, so the plan says so and
    keeps "NOT EMULATED" for what really does not run locally."""
    changes = (Change("Api", "AWS::ApiGatewayV2::Api", Action.CREATE, emulated=False),
               Change("Stage", "AWS::ApiGateway::Stage", Action.CREATE, emulated=False),
               Change("Queue", "AWS::SQS::Queue", Action.CREATE, emulated=False))
    text = plan_text(Plan("s", changes, not_emulated=("Api", "Stage", "Queue")))
    assert "API Gateway (kept in state; `strata serve` and `strata dev` answer its HTTP routes): Api, Stage" in text
    assert "NOT EMULATED (kept in state, not run locally): Queue" in text
