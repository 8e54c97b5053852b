"""The versions post-pass: every SAM-generated ``AWS::Lambda::Version`` gets a logical id derived from the function's
VERSION FINGERPRINT, so a function gets a new version exactly when something a version contains changes.

Contract: a pure function of the translated template, the built artifacts and the evaluation context; it changes
nothing outside the template it returns. What it changes in the template, and nothing else:
- code locations that the build filled (placeholders) point at content-addressed artifacts (``<prefix><sha256>.zip``);
- SAM-generated Version logical ids become ``<Function>Version<first 10 hex of fingerprint>``, SAM-generated
  LayerVersion logical ids ``<Layer><first 10 hex of layer fingerprint>``, and every reference follows
  (Ref, GetAtt, Sub, DependsOn, Outputs, anything);
- each such Version gets ``CodeSha256`` (Lambda's base64 digest), so the service refuses to publish other bytes.

The fingerprint is the sha256 of canonical JSON (sorted keys, compact separators) of the function's version-relevant
properties (``fields.VERSIONED``), resolved: parameters, pseudo parameters, mappings and conditions evaluated;
code as its artifact sha256; in-template layers as their content fingerprint; a reference that cannot be known before
deploy as the expression plus the *identity* of what it references (the properties that name it, i.e. what makes
CloudFormation replace it and its ARN change), never that resource's whole configuration.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

from strata.errors import StrataError
from strata.model import lambda_defaults
from strata.model.naming import artifact_key
from strata.template.intrinsics import NO_VALUE, Context, Unresolved, evaluate
from strata.transform import fields
from strata.transform.result import FingerprintInput, FunctionVersionInfo

PLACEHOLDER_BUCKET = "strata-placeholder"
FUNCTION_TYPE = "AWS::Lambda::Function"
VERSION_TYPE = "AWS::Lambda::Version"
LAYER_TYPE = "AWS::Lambda::LayerVersion"
ALIAS_TYPE = "AWS::Lambda::Alias"
HASH_LENGTH = 10

# Properties that name a resource, by type: a change replaces the resource (its ARN/name changes). A reference to a
# resource contributes these, so e.g. a policy change on the execution role never publishes a version while a new
# role name does. For types not listed, every property whose name ends in "Name" counts.
IDENTITY_PROPERTIES: dict[str, tuple[str, ...]] = {
    "AWS::IAM::Role": ("RoleName", "Path"),
    "AWS::Lambda::Function": ("FunctionName",),
    "AWS::Lambda::Alias": ("FunctionName", "Name"),
    "AWS::SQS::Queue": ("QueueName", "FifoQueue"),
    "AWS::SNS::Topic": ("TopicName", "FifoTopic"),
    "AWS::KMS::Key": (),
}


def canonical(value: Any) -> bytes:
    """The bytes that get hashed: JSON with sorted keys and compact separators."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default).encode()


def sha256_hex(value: Any) -> str:
    return hashlib.sha256(canonical(value)).hexdigest()


def _json_default(value: Any) -> Any:
    if isinstance(value, Unresolved):
        return {"unresolved": value.expression}
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


@dataclass(frozen=True)
class CodeArtifact:
    """What the build produced for one placeholder: the zip's hex sha256 and Lambda's base64 CodeSha256; ``detail``
    is shown beside the sha256 in the Code input (a Node function's lock file digest), never hashed."""

    sha256: str
    code_sha256: str
    detail: str = ""


@dataclass
class PostPassInput:
    template: dict[str, Any]                       # translated template (with placeholders); mutated copy returned
    artifacts: dict[str, CodeArtifact]             # placeholder key "<LogicalId>/<Property>" -> artifact
    context: Context                               # parameters, pseudo, mappings, conditions, resources
    sam_functions: frozenset[str]                  # logical ids that came from AWS::Serverless::Function
    sam_layers: dict[str, str]                     # SAM layer logical id (input) -> its id in the translated output
    code_bucket: str
    code_prefix: str = ""
    layer_labels: dict[str, str] = field(default_factory=dict)   # layer id -> what "why" calls it (stand-ins)


