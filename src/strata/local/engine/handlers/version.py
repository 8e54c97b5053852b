"""``AWS::Lambda::Version``: PublishVersion with the CodeSha256 precondition. A version is never modified: any change
of FunctionName, CodeSha256 or Description replaces it. If Lambda hands back a version that existed before the call
(nothing changed since the last publish), the resource fails exactly as CloudFormation's does.
Ref: the version ARN; GetAtt: Version (the number, a string), FunctionArn."""
from __future__ import annotations

from typing import Any

from strata.local.engine.handlers.base import Handler, HandlerContext, Outcome, ResourceFailed
from strata.local.engine.model import DeployedResource
from strata.model.lambda_errors import is_not_found
from strata.model.naming import function_name_of


class VersionHandler(Handler):
    type_name = "AWS::Lambda::Version"
    replace_on = frozenset({"FunctionName", "CodeSha256", "Description"})

    def intent(self, ctx: HandlerContext, logical_id: str, props: dict[str, Any], nonce: str) -> dict[str, Any]:
        name = function_name_of(str(props["FunctionName"]))
        return {"function": name, "max_before": _max_version(ctx, name)}

    def create(self, ctx: HandlerContext, logical_id: str, props: dict[str, Any],
               intent: dict[str, Any]) -> Outcome:
        params: dict[str, Any] = {"FunctionName": intent["function"]}
        if props.get("CodeSha256"):
            params["CodeSha256"] = props["CodeSha256"]
        if props.get("Description"):
            params["Description"] = props["Description"]
        result = ctx.client.publish_version(**params)
        number = int(result["Version"])
        if number <= int(intent["max_before"]):
            raise ResourceFailed(f"A version for this Lambda function exists ( {number} ). "
                                 "Modify the function to create a new version.")
        return _outcome(ctx, intent["function"], number)

    def reconcile(self, ctx: HandlerContext, logical_id: str, props: dict[str, Any],
                  intent: dict[str, Any]) -> Outcome | None:
        try:
            versions = _versions(ctx, intent["function"])
        except Exception as exc:  # noqa: BLE001
            if is_not_found(exc):
                return None
            raise
        ours = sorted(int(v["Version"]) for v in versions
                      if v["Version"] != "$LATEST" and int(v["Version"]) > int(intent["max_before"])
                      and (not props.get("CodeSha256") or v.get("CodeSha256") == props["CodeSha256"]))
        return _outcome(ctx, intent["function"], ours[0]) if ours else None

    def update(self, ctx: HandlerContext, current: DeployedResource, props: dict[str, Any]) -> Outcome:
        # Only properties that do not live on the version itself (provisioned concurrency, runtime policy) get
        # here; the local service has no such settings, so they are recorded.
        return Outcome(current.physical_id, current.attributes)

    def delete(self, ctx: HandlerContext, current: DeployedResource) -> None:
        name = function_name_of(current.physical_id)
        try:
            ctx.client.delete_function(FunctionName=name, Qualifier=str(current.attributes["Version"]))
        except Exception as exc:  # noqa: BLE001
            if not is_not_found(exc):
                raise


def _versions(ctx: HandlerContext, name: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    marker = None
    while True:
        page = ctx.client.list_versions_by_function(FunctionName=name, Marker=marker)
        out.extend(page.get("Versions", []))
        marker = page.get("NextMarker")
        if not marker:
            return out


def _max_version(ctx: HandlerContext, name: str) -> int:
    """The highest version number before this publish: the local client knows it at once (``highest_version``, the
    number last handed out: a deleted version's number is never handed out again either); another client lists."""
    highest = getattr(ctx.client, "highest_version", None)
    if highest is not None:
        return int(highest(name))
    numbers = [int(v["Version"]) for v in _versions(ctx, name) if v["Version"] != "$LATEST"]
    return max(numbers, default=0)


def _outcome(ctx: HandlerContext, name: str, number: int) -> Outcome:
    arn = ctx.function_arn(name, str(number))
    return Outcome(arn, {"Ref": arn, "Version": str(number), "FunctionArn": ctx.function_arn(name)})
