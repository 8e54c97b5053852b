"""What each target does with the packageable local paths (``strata.artifacts.packageable``): one mechanism for all.

Before the translator, every local path is rewritten to the form ``sam package`` gives it (an ``s3://`` URI, a
``{Bucket, Key}`` mapping, a nested template's URL), under a content-addressed key (``<prefix><sha256><suffix>``, as
code zips are), so the translator sees what it sees after ``sam package`` and an edited file changes the template:
- ``--target aws`` (``S3Packaging``): the keys are in the deploy bucket and ``uploads`` lists what to put there; a
  nested stack's local template (``AWS::Serverless::Application`` ``Location``, ``AWS::CloudFormation::Stack``
  ``TemplateURL``) is packaged the same way first (its code built and uploaded, its own local paths rewritten), then
  uploaded as JSON and named by its URL;
- local (no ``S3Packaging``): the keys are in the local artifacts bucket; after the translator, ``inline_local``
  replaces each such location with the file's content in the property the resource reads (a state machine's
  ``Definition``, an API's OpenAPI ``Body``, AppSync's templates, an ``AWS::Include`` snippet), and a nested stack
  is refused at plan time, naming the property: the local engine has no ``AWS::CloudFormation::Stack``.
Contract: reads files and builds code (nested stacks on AWS only); no network, no deployed state changed.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from strata.artifacts.packageable import (
    BUCKET_KEY,
    BY_TYPE,
    INCLUDE,
    INLINE_DOCUMENT,
    INLINE_TEXT,
    S3_URI,
    S3BUCKET_S3KEY,
    TEMPLATE_URL,
    LocalFile,
    find_local_files,
)
from strata.errors import Location, Problem, TemplateError
from strata.transform.result import LOCAL_CODE_BUCKET

MAX_NESTING = 5  # nested templates within nested templates: CloudFormation's own nesting is deeper, apps are not


@dataclass(frozen=True)
class S3Packaging:
    """Where ``--target aws`` puts packaged files: the deploy bucket, its prefix (``app/`` or ""), and the URL base a
    nested template's URL starts with (``https://s3.<region>.amazonaws.com`` or the endpoint)."""

    bucket: str
    prefix: str
    url_base: str

    def template_url(self, key: str) -> str:
        return f"{self.url_base.rstrip('/')}/{self.bucket}/{key}"


@dataclass(frozen=True)
class Upload:
    """One object for the deploy bucket: a file (``path``) or bytes (``body``) under a content-addressed key."""

    key: str
    path: Path | None = None
    body: bytes | None = None
    content_type: str = "application/octet-stream"


@dataclass
class Packaged:
    """The template data with every local path rewritten, the files found, and (AWS) what to upload."""

    data: dict[str, Any]
    files: list[LocalFile] = field(default_factory=list)
    uploads: list[Upload] = field(default_factory=list)

    @property
    def salt(self) -> str:
        """What the rewrite depends on beyond the template's bytes: part of the translator's cache key."""
        return ",".join(f"{'.'.join(map(str, f.path))}={f.sha256}" for f in self.files) + \
            ";" + ",".join(u.key for u in self.uploads)


def package_paths(data: dict[str, Any], template_dir: Path, *, packaging: S3Packaging | None = None,
                  home: Path | None = None, locate: Callable[[tuple], Location] | None = None,
                  refuse_nested: bool = True, _chain: tuple[Path, ...] = ()) -> Packaged:
    """Rewrite ``data``'s packageable local paths (a copy; see the module docstring). Locally a nested stack is a
    ``TemplateError`` at its property unless ``refuse_nested`` is False (``validate``, which serves both targets)."""
    files = find_local_files(data, template_dir, locate)
    if not files:
        return Packaged(data)
    copy = json.loads(json.dumps(data))
    packaged = Packaged(copy, files)
    bucket = packaging.bucket if packaging else LOCAL_CODE_BUCKET
    prefix = packaging.prefix if packaging else ""
    problems = []
    for file in files:
        form = file.entry.form
        if form == TEMPLATE_URL:
            if packaging is None:
                if refuse_nested:
                    problems.append(Problem(
                        f"{file.label}: a nested stack from the local template {file.source.name!r} cannot be "
                        "deployed by the local target (its engine has no AWS::CloudFormation::Stack)",
                        locate(file.path) if locate else None))
                    continue
                value: Any = f"https://{LOCAL_CODE_BUCKET}.invalid/{file.key_name}"
            else:
                value = _package_nested(file, packaging, home, packaged.uploads, (*_chain, file.source))
        else:
            key = prefix + file.key_name
            if packaging is not None:
                packaged.uploads.append(Upload(key, path=file.source))
            value = {S3_URI: f"s3://{bucket}/{key}", BUCKET_KEY: {"Bucket": bucket, "Key": key},
                     S3BUCKET_S3KEY: {"S3Bucket": bucket, "S3Key": key}}[form]
        _set(copy, file.path, value)
    if problems:
        raise TemplateError(problems, hint="deploy it with --target aws, or move the nested stack's resources "
                                           "into this template")
    return packaged


