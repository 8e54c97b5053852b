"""Read models over the stack state: describe, stacks, events, and ``stack_function`` / ``resolve_function`` (a
stack's logical id -> the Lambda function name, for ``strata invoke/logs LOGICAL_ID --stack-name S`` and
``strata rollback``). Reads only."""
from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from strata.errors import StateError
from strata.local.engine.model import DeployedResource
from strata.local.engine.state import StackRecord, StackState
from strata.model.deploy import DEFAULT_ACCOUNT, DEFAULT_REGION
from strata.model.naming import FunctionRef, function_name_of
from strata.model.routing import AliasRouting
from strata.template.parameters import mask, mask_parameters, no_echo_names, secret_values

FUNCTION = "AWS::Lambda::Function"
VERSION = "AWS::Lambda::Version"
ALIAS = "AWS::Lambda::Alias"


def _state(home: Path) -> StackState:
    return StackState(Path(home))


def _require(state: StackState, stack_name: str) -> StackRecord:
    stack = state.stack(stack_name)
    if stack is None:
        names = ", ".join(s.name for s in state.stacks()) or "none"
        raise StateError(f"stack {stack_name!r} does not exist (stacks: {names})",
                         hint="deploy it with `strata deploy`, or pass --stack-name")
    return stack


def describe(home: Path, stack_name: str) -> dict[str, Any]:
    """Resources with physical ids, per function its versions and aliases (with their versions), outputs."""
    state = _state(home)
    try:
        stack = _require(state, stack_name)
        resources = state.resources(stack_name)
        orphans = state.orphans(stack_name)
        interrupted = state.has_unfinished_deploy(stack_name)
    finally:
        state.close()
    functions: dict[str, dict[str, Any]] = {}
    by_name: dict[str, str] = {}
    from strata.local.runtime.interpreter import described

    for res in resources.values():
        if res.type == FUNCTION:
            functions[res.logical_id] = {"FunctionName": res.physical_id, "Arn": res.attributes.get("Arn"),
                                         "Versions": [], "Aliases": [],
                                         "Runs": described(res.properties.get("Runtime"),
                                                           res.properties.get("PackageType"), home)}
            by_name[res.physical_id] = res.logical_id
    for res in resources.values():
        if res.type == VERSION:
            owner = by_name.get(function_name_of(res.physical_id))
            if owner:
                functions[owner]["Versions"].append({"LogicalResourceId": res.logical_id,
                                                     "Version": res.attributes.get("Version")})
        elif res.type == ALIAS:
            owner = by_name.get(function_name_of(res.physical_id))
            if owner:
                routing = AliasRouting.from_template(res.properties)
                functions[owner]["Aliases"].append({
                    "LogicalResourceId": res.logical_id, "Name": res.properties.get("Name"),
                    "FunctionVersion": routing.primary, "AdditionalVersionWeights": routing.weight_map()})
    _add_retained_versions(home, functions)
    for fn in functions.values():
        fn["Versions"].sort(key=lambda v: int(v["Version"]) if str(v.get("Version", "")).isdigit() else 0)
    secrets = secret_values(stack.template or {}, stack.parameters or {})
    return {
        "StackName": stack.name, "StackStatus": stack.status, "LastUpdated": stack.updated_at,
        "Interrupted": interrupted,
        "Resources": [{"LogicalResourceId": r.logical_id, "ResourceType": r.type,
                       "PhysicalResourceId": r.physical_id, "Emulated": r.emulated,
                       "DeletionPolicy": r.deletion_policy} for r in resources.values()],
        "Functions": functions,
        "PendingCleanup": [{"LogicalResourceId": o.logical_id, "PhysicalResourceId": o.physical_id}
                           for o, _ in orphans],
        "Outputs": mask(stack.outputs, secrets),
        "Parameters": mask_parameters(stack.parameters or {}, no_echo_names(stack.template or {})),
    }


