"""Typed values of the stack engine: the desired resources (parsed once from the stack template), deployed records,
changes and the plan. Everything here is a plain frozen value, so a plan can be printed, compared and stored."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

STACK_TYPE = "AWS::CloudFormation::Stack"     # the stack's own events (its logical id: the stack name)


class Action(enum.StrEnum):
    """What a change does to one resource (CloudFormation's change-set actions, plus no-op)."""

    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    RETAIN = "retain"       # removed from the template but kept (DeletionPolicy: Retain)
    NOOP = "no-op"


@dataclass(frozen=True)
class DesiredResource:
    """One resource of the stack template, as written (properties unresolved)."""

    logical_id: str
    type: str
    properties: dict[str, Any]
    depends_on: tuple[str, ...] = ()
    condition: str | None = None
    deletion_policy: str = "Delete"
    update_replace_policy: str = "Delete"


@dataclass(frozen=True)
class DeployedResource:
    """One resource as the stack state records it: what was deployed and what it answers to Ref/GetAtt."""

    logical_id: str
    type: str
    physical_id: str
    properties: dict[str, Any]            # resolved properties as deployed
    attributes: dict[str, Any]            # GetAtt values; "Ref" holds the Ref value
    depends_on: tuple[str, ...] = ()      # logical ids it referenced when deployed (for delete order)
    deletion_policy: str = "Delete"
    update_replace_policy: str = "Delete"
    emulated: bool = True
    dirty: bool = False                   # an update was started but not confirmed: re-converge it

    @property
    def ref(self) -> Any:
        return self.attributes.get("Ref", self.physical_id)


@dataclass(frozen=True)
class Change:
    """One planned step: ``action`` on ``logical_id`` and why (``reasons``, human sentences)."""

    logical_id: str
    type: str
    action: Action
    reasons: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()          # top-level property names that differ
    physical_id: str | None = None         # the current physical id, when one exists
    emulated: bool = True
    conditional: bool = False              # decided on values known only during apply
    # a no-op decided without resolving: its template entry, what it depends on and the parameters are as last
    # deployed (``planner.plan``); apply skips it the same way
    untouched: bool = field(default=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"LogicalResourceId": self.logical_id, "ResourceType": self.type, "Action": self.action.value,
                "Reasons": list(self.reasons), "ChangedProperties": list(self.changed),
                "PhysicalResourceId": self.physical_id, "Emulated": self.emulated, "Conditional": self.conditional}


@dataclass(frozen=True)
class Plan:
    """The change set of one deploy: changes in apply order (creates/updates/replaces in dependency order, then
    deletes in reverse dependency order), plus warnings. ``is_empty`` means the deploy would change nothing."""

    stack_name: str
    changes: tuple[Change, ...]
    warnings: tuple[str, ...] = ()
    not_emulated: tuple[str, ...] = ()     # logical ids of resource types the local engine only records
    outputs_changed: bool = False
    recovering: bool = False               # an interrupted deploy will be completed first
    # what the plan was computed from, so apply executes it only over that (``Engine.deploy(plan=...)``): the stack
    # state's revision (``StackState.revision``) and the request's digest (``Request.digest``)
    state_revision: str = ""
    request_digest: str = ""
    # "<LogicalId>.Properties.<Name>: what is missing" for each property of an emulated resource that the local
    # target does not emulate (``strata.local.engine.unemulated``): warned by plan, refused by --strict
    not_emulated_properties: tuple[str, ...] = ()
    # local --env-vars overrides of this stack's functions, values masked (``strata.local.env_vars.Matched.view``):
    # shown with the plan, never part of it (no version, no change)
    local_overrides: dict[str, Any] | None = field(default=None, compare=False, hash=False)

    @property
    def effective(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action is not Action.NOOP)

    @property
    def is_empty(self) -> bool:
        return not self.effective and not self.outputs_changed and not self.recovering

    def to_dict(self) -> dict[str, Any]:
        return {"StackName": self.stack_name, "Changes": [c.to_dict() for c in self.effective],
                "Unchanged": [c.logical_id for c in self.changes if c.action is Action.NOOP],
                "Warnings": list(self.warnings), "NotEmulated": list(self.not_emulated),
                "NotEmulatedProperties": list(self.not_emulated_properties),
                "OutputsChanged": self.outputs_changed, "Recovering": self.recovering, "Empty": self.is_empty,
                "StateRevision": self.state_revision, "RequestDigest": self.request_digest,
                **({"LocalOverrides": self.local_overrides} if self.local_overrides is not None else {})}


@dataclass
class DesiredStack:
    """The stack template parsed at the edge: resources in template order, outputs, conditions already decided."""

    resources: dict[str, DesiredResource]
    outputs: dict[str, Any]
    excluded: frozenset[str] = frozenset()    # resources whose Condition is false
    template: dict[str, Any] = field(default_factory=dict)
    order: list[str] | None = field(default=None, compare=False, repr=False)   # apply order, once computed
    edges: dict[str, tuple[str, ...]] | None = field(default=None, compare=False, repr=False)   # the same
