"""CloudFormation change sets: create, wait until ready, read the changes as typed values, execute or delete.

An empty change set is not an error: CloudFormation marks it FAILED with "The submitted information didn't contain
changes", or refuses CreateChangeSet itself with "No updates are to be performed" (moto does that when tags are
given); ``create_change_set`` returns it with ``empty=True`` and the caller deletes it (if it exists) and reports
"no changes".
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from strata.aws.errors import DeployFailedError, aws_errors, error_message

EMPTY_REASONS = ("didn't contain changes", "No updates are to be performed", "No updates to be performed")
TEMPLATE_BODY_LIMIT = 51_200


@dataclass(frozen=True)
class ResourceChange:
    action: str                     # Add, Modify, Remove, Import, Dynamic
    logical_id: str
    resource_type: str
    physical_id: str | None = None
    replacement: str | None = None  # True, False, Conditional (Modify only)
    details: tuple[str, ...] = ()   # property names whose change causes it


@dataclass
class ChangeSet:
    stack_name: str
    name: str
    change_set_type: str           # CREATE or UPDATE
    id: str | None = None
    status: str | None = None
    reason: str | None = None
    changes: list[ResourceChange] = field(default_factory=list)
    exists: bool = True            # False when CloudFormation refused to create it (nothing to delete)

    @property
    def empty(self) -> bool:
        return self.status == "FAILED" and any(text in (self.reason or "") for text in EMPTY_REASONS)


@dataclass(frozen=True)
class ChangeSetRequest:
    stack_name: str
    template_body: str | None
    template_url: str | None
    change_set_type: str
    parameters: dict[str, str]
    capabilities: tuple[str, ...]
    tags: dict[str, str]
    description: str = "Created by strata"
    keep_previous: tuple[str, ...] = ()      # parameters sent as UsePreviousValue (SAM's rule for those not given)
    role_arn: str | None = None
    notification_arns: tuple[str, ...] = ()


def create_change_set(cfn: Any, request: ChangeSetRequest, *, name: str | None = None,
                      sleep: Callable[[float], None] = time.sleep, timeout: float = 900.0) -> ChangeSet:
    """CreateChangeSet, then poll DescribeChangeSet until it is ready (or failed/empty)."""
    name = name or f"strata-{int(time.time() * 1000)}"
    kwargs: dict[str, Any] = {
        "StackName": request.stack_name, "ChangeSetName": name, "ChangeSetType": request.change_set_type,
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(request.parameters.items())]
        + [{"ParameterKey": k, "UsePreviousValue": True} for k in sorted(request.keep_previous)
           if k not in request.parameters],
        "Capabilities": list(request.capabilities), "Description": request.description,
        "Tags": [{"Key": k, "Value": v} for k, v in sorted(request.tags.items())]}
    if request.role_arn:
        kwargs["RoleARN"] = request.role_arn
    if request.notification_arns:
        kwargs["NotificationARNs"] = list(request.notification_arns)
    if request.template_url:
        kwargs["TemplateURL"] = request.template_url
    else:
        kwargs["TemplateBody"] = request.template_body
    from botocore.exceptions import ClientError

    where = f"creating a change set for stack {request.stack_name}"
    with aws_errors(where, stack=request.stack_name):
        try:
            created = cfn.create_change_set(**kwargs)
        except ClientError as exc:
            if not any(text in error_message(exc) for text in EMPTY_REASONS):
                raise
            return ChangeSet(request.stack_name, name, request.change_set_type, status="FAILED",
                             reason=error_message(exc), exists=False)
    change_set = ChangeSet(request.stack_name, name, request.change_set_type, id=created.get("Id"))
    waited = 0.0
    delay = 0.5
    while True:
        described = describe_change_set(cfn, change_set)
        if described.status in ("CREATE_COMPLETE", "FAILED", "DELETE_COMPLETE", "DELETE_FAILED"):
            break
        if waited >= timeout:
            raise DeployFailedError(f"change set {name} is still {described.status} after {timeout:.0f} s",
                                    hint="look at it in the CloudFormation console")
        sleep(delay)
        waited += delay
        delay = min(delay * 2, 5.0)
    if described.status != "CREATE_COMPLETE" and not described.empty:
        raise DeployFailedError(f"CloudFormation could not create change set {name} for stack "
                                f"{request.stack_name}: {described.reason or described.status}",
                                hint="fix the template or parameters named above and deploy again")
    return described


def describe_change_set(cfn: Any, change_set: ChangeSet) -> ChangeSet:
    """Status and every resource change (all pages)."""
    changes: list[ResourceChange] = []
    token = None
    status = reason = None
    while True:
        kwargs = {"StackName": change_set.stack_name, "ChangeSetName": change_set.id or change_set.name}
        if token:
            kwargs["NextToken"] = token
        with aws_errors(f"reading change set {change_set.name}", stack=change_set.stack_name):
            page = cfn.describe_change_set(**kwargs)
        status, reason = page.get("Status"), page.get("StatusReason")
        for change in page.get("Changes") or []:
            rc = change.get("ResourceChange") or {}
            changes.append(ResourceChange(
                action=str(rc.get("Action", "")), logical_id=str(rc.get("LogicalResourceId", "")),
                resource_type=str(rc.get("ResourceType", "")), physical_id=rc.get("PhysicalResourceId") or None,
                replacement=rc.get("Replacement"),
                details=tuple(sorted({str((d.get("Target") or {}).get("Name")) for d in rc.get("Details") or []
                                      if (d.get("Target") or {}).get("Name")}))))
        token = page.get("NextToken")
        if not token:
            break
    return ChangeSet(change_set.stack_name, change_set.name, change_set.change_set_type, id=change_set.id,
                     status=status, reason=reason, changes=changes)


def delete_change_set(cfn: Any, change_set: ChangeSet) -> None:
    if not change_set.exists:
        return
    with aws_errors(f"deleting change set {change_set.name}", stack=change_set.stack_name):
        cfn.delete_change_set(StackName=change_set.stack_name, ChangeSetName=change_set.id or change_set.name)


def execute_change_set(cfn: Any, change_set: ChangeSet, *, disable_rollback: bool = False) -> None:
    """ExecuteChangeSet; ``disable_rollback`` (``--disable-rollback``, ``--on-failure DO_NOTHING``) keeps what a
    failed deploy did."""
    extra = {"DisableRollback": True} if disable_rollback else {}
    with aws_errors(f"executing change set {change_set.name}", stack=change_set.stack_name):
        cfn.execute_change_set(StackName=change_set.stack_name, ChangeSetName=change_set.id or change_set.name,
                               **extra)
