"""The local stand-in for CodeDeploy's Lambda deployments: moves an alias to a new version the way its deployment
config says, with hooks and an error-rate threshold in place of alarms.

Order (as CodeDeploy): BeforeAllowTraffic hook -> RoutingConfig weights on schedule, each held while the new
version's invocations are watched -> the alias moves (primary = new version, no routing) -> AfterAllowTraffic hook.
Any failure raises ``ResourceFailed``; the engine then rolls the stack back, which puts the alias back on the old
version (what CodeDeploy's automatic rollback does). Time comes from the injected ``clock``/``sleep``; ``speed``
compresses the schedule (60: a minute of the config takes a second). Every weight change is recorded in the alias
history (``engine.history``, cause "shift").
"""
from __future__ import annotations

import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from strata.local.engine.handlers.base import Outcome, ResourceFailed
from strata.local.engine.model import DeployedResource
from strata.local.hook_executions import HookExecutions
from strata.local.shift.hooks import HookResult, run_hook
from strata.local.shift.metrics import InvocationLogSource, LogMetrics, Metrics, VersionStats
from strata.local.shift.schedule import Schedule, schedule_for
from strata.model.naming import function_and_qualifier
from strata.model.routing import AliasRouting

GROUP = "AWS::CodeDeploy::DeploymentGroup"
CONFIG = "AWS::CodeDeploy::DeploymentConfig"


@dataclass(frozen=True)
class ShiftProgress:
    """One look at a running shift (what ``strata deploy`` prints live)."""

    deployment_id: str
    alias: str
    old: str
    new: str
    weight: float                          # share of traffic on the new version
    phase: str                             # PreTraffic | shifting | PostTraffic | complete | failed
    stats: dict[str, VersionStats]
    minutes: float                         # schedule time elapsed
    total_minutes: float
    hook: HookResult | None = None         # a hook just judged (its verdict and where the verdict came from)

    def text(self) -> str:
        if self.hook is not None:
            return f"shift {self.alias} ({self.deployment_id}) {self.hook.text()}"
        counts = "; ".join(f"v{v}: {s.invokes} invokes, {s.errors} errors" for v, s in sorted(self.stats.items()))
        return (f"shift {self.alias} ({self.deployment_id}) {self.phase}: {1 - self.weight:.0%} -> v{self.old}, "
                f"{self.weight:.0%} -> v{self.new}  [{self.minutes:.1f}/{self.total_minutes:g} min]"
                + (f"  {counts}" if counts else ""))


@dataclass
class ShiftReport:
    deployment_id: str
    function_name: str
    alias: str
    old: str
    new: str
    schedule: str
    status: str = "running"                # complete | failed
    reason: str | None = None
    hooks: list[HookResult] = field(default_factory=list)
    stats: dict[str, VersionStats] = field(default_factory=dict)
    weights: list[float] = field(default_factory=list)      # every weight the alias routed to the new version


class _NoMetrics:
    def read(self) -> dict[str, VersionStats]:
        return {}


def _deployment_id() -> str:
    return "d-" + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(9))


class Shifter:
    """Runs alias updates under ``UpdatePolicy: CodeDeployLambdaAliasUpdate`` for the engine's executor."""

    def __init__(self, *, speed: float = 1.0, error_threshold: float = 0.0,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 tick: float = 1.0, on_progress: Callable[[ShiftProgress], None] | None = None,
                 metrics: Callable[[Any, str, list[str]], Metrics] | None = None,
                 deployment_id: Callable[[], str] = _deployment_id) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed, self.error_threshold = float(speed), float(error_threshold)
        self.clock, self.sleep, self.tick = clock, sleep, tick
        self.on_progress = on_progress or (lambda _p: None)
        self.metrics = metrics or _log_metrics
        self.deployment_id = deployment_id
        self.reports: list[ShiftReport] = []

    # ---- the executor's hook ----------------------------------------------------------------------------------------
    def update_alias(self, executor: Any, logical_id: str, policy: dict[str, Any], handler: Any,
                     current: DeployedResource, props: dict[str, Any]) -> Outcome:
        old = AliasRouting.from_template(current.properties).primary
        new = AliasRouting.from_template(props).primary
        if old == new or "$LATEST" in (old, new):
            return handler.update(executor.ctx, current, props)      # nothing to shift (CodeDeploy skips it too)
        resources = executor.state.resources(executor.stack)
        group = _referenced(policy.get("DeploymentGroupName"), resources)
        customs = {r.physical_id: r.properties for r in resources.values() if r.type == CONFIG}
        try:
            schedule = schedule_for((group.properties.get("DeploymentConfigName") if group else None), customs)
        except Exception as exc:  # noqa: BLE001
            raise ResourceFailed(str(getattr(exc, "message", exc))) from None
        function_name, alias = function_and_qualifier(current.physical_id)
        report = ShiftReport(self.deployment_id(), function_name, alias, old, new, schedule.name)
        self.reports.append(report)
        metrics = self.metrics(executor.ctx.client, function_name, [old, new])
        run = _Run(self, executor, logical_id, current, report, schedule, metrics)
        try:
            run.hook("BeforeAllowTraffic", _function(policy.get("BeforeAllowTrafficHook"), resources))
            run.shift()
            outcome = handler.update(executor.ctx, current, props)
            run.hook("AfterAllowTraffic", _function(policy.get("AfterAllowTrafficHook"), resources))
        except ResourceFailed as failure:
            report.status, report.reason = "failed", failure.message
            try:
                run.restore()
            except Exception:  # noqa: BLE001 - the stack rollback retries; the shift's failure is what to report
                pass
            run.emit("failed")
            raise
        report.status = "complete"
        run.emit("complete", weight=1.0)
        return outcome


