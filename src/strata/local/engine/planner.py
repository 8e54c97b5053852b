"""plan: desired stack vs deployed state -> ``Plan`` (per resource create/update/replace/delete/no-op, with reasons).

Contract: changes nothing (no Lambda call, no state write). ``decide`` is the one rule book, used by plan with
what is known before deploy and again by apply, per resource, with the attributes of what apply just did: a
reference to a resource being created or replaced is "known after apply", and counts as a (conditional) change.
"""
from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from strata.errors import Problem, TemplateError
from strata.local.engine.desired import apply_order, edges
from strata.local.engine.handlers import handler_for, is_emulated
from strata.local.engine.model import Action, Change, DeployedResource, DesiredResource, DesiredStack, Plan
from strata.local.engine.resolve import StackResolver
from strata.local.engine.unemulated import unemulated_properties
from strata.template.graph import topological_order
from strata.template.intrinsics import Unresolved, contains_unresolved, depends_of
from strata.template.parameters import mask
from strata.transform.result import FunctionVersionInfo
from strata.transform.why import FunctionFingerprint, why_new

_MISSING = object()


@dataclass(frozen=True)
class Decision:
    action: Action
    changed: tuple[str, ...]
    reasons: tuple[str, ...]
    conditional: bool


_NOOP = Decision(Action.NOOP, (), (), False)


def decide(desired: DesiredResource, props: dict[str, Any], current: DeployedResource | None,
           *, strict_types: bool = False, secrets: Collection[str] = ()) -> Decision:
    """What to do with one resource, given its resolved properties (which may hold ``Unresolved`` values); the
    reasons show ``secrets`` (NoEcho values) masked."""
    if current is None:
        return Decision(Action.CREATE, (), ("new resource",), False)
    if current.type != desired.type:
        return Decision(Action.REPLACE, ("Type",), (f"type changed ({current.type} -> {desired.type})",), False)
    policies_same = (desired.deletion_policy, desired.update_replace_policy) == \
        (current.deletion_policy, current.update_replace_policy)
    if props == current.properties and not current.dirty and policies_same:
        return _NOOP     # fast path: equal plain values (an Unresolved never equals a deployed value)
    emulated = is_emulated(desired.type)
    changed = sorted(k for k in set(props) | set(current.properties)
                     if contains_unresolved(props.get(k))
                     or props.get(k, _MISSING) != current.properties.get(k, _MISSING))
    conditional = any(contains_unresolved(props.get(k)) for k in changed)
    reasons = tuple(_describe_change(k, current.properties.get(k, _MISSING), props.get(k, _MISSING), secrets)
                    for k in changed)
    if not changed:
        if current.dirty:
            return Decision(Action.UPDATE, (), ("finishing an interrupted update",), False)
        if not policies_same:
            return Decision(Action.UPDATE, (), ("DeletionPolicy/UpdateReplacePolicy changed (recorded)",), False)
        return Decision(Action.NOOP, (), (), False)
    replacing = handler_for(desired.type, emulated=emulated).requires_replacement(set(changed))
    if replacing:
        why = ", ".join(sorted(replacing))
        return Decision(Action.REPLACE, tuple(changed), (f"{why} cannot change in place",) + reasons, conditional)
    return Decision(Action.UPDATE, tuple(changed), reasons, conditional)


def _describe_change(key: str, old: Any, new: Any, secrets: Collection[str] = ()) -> str:
    def _short(value: Any) -> str:
        return _shorten(mask(value, secrets))

    if new is _MISSING:
        return f"{key} removed"
    if isinstance(new, Unresolved) or contains_unresolved(new):
        deps = ", ".join(sorted(depends_of(new)))
        return f"{key} known after apply (depends on {deps})"
    if old is _MISSING:
        return f"{key} added ({_short(new)})"
    path, old, new = _first_difference(key, old, new)
    if old is _MISSING:
        return f"{path} added ({_short(new)})"
    if new is _MISSING:
        return f"{path} removed (was {_short(old)})"
    return f"{path}: {_short(old)} -> {_short(new)}"


