"""load -> build -> package local paths -> translate (cached) -> versions post-pass -> (local) inline packaged files:
the stack template a target deploys.

Contract: builds artifacts (content-addressed, local) and reads/writes the translator cache; changes no deployed
state. The translator (aws-sam-translator, ~0.5 s to import) runs only when the template bytes, parameter values,
region or translator version changed; a change to code or layer content alone reuses the cached translation and
only re-runs the post-pass. An edit of some functions' own properties re-translates only those functions
(``strata.transform.incremental``), with output identical to the whole translation.
"""
from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from strata.paths import state_home
from strata.template.context import context_for
from strata.template.intrinsics import Context, Locate, Unresolved
from strata.template.load import Template, load_template
from strata.template.parameters import ParameterOverrides, build_context, mask, secret_values
from strata.transform.cache import TranslatorCache, cache_key
from strata.transform.external import ExternalValues, resolve_external
from strata.transform.package import Packaged, S3Packaging, inline_local, package_paths
from strata.transform.result import LOCAL_CODE_BUCKET, TransformResult
from strata.transform.versions import (
    PLACEHOLDER_BUCKET,
    CodeArtifact,
    PostPassInput,
    PostPassOutput,
    placeholder_key,
    post_pass,
)

SAM_FUNCTION = "AWS::Serverless::Function"
SAM_LAYER = "AWS::Serverless::LayerVersion"


def transform(template_path: str | Path, *, parameter_overrides: Mapping[str, str] | None = None,
              region: str = "us-east-1", account_id: str = "123456789012", stack_name: str | None = None,
              home: Path | None = None, code_bucket: str = LOCAL_CODE_BUCKET, code_prefix: str = "",
              progress: bool = False, use_cache: bool = True,
              require_parameter_values: bool = True,
              previous_parameters: Mapping[str, str | None] | None = None,
              external: ExternalValues | None = None,
              packaging: S3Packaging | None = None) -> TransformResult:
    """Produce the stack template for ``template_path`` with exact Version ids (see ``strata.transform.versions``).
    ``previous_parameters``: the values the deployed stack used, for the parameters not overridden (SAM's rule).
    ``external`` (the local target only): resolve the values from outside the template before anything else sees
    them (``strata.transform.external``); without it they stay as CloudFormation resolves them. ``packaging``
    (``--target aws``) puts packageable local files in S3 instead of inlining them (``strata.transform.package``)."""
    from strata.artifacts import build_targets, find_build_targets

    template = load_template(template_path)
    template_path = Path(template_path).resolve()
    stack_name = stack_name or default_stack_name(template_path)
    home = Path(home) if home is not None else state_home(template_path)
    context = build_context(template, parameter_overrides or ParameterOverrides(), region=region, account_id=account_id,
                            stack_name=stack_name, require_values=require_parameter_values,
                            previous=previous_parameters, ssm=external.ssm if external is not None else None)

    targets = find_build_targets(template.data, template_path.parent, template_file=template_path)
    built = build_targets(targets, home, progress=progress)
    artifacts = {placeholder_key(b.target.logical_id, b.target.property):
                 CodeArtifact(b.artifact.sha256, b.artifact.code_sha256, b.detail) for b in built}
    packaged = package_paths(template.data, template_path.parent, packaging=packaging, home=home,
                             locate=template.locate)
    output, from_cache = stack_output(template, context, targets, artifacts, home=home, use_cache=use_cache,
                                     region=region, account_id=account_id, stack_name=stack_name,
                                     code_bucket=code_bucket, code_prefix=code_prefix, external=external,
                                     packaged=packaged)
    stand_ins = list(external.built) if external is not None else []
    return TransformResult(template=output.template, functions=output.functions,
                           parameters=dict(context.parameters), artifacts=list(built) + stand_ins,
                           translated_from_cache=from_cache, files=list(packaged.files),
                           uploads=list(packaged.uploads))


def stack_output(template: Template, context: Context, targets: list, artifacts: Mapping[str, CodeArtifact], *,
                 home: Path | None, region: str, account_id: str, stack_name: str, use_cache: bool = True,
                 code_bucket: str = LOCAL_CODE_BUCKET, code_prefix: str = "",
                 locate: Locate | None = None, external: ExternalValues | None = None,
                 packaged: Packaged | None = None) -> tuple[PostPassOutput, bool]:
    """Translate (through the cache in ``home``, read only when ``use_cache``; no cache when None) and run the
    versions post-pass: everything ``transform`` does after the build, so ``strata validate`` runs it too, with
    stand-in artifacts. Returns the post-pass output and whether the translation came from the cache. ``locate``
    places the post-pass's problems in the source file. ``external``: see ``transform``; the stand-in layers it
    builds are added to ``external.built``. ``packaged`` holds the template data with its packageable local paths
    rewritten (``strata.transform.package``), whose local files are inlined after the post-pass."""
    translated, from_cache = _translate_cached(template, context, targets, home, region, use_cache, packaged)
    stack_context = context_for(translated["template"], context.parameters, region=region, account_id=account_id,
                                stack_name=stack_name, locate=locate)
    stack_template, artifacts = translated["template"], dict(artifacts)
    if external is not None:
        stack_template, stand_ins = resolve_external(stack_template, stack_context, external)
        artifacts.update(stand_ins)
        if stand_ins:      # the stand-in layers are resources the post-pass's references may name
            stack_context = context_for(stack_template, context.parameters, region=region, account_id=account_id,
                                        stack_name=stack_name, locate=locate)
    output = post_pass(PostPassInput(
        template=stack_template, artifacts=artifacts, context=stack_context,
        sam_functions=frozenset(translated["sam_functions"]), sam_layers=dict(translated["sam_layers"]),
        code_bucket=code_bucket, code_prefix=code_prefix,
        layer_labels=dict(external.stand_ins) if external is not None else {}))
    if packaged is not None and packaged.files:
        inline_local(output.template, packaged.files)
    return _masked(output, secret_values(template.data, context.parameters)), from_cache


