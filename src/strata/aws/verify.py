"""verify on the AWS target: the deployed stack from CloudFormation, the live functions from Lambda, same checker."""
from __future__ import annotations

import time
from collections.abc import Callable

from strata.aws.errors import StackNotFoundError, StackStateError, aws_errors
from strata.aws.session import AwsSession
from strata.aws.stack import describe_stack, read_deployed_stack
from strata.verify import verify_stack
from strata.verify.model import DeployedStack, VerifyReport


def deployed_stack(session: AwsSession, stack_name: str) -> DeployedStack:
    """The stack as CloudFormation holds it; an error when there is none to verify."""
    cfn = session.client("cloudformation")
    description = describe_stack(cfn, stack_name)
    if description is None:
        raise StackNotFoundError(f"stack {stack_name} does not exist in {session.region_name}",
                                 hint="check --stack-name and --region, or deploy it first")
    stack = read_deployed_stack(cfn, stack_name, region=session.region_name, account_id="", partition=session.partition,
                                description=description)
    if stack is None:
        raise StackStateError(f"stack {stack_name} has not been deployed yet ({description.get('StackStatus')})",
                              hint="execute its change set, or deploy it")
    if not stack.account_id:
        stack = DeployedStack(**{**stack.__dict__, "account_id": session.account_id()})
    return stack


def verify_aws(session: AwsSession, stack_name: str, *, repair: bool = False,
               sleep: Callable[[float], None] = time.sleep) -> VerifyReport:
    """Check (and with ``repair`` fix) every function of the stack against what CloudFormation deployed."""
    stack = deployed_stack(session, stack_name)
    with aws_errors(f"verifying stack {stack_name}", stack=stack_name, profile=session.profile):
        return verify_stack(stack, session.client("lambda"), target="aws", repair=repair, sleep=sleep)
