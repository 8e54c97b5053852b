"""Any resource type the local engine does not emulate: kept in state with a synthesised physical id, so references
to it resolve; every change is recorded, never executed. ``plan`` and ``deploy`` list these loudly."""
from __future__ import annotations

from typing import Any

from strata.local.engine.handlers.base import Handler, HandlerContext, Outcome
from strata.local.engine.model import DeployedResource
from strata.model.naming import generated_name


class NotEmulatedHandler(Handler):
    type_name = "*"
    emulated = False

    def requires_replacement(self, changed: set[str]) -> set[str]:
        return set()

    def intent(self, ctx: HandlerContext, logical_id: str, props: dict[str, Any], nonce: str) -> dict[str, Any]:
        return {"name": generated_name(ctx.stack_name, logical_id, nonce)}

    def create(self, ctx: HandlerContext, logical_id: str, props: dict[str, Any],
               intent: dict[str, Any]) -> Outcome:
        return Outcome(intent["name"], {"Ref": intent["name"]})

    def update(self, ctx: HandlerContext, current: DeployedResource, props: dict[str, Any]) -> Outcome:
        return Outcome(current.physical_id, current.attributes)


def synthetic_attribute(physical_id: str, attribute: str) -> str:
    """What a GetAtt of a not-emulated resource resolves to: a recognisable placeholder."""
    return f"{physical_id}.{attribute}"
