"""Text rendering of plans, deploy progress, reports and descriptions for the CLI (JSON output uses ``to_dict``)."""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from strata.local.engine.model import STACK_TYPE, Action, Change, Plan
from strata.model.listing import PLAN_LIMIT, some_names

SYMBOLS = {Action.CREATE: "+", Action.UPDATE: "~", Action.REPLACE: "±", Action.DELETE: "-", Action.RETAIN: "=",
           Action.NOOP: " "}

# API Gateway resources are recorded, not emulated, by the engine; the local gateway (``strata.local.gateway``)
# reads them from the stack state and serves their routes
GATEWAY_PREFIXES = ("AWS::ApiGateway::", "AWS::ApiGatewayV2::")


def plan_text(plan: Plan) -> str:
    lines: list[str] = []
    if plan.recovering:
        lines.append(f"Stack {plan.stack_name} has an interrupted deploy: it is completed first.")
    effective = plan.effective
    if not effective:
        if plan.outputs_changed:
            lines.append(f"Stack {plan.stack_name}: only outputs change.")
        elif not plan.recovering:
            lines.append(f"No changes: stack {plan.stack_name} is up to date.")
    else:
        unchanged = len(plan.changes) - len(effective)
        lines.append(f"Plan for stack {plan.stack_name}: {_counts(plan)}" + (f", {unchanged} unchanged" if unchanged
                                                                            else ""))
        if len(effective) > PLAN_LIMIT:
            lines.extend(_grouped(effective))
            effective = ()
        width = max((len(c.logical_id) for c in effective), default=0)
        for change in effective:
            flag = " (not emulated)" if not change.emulated else ""
            maybe = " (decided during apply)" if change.conditional else ""
            lines.append(f"  {SYMBOLS[change.action]} {change.action.value:<8} {change.logical_id:<{width}}  "
                         f"{change.type}{flag}{maybe}")
            for reason in change.reasons:
                if reason not in ("new resource", "not emulated: recorded only"):
                    lines.append(f"      {reason}")
    if plan.not_emulated:
        types = {c.logical_id: c.type for c in plan.changes}
        served = [lid for lid in plan.not_emulated if types.get(lid, "").startswith(GATEWAY_PREFIXES)]
        others = [lid for lid in plan.not_emulated if lid not in served]
        if served:
            lines.append(f"API Gateway (kept in state; `strata serve` and `strata dev` answer its HTTP routes): "
                         f"{', '.join(served)}")
        if others:
            lines.append(f"NOT EMULATED (kept in state, not run locally): {', '.join(others)}")
    for prop in plan.not_emulated_properties:
        lines.append(f"warning: not emulated locally: {prop}")
    for warning in plan.warnings:
        lines.append(f"warning: {warning}")
    if plan.local_overrides is not None:
        lines.append(overrides_text(plan.local_overrides, plan.stack_name))
    return "\n".join(lines)


def overrides_text(view: dict[str, Any], stack_name: str | None = None) -> str:
    """Local ``--env-vars`` overrides (``strata.local.env_vars.Matched.view``, values masked) for plan and describe:
    one line per function of ``stack_name`` (every stack when None), then the file's warnings."""
    stacks = view.get("Stacks") or {}
    shown = {stack_name: stacks.get(stack_name) or {}} if stack_name else stacks
    lines = [f"Local overrides (--env-vars {view['File']}; never deployed, no new version):"]
    rows = [(fn, names) for functions in shown.values() for fn, names in functions.items()]
    for fn, names in rows:
        lines.append(f"  {fn}: " + ", ".join(f"{k}={v}" for k, v in names.items()))
    if not rows:
        lines.append("  none apply to this stack")
    lines.extend(f"warning: {w}" for w in view.get("Warnings") or [])
    return "\n".join(lines)


def _grouped(changes: Sequence[Change]) -> list[str]:
    """A big plan (more than ``PLAN_LIMIT`` changes): one line per action and resource type with a count and the
    first names, then each distinct reason with how many changes give it (``--output json`` lists every change)."""
    groups: dict[tuple[Action, str], list[Change]] = {}
    for change in changes:
        groups.setdefault((change.action, change.type), []).append(change)
    lines = []
    for (action, type_), members in groups.items():
        flags = "".join(f" ({n} {what})" for n, what in (
            (sum(1 for c in members if not c.emulated), "not emulated"),
            (sum(1 for c in members if c.conditional), "decided during apply")) if n)
        lines.append(f"  {SYMBOLS[action]} {action.value:<8} {len(members)} {type_}{flags}: "
                     f"{some_names([c.logical_id for c in members])}")
        reasons: dict[str, int] = {}
        for change in members:
            for reason in change.reasons:
                if reason not in ("new resource", "not emulated: recorded only"):
                    reasons[reason] = reasons.get(reason, 0) + 1
        for reason, count in list(reasons.items())[:5]:
            lines.append(f"      {reason}" + (f" ({count})" if count > 1 else ""))
        if len(reasons) > 5:
            lines.append(f"      ... {len(reasons) - 5} more distinct reasons")
    return lines


