"""``AWS::Lambda::Alias``: Name and FunctionName are create-only (a change replaces the alias); FunctionVersion,
Description and RoutingConfig update in place. CloudFormation's RoutingConfig is a list, the API's a map: both read
and written by ``strata.model.routing.AliasRouting``. Ref: the alias ARN."""
from __future__ import annotations

from typing import Any

from strata.local.engine.handlers.base import Handler, HandlerContext, Outcome
from strata.local.engine.model import DeployedResource
from strata.model.lambda_errors import is_not_found
from strata.model.naming import function_and_qualifier, function_name_of
from strata.model.routing import AliasRouting


class AliasHandler(Handler):
    type_name = "AWS::Lambda::Alias"
    replace_on = frozenset({"Name", "FunctionName"})

    def intent(self, ctx: HandlerContext, logical_id: str, props: dict[str, Any], nonce: str) -> dict[str, Any]:
        return {"function": function_name_of(str(props["FunctionName"])), "name": str(props["Name"])}

    def create(self, ctx: HandlerContext, logical_id: str, props: dict[str, Any],
               intent: dict[str, Any]) -> Outcome:
        params = {"FunctionName": intent["function"], "Name": intent["name"], **_members(props)}
        result = ctx.client.create_alias(**params)
        return _outcome(result.get("AliasArn") or ctx.function_arn(intent["function"], intent["name"]))

    def reconcile(self, ctx: HandlerContext, logical_id: str, props: dict[str, Any],
                  intent: dict[str, Any]) -> Outcome | None:
        try:
            result = ctx.client.get_alias(FunctionName=intent["function"], Name=intent["name"])
        except Exception as exc:  # noqa: BLE001
            if is_not_found(exc):
                return None
            raise
        return _outcome(result.get("AliasArn") or ctx.function_arn(intent["function"], intent["name"]))

    def update(self, ctx: HandlerContext, current: DeployedResource, props: dict[str, Any]) -> Outcome:
        members = _members(props)
        old = _members(current.properties)
        if current.dirty or members != old:
            function = function_name_of(str(props["FunctionName"]))
            ctx.client.update_alias(FunctionName=function, Name=str(props["Name"]), **members)
        return Outcome(current.physical_id, current.attributes)

    def delete(self, ctx: HandlerContext, current: DeployedResource) -> None:
        function, alias = function_and_qualifier(current.physical_id)
        try:
            ctx.client.delete_alias(FunctionName=function, Name=alias)
        except Exception as exc:  # noqa: BLE001
            if not is_not_found(exc):
                raise


def _members(props: dict[str, Any]) -> dict[str, Any]:
    """The updatable members in API form; Description and RoutingConfig always present, so removing them resets."""
    return {**AliasRouting.from_template(props).to_api(), "Description": props.get("Description", "")}


def _outcome(arn: str) -> Outcome:
    return Outcome(arn, {"Ref": arn, "AliasArn": arn})
