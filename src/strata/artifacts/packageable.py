"""Every packageable local path: the resource properties that ``sam package`` / ``aws cloudformation package`` upload
when they hold a local path, and the form each is rewritten to.

The table follows SAM CLI's: ``RESOURCES_WITH_LOCAL_PATHS`` and ``METADATA_WITH_LOCAL_PATHS`` in
``samcli/lib/utils/resources.py``, the rewrite forms in ``samcli/lib/package/packageable_resources.py`` (``ResourceZip``
sets an ``s3://bucket/key`` string, ``ResourceWithS3UrlDict`` a ``{Bucket, Key}``-style mapping, a nested stack's
template is packaged itself and set to its https URL) and ``include_transform_export_handler`` for ``Fn::Transform``
``AWS::Include`` ``Location`` anywhere in the template; it extends the AWS CLI's published list
(https://docs.aws.amazon.com/cli/latest/reference/cloudformation/package.html, ``artifact_exporter.py``).

Code (function and layer zips: ``CodeUri``, ``ContentUri``, ``Code``, ``Content``, with SAM's default of the
template's folder) is built by ``strata.artifacts.targets``/``builder``; this module finds the other local paths, each
a regular file (a folder is refused: strata uploads files here), hashed for its content-addressed key. Build stage:
reads files, no network; what each target does with them is ``strata.transform.package``.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from strata.errors import BuildError, Location

# How ``sam package`` writes an uploaded location back (packageable_resources.py):
S3_URI = "s3-uri"            # ResourceZip: "s3://bucket/key"
BUCKET_KEY = "bucket-key"    # ResourceWithS3UrlDict with Bucket/Key
S3BUCKET_S3KEY = "s3bucket-s3key"  # ResourceWithS3UrlDict with S3Bucket/S3Key
TEMPLATE_URL = "template-url"  # a nested stack: its own template packaged, then its https URL

# What the local target does with the file's content (``strata.transform.package``):
INLINE_DOCUMENT = "document"   # parsed (JSON/YAML) into the property the translated resource reads
INLINE_TEXT = "text"           # the file's text into that property
NESTED_STACK = "nested-stack"  # a nested stack: the local engine has none, a plan-time error
NOT_EMULATED = "not-emulated"  # the resource is not emulated locally: a content-addressed local location only


@dataclass(frozen=True)
class Packageable:
    """One packageable property: ``property`` is a dotted path under ``Properties``; ``form`` how ``sam package``
    rewrites it; ``local`` what the local target does; ``inline_as`` the property of the (translated) resource that
    gets the content locally, on ``inline_type`` (the resource the translator makes, or this one)."""

    resource_type: str
    property: str
    form: str
    local: str
    inline_type: str | None = None
    inline_as: str | None = None


STATE_MACHINE = "AWS::StepFunctions::StateMachine"
REST_API = "AWS::ApiGateway::RestApi"
HTTP_API = "AWS::ApiGatewayV2::Api"

# Code properties (strata.artifacts.targets builds them), listed so this table is the whole of sam package's.
CODE_PACKAGEABLE = ("AWS::Serverless::Function CodeUri", "AWS::Serverless::LayerVersion ContentUri",
                    "AWS::Lambda::Function Code", "AWS::Lambda::LayerVersion Content")

PACKAGEABLE: tuple[Packageable, ...] = (
    Packageable("AWS::Serverless::Api", "DefinitionUri", S3_URI, INLINE_DOCUMENT, REST_API, "Body"),
    Packageable("AWS::Serverless::HttpApi", "DefinitionUri", S3_URI, INLINE_DOCUMENT, HTTP_API, "Body"),
    Packageable("AWS::Serverless::StateMachine", "DefinitionUri", BUCKET_KEY, INLINE_DOCUMENT, STATE_MACHINE,
                "Definition"),
    Packageable("AWS::AppSync::GraphQLSchema", "DefinitionS3Location", S3_URI, INLINE_TEXT, None, "Definition"),
    Packageable("AWS::AppSync::Resolver", "RequestMappingTemplateS3Location", S3_URI, INLINE_TEXT, None,
                "RequestMappingTemplate"),
    Packageable("AWS::AppSync::Resolver", "ResponseMappingTemplateS3Location", S3_URI, INLINE_TEXT, None,
                "ResponseMappingTemplate"),
    Packageable("AWS::AppSync::FunctionConfiguration", "RequestMappingTemplateS3Location", S3_URI, INLINE_TEXT, None,
                "RequestMappingTemplate"),
    Packageable("AWS::AppSync::FunctionConfiguration", "ResponseMappingTemplateS3Location", S3_URI, INLINE_TEXT,
                None, "ResponseMappingTemplate"),
    Packageable(REST_API, "BodyS3Location", BUCKET_KEY, INLINE_DOCUMENT, None, "Body"),
    Packageable(HTTP_API, "BodyS3Location", BUCKET_KEY, INLINE_DOCUMENT, None, "Body"),
    Packageable(STATE_MACHINE, "DefinitionS3Location", BUCKET_KEY, INLINE_DOCUMENT, None, "Definition"),
    Packageable("AWS::ElasticBeanstalk::ApplicationVersion", "SourceBundle", S3BUCKET_S3KEY, NOT_EMULATED),
    Packageable("AWS::CloudFormation::ModuleVersion", "ModulePackage", S3_URI, NOT_EMULATED),
    Packageable("AWS::CloudFormation::ResourceVersion", "SchemaHandlerPackage", S3_URI, NOT_EMULATED),
    Packageable("AWS::Glue::Job", "Command.ScriptLocation", S3_URI, NOT_EMULATED),
    Packageable("AWS::Serverless::Application", "Location", TEMPLATE_URL, NESTED_STACK),
    Packageable("AWS::CloudFormation::Stack", "TemplateURL", TEMPLATE_URL, NESTED_STACK),
)

# Template Metadata (METADATA_WITH_LOCAL_PATHS): uploaded for the AWS target, irrelevant to a local deploy.
METADATA_PACKAGEABLE = {"AWS::ServerlessRepo::Application": ("LicenseUrl", "ReadmeUrl")}

INCLUDE = Packageable("AWS::Include", "Location", S3_URI, INLINE_DOCUMENT)

BY_TYPE: dict[str, tuple[Packageable, ...]] = {}
for _entry in PACKAGEABLE:
    BY_TYPE[_entry.resource_type] = (*BY_TYPE.get(_entry.resource_type, ()), _entry)


@dataclass(frozen=True)
class LocalFile:
    """A local path in a packageable property: where it stands in the template (``path``, a tuple of keys), the
    file, its content's sha256 and the key it gets (``<sha256><suffix>``, content-addressed like code zips)."""

    logical_id: str        # the resource, "Metadata" or "AWS::Include"
    entry: Packageable
    path: tuple[str | int, ...]
    source: Path
    sha256: str

    @property
    def key_name(self) -> str:
        suffix = "".join(self.source.suffixes[-1:]).lower()
        return f"{self.sha256}{'.template' if self.entry.form == TEMPLATE_URL else suffix}"

    @property
    def label(self) -> str:
        return f"{self.logical_id}.{self.entry.property}" if self.entry is not INCLUDE else \
            f"AWS::Include Location at {'.'.join(str(p) for p in self.path)}"