@dataclass
class PostPassOutput:
    template: dict[str, Any]
    functions: dict[str, FunctionVersionInfo]
    renames: dict[str, str]


def placeholder_key(logical_id: str, prop: str) -> str:
    return f"{logical_id}/{prop}"


def is_generated_version_id(version_id: str, function_id: str) -> bool:
    """``<function>Version<10 hex>``: the id SAM gives an AutoPublishAlias version, and the post-pass after it (a
    string test, not a regex per function: 500 distinct patterns would churn ``re``'s cache on every deploy)."""
    prefix = function_id + "Version"
    suffix = version_id[len(prefix):]
    return version_id.startswith(prefix) and len(suffix) == HASH_LENGTH and all(c in "0123456789abcdef"
                                                                                for c in suffix)


def post_pass(data: PostPassInput) -> PostPassOutput:
    """Fill code locations, fingerprint every function, rename Versions and SAM layers, rewrite references."""
    template = json.loads(json.dumps(data.template))  # never mutate the (cached) input
    resources: dict[str, Any] = template.get("Resources", {})
    evaluator = _Evaluator(template, data.context)

    code_of: dict[str, CodeArtifact] = {}
    for logical_id, resource in resources.items():
        code_of.update(_fill_code_locations(logical_id, resource, data))

    layer_fps = {lid: _layer_fingerprint(lid, res, evaluator, code_of)
                 for lid, res in resources.items() if _type(res) == LAYER_TYPE}
    evaluator.layer_fingerprints = layer_fps
    evaluator.layer_names.update(data.layer_labels)

    renames: dict[str, str] = {}
    for base, layer_id in data.sam_layers.items():
        if layer_id in layer_fps:
            evaluator.layer_names[layer_id] = base
            renames[layer_id] = f"{base}{layer_fps[layer_id][:HASH_LENGTH]}"

    versions_by_function: dict[str, list[str]] = {}
    for logical_id, resource in resources.items():
        if _type(resource) == VERSION_TYPE:
            target = _ref_target(resource.get("Properties", {}).get("FunctionName"))
            if target:
                versions_by_function.setdefault(target, []).append(logical_id)

    functions: dict[str, FunctionVersionInfo] = {}
    for function_id, resource in resources.items():
        if _type(resource) != FUNCTION_TYPE:
            continue
        version_ids = versions_by_function.get(function_id, [])
        sam_version = next((v for v in version_ids if function_id in data.sam_functions
                            and is_generated_version_id(v, function_id)), None)
        version_resource = resources.get(sam_version) if sam_version else None
        inputs, warnings = _function_inputs(function_id, resource, version_resource, evaluator, code_of)
        fingerprint = sha256_hex({item.name: item.digest for item in inputs})
        code = code_of.get(function_id)
        new_version_id = None
        if sam_version:
            new_version_id = f"{function_id}Version{fingerprint[:HASH_LENGTH]}"
            renames[sam_version] = new_version_id
            if code is not None:
                resources[sam_version].setdefault("Properties", {})["CodeSha256"] = code.code_sha256
        elif version_ids:
            new_version_id = version_ids[0]
            warnings.append(f"Version {version_ids[0]} is written in the template, not generated by SAM: "
                            "strata keeps its logical id, so Lambda publishes only when that id changes")
        functions[function_id] = FunctionVersionInfo(
            function_id=function_id, version_id=new_version_id, alias_ids=(), fingerprint=fingerprint,
            code_sha256=code.sha256 if code else None, inputs=tuple(inputs), warnings=tuple(warnings))

    template = rename_logical_ids(template, renames)
    aliases = _aliases_by_version(template.get("Resources", {}))
    for function_id, info in functions.items():
        if info.version_id:
            functions[function_id] = replace(info, alias_ids=tuple(sorted(aliases.get(info.version_id, ()))))
    return PostPassOutput(template=template, functions=functions, renames=renames)


# --- code locations -------------------------------------------------------------------------------------------------

