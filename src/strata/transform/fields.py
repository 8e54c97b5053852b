"""Which properties a Lambda *version* contains: the one list that decides when a new version is published.

A published version is Lambda's immutable snapshot of a function's code, configuration and layers (reference
lambda.md section 5.3). Everything in ``VERSIONED`` goes into the function's version fingerprint; everything in
``FUNCTION_LEVEL`` never does, because it is shared by ``$LATEST`` and every version, and "publishing" for it makes
Lambda return the existing version, which CloudFormation turns into a failed deploy ("A version for this Lambda
function exists"). A property in neither list (a newer CloudFormation property strata does not know yet) is included,
and ``transform --explain`` says so: publishing one version too many is visible and harmless, missing a change is not.

``DEFAULTS`` (``strata.model.lambda_defaults``) lists the value Lambda uses when a property is absent. The fingerprint
normalises absent and default to the same thing: writing ``MemorySize: 128`` where it was absent changes nothing in
Lambda (no update call is made), so it must not change the Version id either.
"""
from __future__ import annotations

from typing import Any

from strata.model import lambda_defaults

# AWS::Lambda::Function properties captured by a published version (lambda.md 5.3), with why.
VERSIONED: dict[str, str] = {
    "Code": "the code: contributes the artifact's sha256, never its bucket, key or path",
    "Layers": "layer versions in order: an in-template layer contributes its content digest, an external one its ARN",
    "Handler": "frozen per version",
    "Runtime": "frozen per version",
    "MemorySize": "frozen per version",
    "Timeout": "frozen per version",
    "Environment": "variables are frozen per version",
    "Role": "the execution role is frozen per version",
    "VpcConfig": "frozen per version",
    "Description": "a version keeps the description $LATEST had when it was published",
    "TracingConfig": "frozen per version",
    "LoggingConfig": "frozen per version (format, levels, log group)",
    "EphemeralStorage": "frozen per version",
    "Architectures": "frozen per version",
    "FileSystemConfigs": "frozen per version",
    "ImageConfig": "frozen per version",
    "DeadLetterConfig": "frozen per version",
    "KmsKeyArn": "the key that encrypts the environment is frozen per version",
    "SnapStart": "ApplyOn is frozen per version (snapshots are taken at publish)",
    "RuntimeManagementConfig": "runtime update mode and pinned runtime version are frozen per version",
    "PackageType": "Zip or Image",
    "FunctionName": "a new name is a new function (CloudFormation replaces it), hence a new version",
    "CapacityProviderConfig": "part of the function's configuration snapshot (newer Lambda feature)",
    "DurableConfig": "part of the function's configuration snapshot (newer Lambda feature)",
    "TenancyConfig": "create-only configuration captured by the version (newer Lambda feature)",
}

# Properties that are not part of a version: never in the fingerprint.
FUNCTION_LEVEL: dict[str, str] = {
    "Tags": "function-level; TagResource on a version fails, and tags do not count as a change for publishing",
    "ReservedConcurrentExecutions": "function-level (PutFunctionConcurrency is refused on versions)",
    "CodeSigningConfigArn": "function-level code-signing configuration",
    "RecursiveLoop": "function-level recursion setting (PutFunctionRecursionConfig)",
    "PublishToLatestPublished": "a deploy-time switch, not configuration",
    "FunctionScalingConfig": "scaling of a version, not its content",
}

# AWS::Lambda::Version properties that are part of the version itself (a change means a new Version resource).
VERSION_RESOURCE_VERSIONED: dict[str, str] = {
    "RuntimePolicy": "the runtime update policy of the version",
}

# AWS::Lambda::Version properties that are not version content.
VERSION_RESOURCE_IGNORED: dict[str, str] = {
    "FunctionName": "the function is fingerprinted itself",
    "CodeSha256": "set by strata from the fingerprinted code",
    "ProvisionedConcurrencyConfig": "provisioned concurrency is configured on a version, not part of its content",
    "FunctionScalingConfig": "scaling of a version, not its content",
    "Description": "the version's own description (SAM's VersionDescription) is a label given at publish, not "
                   "content: PublishVersion with nothing changed in $LATEST returns the existing version whatever "
                   "description it is given. A deployed Version keeps the description it was published with "
                   "(``transform.published``); a new one takes effect at the next publish",
}

# Lambda's values for absent properties: one table for the fingerprint, the engine and verify.
# ``LoggingConfig.LogGroup`` defaults per function name: handled in ``versions._normalise_logging``.
DEFAULTS = lambda_defaults.DEFAULTS

# Defaults the fingerprint keeps when written out: an explicit ``KmsKeyArn: ""``, ``ImageConfig: {}`` or an empty
# dead-letter target has always counted as a value, and dropping it now would move existing stacks' Version ids.
KEPT_AT_DEFAULT = frozenset({"DeadLetterConfig", "KmsKeyArn", "ImageConfig"})


def classify(name: str) -> str:
    """``versioned``, ``function-level`` or ``unknown`` for an AWS::Lambda::Function property name."""
    if name in VERSIONED:
        return "versioned"
    if name in FUNCTION_LEVEL:
        return "function-level"
    return "unknown"


def normalise_defaults(name: str, value: Any) -> Any:
    """Map a resolved property value to the form Lambda would report, so default and absent compare equal."""
    if name in ("MemorySize", "Timeout") and isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    if name == "EphemeralStorage" and isinstance(value, dict) and isinstance(value.get("Size"), str):
        size = value["Size"]
        return {**value, "Size": int(size)} if size.isdigit() else value
    if name == "Environment" and isinstance(value, dict):
        variables = value.get("Variables") or {}
        return {"Variables": {str(k): v if not isinstance(v, (int, float, bool)) else _scalar_text(v)
                              for k, v in variables.items()}} if isinstance(variables, dict) else value
    if name == "VpcConfig" and isinstance(value, dict):
        return {"SubnetIds": value.get("SubnetIds") or [], "SecurityGroupIds": value.get("SecurityGroupIds") or [],
                **({"Ipv6AllowedForDualStack": value["Ipv6AllowedForDualStack"]}
                   if value.get("Ipv6AllowedForDualStack") else {})}
    return value


def _scalar_text(value: Any) -> str:
    """CloudFormation passes environment values as strings: ``1`` and ``"1"`` are the same variable value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def is_default(name: str, value: Any) -> bool:
    """True when ``value`` equals what Lambda uses for an absent ``name`` (and the fingerprint drops it)."""
    return name in DEFAULTS and name not in KEPT_AT_DEFAULT and value == DEFAULTS[name]