def _first_difference(path: str, old: Any, new: Any) -> tuple[str, Any, Any]:
    """Descend into mappings while only one member differs, so the reason names the leaf that changed (a list of
    ``{Key, Value}`` pairs, CloudFormation's tag form, is read as the mapping it stands for)."""
    old, new = _as_mapping(old), _as_mapping(new)
    while isinstance(old, dict) and isinstance(new, dict):
        keys = [k for k in sorted(set(old) | set(new)) if old.get(k, _MISSING) != new.get(k, _MISSING)]
        if len(keys) != 1:
            break
        path, old, new = f"{path}.{keys[0]}", _as_mapping(old.get(keys[0], _MISSING)), \
            _as_mapping(new.get(keys[0], _MISSING))
    return path, old, new


def _as_mapping(value: Any) -> Any:
    if isinstance(value, list) and value and all(isinstance(v, dict) and set(v) == {"Key", "Value"} for v in value):
        return {v["Key"]: v["Value"] for v in value}
    return value


_HEX = re.compile(r"[0-9a-f]{64}")


def _shorten(value: Any, width: int = 48) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    text = _HEX.sub(lambda m: m.group(0)[:8] + "..", text)
    return text if len(text) <= width else text[: width - 3] + "..."


def _publish_reasons(logical_id: str, functions: Mapping[str, FunctionVersionInfo],
                    previous: Mapping[str, FunctionFingerprint],
                    deployed: Mapping[str, DeployedResource]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Why a new Version resource publishes: the fingerprint inputs that changed since the previous deploy
    (``strata.transform.why``). Returns (reasons, warnings)."""
    info = next((f for f in functions.values() if f.version_id == logical_id), None)
    if info is None:
        return ("new Version resource",), ()
    fn = info.function_id
    before = previous.get(fn)
    if before is None:
        if fn in deployed:
            return (f"publish a new version of {fn} (no fingerprint recorded by an earlier deploy)",), ()
        return (f"publish the first version of {fn}",), ()
    if before.fingerprint == info.fingerprint and before.version_id is None:
        # the function was deployed without a Version (AutoPublishAlias added now): Lambda publishes its first one
        return (f"publish the first version of {fn} (it had no Version resource; its configuration is unchanged)",), ()
    if before.fingerprint == info.fingerprint:
        return ((f"publish a new version of {fn}",),
                (f"{logical_id}: the fingerprint of {fn} did not change; Lambda will answer that a version exists",))
    return (f"publish a new version of {fn} because " + "; ".join(why_new(before, info)),), ()


def deletion_order(deployed: Mapping[str, DeployedResource], doomed: set[str]) -> list[str]:
    """Resources to delete, dependents first (reverse of the order they were deployed in)."""
    graph = {lid: tuple(d for d in deployed[lid].depends_on if d in doomed) for lid in deployed if lid in doomed}
    return list(reversed(topological_order(graph)))


def plan(stack_name: str, desired: DesiredStack, resolver: StackResolver, deployed: Mapping[str, DeployedResource],
         *, functions: Mapping[str, FunctionVersionInfo] | None = None,
         previous_fingerprints: Mapping[str, FunctionFingerprint] | None = None,
         stored_outputs: Mapping[str, Any] | None = None, recovering: bool = False,
         previous_resources: Mapping[str, Any] | None = None) -> Plan:
    """The change set for deploying ``desired`` over ``deployed``.

    ``previous_resources``: the template's Resources as last deployed, given only when the state is exactly what
    they made (the last deploy completed, same parameters). A resource whose template entry is unchanged, that is not
    dirty and depends only on resources that do not change, is a no-op without resolving it (``untouched``): a
    template edit in a 2,500-resource stack resolves what the edit reaches, not every resource."""
    functions = functions or {}
    previous_fingerprints = previous_fingerprints or {}
    previous_resources = previous_resources or {}
    changes: list[Change] = []
    warnings: list[str] = []
    not_emulated: list[str] = []
    unknowable: list[Problem] = []
    properties: list[str] = []          # emulated resources' properties the local target does not emulate
    moving: set[str] = set()            # resources this plan changes (their dependents are resolved and decided)
    bodies = desired.template.get("Resources") or {}
    graph = edges(desired)
    for info in functions.values():
        warnings += [f"{info.function_id}: {w}" for w in info.warnings]
    for logical_id in apply_order(desired):
        res = desired.resources[logical_id]
        current = deployed.get(logical_id)
        emulated = is_emulated(res.type)
        if not emulated:
            not_emulated.append(logical_id)
        if current is not None and _untouched(logical_id, current, graph[logical_id], bodies, previous_resources,
                                              moving):
            if emulated:      # as deployed, so as resolving it again would give
                properties += [f"{logical_id}.Properties.{name}: {missing}"
                               for name, missing in unemulated_properties(res.type, current.properties)]
            changes.append(Change(logical_id, res.type, Action.NOOP, (), (), current.physical_id, emulated,
                                  untouched=True))
            resolver.set_known(logical_id, current.attributes, current.emulated)
            continue
        props = resolver.resolve(res.properties, ("Resources", logical_id, "Properties"))
        if emulated:
            unknowable += never_known(props, ("Resources", logical_id, "Properties"))
            properties += [f"{logical_id}.Properties.{name}: {missing}"
                           for name, missing in unemulated_properties(res.type, props)]
        decision = decide(res, props, current, secrets=resolver.secrets)
        reasons = decision.reasons
        if res.type == "AWS::Lambda::Version" and decision.action in (Action.CREATE, Action.REPLACE):
            publish, warn = mask(_publish_reasons(logical_id, functions, previous_fingerprints, deployed),
                                 resolver.secrets)
            reasons = publish + (reasons if decision.action is Action.REPLACE else ())
            warnings += list(warn)
        if not emulated and decision.action is not Action.NOOP:
            reasons = reasons + ("not emulated: recorded only",)
        changes.append(Change(logical_id, res.type, decision.action, reasons, decision.changed,
                              current.physical_id if current else None, emulated, decision.conditional))
        if decision.action is not Action.NOOP:
            moving.add(logical_id)
        if decision.action in (Action.CREATE, Action.REPLACE):
            resolver.set_pending(logical_id)
        else:
            assert current is not None
            resolver.set_known(logical_id, current.attributes, current.emulated)
    doomed = {lid for lid in deployed if lid not in desired.resources}
    for logical_id in deletion_order(deployed, doomed):
        current = deployed[logical_id]
        retain = current.deletion_policy == "Retain"
        gone = "removed from the template" if logical_id not in desired.excluded else "its Condition is false"
        changes.append(Change(logical_id, current.type, Action.RETAIN if retain else Action.DELETE,
                              (gone + (" (DeletionPolicy: Retain keeps it)" if retain else ""),),
                              (), current.physical_id, current.emulated))
    if unknowable:
        raise TemplateError(unknowable, hint="nothing was changed: the local engine cannot apply a value it cannot "
                                             "know; give each a value, or deploy with --target aws")
    outputs_changed = _outputs_changed(desired, resolver, stored_outputs or {})
    return Plan(stack_name, tuple(changes), tuple(warnings), tuple(not_emulated), outputs_changed, recovering,
                not_emulated_properties=tuple(properties))


def _untouched(logical_id: str, current: DeployedResource, deps: tuple[str, ...], bodies: Mapping[str, Any],
               previous: Mapping[str, Any], moving: Collection[str]) -> bool:
    """Nothing that feeds this resource changed since it was deployed: its template entry (Type, Properties,
    DependsOn, Condition, policies), what it depends on (none of which this plan changes), no interrupted update."""
    return (not current.dirty and logical_id in previous and current.depends_on == deps
            and not any(d in moving for d in deps) and previous[logical_id] == bodies.get(logical_id))


def never_known(value: Any, path: tuple) -> list[Problem]:
    """The parts of a resolved value that no deployed resource will ever make known (an import, an SSM parameter, a
    macro, a parameter without a value): apply would fail on them half-way, so plan refuses them, naming each
    property. (The local target resolves imports and SSM values before plan, ``strata.transform.external``.)"""
    if isinstance(value, Unresolved):
        if value.depends_on:
            return []
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        return [Problem(f"{where}: {json.dumps(value.expression, sort_keys=True, default=str)} cannot be known "
                        "before apply on the local target")]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in never_known(v, path + (k,))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in never_known(v, path + (i,))]
    return []


def _outputs_changed(desired: DesiredStack, resolver: StackResolver, stored: Mapping[str, Any]) -> bool:
    if set(desired.outputs) != set(stored):
        return True
    for name, spec in desired.outputs.items():
        value = resolver.resolve(spec.get("Value"), ("Outputs", name, "Value"))
        if contains_unresolved(value) or value != (stored.get(name) or {}).get("Value"):
            return True
    return False


__all__ = ["Decision", "decide", "deletion_order", "edges", "plan"]