def _counts(plan: Plan) -> str:
    counts: dict[str, int] = {}
    for change in plan.effective:
        counts[change.action.value] = counts.get(change.action.value, 0) + 1
    return ", ".join(f"{n} to {a}" for a, n in counts.items())


def progress_line(logical_id: str, type_: str, physical: str | None, status: str, reason: str | None) -> str:
    stamp = time.strftime("%H:%M:%S")
    text = f"{stamp}  {status:<24} {logical_id}"
    if physical and status.endswith(("COMPLETE", "SKIPPED")) and type_ != STACK_TYPE:
        text += f"  {physical}"
    if reason and (status.endswith("FAILED") or "ROLLBACK" in status or reason == "rollback"):
        text += f"  ({reason})"
    return text


class ProgressLines:
    """A deploy's (or delete's) progress as lines for ``echo``: one per resource step for a plan of up to
    ``PLAN_LIMIT`` changes; for a bigger one (a first deploy of 500 functions steps through 2,500 resources), the
    stack's own lines, every failed step in full, and a line counting the finished steps by status at each tenth of
    the plan and before each stack line. ``strata events`` keeps every step, and ``--output json`` the plan's every
    change."""

    def __init__(self, echo: Callable[[str], None]) -> None:
        self.echo = echo
        self.total: int | None = None       # None: every step shown
        self.counts: dict[str, int] = {}
        self.shown = 0

    def planned(self, plan: Plan) -> None:
        """The plan about to be applied: a big one is counted, not listed."""
        self.expect(len(plan.effective))

    def expect(self, changes: int) -> None:
        """``changes`` resource steps to come (a delete: the stack's resources); more than ``PLAN_LIMIT``: counted."""
        self.total = changes if changes > PLAN_LIMIT else None
        self.counts, self.shown = {}, 0

    def __call__(self, logical_id: str, type_: str, physical: str | None, status: str, reason: str | None) -> None:
        if self.total is None or status.endswith("FAILED") or type_ == STACK_TYPE:
            if self.total is not None:
                self.flush()        # what finished before it
            self.echo(progress_line(logical_id, type_, physical, status, reason))
            return
        if status.endswith(("COMPLETE", "SKIPPED")):
            self.counts[status] = self.counts.get(status, 0) + 1
            if sum(self.counts.values()) * 10 // self.total > self.shown * 10 // self.total:
                self.flush()

    def flush(self) -> None:
        """The count line, when steps finished since the last one."""
        done = sum(self.counts.values())
        if done == self.shown:
            return
        self.shown = done
        stamp = time.strftime("%H:%M:%S")
        self.echo(f"{stamp}  {done} resource step{'s' if done != 1 else ''} done: "
                  + ", ".join(f"{n} {status}" for status, n in self.counts.items()))


def outputs_text(outputs: dict[str, Any]) -> str:
    if not outputs:
        return ""
    width = max(len(k) for k in outputs)
    return "Outputs:\n" + "\n".join(f"  {k:<{width}}  {v.get('Value') if isinstance(v, dict) else v}"
                                    for k, v in sorted(outputs.items()))


def describe_text(info: dict[str, Any]) -> str:
    lines = [f"Stack {info['StackName']}: {info['StackStatus']}"]
    if info.get("Interrupted"):
        lines.append("  (an interrupted deploy is pending: the next `strata deploy` completes it)")
    width = max((len(r["LogicalResourceId"]) for r in info["Resources"]), default=0)
    lines.append("Resources:")
    for res in info["Resources"]:
        flag = "  (not emulated)" if not res["Emulated"] else ""
        lines.append(f"  {res['LogicalResourceId']:<{width}}  {res['ResourceType']:<32} "
                     f"{res['PhysicalResourceId']}{flag}")
    if info["Functions"]:
        lines.append("Functions:")
        for logical_id, fn in info["Functions"].items():
            versions = ", ".join(v["Version"] + (" (retained)" if v.get("Retained") else "")
                                 for v in fn["Versions"]) or "none"
            lines.append(f"  {logical_id} ({fn['FunctionName']}): version{'s' if len(fn['Versions']) != 1 else ''} "
                         f"{versions}")
            for alias in fn["Aliases"]:
                weights = "".join(f", {w:.0%} -> {v}" for v, w in alias["AdditionalVersionWeights"].items())
                lines.append(f"    alias {alias['Name']} -> {alias['FunctionVersion']}{weights}")
            runs = fn.get("Runs") or {}
            if runs.get("Substituted"):
                lines.append(f"    runs on Python {runs['InterpreterVersion']}, not {runs['Runtime']}: {runs['Note']}")
            elif runs and runs.get("Interpreter") is None:
                lines.append(f"    cannot run here: {runs.get('Problem')}"
                             + (f" (to fix: {runs['Fix']})" if runs.get("Fix") else ""))
    if info["PendingCleanup"]:
        lines.append("Pending cleanup: " + ", ".join(p["PhysicalResourceId"] for p in info["PendingCleanup"]))
    text = outputs_text(info["Outputs"])
    if info.get("LocalOverrides") is not None:
        text = "\n".join(t for t in (text, overrides_text(info["LocalOverrides"], info["StackName"])) if t)
    return "\n".join(lines) + ("\n" + text if text else "")
