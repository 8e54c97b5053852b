"""``AWS::Lambda::LayerVersion``: every property is create-only, so any change publishes a new layer version (a
replacement); the old one is deleted at cleanup unless UpdateReplacePolicy/DeletionPolicy is Retain.
Ref and GetAtt LayerVersionArn: the layer version ARN."""
from __future__ import annotations

from typing import Any

from strata.local.engine.handlers.base import ALL, Handler, HandlerContext, Outcome
from strata.local.engine.model import DeployedResource
from strata.model.naming import LayerVersionRef, artifact_sha256_of_key, code_sha256_of, generated_name


class LayerVersionHandler(Handler):
    type_name = "AWS::Lambda::LayerVersion"
    replace_on = ALL

    def intent(self, ctx: HandlerContext, logical_id: str, props: dict[str, Any], nonce: str) -> dict[str, Any]:
        name = props.get("LayerName") or generated_name(ctx.stack_name, logical_id, max_length=140)
        return {"layer": name, "max_before": max(_versions(ctx, name), default=0)}

    def create(self, ctx: HandlerContext, logical_id: str, props: dict[str, Any],
               intent: dict[str, Any]) -> Outcome:
        params: dict[str, Any] = {"LayerName": intent["layer"], "Content": dict(props.get("Content") or {})}
        for prop in ("Description", "CompatibleRuntimes", "CompatibleArchitectures", "LicenseInfo"):
            if prop in props:
                params[prop] = props[prop]
        result = ctx.client.publish_layer_version(**params)
        return _outcome(result["LayerVersionArn"])

    def reconcile(self, ctx: HandlerContext, logical_id: str, props: dict[str, Any],
                  intent: dict[str, Any]) -> Outcome | None:
        want = _content_sha(props)
        ours = sorted((number, arn, sha) for number, (arn, sha) in _versions(ctx, intent["layer"]).items()
                      if number > int(intent["max_before"]) and (want is None or sha in (None, want)))
        return _outcome(ours[0][1]) if ours else None

    def delete(self, ctx: HandlerContext, current: DeployedResource) -> None:
        ref = LayerVersionRef.parse(current.physical_id)
        ctx.client.delete_layer_version(LayerName=ref.name, VersionNumber=ref.version)


def _versions(ctx: HandlerContext, name: str) -> dict[int, tuple[str, str | None]]:
    out: dict[int, tuple[str, str | None]] = {}
    marker = None
    while True:
        page = ctx.client.list_layer_versions(LayerName=name, Marker=marker)
        for item in page.get("LayerVersions", []):
            out[int(item["Version"])] = (item["LayerVersionArn"], (item.get("Content") or {}).get("CodeSha256"))
        marker = page.get("NextMarker")
        if not marker:
            return out


def _content_sha(props: dict[str, Any]) -> str | None:
    key = (props.get("Content") or {}).get("S3Key")
    sha256 = artifact_sha256_of_key(key) if isinstance(key, str) else None
    return code_sha256_of(sha256) if sha256 else None


def _outcome(arn: str) -> Outcome:
    return Outcome(arn, {"Ref": arn, "LayerVersionArn": arn})
