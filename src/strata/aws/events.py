"""Follow a stack operation: print each new stack event, stop at a terminal status, name the first failure.

Events are read newest-first from DescribeStackEvents; only those newer than the stack's newest event before the
operation began (``after``: an event id, so local clock skew does not matter) are shown, oldest first. The first failure
is the first ``*_FAILED`` event with a reason other than CloudFormation's knock-on "Resource creation cancelled" (that
is the cause, the rest are consequences).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from strata.aws.errors import DeployFailedError, aws_errors
from strata.aws.stack import TERMINAL_BAD, TERMINAL_OK

KNOCK_ON = ("Resource creation cancelled", "Resource update cancelled", "cancelled", "The following resource(s) failed")


@dataclass(frozen=True)
class StackEvent:
    event_id: str
    timestamp: datetime | None
    logical_id: str
    resource_type: str
    status: str
    reason: str | None


@dataclass
class FollowResult:
    status: str
    events: list[StackEvent] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in TERMINAL_OK

    def first_failure(self) -> StackEvent | None:
        failed = [e for e in self.events if e.status.endswith("_FAILED") and e.reason]
        for event in failed:
            if not any(text in (event.reason or "") for text in KNOCK_ON):
                return event
        return failed[0] if failed else None


def newest_event_id(cfn: Any, stack_name: str) -> str | None:
    """The id of the stack's newest event (None for a stack that does not exist yet)."""
    from botocore.exceptions import ClientError

    try:
        with aws_errors(f"reading events of stack {stack_name}", stack=stack_name):
            events = cfn.describe_stack_events(StackName=stack_name).get("StackEvents") or []
    except Exception as exc:
        if isinstance(exc.__cause__, ClientError):
            return None
        raise
    return str(events[0].get("EventId")) if events else None


def follow_stack(cfn: Any, stack_name: str, *, after: str | None, show: Callable[[StackEvent], None],
                 sleep: Callable[[float], None] = time.sleep, poll: float = 2.0, timeout: float = 3600.0
                 ) -> FollowResult:
    """Poll until the stack reaches a terminal status; call ``show`` for each new event."""
    seen: set[str] = {after} if after else set()
    result = FollowResult(status="")
    waited = 0.0
    while True:
        for event in _new_events(cfn, stack_name, seen):
            result.events.append(event)
            show(event)
        with aws_errors(f"reading stack {stack_name}", stack=stack_name):
            status = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]["StackStatus"]
        if status in TERMINAL_OK or status in TERMINAL_BAD:
            for event in _new_events(cfn, stack_name, seen):
                result.events.append(event)
                show(event)
            result.status = status
            return result
        if waited >= timeout:
            raise DeployFailedError(f"stack {stack_name} is still {status} after {timeout:.0f} s",
                                    hint="follow it with `aws cloudformation describe-stack-events`")
        sleep(poll)
        waited += poll


def _new_events(cfn: Any, stack_name: str, seen: set[str]) -> list[StackEvent]:
    fresh: list[StackEvent] = []
    token = None
    while True:
        kwargs = {"StackName": stack_name, **({"NextToken": token} if token else {})}
        with aws_errors(f"reading events of stack {stack_name}", stack=stack_name):
            page = cfn.describe_stack_events(**kwargs)
        stop = False
        for raw in page.get("StackEvents") or []:
            event = StackEvent(str(raw.get("EventId", "")), raw.get("Timestamp"), str(raw.get("LogicalResourceId", "")),
                               str(raw.get("ResourceType", "")), str(raw.get("ResourceStatus", "")),
                               raw.get("ResourceStatusReason"))
            if event.event_id in seen:
                stop = True
                break
            seen.add(event.event_id)
            fresh.append(event)
        token = page.get("NextToken")
        if stop or not token:
            break
    return list(reversed(fresh))

