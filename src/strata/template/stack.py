"""What a stack template (plain CloudFormation, after the SAM transform) must be before any resource is planned:
every Condition a resource or output names exists, every DependsOn names a resource, every deletion policy is one
CloudFormation knows, and the resources that the conditions keep have no reference cycle.

One home for these rules: the local engine's parse (``strata.local.engine.desired``) and ``strata validate``
(``strata.transform.validate``) both call ``stack_problems``, so ``validate`` refuses what ``plan`` refuses.
Reads only; evaluates nothing but the conditions it is given.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from strata.errors import Location, Problem, StrataError
from strata.template.graph import dependencies, references, topological_order

POLICIES = ("Delete", "Retain", "Snapshot", "RetainExceptOnCreate")

Locate = Callable[[tuple], Location]


def depends_on(body: Mapping[str, Any]) -> tuple[str, ...]:
    """A resource's DependsOn as a tuple (CloudFormation takes one name or a list)."""
    value = body.get("DependsOn") or ()
    return (value,) if isinstance(value, str) else tuple(value) if isinstance(value, list) else ()


def ordering_depends_on(logical_id: str, body: Mapping[str, Any], resources: Mapping[str, Any]) -> tuple[str, ...]:
    """DependsOn, plus what UpdatePolicy refers to (a CodeDeploy group, traffic hooks): those must be in place
    before the alias update that uses them."""
    return depends_on(body) + tuple(sorted(n for n in references(body.get("UpdatePolicy"))
                                           if n in resources and n != logical_id))


def stack_problems(template: Mapping[str, Any], conditions: Mapping[str, Any] | None = None,
                   locate: Locate | None = None) -> list[Problem]:
    """Every shape problem of a stack template. With ``conditions`` (name -> evaluated value), also the reference
    cycles among the resources they keep (a condition not known before deploy keeps its resource)."""
    def where(path: tuple) -> Location | None:
        return locate(path) if locate is not None else None

    problems: list[Problem] = []
    raw = template.get("Resources")
    if not isinstance(raw, dict) or not raw:
        return [Problem("the stack template has no Resources", where(("Resources",)))]
    declared = template.get("Conditions")
    known = declared if isinstance(declared, dict) else {}
    kept: dict[str, tuple[Any, tuple[str, ...]]] = {}
    for logical_id, body in raw.items():
        here = ("Resources", logical_id)
        if not isinstance(body, dict) or not isinstance(body.get("Type"), str):
            problems.append(Problem(f"resource {logical_id} has no Type", where(here)))
            continue
        condition = body.get("Condition")
        if condition is not None and (not isinstance(condition, str) or condition not in known):
            problems.append(Problem(f"resource {logical_id}: unknown condition {condition!r}",
                                    where(here + ("Condition",))))
            continue
        names = depends_on(body)
        for dep in names:
            if dep not in raw:
                problems.append(Problem(f"{logical_id} DependsOn {dep}, which is not a resource in this template",
                                        where(here + ("DependsOn",))))
        for key in ("DeletionPolicy", "UpdateReplacePolicy"):
            value = body.get(key, "Delete")
            if value not in POLICIES:
                problems.append(Problem(f"{logical_id}: {key} must be one of {', '.join(POLICIES)}, not {value!r}",
                                        where(here + (key,))))
        if conditions is None or condition is None or conditions.get(condition) is not False:
            kept[logical_id] = (body.get("Properties"), ordering_depends_on(logical_id, body, raw))
    outputs = template.get("Outputs")
    for name, spec in (outputs.items() if isinstance(outputs, dict) else ()):
        condition = spec.get("Condition") if isinstance(spec, dict) else None
        if condition is not None and (not isinstance(condition, str) or condition not in known):
            problems.append(Problem(f"output {name}: unknown condition {condition!r}",
                                    where(("Outputs", name, "Condition"))))
    if conditions is not None and not problems:
        edges = {lid: dependencies(properties, names, kept) for lid, (properties, names) in kept.items()}
        try:
            topological_order(edges)
        except StrataError as exc:
            loop = exc.message.rsplit(": ", 1)[-1].split(" -> ")
            problems.append(Problem(exc.message + (f" ({exc.hint})" if exc.hint else ""),
                                    where(("Resources", loop[0]))))
    return problems
