"""The one table of resource properties the local target records but does not emulate: ``plan`` (and so ``deploy``)
warns about each one a template turns on, with its property path; ``--strict`` makes them an error.

Why a table per property: these resource types are emulated (their handlers call the local Lambda service), yet a
function that relies on one of these features behaves differently here than on Lambda, and the difference would
surface only at invoke (a durable function's first checkpoint, a missing EFS mount, a VPC-only endpoint). Each entry
says what is missing, by what the local runtime actually does: it runs the code on the host interpreter with the
function's handler, runtime, memory, timeout, environment, layers, architectures, ephemeral storage and logging
format (``strata.local.runtime.api.FunctionSnapshot``); nothing else reaches it. An entry's ``applies`` says which
values turn the feature on (``VpcConfig`` with no subnets, ``TracingConfig`` in PassThrough mode or ``SnapStart``
with ``ApplyOn: None`` change nothing). A value known only at deploy time counts as on.

Left out on purpose: ``Code.ImageUri`` and ``ImageConfig`` (Lambda takes them only with ``PackageType: Image``,
which is listed), ``KmsKeyArn`` (encryption at rest of the environment: the handler sees the same variables),
``RecursiveLoop`` (Lambda's loop guard, not a feature a function uses), tags, concurrency and descriptions.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from strata.template.intrinsics import contains_unresolved


def _given(value: Any) -> bool:
    return value not in (None, "", [], {})


def _member_not(member: str, *off: str) -> Callable[[Any], bool]:
    """On unless the member is absent or one of the values that leave the feature off."""
    def applies(value: Any) -> bool:
        return not isinstance(value, dict) or (member in value and value[member] not in off)
    return applies


def _has_subnets(value: Any) -> bool:
    return not isinstance(value, dict) or _given(value.get("SubnetIds"))


def _image(value: Any) -> bool:
    return value == "Image" or contains_unresolved(value)


@dataclass(frozen=True)
class Unemulated:
    """What the local target does not do when the property is on, and which values turn it on."""

    missing: str
    applies: Callable[[Any], bool] = _given


UNEMULATED: dict[str, dict[str, Unemulated]] = {
    "AWS::Lambda::Function": {
        "DurableConfig": Unemulated("durable executions (checkpoints, replay, waits) are not run locally: the "
                                    "handler runs as a plain invocation"),
        "VpcConfig": Unemulated("no VPC network isolation: the function reaches what this machine reaches and "
                                "none of the VPC's private endpoints", _has_subnets),
        "FileSystemConfigs": Unemulated("no EFS file system is mounted at its LocalMountPath"),
        "SnapStart": Unemulated("no snapshot and restore: runtime hooks around a snapshot never run",
                                _member_not("ApplyOn", "None")),
        "PackageType": Unemulated("container images are not run locally: the local Lambda service refuses "
                                  "PackageType Image at apply", _image),
        "CodeSigningConfigArn": Unemulated("code signatures are not checked locally"),
        "DeadLetterConfig": Unemulated("a failed asynchronous invocation is not sent to the dead-letter queue",
                                       _member_not("TargetArn", "")),
        "TracingConfig": Unemulated("no X-Ray traces are recorded", _member_not("Mode", "PassThrough")),
        "RuntimeManagementConfig": Unemulated("the runtime version is the local interpreter's, never the pinned one",
                                              _member_not("UpdateRuntimeOn", "Auto")),
        "CapacityProviderConfig": Unemulated("Lambda Managed Instances are not emulated: the function runs in "
                                             "local workers, one request per environment"),
        "FunctionScalingConfig": Unemulated("Lambda Managed Instances scaling is not emulated"),
        "TenancyConfig": Unemulated("tenant isolation is not emulated: tenants share execution environments"),
    },
    "AWS::Lambda::Version": {
        "ProvisionedConcurrencyConfig": Unemulated("no environments are initialised ahead of invocations"),
    },
    "AWS::Lambda::Alias": {
        "ProvisionedConcurrencyConfig": Unemulated("no environments are initialised ahead of invocations"),
    },
    "AWS::Lambda::EventInvokeConfig": {
        "DestinationConfig": Unemulated("asynchronous results are not sent to their destinations"),
    },
}


def unemulated_properties(type_name: str, properties: Any) -> list[tuple[str, str]]:
    """(property, what is missing) for each property of a resource of ``type_name`` the local target does not
    emulate, in the table's order; ``properties`` are resolved (a value known only at deploy time counts as on)."""
    table = UNEMULATED.get(type_name)
    if not table or not isinstance(properties, dict):
        return []
    found = []
    for name, entry in table.items():
        if name not in properties:
            continue
        if entry.applies(properties[name]):
            found.append((name, entry.missing))
    return found
