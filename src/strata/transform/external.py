"""Values from outside the template, resolved before plan on the local target: ``Fn::ImportValue`` from the exports of
the home's other stacks, ``{{resolve:ssm:NAME[:VERSION]}}`` (and ``ssm-secure``) from the local parameter store, and
layer ARNs published outside the home (Powertools, ...) rewritten to a local stand-in layer built from a folder, zip
or pip requirement the user maps (``strata.artifacts.external_layers``).

Why before plan: a value the local engine cannot know fails half-way through apply and rolls back everything done so
far; resolved here, the stack template the engine gets holds plain values, the version fingerprint covers them (a new
export value, SSM value or layer content publishes a version), and what cannot be resolved is a ``TemplateError``
listing every such property (``Resources.Fn.Properties.Layers[0]``) with its fix, before anything changes.

Contract: ``resolve_external`` returns a new template and never mutates its input; it builds the stand-in layers'
artifacts (``strata.artifacts``; pip only on a dependency-cache miss) and changes nothing else. The AWS target never
calls it: CloudFormation resolves all of these itself. ``ExternalValues`` is filled by the local target
(``strata.local.external``); this module does not read state itself.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from strata.errors import Problem, StrataError, TemplateError
from strata.template.intrinsics import Context, Unresolved, evaluate
from strata.template.ssm import DYNAMIC_SSM, SsmLookup, SsmValue, ssm_fix

FUNCTION_TYPE = "AWS::Lambda::Function"
LAYER_TYPE = "AWS::Lambda::LayerVersion"
LAYER_ARN = re.compile(r"arn:(aws[a-z-]*):lambda:([a-z0-9-]+):(\d{12}):layer:([A-Za-z0-9_-]+):(\d+)")
STAND_IN_PREFIX = "StrataExternalLayer"


@dataclass(frozen=True)
class Export:
    name: str
    value: Any
    stack: str


@dataclass
class ExternalValues:
    """What the local target knows from outside the template."""

    exports: Mapping[str, Export]                        # export name -> value and the stack that exports it
    ssm: SsmLookup                                       # the local parameter store
    layer_source: Callable[[str], Any]                   # layer ARN -> external_layers.LayerSource, or None
    account_id: str                                      # layers of this account are the home's own
    home: Path | None = None                             # where stand-in layers are built
    built: list[Any] = field(default_factory=list)       # BuiltArtifacts of the stand-in layers (set by resolve)
    stand_ins: dict[str, str] = field(default_factory=dict)   # stand-in logical id -> "name:version" it stands for


def property_path(path: tuple) -> str:
    """``("Resources", "Fn", "Properties", "Layers", 0)`` -> ``Resources.Fn.Properties.Layers[0]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


# --- the substitution -------------------------------------------------------------------------------------------------

def resolve_external(template: dict[str, Any], context: Context, values: ExternalValues) -> tuple[
        dict[str, Any], dict[str, Any]]:
    """The template with imports, SSM references and external layers resolved (see the module docstring), and the
    stand-in layers' artifacts by placeholder key. Raises ``TemplateError`` naming every value it cannot resolve."""
    # A copy down to what this changes: each resource's body (``_walk`` rebuilds its Properties) and each output;
    # the rest is shared with ``template`` and never changed here (the post-pass copies before it changes anything).
    out = dict(template)
    if isinstance(out.get("Resources"), dict):
        out["Resources"] = {lid: dict(body) if isinstance(body, dict) else body
                            for lid, body in out["Resources"].items()}
    if isinstance(out.get("Outputs"), dict):
        out["Outputs"] = {name: dict(spec) if isinstance(spec, dict) else spec for name, spec in out["Outputs"].items()}
    problems: list[Problem] = []
    resources = out.get("Resources")
    # Walking every value of a big template costs more than looking for the two markers in its JSON text.
    probe = json.dumps(template, default=str)
    walk = "Fn::ImportValue" in probe or "{{resolve:ssm" in probe
    if isinstance(resources, dict) and walk:
        for logical_id, body in resources.items():
            if isinstance(body, dict) and "Properties" in body:
                path = ("Resources", logical_id, "Properties")
                body["Properties"] = _walk(body["Properties"], path, context, values, problems)
    outputs = out.get("Outputs")
    if isinstance(outputs, dict):
        for name, spec in outputs.items():
            if walk and isinstance(spec, dict) and "Value" in spec:
                spec["Value"] = _walk(spec["Value"], ("Outputs", name, "Value"), context, values, problems)
            if isinstance(spec, dict) and isinstance(spec.get("Export"), dict):
                _check_export(spec["Export"].get("Name"), ("Outputs", name, "Export", "Name"), context, values,
                              problems)
    artifacts: dict[str, Any] = {}
    if isinstance(resources, dict):
        artifacts = _external_layers(out, context, values, problems)
    if problems:
        raise TemplateError(problems, hint="nothing was changed; resolve each value above, then deploy again")
    return out, artifacts