def _masked(output: PostPassOutput, secrets: frozenset[str]) -> PostPassOutput:
    """The post-pass output with NoEcho values masked in the fingerprint inputs people read (``transform
    --explain``, plan reasons, the AWS stack's fingerprint metadata); the digests, which decide, are kept."""
    if not secrets:
        return output
    functions = {fid: dataclasses.replace(info, inputs=tuple(dataclasses.replace(i, display=mask(i.display, secrets))
                                                             for i in info.inputs),
                                          warnings=tuple(mask(w, secrets) for w in info.warnings))
                 for fid, info in output.functions.items()}
    return dataclasses.replace(output, functions=functions)


def default_stack_name(template_path: Path) -> str:
    """SAM-like default: the template folder's name, made a valid stack name."""
    name = re.sub(r"[^A-Za-z0-9-]", "-", template_path.resolve().parent.name).strip("-") or "stack"
    return name if name[0].isalpha() else f"s-{name}"


def translator_parameter_values(template: Template, context: Context) -> dict[str, Any]:
    """What the translator gets: the template's parameters as CloudFormation would pass them, and the pseudo
    parameters the SAM transform itself receives in CloudFormation (region and partition)."""
    values: dict[str, Any] = {}
    declared = template.data.get("Parameters") or {}
    for name in declared:
        value = context.parameters.get(name)
        if isinstance(value, list):
            value = ",".join(str(v) for v in value)
        if value is not None and not isinstance(value, Unresolved):
            values[name] = value
    values["AWS::Region"] = context.pseudo.get("AWS::Region")
    values["AWS::Partition"] = context.pseudo.get("AWS::Partition")
    return values


def _translate_cached(template: Template, context: Context, targets: list, home: Path | None, region: str,
                      use_cache: bool, packaged: Packaged | None = None) -> tuple[dict[str, Any], bool]:
    from strata.transform import sam

    source = packaged.data if packaged is not None else template.data
    salt = packaged.salt.encode() if packaged is not None and packaged.files else b""
    parameter_values = translator_parameter_values(template, context)
    partition = str(context.pseudo.get("AWS::Partition", "aws"))
    if not sam.is_sam_template(template.data):
        data = with_placeholders(source, targets)
        return {"template": data, "sam_functions": [], "sam_layers": {}}, False
    cache = TranslatorCache(home) if home is not None else None
    key = cache_key(template.text + (b"\0" + salt if salt else b""), parameter_values, region=region,
                    partition=partition, translator=_translator_version())
    if cache is not None and use_cache:
        hit = cache.get(key)
        if hit is not None:
            return hit, True
    data = with_placeholders(source, targets)
    output = _translate_incremental(data, parameter_values, cache, use_cache, key_salt=salt.decode(), region=region,
                                    partition=partition, template=template)
    resources = data.get("Resources") or {}
    sam_functions = sorted(lid for lid, res in resources.items() if _rtype(res) == SAM_FUNCTION)
    sam_layers = {}
    for lid, res in resources.items():
        if _rtype(res) == SAM_LAYER:
            match = [out for out in output.get("Resources", {}) if re.fullmatch(re.escape(lid) + r"[0-9a-f]{10}", out)]
            if len(match) == 1:
                sam_layers[lid] = match[0]
    entry = {"template": output, "sam_functions": sam_functions, "sam_layers": sam_layers}
    if cache is not None:
        cache.put(key, entry)
    return entry, False


def _translate_incremental(data: dict[str, Any], parameter_values: dict[str, Any], cache: TranslatorCache | None,
                           use_cache: bool, *, key_salt: str, region: str, partition: str,
                           template: Template) -> dict[str, Any]:
    """The translator's output for ``data``: re-translating only the functions an edit changed when the cache holds
    the last translation of the same structure, else the whole template (``strata.transform.incremental``)."""
    from strata.transform import incremental

    salt = json.dumps({"parameters": parameter_values, "region": region, "partition": partition, "packaged": key_salt,
                       "translator": _translator_version()}, sort_keys=True, default=str)
    key = incremental.structure_key(data, salt) if cache is not None else ""
    base = incremental.Base.from_json(cache.get_base(key)) if cache is not None and use_cache else None
    result = incremental.incremental(base, data, parameter_values, region=region, partition=partition)
    output, fresh = result if result is not None else \
        incremental.whole(data, parameter_values, region=region, partition=partition, locate=template.locate)
    if cache is not None:
        cache.put_base(key, fresh.to_json())
    return output


def _translator_version() -> str:
    import samtranslator  # the package's __init__ holds only __version__: cheap, unlike its submodules

    return samtranslator.__version__


def with_placeholders(data: dict[str, Any], targets: list) -> dict[str, Any]:
    """A copy of ``data`` whose built code locations are stable placeholders, whatever their content."""
    copy = json.loads(json.dumps(data))
    resources = copy.get("Resources") or {}
    for target in targets:
        props = resources.get(target.logical_id, {}).setdefault("Properties", {})
        key = placeholder_key(target.logical_id, target.property)
        if target.property in ("CodeUri", "ContentUri"):
            props[target.property] = f"s3://{PLACEHOLDER_BUCKET}/{key}"
        else:
            props[target.property] = {"S3Bucket": PLACEHOLDER_BUCKET, "S3Key": key}
    return copy


def _rtype(resource: Any) -> str | None:
    return resource.get("Type") if isinstance(resource, dict) else None
