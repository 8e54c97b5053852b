"""From a deployed stack (template + parameter values + physical ids) to what each function must look like.

The deployed template is evaluated with the stack's parameters and a resolver that answers Ref/GetAtt from the
resources' physical ids (and the attributes the target recorded), so ``Layers: [!Ref SharedLayer]`` becomes the layer
version ARN that was deployed. A value that still cannot be known is listed as unchecked, never guessed.
"""
from __future__ import annotations

from collections.abc import Collection
from typing import Any

from strata.model.naming import (
    FunctionRef,
    artifact_sha256_of_key,
    code_sha256_of,
    function_arn,
    function_name_of,
    version_number_of,
)
from strata.model.routing import AliasRouting
from strata.template.context import context_for
from strata.template.intrinsics import NO_VALUE, Context, Unresolved, contains_unresolved, evaluate
from strata.template.parameters import MASK, no_echo_names
from strata.verify.model import DeployedStack, ExpectedAlias, ExpectedFunction, StackResource
from strata.verify.settings import BY_NAME, SETTINGS

FUNCTION = "AWS::Lambda::Function"
VERSION = "AWS::Lambda::Version"
ALIAS = "AWS::Lambda::Alias"


def expected_functions(stack: DeployedStack, only: Collection[str] | None = None) -> list[ExpectedFunction]:
    """Every deployed AWS::Lambda::Function of ``stack`` (or those whose logical ids are in ``only``) with its
    expected code, settings, versions and aliases."""
    template = stack.template
    resources = template.get("Resources") or {}
    context = stack_context(stack)
    resolved: dict[str, dict[str, Any]] = {}
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict) or logical_id not in stack.resources:
            continue
        if only is not None and not _may_concern(logical_id, resource, resources, only):
            continue
        condition = resource.get("Condition")
        if condition and context.conditions.get(condition) is False:
            continue
        if resource.get("Type") in (FUNCTION, VERSION, ALIAS):
            props = evaluate(resource.get("Properties") or {}, context, ("Resources", logical_id, "Properties"))
            resolved[logical_id] = {k: v for k, v in props.items() if v is not NO_VALUE}

    # each function's versions and aliases, grouped by the function they name in one pass (matching every
    # function against every resource was quadratic: 2.4 s of a one-file deploy at 499 functions)
    versions: dict[str | None, list[tuple[str, dict[str, Any]]]] = {}
    aliases: dict[str | None, list[dict[str, Any]]] = {}
    for lid, p in resolved.items():
        kind = resources[lid].get("Type")
        if kind == VERSION:
            versions.setdefault(_function_name(p.get("FunctionName")), []).append((lid, p))
        elif kind == ALIAS:
            aliases.setdefault(_function_name(p.get("FunctionName")), []).append(p)
    out = []
    for logical_id, props in resolved.items():
        if resources[logical_id].get("Type") != FUNCTION:
            continue
        name = stack.resources[logical_id].physical_id
        out.append(_expected(logical_id, name, props, versions.get(name, []), aliases.get(name, []), stack))
    return sorted(out, key=lambda f: f.logical_id)


def _may_concern(logical_id: str, resource: dict[str, Any], resources: dict[str, Any], only: Collection[str]
                 ) -> bool:
    """Whether ``resource`` is one of the functions in ``only``, or may be a version or alias of one: all but the
    versions and aliases that name another function of the template by ``Ref`` (a verify after a one-function deploy
    evaluates that function's resources, not the 2,500 of a big stack; two functions never share a name)."""
    kind = resource.get("Type")
    if kind == FUNCTION:
        return logical_id in only
    if kind not in (VERSION, ALIAS):
        return False
    target = (resource.get("Properties") or {}).get("FunctionName") if isinstance(
        resource.get("Properties"), dict) else None
    if isinstance(target, dict) and list(target) == ["Ref"] and isinstance(target["Ref"], str):
        named = resources.get(target["Ref"])
        if isinstance(named, dict) and named.get("Type") == FUNCTION:
            return target["Ref"] in only
    return True