def find_local_files(data: dict[str, Any], template_dir: Path,
                     locate: Callable[[tuple], Location] | None = None) -> list[LocalFile]:
    """Every local path in a packageable property of ``data`` (see the module docstring), in template order; a path
    that is missing or a folder is a ``BuildError`` at the property."""
    found: list[LocalFile] = []
    resources = data.get("Resources") if isinstance(data, dict) else None
    for logical_id, resource in (resources.items() if isinstance(resources, dict) else ()):
        if not isinstance(resource, dict):
            continue
        props = resource.get("Properties")
        for entry in BY_TYPE.get(str(resource.get("Type")), ()):
            if not isinstance(props, dict):
                continue
            keys = tuple(entry.property.split("."))
            value = _dig(props, keys)
            if is_local_path(value):
                path = ("Resources", logical_id, "Properties", *keys)
                found.append(_local(logical_id, entry, path, str(value), template_dir, locate))
    metadata = data.get("Metadata") if isinstance(data, dict) else None
    for section, names in METADATA_PACKAGEABLE.items():
        block = metadata.get(section) if isinstance(metadata, dict) else None
        for name in names:
            value = block.get(name) if isinstance(block, dict) else None
            if is_local_path(value):
                entry = Packageable(section, name, S3_URI, NOT_EMULATED)
                found.append(_local("Metadata", entry, ("Metadata", section, name), str(value), template_dir, locate))
    for path, location in _includes(data, ()):
        found.append(_local("AWS::Include", INCLUDE, path, location, template_dir, locate))
    return found


def is_local_path(value: object) -> bool:
    """A string that is not a URL: ``sam package``'s test (``s3://``, ``https://`` ... are left alone)."""
    return isinstance(value, str) and value.strip() != "" and "://" not in value


def _dig(props: dict[str, Any], keys: tuple[str, ...]) -> Any:
    value: Any = props
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _includes(node: Any, path: tuple) -> Iterator[tuple[tuple, str]]:
    """``Fn::Transform`` ``AWS::Include`` nodes with a local ``Location``: (path of the Location, the value)."""
    if isinstance(node, dict):
        spec = node.get("Fn::Transform")
        if isinstance(spec, dict) and spec.get("Name") == "AWS::Include":
            params = spec.get("Parameters")
            location = params.get("Location") if isinstance(params, dict) else None
            if is_local_path(location):
                yield (*path, "Fn::Transform", "Parameters", "Location"), str(location)
        for key, value in node.items():
            yield from _includes(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _includes(value, (*path, index))


def _local(logical_id: str, entry: Packageable, path: tuple, value: str, template_dir: Path,
           locate: Callable[[tuple], Location] | None) -> LocalFile:
    source = Path(os.path.abspath(Path(template_dir) / value))
    where = locate(path) if locate is not None else None
    what = f"{logical_id}: {entry.property}" if entry is not INCLUDE else "AWS::Include: Location"
    if not source.exists():
        raise BuildError(f"{what} {value!r} does not exist (looked for {source})",
                         hint="fix the path (relative to the template's folder)", location=where)
    if not source.is_file():
        raise BuildError(f"{what} {value!r} is not a regular file", hint="point it at the file to upload "
                         "(strata packages a single file here; zip a folder yourself)", location=where)
    digest = hashlib.sha256()
    with open(source, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return LocalFile(logical_id, entry, path, source, digest.hexdigest())
