"""Traffic shifting on the local target: SAM's DeploymentPreference run by the engine with a controlled clock."""
from __future__ import annotations

from collections import Counter

import pytest
from ops_helpers import HOOK_FAILS, HOOK_OK, HOOK_RAISES, FakeClock, app, payload, result

from strata.local.engine.api import Engine
from strata.local.engine.history import AliasHistory
from strata.local.shift.schedule import schedule_for
from strata.local.shift.shifter import Shifter


def _engine(home, clock, **kw):
    progress: list = []
    shifter = Shifter(speed=60, clock=clock, sleep=clock.sleep, on_progress=progress.append, **kw)
    engine = Engine(home, shifter=shifter)
    engine.shift_progress = progress  # type: ignore[attr-defined]
    return engine


def _invoke(engine, name: str, times: int, seen: Counter) -> None:
    for _ in range(times):
        answer = engine.client.invoke(FunctionName=name, Qualifier="live", Payload=b"{}")
        seen[(answer["ExecutedVersion"], "error" if answer.get("FunctionError") else "ok")] += 1


def test_schedules_follow_codedeploy_configs():
    assert [(s.at_minutes, s.weight) for s in schedule_for("CodeDeployDefault.LambdaCanary10Percent5Minutes").steps] \
        == [(0, 0.1), (5, 1.0)]
    linear = schedule_for("CodeDeployDefault.LambdaLinear10PercentEvery3Minutes")
    assert len(linear.steps) == 10 and linear.steps[1].at_minutes == 3 and linear.minutes == 27
    assert schedule_for("CodeDeployDefault.LambdaAllAtOnce").steps[0].weight == 1.0
    custom = schedule_for("Mine", {"Mine": {"TrafficRoutingConfig": {
        "Type": "TimeBasedCanary", "TimeBasedCanary": {"CanaryPercentage": 25, "CanaryInterval": 2}}}})
    assert [(s.at_minutes, s.weight) for s in custom.steps] == [(0, 0.25), (2, 1.0)]


def test_canary_goes_10_to_100_with_invokes_on_both_versions(tmp_path):
    home = tmp_path / ".strata"
    seen: Counter = Counter()
    clock = FakeClock()
    engine = _engine(home, clock)
    try:
        first = engine.deploy("s", result(app(home, "1", shift="Canary10Percent5Minutes", pre_hook=HOOK_OK,
                                              post_hook=HOOK_OK)))
        assert first.status == "complete", first.error
        assert not first.plan.not_emulated          # CodeDeploy resources are the shifter's, not "not emulated"
        name = engine.state.resources("s")["Fn"].physical_id
        clock.on_sleep = lambda: _invoke(engine, name, 60, seen)
        second = engine.deploy("s", result(app(home, "2", shift="Canary10Percent5Minutes", pre_hook=HOOK_OK,
                                               post_hook=HOOK_OK)))
        assert second.status == "complete", second.error
        report = engine.shifter.reports[-1]
        assert (report.old, report.new, report.status) == ("1", "2", "complete")
        assert report.weights == [0.1]
        assert [h.hook for h in report.hooks] == ["BeforeAllowTraffic", "AfterAllowTraffic"]
        assert all(h.succeeded for h in report.hooks)
        assert sum(clock.sleeps) == pytest.approx(5.0)          # 5 minutes at speed 60
        total = sum(seen.values())
        on_new = seen[("2", "ok")]
        assert total == 300 and seen[("1", "ok")] + on_new == total
        # binomial(300, 0.1): mean 30, sd ~5.2; a 5-sigma band keeps the test deterministic in practice
        assert 4 <= on_new <= 56, seen
        # the shift was watched: the log-based counts saw the same invocations
        assert report.stats["2"].invokes == on_new and report.stats["1"].invokes == seen[("1", "ok")]
        after = engine.client.get_alias(FunctionName=name, Name="live")
        assert after["FunctionVersion"] == "2" and not (after.get("RoutingConfig") or {}).get(
            "AdditionalVersionWeights")
        assert {payload(engine.client.invoke(FunctionName=name, Qualifier="live"))["version"]
                for _ in range(5)} == {"2"}
        moves = AliasHistory(engine.state.db).moves(name, "live")
        assert [(m.to_version, m.routing, m.cause) for m in moves] == [
            ("1", {}, "deploy"), ("1", {"2": 0.1}, "shift"), ("2", {}, "deploy")]
        phases = [p.phase for p in engine.shift_progress]
        assert phases[0] == "PreTraffic" and "shifting" in phases and phases[-1] == "complete"
    finally:
        engine.close()


@pytest.mark.parametrize("hook", [HOOK_FAILS, HOOK_RAISES])
def test_failing_pretraffic_hook_rolls_back_and_the_alias_serves_the_old_version(tmp_path, hook):
    home = tmp_path / ".strata"
    clock = FakeClock()
    engine = _engine(home, clock)
    try:
        assert engine.deploy("s", result(app(home, "1", shift="Canary10Percent5Minutes"))).status == "complete"
        name = engine.state.resources("s")["Fn"].physical_id
        report = engine.deploy("s", result(app(home, "2", shift="Canary10Percent5Minutes", pre_hook=hook)))
        assert report.status == "rolled-back"
        assert "BeforeAllowTraffic hook" in report.error.reason and "version 1" in report.error.reason
        assert engine.shifter.reports[-1].weights == []         # no traffic ever reached version 2
        alias = engine.client.get_alias(FunctionName=name, Name="live")
        assert alias["FunctionVersion"] == "1" and not alias.get("RoutingConfig")
        assert payload(engine.client.invoke(FunctionName=name, Qualifier="live"))["answer"] == "1"
    finally:
        engine.close()


def test_erroring_new_version_breaches_the_threshold_and_rolls_back(tmp_path):
    home = tmp_path / ".strata"
    seen: Counter = Counter()
    clock = FakeClock()
    engine = _engine(home, clock)
    try:
        assert engine.deploy("s", result(app(home, "1", shift="Linear10PercentEvery1Minute"))).status == "complete"
        name = engine.state.resources("s")["Fn"].physical_id
        clock.on_sleep = lambda: _invoke(engine, name, 40, seen)
        report = engine.deploy("s", result(app(home, "2", fail=True, shift="Linear10PercentEvery1Minute")))
        assert report.status == "rolled-back"
        assert "error threshold" in report.error.reason and "back to version 1" in report.error.reason
        shift = engine.shifter.reports[-1]
        assert shift.status == "failed" and shift.stats["2"].errors >= 1
        assert seen[("2", "error")] >= 1 and seen[("2", "ok")] == 0
        alias = engine.client.get_alias(FunctionName=name, Name="live")
        assert alias["FunctionVersion"] == "1" and not alias.get("RoutingConfig")
        assert payload(engine.client.invoke(FunctionName=name, Qualifier="live"))["answer"] == "1"
        causes = [m.cause for m in AliasHistory(engine.state.db).moves(name, "live")]
        assert causes[-1] == "shift-rollback"
    finally:
        engine.close()


def test_error_threshold_tolerates_a_rate_below_it(tmp_path):
    home = tmp_path / ".strata"
    clock = FakeClock()
    engine = _engine(home, clock, error_threshold=1.0)       # 100%: never breached
    try:
        assert engine.deploy("s", result(app(home, "1", shift="AllAtOnce"))).status == "complete"
        report = engine.deploy("s", result(app(home, "2", fail=True, shift="AllAtOnce")))
        assert report.status == "complete", report.error
    finally:
        engine.close()