def _walk(value: Any, path: tuple, ctx: Context, values: ExternalValues, problems: list[Problem]) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and "Fn::ImportValue" in value:
            return _import(value["Fn::ImportValue"], path, ctx, values, problems)
        return {k: _walk(v, path + (k,), ctx, values, problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, path + (i,), ctx, values, problems) for i, v in enumerate(value)]
    if isinstance(value, str) and "{{resolve:ssm" in value:
        return _dynamic(value, path, values, problems)
    return value


def _import(arg: Any, path: tuple, ctx: Context, values: ExternalValues, problems: list[Problem]) -> Any:
    where = property_path(path)
    try:
        name = evaluate(_walk(arg, path + ("Fn::ImportValue",), ctx, values, problems), ctx, path)
    except StrataError as exc:
        problems.append(Problem(f"{where}: Fn::ImportValue: {exc.message}"))
        return None
    if isinstance(name, Unresolved) or not isinstance(name, str):
        problems.append(Problem(f"{where}: Fn::ImportValue needs an export name known before deploy (parameters, "
                                f"pseudo parameters, mappings), not {json.dumps(getattr(name, 'expression', name))}"))
        return None
    found = values.exports.get(name)
    if found is None:
        known = ", ".join(sorted(values.exports)[:20]) or "none"
        problems.append(Problem(
            f"{where}: Fn::ImportValue {name!r}: no stack in this state home exports {name!r} (exports: {known}); "
            f"deploy the stack whose Outputs export {name!r} first (Outputs: X: Export: Name: {name})"))
        return None
    return found.value


def _check_export(raw: Any, path: tuple, ctx: Context, values: ExternalValues, problems: list[Problem]) -> None:
    """An export name is unique in an account and region: CloudFormation refuses a second stack exporting it."""
    try:
        name = evaluate(raw, ctx, path)
    except StrataError:
        return              # the engine reports a broken export name where it always did
    other = values.exports.get(name) if isinstance(name, str) else None
    if other is not None:
        problems.append(Problem(f"{property_path(path)}: export {name!r} is already exported by stack "
                                f"{other.stack!r} in this state home (an export name is unique, as in "
                                "CloudFormation): rename one of them"))


def _dynamic(text: str, path: tuple, values: ExternalValues, problems: list[Problem]) -> str:
    def replace(match: re.Match) -> str:
        kind, name, version = match.group(1), match.group(2), match.group(3)
        found = values.ssm(name)
        where = property_path(path)
        if found is None:
            problems.append(Problem(f"{where}: {match.group(0)} names SSM parameter {name!r}, which is not in the "
                                    f"local parameter store: {ssm_fix(name, kind == 'ssm-secure')}"))
            return match.group(0)
        if (kind == "ssm-secure") != (found.type == "SecureString"):
            want = "a SecureString" if kind == "ssm-secure" else "a String or StringList"
            problems.append(Problem(f"{where}: {match.group(0)} needs {want}, but {name!r} is a {found.type} "
                                    f"in the local parameter store: {ssm_fix(name, kind == 'ssm-secure')}"))
            return match.group(0)
        if version is not None and int(version) != found.version:
            problems.append(Problem(f"{where}: {match.group(0)} pins version {version} of {name!r}, but the local "
                                    f"parameter store holds version {found.version}: drop the pin or put the "
                                    "value until the versions match"))
            return match.group(0)
        return found.value

    return DYNAMIC_SSM.sub(replace, text)


