"""The evaluation context of a stack: what intrinsics read when a template is evaluated for one deployed (or
to-be-deployed) stack. ONE builder, ``context_for``, used by the transform (``parameters.build_context``, after it
checked the overrides), the local engine's resolver (``local.engine.resolve``) and verify (``verify.expected``).

Contract: pure. Given the template, the parameter values the stack has (typed values from the transform, or the text
CloudFormation reports), the stack's region/account/name, and optionally a resolver for resource references:
- every declared parameter gets a value: the given one, else its ``Default``, else ``Unresolved`` (``Ref``);
  a list-typed parameter given as text (``"a, b"``) becomes its items, space-trimmed, as CloudFormation reads it;
  a value that is a mapping (what an ``Unresolved`` parameter looks like once stored as JSON) is ``Unresolved``;
- pseudo parameters for the region/account/stack (``AWS::StackId`` the real one when known, else a stable one);
- the template's Mappings and resource ids, and its Conditions evaluated.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from strata.model.naming import partition_of
from strata.template.intrinsics import Context, Locate, Unresolved, evaluate_conditions


def context_for(template: Mapping[str, Any], parameters: Mapping[str, Any], *, region: str, account_id: str,
                stack_name: str, partition: str | None = None,
                stack_id: str | None = None, resolve_resource: Callable[[str, str | None], Any] | None = None,
                locate: Locate | None = None) -> Context:
    """The evaluation context of ``template`` deployed as ``stack_name`` with ``parameters`` (see the module
    docstring). Raises ``TemplateError`` when the Conditions section cannot be evaluated."""
    pseudo = pseudo_parameters(region, account_id, stack_name, partition)
    if stack_id:
        pseudo["AWS::StackId"] = stack_id
    mappings = template.get("Mappings")
    resources = template.get("Resources")
    context = Context(
        parameters=parameter_values(template.get("Parameters"), parameters),
        pseudo=pseudo,
        mappings=mappings if isinstance(mappings, dict) else {},
        conditions={},
        resources=frozenset(k for k in resources if isinstance(k, str)) if isinstance(resources, dict) else frozenset(),
        locate=locate,
        resolve_resource=resolve_resource,
    )
    context.conditions = evaluate_conditions(template.get("Conditions"), context, locate)
    return context


def parameter_values(declared: Any, given: Mapping[str, Any]) -> dict[str, Any]:
    """Every parameter's value: the given ones (also any the template does not declare), then each declared one's
    ``Default``, else ``Unresolved``; list-typed text split into items."""
    specs = declared if isinstance(declared, dict) else {}
    values: dict[str, Any] = {}
    for name, value in given.items():
        values[name] = _typed(name, specs.get(name), value)
    for name, spec in specs.items():
        if name in values:
            continue
        default = spec.get("Default") if isinstance(spec, dict) else None
        values[str(name)] = _typed(str(name), spec, default)
    return values


def _typed(name: str, spec: Any, value: Any) -> Any:
    if value is None or isinstance(value, dict):
        return Unresolved({"Ref": name}, frozenset())
    kind = str(spec.get("Type", "String")) if isinstance(spec, dict) else "String"
    if isinstance(value, str) and (kind.startswith("List<") or kind == "CommaDelimitedList"):
        return [item.strip() for item in value.split(",")]
    return value


def pseudo_parameters(region: str, account_id: str, stack_name: str, partition: str | None = None) -> dict[str, Any]:
    """The pseudo parameters for a stack; StackId is derived from the names so it is stable across runs."""
    default_partition, url_suffix = partition_of(region)
    partition = partition or default_partition
    import uuid  # only here: uuid's import costs milliseconds on every CLI start

    stack_uuid = uuid.uuid5(uuid.NAMESPACE_URL, f"strata:{partition}:{region}:{account_id}:{stack_name}")
    return {
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "AWS::Partition": partition,
        "AWS::URLSuffix": url_suffix,
        "AWS::StackName": stack_name,
        "AWS::StackId": f"arn:{partition}:cloudformation:{region}:{account_id}:stack/{stack_name}/{stack_uuid}",
        "AWS::NotificationARNs": [],
    }


__all__ = ["context_for", "parameter_values", "pseudo_parameters"]
