"""``AWS::CodeDeploy::Application``, ``DeploymentGroup`` and ``DeploymentConfig``: recorded, and used by the traffic
shifter (``strata.local.shift``) rather than run by a CodeDeploy service. SAM emits them for ``DeploymentPreference``;
the alias update under ``UpdatePolicy: CodeDeployLambdaAliasUpdate`` reads the group's DeploymentConfigName (and a
custom config's TrafficRoutingConfig) from what is recorded here. Names are the given ones or CloudFormation-style
generated ones; a name change replaces. Ref: the name."""
from __future__ import annotations

from typing import Any, ClassVar

from strata.local.engine.handlers.base import ALL, Handler, HandlerContext, Outcome
from strata.local.engine.model import DeployedResource
from strata.model.naming import generated_name


class _Recorded(Handler):
    name_property: ClassVar[str] = ""

    def intent(self, ctx: HandlerContext, logical_id: str, props: dict[str, Any], nonce: str) -> dict[str, Any]:
        return {"name": props.get(self.name_property) or generated_name(ctx.stack_name, logical_id, nonce, 100)}

    def create(self, ctx: HandlerContext, logical_id: str, props: dict[str, Any],
               intent: dict[str, Any]) -> Outcome:
        return Outcome(intent["name"], {"Ref": intent["name"]})

    def reconcile(self, ctx: HandlerContext, logical_id: str, props: dict[str, Any],
                  intent: dict[str, Any]) -> Outcome | None:
        return self.create(ctx, logical_id, props, intent)

    def update(self, ctx: HandlerContext, current: DeployedResource, props: dict[str, Any]) -> Outcome:
        return Outcome(current.physical_id, current.attributes)


class ApplicationHandler(_Recorded):
    type_name = "AWS::CodeDeploy::Application"
    replace_on = frozenset({"ApplicationName", "ComputePlatform"})
    name_property = "ApplicationName"


class DeploymentGroupHandler(_Recorded):
    type_name = "AWS::CodeDeploy::DeploymentGroup"
    replace_on = frozenset({"ApplicationName", "DeploymentGroupName"})
    name_property = "DeploymentGroupName"


class DeploymentConfigHandler(_Recorded):
    type_name = "AWS::CodeDeploy::DeploymentConfig"
    replace_on = ALL                  # every property is create-only
    name_property = "DeploymentConfigName"