def _expected(logical_id: str, name: str, props: dict[str, Any], versions: list[tuple[str, dict]],
              aliases: list[dict], stack: DeployedStack) -> ExpectedFunction:
    settings: dict[str, Any] = {}
    unchecked: list[str] = []
    for setting in SETTINGS:
        value = props.get(setting.prop)
        if contains_unresolved(value):
            unchecked.append(setting.name)
            continue
        settings[setting.name] = setting.from_template(value)
    code = props.get("Code")
    if not isinstance(code, dict):
        code = {}
    location = None
    if isinstance(code.get("S3Bucket"), str) and isinstance(code.get("S3Key"), str):
        location = {"S3Bucket": code["S3Bucket"], "S3Key": code["S3Key"]}
        if code.get("S3ObjectVersion"):
            location["S3ObjectVersion"] = str(code["S3ObjectVersion"])
    code_sha = next((str(p["CodeSha256"]) for _, p in versions if isinstance(p.get("CodeSha256"), str)), None)
    if code_sha is None and location:
        sha256 = artifact_sha256_of_key(location["S3Key"])
        if sha256:
            code_sha = code_sha256_of(sha256)
    if code_sha is None:
        unchecked.append("CodeSha256")
    numbers = tuple(n for n in (version_number_of(stack.resources[lid].physical_id) for lid, _ in versions) if n)
    return ExpectedFunction(
        logical_id=logical_id, name=name, code_sha256=code_sha, code_location=location, settings=settings,
        unchecked=tuple(unchecked), versions=numbers, version_descriptions=_published_descriptions(versions, stack),
        aliases=tuple(sorted((_alias(p) for p in aliases), key=lambda a: a.name)))


def _published_descriptions(versions: list[tuple[str, dict]], stack: DeployedStack) -> dict[str, Any]:
    """Version number -> the description its Version resource published it with (SAM's VersionDescription); the
    deployed template holds it, because a deployed Version keeps the description it was published with
    (``strata.transform.published``). A description known only at deploy time is not checked."""
    out: dict[str, Any] = {}
    for lid, props in versions:
        number = version_number_of(stack.resources[lid].physical_id)
        value = props.get("Description")
        if number and value not in (None, "") and not contains_unresolved(value):
            out[number] = BY_NAME["Description"].from_template(value)
    return out


def _alias(props: dict[str, Any]) -> ExpectedAlias:
    return ExpectedAlias(name=str(props.get("Name")),
                         routing=AliasRouting.from_template(props, unknown=contains_unresolved))


def stack_context(stack: DeployedStack) -> Context:
    """Evaluation context of the deployed template: its parameter values, pseudo parameters and physical ids. A
    NoEcho value CloudFormation reads back as ``****`` is not known: what depends on it is unchecked."""
    hidden = no_echo_names(stack.template)
    parameters = {k: Unresolved({"Ref": k}, frozenset()) if k in hidden and v == MASK else v
                  for k, v in stack.parameters.items()}
    return context_for(stack.template, parameters, region=stack.region, account_id=stack.account_id,
                       stack_name=stack.name, partition=stack.partition, stack_id=stack.stack_id,
                       resolve_resource=lambda lid, attr: _resolve(stack, lid, attr))


def _resolve(stack: DeployedStack, logical_id: str, attribute: str | None) -> Any:
    """Ref/GetAtt from what the target recorded; well-known ARNs derived from the physical id; else Unresolved."""
    unknown = Unresolved({"Ref": logical_id} if attribute is None else {"Fn::GetAtt": [logical_id, attribute]},
                         frozenset((logical_id,)))
    res: StackResource | None = stack.resources.get(logical_id)
    if res is None or not res.physical_id:
        return unknown
    if attribute is None:
        return res.attributes.get("Ref", res.physical_id)
    if attribute in res.attributes:
        return res.attributes[attribute]
    if res.type == FUNCTION and attribute == "Arn":
        return function_arn(stack.region, stack.account_id, res.physical_id, partition=stack.partition)
    if res.type == "AWS::IAM::Role" and attribute == "Arn":
        props = ((stack.template.get("Resources") or {}).get(logical_id) or {}).get("Properties") or {}
        path = props.get("Path") if isinstance(props.get("Path"), str) else "/"
        return f"arn:{stack.partition}:iam::{stack.account_id}:role{path}{res.physical_id}"
    if res.type == VERSION and attribute == "Version":
        return version_number_of(res.physical_id) or unknown
    if res.type == VERSION and attribute == "FunctionArn":
        return str(FunctionRef.parse(res.physical_id).with_qualifier(None)) if version_number_of(res.physical_id) \
            else unknown
    return unknown


def _function_name(value: Any) -> str | None:
    """A function name, partial or full ARN -> its name (None for a value that is no text)."""
    return function_name_of(value) if isinstance(value, str) else None
