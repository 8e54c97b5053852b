"""``AWS::Lambda::Function``: CreateFunction; in-place updates as UpdateFunctionCode / UpdateFunctionConfiguration
carrying only the members that differ from what Lambda holds now (read back first, so a re-run after a crash sends
nothing twice); function-level settings (tags, reserved concurrency) through their own calls, which do not count as
a change for publishing. A changed FunctionName (or PackageType) replaces the function. Ref: name; GetAtt: Arn."""
from __future__ import annotations

from typing import Any

from strata.artifacts.archive import zip_bytes
from strata.local.engine.handlers.base import Handler, HandlerContext, Outcome, ResourceFailed
from strata.local.engine.model import DeployedResource
from strata.model.lambda_defaults import DEFAULTS, default
from strata.model.lambda_errors import is_not_found
from strata.model.naming import (
    FunctionRef,
    artifact_sha256_of_key,
    code_sha256_of,
    code_sha256_of_bytes,
    generated_name,
)

# CloudFormation property -> API member, for the members UpdateFunctionConfiguration takes.
CONFIG_MEMBERS: dict[str, str] = {
    "Role": "Role", "Handler": "Handler", "Runtime": "Runtime", "Description": "Description",
    "Timeout": "Timeout", "MemorySize": "MemorySize", "Environment": "Environment", "Layers": "Layers",
    "TracingConfig": "TracingConfig", "EphemeralStorage": "EphemeralStorage", "VpcConfig": "VpcConfig",
    "DeadLetterConfig": "DeadLetterConfig", "KmsKeyArn": "KMSKeyArn", "FileSystemConfigs": "FileSystemConfigs",
    "ImageConfig": "ImageConfig", "SnapStart": "SnapStart", "LoggingConfig": "LoggingConfig",
}
# Members whose live value we can read back and compare exactly; the others are compared with the deployed record.
LIVE_COMPARABLE = ("Role", "Handler", "Runtime", "Description", "Timeout", "MemorySize", "Environment", "Layers",
                   "TracingConfig", "EphemeralStorage")
_INLINE_FILE = {"python": "index.py", "nodejs": "index.js"}


class FunctionHandler(Handler):
    type_name = "AWS::Lambda::Function"
    replace_on = frozenset({"FunctionName", "PackageType"})

    def intent(self, ctx: HandlerContext, logical_id: str, props: dict[str, Any], nonce: str) -> dict[str, Any]:
        return {"name": props.get("FunctionName") or generated_name(ctx.stack_name, logical_id, nonce)}

    def create(self, ctx: HandlerContext, logical_id: str, props: dict[str, Any],
               intent: dict[str, Any]) -> Outcome:
        name = intent["name"]
        params: dict[str, Any] = {"FunctionName": name, "Code": _code(props)}
        for prop in ("Runtime", "Role", "Handler", "Description", "Timeout", "MemorySize", "Environment", "Layers",
                     "TracingConfig", "EphemeralStorage", "VpcConfig", "DeadLetterConfig", "FileSystemConfigs",
                     "ImageConfig", "SnapStart", "LoggingConfig", "Architectures", "PackageType",
                     "CodeSigningConfigArn"):
            if prop in props:
                params[prop] = props[prop]
        if "KmsKeyArn" in props:
            params["KMSKeyArn"] = props["KmsKeyArn"]
        if props.get("Tags"):
            params["Tags"] = _tags(props["Tags"])
        result = ctx.client.create_function(**params)
        if props.get("ReservedConcurrentExecutions") is not None:
            ctx.checkpoint("mid-call")
            ctx.client.put_function_concurrency(FunctionName=name,
                                                ReservedConcurrentExecutions=props["ReservedConcurrentExecutions"])
        return _outcome(ctx, name, result)

    def reconcile(self, ctx: HandlerContext, logical_id: str, props: dict[str, Any],
                  intent: dict[str, Any]) -> Outcome | None:
        try:
            result = ctx.client.get_function(FunctionName=intent["name"])
        except Exception as exc:  # noqa: BLE001 - only "not found" means "not created"
            if is_not_found(exc):
                return None
            raise
        return _outcome(ctx, intent["name"], result.get("Configuration", result))

    def update(self, ctx: HandlerContext, current: DeployedResource, props: dict[str, Any]) -> Outcome:
        name = current.physical_id
        old = current.properties
        live = ctx.client.get_function(FunctionName=name)
        config = live.get("Configuration", live)
        result: dict[str, Any] = config
        code = _code(props)
        desired_sha = _code_sha(code)
        code_changed = (config.get("CodeSha256") != desired_sha if desired_sha
                        else props.get("Code") != old.get("Code"))
        architectures = DEFAULTS["Architectures"]
        if props.get("Architectures", architectures) != config.get("Architectures", architectures):
            code_changed = True
        if code_changed:
            params = dict(code)
            if "Architectures" in props:
                params["Architectures"] = props["Architectures"]
            result = ctx.client.update_function_code(FunctionName=name, **params)
            ctx.checkpoint("mid-call")
        changes: dict[str, Any] = {}
        for prop, member in CONFIG_MEMBERS.items():
            want = props[prop] if prop in props else default(prop)    # a removed property: reset to the default
            if prop in LIVE_COMPARABLE:
                have = _live_value(prop, config)
                if _norm(prop, want) != _norm(prop, have):
                    changes[member] = want
            elif (prop in props or prop in old) and (current.dirty or props.get(prop) != old.get(prop)):
                changes[member] = want
        if changes:
            result = ctx.client.update_function_configuration(FunctionName=name, **changes)
            ctx.checkpoint("mid-call")
        self._function_level(ctx, name, result.get("FunctionArn") or ctx.function_arn(name), old, props,
                             current.dirty)
        return _outcome(ctx, name, result)

    def _function_level(self, ctx: HandlerContext, name: str, arn: str, old: dict[str, Any], new: dict[str, Any],
                        dirty: bool) -> None:
        """Tags and reserved concurrency: not part of a version, changed only when they differ."""
        old_tags, new_tags = _tags(old.get("Tags") or []), _tags(new.get("Tags") or [])
        removed = sorted(set(old_tags) - set(new_tags))
        if removed:
            ctx.client.untag_resource(Resource=arn, TagKeys=removed)
        if new_tags and (dirty or new_tags != old_tags):
            ctx.client.tag_resource(Resource=arn, Tags=new_tags)
        old_rc, new_rc = old.get("ReservedConcurrentExecutions"), new.get("ReservedConcurrentExecutions")
        if new_rc is not None and (dirty or new_rc != old_rc):
            ctx.client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=new_rc)
        elif new_rc is None and old_rc is not None:
            ctx.client.delete_function_concurrency(FunctionName=name)

    def delete(self, ctx: HandlerContext, current: DeployedResource) -> None:
        try:
            ctx.client.delete_function(FunctionName=current.physical_id)
        except Exception as exc:  # noqa: BLE001
            if not is_not_found(exc):
                raise


