"""``AWS::Lambda::Url``: recorded only (the local service serves no function URLs); the URL is synthesised so that
outputs and references resolve. TargetFunctionArn and Qualifier are create-only. GetAtt: FunctionUrl, FunctionArn."""
from __future__ import annotations

import hashlib
from typing import Any

from strata.local.engine.handlers.base import Handler, HandlerContext, Outcome
from strata.local.engine.model import DeployedResource


class UrlHandler(Handler):
    type_name = "AWS::Lambda::Url"
    replace_on = frozenset({"TargetFunctionArn", "Qualifier"})

    def create(self, ctx: HandlerContext, logical_id: str, props: dict[str, Any],
               intent: dict[str, Any]) -> Outcome:
        target = str(props["TargetFunctionArn"])
        if props.get("Qualifier"):
            target = f"{target}:{props['Qualifier']}"
        url_id = hashlib.sha256(target.encode()).hexdigest()[:32]
        url = f"https://{url_id}.lambda-url.{ctx.region}.on.aws/"
        return Outcome(target, {"Ref": target, "FunctionArn": target, "FunctionUrl": url})

    def update(self, ctx: HandlerContext, current: DeployedResource, props: dict[str, Any]) -> Outcome:
        return Outcome(current.physical_id, current.attributes)