def _fill_code_locations(logical_id: str, resource: dict, data: PostPassInput) -> dict[str, CodeArtifact]:
    """Replace placeholder S3 locations with content-addressed keys; return {resource id: artifact} for code."""
    props = resource.get("Properties")
    if not isinstance(props, dict):
        return {}
    found: dict[str, CodeArtifact] = {}
    for prop in ("Code", "Content"):
        location = props.get(prop)
        if isinstance(location, dict) and location.get("S3Bucket") == PLACEHOLDER_BUCKET:
            key = location.get("S3Key")
            artifact = data.artifacts.get(key) if isinstance(key, str) else None
            if artifact is None:
                raise StrataError(
                    f"resource {logical_id}: {prop} points at s3://{PLACEHOLDER_BUCKET}/{key}, but strata built "
                    f"nothing for it (the bucket name {PLACEHOLDER_BUCKET!r} is reserved for code strata builds)",
                    hint=f"give {logical_id}'s {prop} a local path (strata builds and uploads it) or a bucket of "
                         "your own")
            props[prop] = {"S3Bucket": data.code_bucket, "S3Key": artifact_key(data.code_prefix, artifact.sha256)}
            found[logical_id] = artifact
    return found


# --- evaluation with reference identities ---------------------------------------------------------------------------

