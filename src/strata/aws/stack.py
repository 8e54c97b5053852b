"""Read a CloudFormation stack back as a ``DeployedStack``: status, parameters, outputs, processed template and
every resource's physical id. Read-only.

GetTemplate asks for the *Processed* stage: for a stack SAM deployed, the Original template still holds the SAM
transform, while Processed is the plain CloudFormation the resources came from (and equals Original otherwise).
"""
from __future__ import annotations

import json
from typing import Any

from strata.aws.errors import aws_errors, error_code, error_message
from strata.errors import StrataError
from strata.model.naming import account_of_arn
from strata.verify.model import DeployedStack, StackResource

FUNCTION = "AWS::Lambda::Function"
# Statuses in which the stack holds no deployed resources yet (created by a change set that never ran).
EMPTY_STATUSES = frozenset({"REVIEW_IN_PROGRESS"})
TERMINAL_OK = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"})
TERMINAL_BAD = frozenset({"CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "UPDATE_ROLLBACK_COMPLETE",
                          "UPDATE_ROLLBACK_FAILED", "UPDATE_FAILED", "DELETE_COMPLETE", "DELETE_FAILED",
                          "IMPORT_ROLLBACK_COMPLETE", "IMPORT_ROLLBACK_FAILED"})


def describe_stack(cfn: Any, name: str) -> dict[str, Any] | None:
    """DescribeStacks for ``name``; None when it does not exist."""
    from botocore.exceptions import ClientError

    with aws_errors(f"reading stack {name}", stack=name):
        try:
            stacks = cfn.describe_stacks(StackName=name)["Stacks"]
        except ClientError as exc:
            if error_code(exc) == "ValidationError" and "does not exist" in error_message(exc):
                return None
            raise
    return stacks[0] if stacks else None


def read_deployed_stack(cfn: Any, name: str, *, region: str, account_id: str, partition: str = "aws",
                        description: dict[str, Any] | None = None) -> DeployedStack | None:
    """The stack as deployed, or None when it does not exist or holds nothing yet (REVIEW_IN_PROGRESS)."""
    stack = description or describe_stack(cfn, name)
    if stack is None or stack.get("StackStatus") in EMPTY_STATUSES:
        return None
    with aws_errors(f"reading the template of stack {name}", stack=name):
        body = cfn.get_template(StackName=name, TemplateStage="Processed")["TemplateBody"]
    with aws_errors(f"listing the resources of stack {name}", stack=name):
        summaries = []
        for page in cfn.get_paginator("list_stack_resources").paginate(StackName=name):
            summaries += page.get("StackResourceSummaries", [])
    resources = {s["LogicalResourceId"]: StackResource(s["LogicalResourceId"], s.get("ResourceType", ""),
                                                         s.get("PhysicalResourceId") or "")
                 for s in summaries if s.get("LogicalResourceId")}
    stack_id = stack.get("StackId")
    if isinstance(stack_id, str):
        account_id = account_of_arn(stack_id) or account_id
    return DeployedStack(
        name=name, template=parse_template_body(body),
        parameters={p["ParameterKey"]: p.get("ResolvedValue") or p.get("ParameterValue", "")
                    for p in stack.get("Parameters") or []},
        resources=resources, region=region, account_id=account_id, partition=partition,
        status=stack.get("StackStatus"), stack_id=stack_id,
        outputs={o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs") or []})


def parse_template_body(body: Any) -> dict[str, Any]:
    """GetTemplate returns JSON already parsed by botocore, or YAML text."""
    if isinstance(body, dict):
        return json.loads(json.dumps(body))
    text = str(body)
    try:
        return json.loads(text)
    except ValueError:
        from strata.template.load import load_template_text

        return json.loads(json.dumps(load_template_text(text, "deployed-template.yaml").data, default=str))


def stack_function(cfn: Any, stack_name: str, key: str, *, or_name: bool = False) -> tuple[str, str]:
    """(logical id, function name) of the Function that ``key`` names in a CloudFormation stack: its logical id, or
    with ``or_name`` anything that is not a logical id of the stack, taken as the function's own name. The one
    logical id -> function lookup of the AWS target (the local one is ``strata.local.engine.describe``'s)."""
    try:
        detail = cfn.describe_stack_resource(StackName=stack_name, LogicalResourceId=key)["StackResourceDetail"]
    except Exception as exc:
        # "Resource X does not exist for stack S": not a logical id of the stack
        if or_name and error_code(exc) == "ValidationError" and error_message(exc).startswith("Resource "):
            return key, key
        raise
    if detail.get("ResourceType") != FUNCTION:
        raise StrataError(f"{key} in stack {stack_name} is a {detail.get('ResourceType')}, not a function")
    return key, str(detail["PhysicalResourceId"])