def _add_retained_versions(home: Path, functions: dict[str, dict[str, Any]]) -> None:
    """The versions each function holds that are no longer resources of the stack (a Version removed from the
    template with DeletionPolicy Retain, as AutoPublishAlias's are: Lambda keeps them, and an alias may still route
    to them): listed with ``"Retained": True``, as the Lambda service reports them."""
    if not functions:
        return
    from strata.local.engine.client import LocalLambdaClient

    client = LocalLambdaClient(home, region=DEFAULT_REGION, account_id=DEFAULT_ACCOUNT)
    try:
        for fn in functions.values():
            listed = {str(v["Version"]) for v in fn["Versions"]}
            marker = None
            while True:
                try:
                    page = client.list_versions_by_function(FunctionName=fn["FunctionName"], Marker=marker)
                except Exception:  # noqa: BLE001 - describe shows the stack even when the service cannot answer
                    break
                for version in page.get("Versions") or []:
                    number = str(version.get("Version"))
                    if number != "$LATEST" and number not in listed:
                        fn["Versions"].append({"LogicalResourceId": None, "Version": number, "Retained": True})
                        listed.add(number)
                marker = page.get("NextMarker")
                if not marker:
                    break
    finally:
        client.close()


def stacks(home: Path) -> list[dict[str, Any]]:
    state = _state(home)
    try:
        return [{"StackName": s.name, "StackStatus": s.status, "CreatedAt": s.created_at, "LastUpdated": s.updated_at,
                 "Resources": len(state.resources(s.name))} for s in state.stacks()]
    finally:
        state.close()


def events(home: Path, stack_name: str, limit: int | None = None) -> list[dict[str, Any]]:
    """Newest first; events outlive a deleted stack (as CloudFormation's do for a while)."""
    state = _state(home)
    try:
        found = state.events(stack_name, limit)
        if not found and state.stack(stack_name) is None:
            _require(state, stack_name)
        return found
    finally:
        state.close()


def resolve_target(home: Path, target: str, stack_name: str | None, default_stack: str | None = None) -> str:
    """How ``invoke`` and ``logs`` name a function: ``target`` unchanged without a stack (a name or ARN,
    ``NAME[:QUALIFIER]``), else ``LOGICAL_ID[:QUALIFIER]`` of the stack -> ``physical-name[:qualifier]``.
    ``default_stack`` (the stack ``deploy`` would name here) is tried when no stack is named: a logical id of it
    resolves there, anything else stays a function name."""
    if not stack_name and default_stack and not target.startswith("arn:"):
        state = _state(home)
        try:
            found = state.stack(default_stack) is not None and \
                FunctionRef.parse(target).name in state.resources(default_stack)
        finally:
            state.close()
        if found:
            stack_name = default_stack
    if not stack_name:
        return target
    given = FunctionRef.parse(target)
    physical = resolve_function(home, stack_name, given.name)
    if given.qualifier:
        return f"{function_name_of(physical)}:{given.qualifier}"
    return physical


def resolve_function(home: Path, stack_name: str, logical_id: str) -> str:
    """The Lambda function name behind ``logical_id`` of ``stack_name``: a Function's name, or ``name:qualifier``
    for a Version or an Alias."""
    state = _state(home)
    try:
        _require(state, stack_name)
        resources = state.resources(stack_name)
    finally:
        state.close()
    res = stack_function(resources, logical_id, stack_name, kinds=(FUNCTION, VERSION, ALIAS))
    if res.type == FUNCTION:
        return res.physical_id
    return FunctionRef.parse(res.physical_id).qualified_name


def stack_function(resources: Mapping[str, DeployedResource], key: str, stack_name: str, *,
                   kinds: Collection[str] = (FUNCTION,)) -> DeployedResource:
    """The resource of a locally deployed stack that ``key`` names: the logical id of a resource of one of
    ``kinds``, or a Function's own name. The one logical id -> function lookup of the local target (``invoke`` and
    ``logs`` with ``--stack-name``, ``rollback``); the AWS target's is ``strata.aws.stack.stack_function``."""
    res = resources.get(key)
    if res is None:
        res = next((r for r in resources.values() if r.type == FUNCTION and r.physical_id == key), None)
    if res is None or res.type not in kinds:
        known = ", ".join(sorted(r.logical_id for r in resources.values() if r.type == FUNCTION)) or "none"
        what = "is not a function of" if res is not None else "is not in the stack"
        raise StateError(f"{key} {what} {stack_name!r} (functions: {known})",
                         hint="pass a function's logical id, or the function name itself")
    return res
