"""A lifecycle hook's verdict: the status it reports to CodeDeploy (``hook_executions``), else what its invocation
returned; a bounded wait for a report that has not come, and a late report refused."""
from __future__ import annotations

import json

import pytest

from strata.local.hook_executions import HookExecutions, LifecycleEventAlreadyCompletedException
from strata.local.shift.hooks import REPORTED, RETURNED, run_hook


class FakeClient:
    """``invoke`` as a hook would run: report ``reports`` (status) through the store, then answer ``returns``."""

    def __init__(self, store: HookExecutions, returns: object = None, report: str | None = None,
                 error: bool = False) -> None:
        self.store, self.returns, self.report, self.error = store, returns, report, error
        self.events: list[dict] = []

    def invoke(self, **kw: object) -> dict:
        event = json.loads(kw["Payload"])  # type: ignore[arg-type]
        self.events.append(event)
        if self.report is not None:
            self.store.report(event["DeploymentId"], event["LifecycleEventHookExecutionId"], self.report)
        answer: dict = {"StatusCode": 200, "Payload": json.dumps(self.returns).encode()}
        if self.error:
            answer["FunctionError"] = "Unhandled"
        return answer


class Clock:
    def __init__(self) -> None:
        self.now, self.slept = 0.0, 0.0
        self.on_sleep = lambda: None

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds
        self.on_sleep()


@pytest.fixture
def store(tmp_path):
    with HookExecutions(tmp_path / "home") as s:
        yield s


def _run(client, store, clock=None):
    clock = clock or Clock()
    return run_hook(client, "BeforeAllowTraffic", "hook", "d-TESTDEPL1", store, clock=clock, sleep=clock.sleep)


@pytest.mark.parametrize(("report", "returns", "error", "succeeded"), [
    ("Succeeded", None, False, True),
    ("Failed", "Succeeded", False, False),          # the report wins over the return value, as on AWS
    ("Succeeded", {"errorType": "ValueError"}, True, True),    # reported, then raised: the report stands
])
def test_the_reported_status_is_the_verdict(store, report, returns, error, succeeded):
    clock = Clock()
    result = _run(FakeClient(store, returns, report, error), store, clock)
    assert (result.succeeded, result.source) == (succeeded, REPORTED)
    assert f"reported {report} through CodeDeploy" in result.text()
    assert clock.slept == 0                                     # reported before the invocation ended: no wait


@pytest.mark.parametrize(("returns", "error", "succeeded", "detail"), [
    ("Succeeded", False, True, "returned status Succeeded"),
    ({"Status": "Failed"}, False, False, "returned status Failed"),
    ({"errorType": "ValueError", "errorMessage": "smoke"}, True, False, "raised ValueError: smoke"),
])
def test_a_hook_that_never_reports_is_judged_by_what_it_returned_at_once(store, returns, error, succeeded, detail):
    clock = Clock()
    client = FakeClient(store, returns, None, error)
    result = _run(client, store, clock)
    assert (result.succeeded, result.source) == (succeeded, RETURNED)
    assert detail in result.detail and "reported no status to CodeDeploy" in result.detail
    assert clock.slept == 0                                     # it said so itself: nothing to wait for
    event = client.events[0]
    with pytest.raises(LifecycleEventAlreadyCompletedException):       # settled: a late report is refused
        store.report(event["DeploymentId"], event["LifecycleEventHookExecutionId"], "Succeeded")


def test_a_silent_hook_is_waited_for_a_bounded_time_then_judged_by_its_return(store):
    clock = Clock()
    result = _run(FakeClient(store, None), store, clock)
    assert (result.succeeded, result.source) == (True, RETURNED)
    assert 0 < clock.slept <= 1.0 + 0.05                        # the invocation's duration (0 here) plus the grace


def test_a_report_arriving_during_the_wait_is_the_verdict(store):
    clock = Clock()
    client = FakeClient(store, None)

    def late_report() -> None:
        if clock.slept >= 0.2 and store.reported(client.events[0]["LifecycleEventHookExecutionId"]) is None:
            event = client.events[0]
            store.report(event["DeploymentId"], event["LifecycleEventHookExecutionId"], "Failed")

    clock.on_sleep = late_report
    result = _run(client, store, clock)
    assert (result.succeeded, result.source) == (False, REPORTED)
    assert clock.slept < 0.5


def test_without_a_store_the_return_value_decides(store):
    result = run_hook(FakeClient(store, {"status": "Failed"}), "AfterAllowTraffic", "hook", "d-TESTDEPL1")
    assert (result.succeeded, result.source) == (False, RETURNED)


def test_deploy_prints_each_hooks_verdict_and_where_it_came_from():
    from strata.local.deploy import LazyShifter
    from strata.local.shift.hooks import HookResult
    from strata.local.shift.shifter import ShiftProgress

    lines: list[str] = []
    shifter = LazyShifter(60, 0, lines.append)
    base = ShiftProgress("d-TESTDEPL1", "live", "1", "2", 0.0, "PreTraffic", {}, 0.0, 5.0)
    shifter._show(base)
    for source, detail in ((REPORTED, "reported Failed through CodeDeploy PutLifecycleEventHookExecutionStatus"),
                           (RETURNED, "returned status Succeeded; it reported no status to CodeDeploy")):
        hook = HookResult("BeforeAllowTraffic", "pre", "x", source == RETURNED, detail, source)
        shifter._show(ShiftProgress(**{**base.__dict__, "hook": hook}))     # same phase and weight: still shown
    assert lines[1:] == [
        "shift live (d-TESTDEPL1) BeforeAllowTraffic hook pre: Failed (reported Failed through CodeDeploy "
        "PutLifecycleEventHookExecutionStatus)",
        "shift live (d-TESTDEPL1) BeforeAllowTraffic hook pre: Succeeded (returned status Succeeded; it reported no "
        "status to CodeDeploy)"]
