"""The stack template parsed at the edge into ``DesiredResource`` values, with Conditions applied.

Reads only; changes nothing."""
from __future__ import annotations

from typing import Any

from strata.errors import TemplateError
from strata.local.engine.model import DesiredResource, DesiredStack
from strata.local.engine.resolve import StackResolver
from strata.template.graph import dependencies, topological_order
from strata.template.stack import ordering_depends_on, stack_problems


def parse_stack(template: dict[str, Any], resolver: StackResolver) -> DesiredStack:
    """Resources whose Condition holds, in template order; excluded ones listed apart. The template's shape is
    checked first by ``strata.template.stack`` (the checks ``strata validate`` runs too)."""
    problems = stack_problems(template)
    if problems:
        raise TemplateError(problems)
    raw = template["Resources"]
    resources: dict[str, DesiredResource] = {}
    excluded: set[str] = set()
    for logical_id, body in raw.items():
        condition = body.get("Condition")
        if not resolver.condition(condition):
            excluded.add(logical_id)
            continue
        resources[logical_id] = DesiredResource(
            logical_id, body["Type"], dict(body.get("Properties") or {}), ordering_depends_on(logical_id, body, raw),
            condition, _policy(body, "DeletionPolicy"), _policy(body, "UpdateReplacePolicy"))
    outputs = {name: spec for name, spec in (template.get("Outputs") or {}).items()
               if isinstance(spec, dict) and resolver.condition(spec.get("Condition"))}
    return DesiredStack(resources, outputs, frozenset(excluded), template)


def _policy(body: dict[str, Any], key: str) -> str:
    """Retain-like policies keep the resource; the values were checked by ``stack_problems``."""
    return "Retain" if body.get(key, "Delete") in ("Retain", "RetainExceptOnCreate") else "Delete"


def edges(stack: DesiredStack) -> dict[str, tuple[str, ...]]:
    """logical id -> the desired resources it depends on (template order kept for stable ordering); computed once
    per parsed stack (walking every resource's properties is ~0.1 s at 2,500 resources)."""
    if stack.edges is None:
        stack.edges = {lid: dependencies(res.properties, res.depends_on, stack.resources)
                       for lid, res in stack.resources.items()}
    return stack.edges


def apply_order(stack: DesiredStack) -> list[str]:
    """Dependencies first, template order otherwise; computed once per parsed stack (a deploy asks at plan, at the
    plan's check and at apply)."""
    if stack.order is None:
        stack.order = topological_order(edges(stack))
    return list(stack.order)
