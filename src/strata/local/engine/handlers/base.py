"""What a resource handler is: create/update/delete one resource type through a boto3-style Lambda client, plus
``intent`` (the physical identity chosen before a call, journaled) and ``reconcile`` (after a crash: did the call
with that intent take effect? read the service to find out).

Handlers receive resolved properties (plain JSON, no intrinsics). An update never issues a call that changes
nothing: Lambda counts every successful update as a change, and the next publish would cut a version with nothing
new in it."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from strata.errors import StrataError
from strata.local.engine.client import LambdaClient
from strata.local.engine.model import DeployedResource
from strata.model.naming import function_arn

ALL = frozenset({"*"})     # replace_on value: every property is create-only


class ResourceFailed(StrataError):
    """A resource could not be created/updated/deleted; ``message`` is what CloudFormation would report."""


@dataclass
class HandlerContext:
    client: LambdaClient
    stack_name: str
    region: str
    account_id: str
    deploy_id: int = 0
    partition: str = "aws"
    checkpoint: Callable[[str], None] = field(default=lambda point: None)

    def function_arn(self, name: str, qualifier: str | None = None) -> str:
        return function_arn(self.region, self.account_id, name, qualifier, partition=self.partition)


@dataclass(frozen=True)
class Outcome:
    """The result of a create or update: the physical id and the attributes (``Ref`` plus GetAtt names)."""

    physical_id: str
    attributes: dict[str, Any]


class Handler:
    """Base class; subclasses set ``type_name`` and ``replace_on`` and override the operations they support."""

    type_name: ClassVar[str] = ""
    replace_on: ClassVar[frozenset[str]] = frozenset()
    emulated: ClassVar[bool] = True

    def requires_replacement(self, changed: set[str]) -> set[str]:
        """The changed properties that force a new physical resource."""
        if self.replace_on is ALL:
            return set(changed)
        return changed & self.replace_on

    def intent(self, ctx: HandlerContext, logical_id: str, props: dict[str, Any], nonce: str) -> dict[str, Any]:
        """Identity of the resource about to be created, fixed before the call (journaled for recovery)."""
        return {}

    def create(self, ctx: HandlerContext, logical_id: str, props: dict[str, Any],
               intent: dict[str, Any]) -> Outcome:
        raise NotImplementedError

    def update(self, ctx: HandlerContext, current: DeployedResource, props: dict[str, Any]) -> Outcome:
        """Bring ``current`` to ``props`` in place (same physical id)."""
        return Outcome(current.physical_id, current.attributes)

    def delete(self, ctx: HandlerContext, current: DeployedResource) -> None:
        return None

    def reconcile(self, ctx: HandlerContext, logical_id: str, props: dict[str, Any],
                  intent: dict[str, Any]) -> Outcome | None:
        """After a crash between the intent and its confirmation: the outcome if the create took effect."""
        return None


class AliasShifter(Protocol):
    """Moves an alias under ``UpdatePolicy: CodeDeployLambdaAliasUpdate`` (``strata.local.shift.Shifter``): injected
    into the engine by its caller, so the engine never imports the shifter."""

    def update_alias(self, executor: Any, logical_id: str, policy: dict[str, Any], handler: Any,
                     current: DeployedResource, props: dict[str, Any]) -> Outcome: ...