class _Evaluator:
    """Evaluates property values; replaces what cannot be known before deploy by expression + referenced identity."""

    def __init__(self, template: dict[str, Any], context: Context) -> None:
        self.resources: dict[str, Any] = template.get("Resources", {})
        self.context = context
        self.layer_fingerprints: dict[str, str] = {}
        self.layer_names: dict[str, str] = {}      # SAM layer id in the output -> the id the user wrote

    def value(self, value: Any, path: tuple) -> Any:
        return self.settle(evaluate(value, self.context, path))

    def settle(self, value: Any) -> Any:
        """Turn every ``Unresolved`` inside ``value`` into a stable, hashable description of what it refers to."""
        if isinstance(value, Unresolved):
            return {"ref": value.expression, "of": {dep: self.identity(dep) for dep in sorted(value.depends_on)}}
        if isinstance(value, dict):
            return {k: self.settle(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.settle(v) for v in value]
        return value

    def identity(self, logical_id: str) -> Any:
        """What a reference to ``logical_id`` contributes: a layer's content fingerprint, else its naming properties."""
        if logical_id in self.layer_fingerprints:
            return {"layer": self.layer_fingerprints[logical_id]}
        resource = self.resources.get(logical_id)
        if not isinstance(resource, dict):
            return {"unknown": logical_id}
        rtype = _type(resource)
        props = _properties(resource)
        names = IDENTITY_PROPERTIES.get(rtype) if rtype is not None else None
        if names is None:
            names = tuple(sorted(k for k in props if k.endswith("Name")))
        ident: dict[str, Any] = {"Type": rtype}
        for name in names:
            if name in props:
                resolved = evaluate(props[name], self.context, ("Resources", logical_id, "Properties", name))
                ident[name] = resolved.expression if isinstance(resolved, Unresolved) else resolved
        return ident


def _layer_fingerprint(logical_id: str, resource: dict, evaluator: _Evaluator,
                       code_of: dict[str, CodeArtifact]) -> str:
    """A layer version's identity: content digest plus every property (all are create-only for LayerVersion)."""
    props = _properties(resource)
    described: dict[str, Any] = {}
    for name, value in props.items():
        if name == "Content" and logical_id in code_of:
            described[name] = {"sha256": code_of[logical_id].sha256}
        else:
            described[name] = evaluator.value(value, ("Resources", logical_id, "Properties", name))
    return sha256_hex(described)


# --- function inputs ------------------------------------------------------------------------------------------------

def _function_inputs(function_id: str, resource: dict, version: dict | None, evaluator: _Evaluator,
                     code_of: dict[str, CodeArtifact]) -> tuple[list[FingerprintInput], list[str]]:
    props = _properties(resource)
    inputs: list[FingerprintInput] = []
    warnings: list[str] = []
    base = ("Resources", function_id, "Properties")
    for name in sorted(props):
        kind = fields.classify(name)
        if kind == "function-level":
            continue
        if kind == "unknown":
            warnings.append(f"property {name} is not known to strata; it is counted as part of the version")
        raw = props[name]
        if name == "Code":
            inputs.append(_code_input(function_id, raw, evaluator, code_of))
            continue
        if name == "Layers":
            inputs.extend(_layer_inputs(function_id, raw, evaluator))
            continue
        value = fields.normalise_defaults(name, evaluator.value(raw, base + (name,)))
        if _is_novalue(value) or fields.is_default(name, value):
            continue
        if name == "LoggingConfig" and isinstance(value, dict):
            value = _normalise_logging(value, props, evaluator, function_id)
            if not value:
                continue
        if name == "Environment" and isinstance(value, dict) and isinstance(value.get("Variables"), dict):
            for key in sorted(value["Variables"]):
                inputs.append(_input(f"Environment.Variables.{key}", value["Variables"][key]))
            rest = {k: v for k, v in value.items() if k != "Variables"}
            if rest:
                inputs.append(_input("Environment", rest))
            continue
        inputs.append(_input(name, value))
    if version is not None:
        vprops = _properties(version)
        for name in sorted(fields.VERSION_RESOURCE_VERSIONED):
            if name in vprops:
                value = evaluator.settle(evaluate(vprops[name], evaluator.context, ()))
                if not _is_novalue(value) and value not in ("", None):
                    inputs.append(_input(f"Version.{name}", value))
    for text in _unresolved_notes(inputs):
        warnings.append(text)
    return inputs, warnings


def _code_input(function_id: str, raw: Any, evaluator: _Evaluator,
                code_of: dict[str, CodeArtifact]) -> FingerprintInput:
    if function_id in code_of:
        sha, detail = code_of[function_id].sha256, code_of[function_id].detail
        return FingerprintInput("Code", f"sha256:{sha[:12]}" + (f", {detail}" if detail else ""),
                                sha256_hex({"sha256": sha}))
    value = evaluator.value(raw, ("Resources", function_id, "Properties", "Code"))
    if isinstance(value, dict) and isinstance(value.get("ZipFile"), str):
        inline = hashlib.sha256(value["ZipFile"].encode()).hexdigest()
        return FingerprintInput("Code", f"inline sha256:{inline[:12]}", sha256_hex({"inline": inline}))
    return _input("Code", value)


def _layer_inputs(function_id: str, raw: Any, evaluator: _Evaluator) -> list[FingerprintInput]:
    value = evaluate(raw, evaluator.context, ("Resources", function_id, "Properties", "Layers"))
    if isinstance(value, Unresolved) or not isinstance(value, list):
        return [_input("Layers", evaluator.settle(value))]
    inputs = []
    for index, item in enumerate(value, start=1):
        if isinstance(item, Unresolved) and len(item.depends_on) == 1:
            (dep,) = tuple(item.depends_on)
            if dep in evaluator.layer_fingerprints and _ref_target(item.expression) == dep:
                fp = evaluator.layer_fingerprints[dep]
                name = evaluator.layer_names.get(dep, dep)
                inputs.append(FingerprintInput(f"Layers[{index}]", f"{name} (content {fp[:12]})",
                                               sha256_hex({"layer": fp})))
                continue
        settled = evaluator.settle(item)
        inputs.append(_input(f"Layers[{index}]", settled))
    return inputs


def _normalise_logging(value: dict, props: dict, evaluator: _Evaluator, function_id: str) -> dict:
    """Drop LoggingConfig members equal to Lambda's defaults (Text format, /aws/lambda/<name> group)."""
    out = dict(value)
    if out.get("LogFormat") == lambda_defaults.LOG_FORMAT:
        out.pop("LogFormat")
    if "LogGroup" in out and "FunctionName" in props:
        name = evaluator.value(props["FunctionName"], ("Resources", function_id, "Properties", "FunctionName"))
        if isinstance(name, str) and out["LogGroup"] == lambda_defaults.log_group(name):
            out.pop("LogGroup")
    return out


def _input(name: str, value: Any) -> FingerprintInput:
    return FingerprintInput(name, _display(value), sha256_hex(value))


def _display(value: Any) -> str:
    if isinstance(value, (str, int, float, bool)) or value is None:
        text = json.dumps(value) if not isinstance(value, str) else value
        return text if len(text) <= 60 else f"{text[:57]}..."
    if isinstance(value, dict) and set(value) == {"ref", "of"}:
        return f"deploy-time reference {json.dumps(value['ref'], sort_keys=True)[:48]}"
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return text if len(text) <= 60 else f"sha256:{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def _unresolved_notes(inputs: list[FingerprintInput]) -> list[str]:
    # The execution role is always a deploy-time reference (SAM generates it): not worth a note.
    return [f"{item.name} is known only at deploy time: it contributes the reference and the identity of what it "
            "references" for item in inputs
            if item.display.startswith("deploy-time reference") and item.name != "Role"]


# --- references -----------------------------------------------------------------------------------------------------

def rename_logical_ids(template: dict[str, Any], renames: dict[str, str]) -> dict[str, Any]:
    """Rename resources and rewrite every reference to them: Ref, GetAtt (both forms), Sub, DependsOn, Outputs."""
    if not renames:
        return template
    resources = template.get("Resources", {})
    template["Resources"] = {renames.get(k, k): v for k, v in resources.items()}
    sub_pattern = re.compile(r"\$\{(" + "|".join(re.escape(k) for k in sorted(renames, key=len, reverse=True))
                             + r")(?=[.}])")

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            if len(node) == 1:
                (key, arg), = node.items()
                if key == "Ref" and isinstance(arg, str):
                    return {"Ref": renames.get(arg, arg)}
                if key == "Fn::GetAtt":
                    if isinstance(arg, list) and arg and isinstance(arg[0], str):
                        return {"Fn::GetAtt": [renames.get(arg[0], arg[0])] + [rewrite(a) for a in arg[1:]]}
                    if isinstance(arg, str) and "." in arg:
                        head, tail = arg.split(".", 1)
                        return {"Fn::GetAtt": f"{renames.get(head, head)}.{tail}"}
                if key == "Fn::Sub":
                    if isinstance(arg, str):
                        return {"Fn::Sub": _rewrite_sub(arg, sub_pattern, renames)}
                    if isinstance(arg, list) and arg and isinstance(arg[0], str):
                        return {"Fn::Sub": [_rewrite_sub(arg[0], sub_pattern, renames)] + [rewrite(a) for a in arg[1:]]}
            out: dict[str, Any] = {}
            for key, value in node.items():
                if key == "DependsOn":
                    if isinstance(value, str):
                        out[key] = renames.get(value, value)
                        continue
                    if isinstance(value, list):
                        out[key] = [renames.get(v, v) if isinstance(v, str) else v for v in value]
                        continue
                out[key] = rewrite(value)
            return out
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        return node

    return rewrite(template)


def _rewrite_sub(text: str, pattern: re.Pattern[str], renames: dict[str, str]) -> str:
    # ``${!Literal}`` is an escape and never matches because of the "!" after "${".
    return pattern.sub(lambda m: "${" + renames[m.group(1)], text)


def _aliases_by_version(resources: dict[str, Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for logical_id, resource in resources.items():
        if _type(resource) == ALIAS_TYPE:
            target = _getatt_target(resource.get("Properties", {}).get("FunctionVersion"))
            if target:
                found.setdefault(target, []).append(logical_id)
    return found


def _ref_target(value: Any) -> str | None:
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("Ref"), str):
        return value["Ref"]
    return None


def _getatt_target(value: Any) -> str | None:
    if isinstance(value, dict) and len(value) == 1 and "Fn::GetAtt" in value:
        arg = value["Fn::GetAtt"]
        if isinstance(arg, list) and arg and isinstance(arg[0], str):
            return arg[0]
        if isinstance(arg, str):
            return arg.split(".", 1)[0]
    return _ref_target(value)


def _properties(resource: dict[str, Any]) -> dict[str, Any]:
    """A resource's Properties, or none when they are missing or not a map."""
    props = resource.get("Properties")
    return props if isinstance(props, dict) else {}


def _type(resource: Any) -> str | None:
    return resource.get("Type") if isinstance(resource, dict) else None


def _is_novalue(value: Any) -> bool:
    return value is NO_VALUE or value is None

