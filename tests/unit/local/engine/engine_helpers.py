"""Helpers for engine tests (a module of its own: test folders have no __init__.py, so ``conftest`` names clash):
code zips in the artifact store, hand-written stack templates, snapshots of the service and the stack."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from strata_testkit import zip_bytes

from strata.artifacts.store import ArtifactStore
from strata.transform.result import LOCAL_CODE_BUCKET, FingerprintInput, FunctionVersionInfo, TransformResult

ROLE_ARN = "arn:aws:iam::123456789012:role/test"


def code(home: Path, files: dict[str, str]) -> dict[str, str]:
    """Store a zip and return the CloudFormation Code/Content pointing at it."""
    art = ArtifactStore(home).put_bytes(zip_bytes(files))
    return {"S3Bucket": LOCAL_CODE_BUCKET, "S3Key": f"code/{art.sha256}.zip"}


def handler_code(home: Path, answer: str) -> dict[str, str]:
    return code(home, {"app.py": f"def handler(event, context):\n    return {answer!r}\n"})


def layer_code(home: Path, answer: str) -> dict[str, str]:
    return code(home, {"python/shared.py": f"ANSWER = {answer!r}\n"})


def result(template: dict[str, Any], parameters: dict[str, Any] | None = None,
           functions: dict[str, FunctionVersionInfo] | None = None) -> TransformResult:
    return TransformResult(template=template, functions=functions or {}, parameters=parameters or {})


def info(function_id: str, version_id: str, fingerprint: str, **inputs: str) -> FunctionVersionInfo:
    return FunctionVersionInfo(function_id, version_id, (), fingerprint, None,
                               tuple(FingerprintInput(k, v, v) for k, v in inputs.items()))


_VOLATILE = {"LastModified", "RevisionId", "CodeSize", "LastUpdateStatus", "State", "StateReason",
             "LastUpdateStatusReason", "LastUpdateStatusReasonCode", "StateReasonCode", "CreatedDate"}


def _clean(config: dict) -> dict:
    return {k: v for k, v in config.items() if k not in _VOLATILE}


def service_snapshot(client) -> dict:
    """What the Lambda service holds, comparable across runs: functions ($LATEST config, versions, aliases) and
    layer versions."""
    out: dict = {"functions": {}, "layers": {}}
    for fn in client.call("ListFunctions", {}).get("Functions", []):
        name = fn["FunctionName"]
        versions = client.call("ListVersionsByFunction", {"FunctionName": name})["Versions"]
        aliases = client.call("ListAliases", {"FunctionName": name})["Aliases"]
        out["functions"][name] = {
            "versions": {v["Version"]: _clean(v) for v in versions},
            "aliases": {a["Name"]: {"FunctionVersion": a["FunctionVersion"],
                                    "RoutingConfig": a.get("RoutingConfig")} for a in aliases},
            "tags": client.call("ListTags", {"Resource": fn["FunctionArn"]}).get("Tags", {}),
        }
    for layer in client.call("ListLayers", {}).get("Layers", []):
        name = layer["LayerName"]
        versions = client.call("ListLayerVersions", {"LayerName": name})["LayerVersions"]
        out["layers"][name] = sorted(v["Version"] for v in versions)
    return out


def stack_snapshot(engine, stack: str) -> dict:
    """The engine's view of a stack: resources (type, physical id, properties) and outputs."""
    resources = engine.state.resources(stack)
    record = engine.state.stack(stack)
    return {"resources": {lid: (r.type, r.physical_id, r.properties, r.dirty) for lid, r in resources.items()},
            "outputs": record.outputs if record else None,
            "orphans": [(o.logical_id, o.physical_id) for o, _ in engine.state.orphans(stack)]}


def app(home: Path, *, layer: str = "a", answer: str = "1", version_id: str = "FnVersionA", timeout: int = 3,
        tags: dict | None = None, alias_name: str = "live", extra: dict | None = None) -> dict:
    """A stack template: a layer, a function using it with a Version and an alias, and a plain function."""
    resources = {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}},
        "Shared": {"Type": "AWS::Lambda::LayerVersion", "UpdateReplacePolicy": "Retain",
                   "Properties": {"LayerName": "shared", "Content": layer_code(home, layer)}},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
            "Handler": "app.handler", "Runtime": "python3.12", "Timeout": timeout,
            "Role": {"Fn::GetAtt": ["Role", "Arn"]}, "Code": handler_code(home, answer),
            "Layers": [{"Ref": "Shared"}],
            "Tags": [{"Key": k, "Value": v} for k, v in (tags or {"app": "demo"}).items()]}},
        version_id: {"Type": "AWS::Lambda::Version", "DeletionPolicy": "Retain",
                     "Properties": {"FunctionName": {"Ref": "Fn"}}},
        "Live": {"Type": "AWS::Lambda::Alias", "Properties": {
            "FunctionName": {"Ref": "Fn"}, "Name": alias_name,
            "FunctionVersion": {"Fn::GetAtt": [version_id, "Version"]}}},
        "Plain": {"Type": "AWS::Lambda::Function", "Properties": {
            "Handler": "app.handler", "Runtime": "python3.12", "Role": ROLE_ARN, "Code": handler_code(home, "plain")}},
    }
    resources.update(extra or {})
    return {"Resources": resources,
            "Outputs": {"LiveArn": {"Value": {"Ref": "Live"}},
                        "Version": {"Value": {"Fn::GetAtt": [version_id, "Version"]}}}}
