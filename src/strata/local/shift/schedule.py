"""CodeDeploy's Lambda deployment configurations as schedules: when each traffic weight starts.

Predefined names (``CodeDeployDefault.LambdaCanary10Percent5Minutes``, ``...Linear10PercentEvery1Minute``,
``...AllAtOnce``) are parsed from the name itself; a custom ``AWS::CodeDeploy::DeploymentConfig`` contributes its
``TrafficRoutingConfig`` (TimeBasedCanary / TimeBasedLinear / AllAtOnce). Pure values; no clock here.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from strata.errors import StrataError

PREFIX = "CodeDeployDefault."
_NAME = re.compile(r"^(?:CodeDeployDefault\.)?Lambda(?:(Canary)(\d+)Percent(\d+)Minutes?|(Linear)(\d+)PercentEvery(\d+)"
                   r"Minutes?|(AllAtOnce))$")


@dataclass(frozen=True)
class Step:
    at_minutes: float        # from the start of the shift
    weight: float            # share of traffic on the new version, 0..1 (1: the alias moves)


@dataclass(frozen=True)
class Schedule:
    name: str
    steps: tuple[Step, ...]  # ascending; the last has weight 1.0

    @property
    def minutes(self) -> float:
        return self.steps[-1].at_minutes

    def describe(self) -> str:
        return ", ".join(f"{s.weight:.0%} at {s.at_minutes:g} min" for s in self.steps)


def canary(name: str, percent: float, minutes: float) -> Schedule:
    return Schedule(name, (Step(0, percent / 100), Step(minutes, 1.0)))


def linear(name: str, percent: float, minutes: float) -> Schedule:
    count = math.ceil(100 / percent)
    return Schedule(name, tuple(Step(i * minutes, min(1.0, (i + 1) * percent / 100)) for i in range(count)))


def all_at_once(name: str) -> Schedule:
    return Schedule(name, (Step(0, 1.0),))


def schedule_for(config_name: str | None, custom: dict[str, dict[str, Any]] | None = None) -> Schedule:
    """The schedule of a deployment config name; ``custom`` maps the names of the template's own
    ``AWS::CodeDeploy::DeploymentConfig`` resources to their properties."""
    name = config_name or f"{PREFIX}LambdaAllAtOnce"
    if custom and name in custom:
        return _custom(name, custom[name])
    match = _NAME.match(name)
    if match is None:
        raise StrataError(f"unknown CodeDeploy deployment config {name!r}",
                          hint="use a CodeDeployDefault.Lambda* config or define an AWS::CodeDeploy::DeploymentConfig")
    g = match.groups()
    if g[0]:
        return canary(name, float(g[1]), float(g[2]))
    if g[3]:
        return linear(name, float(g[4]), float(g[5]))
    return all_at_once(name)


def _custom(name: str, props: dict[str, Any]) -> Schedule:
    routing = props.get("TrafficRoutingConfig") or {}
    kind = routing.get("Type", "AllAtOnce")
    try:
        if kind == "TimeBasedCanary":
            spec = routing["TimeBasedCanary"]
            return canary(name, float(spec["CanaryPercentage"]), float(spec["CanaryInterval"]))
        if kind == "TimeBasedLinear":
            spec = routing["TimeBasedLinear"]
            return linear(name, float(spec["LinearPercentage"]), float(spec["LinearInterval"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise StrataError(f"deployment config {name}: TrafficRoutingConfig {kind} is incomplete ({exc})") from None
    if kind == "AllAtOnce":
        return all_at_once(name)
    raise StrataError(f"deployment config {name}: unknown TrafficRoutingConfig Type {kind!r}",
                      hint="TimeBasedCanary, TimeBasedLinear or AllAtOnce")
