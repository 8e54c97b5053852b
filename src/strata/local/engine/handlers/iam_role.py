"""``AWS::IAM::Role``: recorded only (the local service does not enforce IAM); name and ARN are synthesised as
CloudFormation would make them. RoleName and Path are create-only. Ref: role name; GetAtt: Arn, RoleId."""
from __future__ import annotations

import hashlib
from typing import Any

from strata.local.engine.handlers.base import Handler, HandlerContext, Outcome
from strata.local.engine.model import DeployedResource
from strata.model.naming import generated_name


class RoleHandler(Handler):
    type_name = "AWS::IAM::Role"
    replace_on = frozenset({"RoleName", "Path"})

    def intent(self, ctx: HandlerContext, logical_id: str, props: dict[str, Any], nonce: str) -> dict[str, Any]:
        return {"name": props.get("RoleName") or generated_name(ctx.stack_name, logical_id, nonce)}

    def create(self, ctx: HandlerContext, logical_id: str, props: dict[str, Any],
               intent: dict[str, Any]) -> Outcome:
        name = intent["name"]
        path = props.get("Path") or "/"
        arn = f"arn:{ctx.partition}:iam::{ctx.account_id}:role{path}{name}"
        role_id = "AROA" + hashlib.sha256(arn.encode()).hexdigest()[:17].upper()
        return Outcome(name, {"Ref": name, "Arn": arn, "RoleId": role_id})

    def update(self, ctx: HandlerContext, current: DeployedResource, props: dict[str, Any]) -> Outcome:
        return Outcome(current.physical_id, current.attributes)