class _Run:
    """One deployment: its clock, its weights and what it has seen."""

    def __init__(self, shifter: Shifter, executor: Any, logical_id: str, current: DeployedResource,
                 report: ShiftReport, schedule: Schedule, metrics: Metrics) -> None:
        self.s, self.executor, self.logical_id, self.current = shifter, executor, logical_id, current
        self.report, self.schedule, self.metrics = report, schedule, metrics
        self.weight = 0.0
        self.started = shifter.clock()

    def minutes(self) -> float:
        return (self.s.clock() - self.started) * self.s.speed / 60

    def emit(self, phase: str, weight: float | None = None, hook: HookResult | None = None) -> None:
        stats = self.metrics.read()
        self.report.stats = stats
        r = self.report
        self.s.on_progress(ShiftProgress(r.deployment_id, r.alias, r.old, r.new, self.weight if weight is None
                                         else weight, phase, stats, min(self.minutes(), self.schedule.minutes),
                                         self.schedule.minutes, hook))

    def hook(self, name: str, function: str | None) -> None:
        if not function:
            return
        phase = "PreTraffic" if name == "BeforeAllowTraffic" else "PostTraffic"
        self.emit(phase)
        # the execution ids the hook may report to (CodeDeploy's hook status, answered by the home's local server)
        with HookExecutions(Path(self.executor.state.path).parent) as executions:     # state.path: <home>/state.db
            result = run_hook(self.executor.ctx.client, name, function, self.report.deployment_id, executions)
        self.report.hooks.append(result)
        self.emit(phase, hook=result)
        if not result.succeeded:
            where = ("traffic stays on" if name == "BeforeAllowTraffic" else "the alias goes back to")
            raise ResourceFailed(f"traffic shift {self.report.deployment_id}: {name} hook {function} {result.detail};"
                                 f" {where} version {self.report.old}")

    def shift(self) -> None:
        for step in self.schedule.steps:
            self.watch(self.started + step.at_minutes * 60 / self.s.speed)
            if step.weight >= 1.0:
                return
            self.route(step.weight)

    def route(self, weight: float) -> None:
        r = self.report
        routing = AliasRouting(r.old, ((r.new, weight),))
        self.executor.ctx.client.update_alias(FunctionName=r.function_name, Name=r.alias, **routing.to_api())
        self.weight = weight
        r.weights.append(weight)
        routed = replace(self.current, properties={**self.current.properties, **routing.to_template()})
        with self.executor.state.transaction():
            self.executor._record_alias(routed, "shift")
            self.executor._event(self.logical_id, "AWS::Lambda::Alias", self.current.physical_id,
                                 "UPDATE_IN_PROGRESS", f"traffic shift {r.deployment_id}: {weight:.0%} to version "
                                                       f"{r.new} ({self.schedule.name})")
        self.emit("shifting")

    def restore(self) -> None:
        """CodeDeploy's automatic rollback: all traffic back on the old version before the stack rolls back (so the
        stack rollback can delete the new version, which no route points at any more)."""
        r = self.report
        routing = AliasRouting(r.old)
        self.executor.ctx.client.update_alias(FunctionName=r.function_name, Name=r.alias, **routing.to_api())
        self.weight = 0.0
        restored = replace(self.current, properties={**self.current.properties, **routing.to_template()})
        with self.executor.state.transaction():
            self.executor._record_alias(restored, "shift-rollback")

    def watch(self, until: float) -> None:
        """Hold the current weights until ``until`` (clock time), checking the new version's error rate each tick."""
        while True:
            self.emit("shifting")
            stats = self.report.stats.get(self.report.new, VersionStats())
            if stats.errors and stats.error_rate > self.s.error_threshold:
                raise ResourceFailed(
                    f"traffic shift {self.report.deployment_id}: version {self.report.new} failed {stats.errors} of "
                    f"{stats.invokes} invocations ({stats.error_rate:.0%}), above the error threshold "
                    f"{self.s.error_threshold:.0%}; the alias goes back to version {self.report.old}")
            now = self.s.clock()
            if now >= until:
                return
            self.s.sleep(min(self.s.tick, until - now))


def _log_metrics(client: Any, function_name: str, versions: list[str]) -> Metrics:
    """Log-based counts for a client whose invocations are logged here (``LocalLambdaClient``); none for another."""
    if not isinstance(client, InvocationLogSource):
        return _NoMetrics()
    return LogMetrics(client.invocation_logs(), function_name, versions)


def _referenced(value: Any, resources: dict[str, DeployedResource]) -> DeployedResource | None:
    if isinstance(value, dict) and isinstance(value.get("Ref"), str):
        return resources.get(value["Ref"])
    if isinstance(value, str):
        return next((r for r in resources.values() if r.physical_id == value), None)
    return None


def _function(value: Any, resources: dict[str, DeployedResource]) -> str | None:
    """A hook reference (Ref to a function of the stack, or a name/ARN) -> the function name to invoke."""
    if value is None:
        return None
    res = _referenced(value, resources)
    if res is not None:
        return res.physical_id
    return value if isinstance(value, str) else None
