"""``strata delete --target aws`` (and ``--on-failure DELETE``): DeleteStack, then wait until it is gone.

Contract: changes only the named stack. Resources with ``DeletionPolicy: Retain`` are kept by CloudFormation, as
always; the artifacts in S3 stay (they are content-addressed and may serve other stacks; SAM asks before deleting
them, strata leaves them to ``aws s3 rm``).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from strata.aws.errors import DeployFailedError, aws_errors
from strata.aws.stack import describe_stack


def delete_stack(cfn: Any, stack_name: str, *, progress: Callable[[str], None] | None = None,
                 sleep: Callable[[float], None] = time.sleep, timeout: float = 3600.0) -> dict[str, Any]:
    """Delete ``stack_name`` and wait; ``{"StackName", "Status"}`` (``DELETE_COMPLETE``, or ``NOT_FOUND`` when
    there was no such stack). A failed deletion raises with CloudFormation's reason."""
    stack = describe_stack(cfn, stack_name)
    if stack is None or stack.get("StackStatus") == "DELETE_COMPLETE":
        return {"StackName": stack_name, "Status": "NOT_FOUND"}
    stack_id = stack.get("StackId") or stack_name
    if progress:
        progress(f"Deleting stack {stack_name}")
    with aws_errors(f"deleting stack {stack_name}", stack=stack_name):
        cfn.delete_stack(StackName=stack_name)
    waited = 0.0
    while True:
        current = describe_stack(cfn, stack_id)    # by id: a deleted stack's name no longer answers
        status = str((current or {}).get("StackStatus", "DELETE_COMPLETE"))
        if status == "DELETE_COMPLETE":
            return {"StackName": stack_name, "Status": status}
        if status == "DELETE_FAILED":
            raise DeployFailedError(f"CloudFormation could not delete stack {stack_name}: "
                                    f"{(current or {}).get('StackStatusReason') or status}",
                                    hint="see `aws cloudformation describe-stack-events --stack-name "
                                         f"{stack_name}`; retain or empty what blocks it, then delete again")
        if waited >= timeout:
            raise DeployFailedError(f"stack {stack_name} is still {status} after {timeout:.0f} s")
        sleep(1.0)
        waited += 1.0
