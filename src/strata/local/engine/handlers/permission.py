"""``AWS::Lambda::Permission``: AddPermission with a generated statement id; every property is create-only.
Ref: the statement id."""
from __future__ import annotations

import json
from typing import Any

from strata.local.engine.handlers.base import ALL, Handler, HandlerContext, Outcome
from strata.local.engine.model import DeployedResource
from strata.model.lambda_errors import is_not_found, is_unsupported
from strata.model.naming import FunctionRef, generated_name

_MEMBERS = ("Action", "Principal", "SourceArn", "SourceAccount", "EventSourceToken", "PrincipalOrgID",
            "FunctionUrlAuthType")


class PermissionHandler(Handler):
    type_name = "AWS::Lambda::Permission"
    replace_on = ALL

    def intent(self, ctx: HandlerContext, logical_id: str, props: dict[str, Any], nonce: str) -> dict[str, Any]:
        function = FunctionRef.parse(str(props["FunctionName"]))
        return {"sid": generated_name(ctx.stack_name, logical_id, nonce, max_length=100), "function": function.name,
                "qualifier": function.qualifier}

    def create(self, ctx: HandlerContext, logical_id: str, props: dict[str, Any],
               intent: dict[str, Any]) -> Outcome:
        params = {m: props[m] for m in _MEMBERS if m in props}
        try:
            ctx.client.add_permission(FunctionName=intent["function"], Qualifier=intent["qualifier"],
                                      StatementId=intent["sid"], **params)
        except Exception as exc:  # noqa: BLE001
            if not is_unsupported(exc):
                raise
            return _outcome(intent, recorded=True)
        return _outcome(intent)

    def reconcile(self, ctx: HandlerContext, logical_id: str, props: dict[str, Any],
                  intent: dict[str, Any]) -> Outcome | None:
        try:
            policy = ctx.client.get_policy(FunctionName=intent["function"], Qualifier=intent["qualifier"])
        except Exception as exc:  # noqa: BLE001
            if is_not_found(exc) or is_unsupported(exc):
                return None
            raise
        statements = json.loads(policy.get("Policy") or "{}").get("Statement", [])
        return _outcome(intent) if any(s.get("Sid") == intent["sid"] for s in statements) else None

    def delete(self, ctx: HandlerContext, current: DeployedResource) -> None:
        attrs = current.attributes
        if attrs.get("Recorded"):
            return
        try:
            ctx.client.remove_permission(FunctionName=attrs["FunctionName"], StatementId=current.physical_id,
                                         Qualifier=attrs.get("Qualifier"))
        except Exception as exc:  # noqa: BLE001
            if not is_not_found(exc):
                raise


def _outcome(intent: dict[str, Any], recorded: bool = False) -> Outcome:
    attrs = {"Ref": intent["sid"], "FunctionName": intent["function"], "Qualifier": intent["qualifier"]}
    if recorded:       # the local service has no resource policies: kept in state only
        attrs["Recorded"] = True
    return Outcome(intent["sid"], attrs)