def _outcome(ctx: HandlerContext, name: str, config: dict[str, Any]) -> Outcome:
    arn = config.get("FunctionArn") or ctx.function_arn(name)
    ref = FunctionRef.parse(arn)
    if ref.qualifier is not None:   # a qualified ARN ($LATEST): the attribute is the function's
        arn = str(ref.with_qualifier(None))
    return Outcome(name, {"Ref": name, "Arn": arn})


def _code(props: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's Code -> the API's code members (inline ZipFile source is zipped, as CloudFormation does, by
    the same deterministic writer as built code)."""
    code = dict(props.get("Code") or {})
    if "ZipFile" in code and isinstance(code["ZipFile"], str):
        runtime = str(props.get("Runtime", "python"))
        filename = next((f for prefix, f in _INLINE_FILE.items() if runtime.startswith(prefix)), "index.py")
        code["ZipFile"] = zip_bytes({filename: code["ZipFile"].encode("utf-8")})
    return code


def _code_sha(code: dict[str, Any]) -> str | None:
    """Lambda's CodeSha256 for content-addressed code, without reading the artifact."""
    key = code.get("S3Key")
    sha256 = artifact_sha256_of_key(key) if isinstance(key, str) else None
    if sha256:
        return code_sha256_of(sha256)
    if isinstance(code.get("ZipFile"), bytes):
        return code_sha256_of_bytes(code["ZipFile"])
    return None


def _tags(tags: Any) -> dict[str, str]:
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items()}
    return {str(t["Key"]): str(t["Value"]) for t in tags}


def _live_value(prop: str, config: dict[str, Any]) -> Any:
    if prop == "Layers":
        return [layer["Arn"] if isinstance(layer, dict) else layer for layer in config.get("Layers") or []]
    if prop == "Environment":
        return {"Variables": (config.get("Environment") or {}).get("Variables") or {}}
    return config.get(prop, DEFAULTS.get(prop))


def _norm(prop: str, value: Any) -> Any:
    """Compare like Lambda stores: numbers as numbers, environment values as strings."""
    if prop in ("Timeout", "MemorySize") and value is not None:
        return int(value)
    if prop == "Environment":
        variables = (value or {}).get("Variables") or {}
        return {str(k): str(v) for k, v in variables.items()}
    if prop == "EphemeralStorage" and value:
        return {"Size": int(value.get("Size", DEFAULTS["EphemeralStorage"]["Size"]))}
    return value


__all__ = ["FunctionHandler", "ResourceFailed"]
