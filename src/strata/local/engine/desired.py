"""The stack template parsed at the edge into ``DesiredResource`` values, with Conditions applied.

Reads only; changes nothing."""
from __future__ import annotations

from typing import Any

from strata.errors import StrataError
from strata.local.engine.graph import dependencies, references, topological_order
from strata.local.engine.model import DesiredResource, DesiredStack
from strata.local.engine.resolve import StackResolver

_POLICIES = ("Delete", "Retain", "Snapshot", "RetainExceptOnCreate")


def parse_stack(template: dict[str, Any], resolver: StackResolver) -> DesiredStack:
    """Resources whose Condition holds, in template order; excluded ones listed apart."""
    raw = template.get("Resources")
    if not isinstance(raw, dict) or not raw:
        raise StrataError("the stack template has no Resources", hint="a stack needs at least one resource")
    resources: dict[str, DesiredResource] = {}
    excluded: set[str] = set()
    for logical_id, body in raw.items():
        if not isinstance(body, dict) or not isinstance(body.get("Type"), str):
            raise StrataError(f"resource {logical_id} has no Type")
        condition = body.get("Condition")
        if not resolver.condition(condition):
            excluded.add(logical_id)
            continue
        depends_on = body.get("DependsOn") or ()
        depends_on = (depends_on,) if isinstance(depends_on, str) else tuple(depends_on)
        for dep in depends_on:
            if dep not in raw:
                raise StrataError(f"{logical_id} DependsOn {dep}, which is not a resource in this template")
        # UpdatePolicy refs (CodeDeploy group, traffic hooks) must be in place before the alias update uses them
        depends_on += tuple(sorted(n for n in references(body.get("UpdatePolicy")) if n in raw and n != logical_id))
        resources[logical_id] = DesiredResource(
            logical_id, body["Type"], dict(body.get("Properties") or {}), depends_on, condition,
            _policy(body, "DeletionPolicy", logical_id), _policy(body, "UpdateReplacePolicy", logical_id))
    outputs = {name: spec for name, spec in (template.get("Outputs") or {}).items()
               if isinstance(spec, dict) and resolver.condition(spec.get("Condition"))}
    return DesiredStack(resources, outputs, frozenset(excluded), template)


def _policy(body: dict[str, Any], key: str, logical_id: str) -> str:
    value = body.get(key, "Delete")
    if value not in _POLICIES:
        raise StrataError(f"{logical_id}: {key} must be one of {', '.join(_POLICIES)}, not {value!r}")
    return "Retain" if value in ("Retain", "RetainExceptOnCreate") else "Delete"


def edges(stack: DesiredStack) -> dict[str, tuple[str, ...]]:
    """logical id -> the desired resources it depends on (template order kept for stable ordering)."""
    return {lid: dependencies(res.properties, res.depends_on, stack.resources)
            for lid, res in stack.resources.items()}


def apply_order(stack: DesiredStack) -> list[str]:
    return topological_order(edges(stack))