def inline_local(template: dict[str, Any], files: list[LocalFile]) -> dict[str, Any]:
    """Locally: each location that points at a packaged file in the local bucket becomes the file's content, in the
    property the resource reads (the table's ``inline_as``); an ``AWS::Include`` becomes its snippet. In place."""
    by_key = {f.key_name: f for f in files}
    if not by_key:
        return template
    resources = template.get("Resources")
    for resource in (resources.values() if isinstance(resources, dict) else ()):
        props = resource.get("Properties") if isinstance(resource, dict) else None
        if not isinstance(props, dict):
            continue
        for entry in BY_TYPE.get(str(resource.get("Type")), ()):
            if entry.local not in (INLINE_DOCUMENT, INLINE_TEXT) or entry.inline_as is None:
                continue
            file = by_key.get(_local_key(props.get(entry.property)) or "")
            if file is not None:
                del props[entry.property]
                props[entry.inline_as] = _content(file, entry.local)
    includes = {k: f for k, f in by_key.items() if f.entry is INCLUDE}
    return _inline_includes(template, includes) if includes else template


def _local_key(value: Any) -> str | None:
    """The key of a location in the local bucket (an ``s3://`` URI or a Bucket/Key mapping), else None."""
    if isinstance(value, str) and value.startswith(f"s3://{LOCAL_CODE_BUCKET}/"):
        return value[len(f"s3://{LOCAL_CODE_BUCKET}/"):]
    if isinstance(value, dict):
        bucket, key = value.get("Bucket", value.get("S3Bucket")), value.get("Key", value.get("S3Key"))
        if bucket == LOCAL_CODE_BUCKET and isinstance(key, str):
            return key
    return None


def _inline_includes(node: Any, includes: dict[str, LocalFile]) -> Any:
    if isinstance(node, dict):
        spec = node.get("Fn::Transform")
        if isinstance(spec, dict) and spec.get("Name") == "AWS::Include":
            params = spec.get("Parameters")
            file = includes.get(_local_key(params.get("Location") if isinstance(params, dict) else None) or "")
            if file is not None:
                snippet = _content(file, INLINE_DOCUMENT)
                rest = {k: v for k, v in node.items() if k != "Fn::Transform"}
                if not rest:
                    return _inline_includes(snippet, includes)
                if isinstance(snippet, dict):
                    return _inline_includes({**rest, **snippet}, includes)
        for key in list(node):
            node[key] = _inline_includes(node[key], includes)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            node[index] = _inline_includes(value, includes)
    return node


def _content(file: LocalFile, how: str) -> Any:
    raw = file.source.read_bytes()
    if hashlib.sha256(raw).hexdigest() != file.sha256:
        raise TemplateError([Problem(f"{file.label}: {file.source} changed while strata read it")],
                            hint="run the command again")
    if how == INLINE_TEXT:
        return raw.decode("utf-8")
    from strata.template.load import parse_template_text

    return parse_template_text(raw, filename=str(file.source)).data


def _package_nested(file: LocalFile, packaging: S3Packaging, home: Path | None, uploads: list[Upload],
                    chain: tuple[Path, ...]) -> str:
    """Package a nested stack's local template as ``sam package`` does (its code, its own local paths), queue its
    JSON for upload and return its URL."""
    from strata.artifacts import build_targets, find_build_targets
    from strata.model.naming import artifact_key
    from strata.template.load import load_template

    if len(chain) > MAX_NESTING or len(set(chain)) < len(chain):
        raise TemplateError([Problem(f"{file.label}: nested templates go more than {MAX_NESTING} levels deep or "
                                     f"include themselves ({' -> '.join(p.name for p in chain)})")])
    if home is None:
        raise TemplateError([Problem(f"{file.label}: packaging a nested template needs a state home")])
    child = load_template(file.source)
    folder = file.source.parent
    data = json.loads(json.dumps(child.data))
    targets = find_build_targets(child.data, folder, locate=child.locate, template_file=file.source)
    resources = data.get("Resources") or {}
    for built in build_targets(targets, home):
        target, artifact = built.target, built.artifact
        key = artifact_key(packaging.prefix, artifact.sha256)
        uploads.append(Upload(key, path=Path(artifact.path), content_type="application/zip"))
        props = resources[target.logical_id].setdefault("Properties", {})
        props[target.property] = (f"s3://{packaging.bucket}/{key}" if target.property in ("CodeUri", "ContentUri")
                                  else {"S3Bucket": packaging.bucket, "S3Key": key})
    inner = package_paths(data, folder, packaging=packaging, home=home, locate=child.locate, _chain=chain)
    uploads.extend(inner.uploads)
    body = json.dumps(inner.data, indent=1).encode()
    key = f"{packaging.prefix}{hashlib.sha256(body).hexdigest()}.template"
    uploads.append(Upload(key, body=body, content_type="application/json"))
    return packaging.template_url(key)


def _set(data: Any, path: tuple, value: Any) -> None:
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
