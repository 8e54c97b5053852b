"""Verify for aliases pinned by ``strata rollback`` (local target): checked against the pinned version's own content.

Why: a pinned alias deliberately serves an older version, whose code and settings differ from the stack's current
template; checking it against the template would report the rollback itself as drift (and ``--repair`` would undo
it). So the pinned aliases are taken out of the template check and checked here instead: the alias must route all
traffic to the pinned version, and that version must still hold what it was deployed with (recorded in the alias
history when the engine first moved an alias to it). Reads only.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from strata.model.lambda_errors import unless_not_found
from strata.model.routing import AliasRouting
from strata.verify.checker import content_findings
from strata.verify.model import DeployedStack, ExpectedFunction, Finding, VerifyReport


@dataclass(frozen=True)
class PinnedAlias:
    alias_logical_id: str
    function_logical_id: str
    function_name: str
    alias: str
    version: str
    expected: dict[str, Any] | None          # {"code_sha256", "settings"} of the pinned version, when recorded


def pinned_aliases(home: Path, stack: DeployedStack) -> list[PinnedAlias]:
    from strata.local.engine.history import AliasHistory
    from strata.local.engine.state import StackState

    state = StackState(Path(home))
    try:
        history = AliasHistory(state.db)
        pins = history.pins(stack.name)
        functions = {r.physical_id: lid for lid, r in stack.resources.items() if r.type == "AWS::Lambda::Function"}
        return [PinnedAlias(lid, functions.get(p.function_name, p.function_name), p.function_name, p.alias, p.version,
                            history.expected_for(p.function_name, p.version))
                for lid, p in pins.items() if lid in stack.resources]
    finally:
        state.close()


def without_pinned(stack: DeployedStack, pins: list[PinnedAlias]) -> DeployedStack:
    """The stack with its pinned aliases left out of the template check."""
    if not pins:
        return stack
    skip = {p.alias_logical_id for p in pins}
    return replace(stack, resources={lid: r for lid, r in stack.resources.items() if lid not in skip})


def expected_version(pin: PinnedAlias) -> ExpectedFunction | None:
    if not pin.expected:
        return None
    return ExpectedFunction(pin.function_logical_id, pin.function_name, pin.expected.get("code_sha256"), None,
                            dict(pin.expected.get("settings") or {}))


def check_pins(reader: Any, pins: list[PinnedAlias], report: VerifyReport) -> VerifyReport:
    """Add findings and notes for each pinned alias to ``report`` (and return it)."""
    for pin in pins:
        subject = f"alias {pin.alias}"
        live = unless_not_found(reader.get_alias, FunctionName=pin.function_name, Name=pin.alias)
        if live is None:
            report.findings.append(Finding(pin.function_logical_id, pin.function_name, subject, "missing",
                                           f"alias {pin.alias} (pinned to version {pin.version}) does not exist"))
            continue
        weights = AliasRouting.from_api(live).weight_map()
        if str(live.get("FunctionVersion")) != pin.version or weights:
            report.findings.append(Finding(
                pin.function_logical_id, pin.function_name, subject, "FunctionVersion",
                f"alias {pin.alias} serves version {live.get('FunctionVersion')}"
                + (f" (+ routing {weights})" if weights else "")
                + f"; it is pinned by rollback to version {pin.version}", live.get("FunctionVersion"), pin.version))
            continue
        expected = expected_version(pin)
        config = unless_not_found(reader.get_function_configuration, FunctionName=pin.function_name,
                                  Qualifier=pin.version)
        if config is None:
            report.findings.append(Finding(pin.function_logical_id, pin.function_name, subject, "missing",
                                           f"alias {pin.alias} is pinned to version {pin.version}, which no longer "
                                           "exists"))
            continue
        if expected is not None:
            report.findings.extend(content_findings(expected, config, subject,
                                                    f"alias {pin.alias} (pinned) serves version {pin.version} with"))
        how = "checked against what it was deployed with" if expected is not None else \
            "no record of what it was deployed with: content not compared"
        report.notes.append(f"{pin.function_logical_id}: alias {pin.alias} is pinned by rollback to version "
                            f"{pin.version} ({how}); `strata deploy --force` moves it forward")
        report.checked.append(f"{pin.function_logical_id} ({pin.function_name}): alias {pin.alias} -> "
                              f"{pin.version} (pinned)")
    return report