# --- external layers --------------------------------------------------------------------------------------------------

def stand_in_id(arn: str) -> str:
    """The logical id of the stand-in LayerVersion of ``arn``: stable, so a new mapping replaces it in place."""
    return STAND_IN_PREFIX + hashlib.sha256(arn.encode()).hexdigest()[:10]


def _external_layers(template: dict[str, Any], ctx: Context, values: ExternalValues,
                     problems: list[Problem]) -> dict[str, Any]:
    """Rewrite every layer ARN of another account to a ``Ref`` of a stand-in LayerVersion built from its mapped source;
    returns {placeholder key: CodeArtifact} of the stand-ins."""
    from strata.transform.versions import PLACEHOLDER_BUCKET, CodeArtifact, placeholder_key

    resources: dict[str, Any] = template["Resources"]
    wanted: dict[str, Any] = {}          # arn -> source
    for logical_id, body in list(resources.items()):
        if not isinstance(body, dict) or body.get("Type") != FUNCTION_TYPE:
            continue
        props = body.get("Properties")
        if not isinstance(props, dict) or not isinstance(props.get("Layers"), list):
            continue
        # the body is the caller's copy, its Properties may still be the input's: copy what this may change
        props = body["Properties"] = dict(props)
        layers = props["Layers"] = list(props["Layers"])
        for index, item in enumerate(layers):
            path = ("Resources", logical_id, "Properties", "Layers", index)
            try:
                arn = evaluate(item, ctx, path)
            except StrataError:
                continue            # the engine reports it where it always did
            if not isinstance(arn, str):
                continue
            match = LAYER_ARN.fullmatch(arn)
            if match is None or match.group(3) == values.account_id:
                continue            # not a layer ARN, or a layer of this home's account: the service holds it
            source = values.layer_source(arn)
            if source is None:
                problems.append(Problem(
                    f"{property_path(path)}: layer {arn} is published in account {match.group(3)}, outside this "
                    f"state home, and the local target cannot download it: map it to a local folder, zip or pip "
                    f"requirement with --layer-source {arn}=PATH|pip:REQUIREMENT, or strata_layer_sources in "
                    f"samconfig.toml"))
                continue
            wanted[arn] = source
            layers[index] = {"Ref": stand_in_id(arn)}
    if problems or not wanted:
        return {}
    from strata.artifacts.external_layers import build_stand_ins

    assert values.home is not None, "external layers are built into a state home"
    built = build_stand_ins({stand_in_id(arn): source for arn, source in wanted.items()}, values.home)
    values.built.extend(built)
    artifacts: dict[str, Any] = {}
    for arn in wanted:
        logical_id = stand_in_id(arn)
        values.stand_ins[logical_id] = arn.split(":layer:", 1)[1]
        key = placeholder_key(logical_id, "Content")
        resources[logical_id] = {"Type": LAYER_TYPE, "Properties": {
            "Content": {"S3Bucket": PLACEHOLDER_BUCKET, "S3Key": key},
            "Description": f"strata: local stand-in for {arn}"[:256]}}
    for item in built:
        key = placeholder_key(item.target.logical_id, "Content")
        artifacts[key] = CodeArtifact(item.artifact.sha256, item.artifact.code_sha256)
    return artifacts


__all__ = ["Export", "ExternalValues", "SsmValue", "property_path", "resolve_external", "stand_in_id"]
