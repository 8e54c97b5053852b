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


def _steps(plan: Plan, fail: str | None = None) -> list[str]:
    """The progress lines of applying ``plan`` (each change: in progress, then complete; ``fail`` fails)."""
    from strata.local.engine.render import ProgressLines

    lines: list[str] = []
    steps = ProgressLines(lines.append)
    steps.planned(plan)
    steps("big", "AWS::CloudFormation::Stack", None, "CREATE_IN_PROGRESS", None)
    for change in plan.effective:
        steps(change.logical_id, change.type, None, "CREATE_IN_PROGRESS", None)
        if change.logical_id == fail:
            steps(change.logical_id, change.type, None, "CREATE_FAILED", "Lambda said no")
            steps("big", "AWS::CloudFormation::Stack", None, "ROLLBACK_IN_PROGRESS", "Lambda said no")
            return lines
        steps(change.logical_id, change.type, f"arn:{change.logical_id}", "CREATE_COMPLETE", None)
    steps("big", "AWS::CloudFormation::Stack", None, "CREATE_COMPLETE", None)
    return [line.split("  ", 1)[1] for line in lines]     # without the time


def test_a_big_deploy_counts_its_steps_instead_of_listing_them() -> None:
    lines = _steps(_plan(500))
    assert lines[0].split() == ["CREATE_IN_PROGRESS", "big"]
    assert lines[-1].split() == ["CREATE_COMPLETE", "big"]
    counted = lines[1:-1]
    assert counted[0] == "100 resource steps done: 100 CREATE_COMPLETE"
    assert counted[-1] == "1000 resource steps done: 1000 CREATE_COMPLETE"
    assert len(counted) == 10


def test_a_big_deploy_shows_a_failed_step_in_full() -> None:
    lines = _steps(_plan(500), fail="Fn250")
    assert lines[-3].endswith("500 resource steps done: 500 CREATE_COMPLETE")    # the count before the failure
    assert lines[-2].endswith("CREATE_FAILED            Fn250  (Lambda said no)")
    assert "ROLLBACK_IN_PROGRESS" in lines[-1]
    assert len(lines) < 12


def test_a_small_deploy_lists_every_step() -> None:
    lines = _steps(_plan(3))
    assert len(lines) == 2 + 2 * 6
    assert lines[2].split() == ["CREATE_COMPLETE", "Fn0", "arn:Fn0"]
