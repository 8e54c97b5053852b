"""Which template properties name local code to build: the build stage's view of a template.

Local = a string that is not a URL (``s3://``, ``https://``). Skipped as not ours to build: dicts (``{Bucket, Key}``,
``{S3Bucket, ...}``, ``ZipFile``, intrinsics), ``InlineCode``, ``PackageType: Image``. Relative paths are taken from
the template's folder. A SAM function or layer with no ``CodeUri``/``ContentUri`` (nor one in ``Globals``) packages
the template's folder, as ``sam package`` does (its ``PACKAGE_NULL_PROPERTY``; ``sam init``'s templates rely on it).
A code folder that holds the template never zips the project's own files (``PROJECT_FILES``: the template itself and
``samconfig.*`` beside it; ``strata.artifacts.walk`` drops ``.strata``, ``.aws-sam`` and VCS folders at any depth),
so an edit to the template alone (a tag) changes no code zip. A path that does not exist, or is neither a folder nor
a regular file (``/dev/zero``, a FIFO), is a ``BuildError`` naming the resource and the property.
"""
from __future__ import annotations

import builtins
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeGuard

from strata.errors import BuildError, Location


@dataclass(frozen=True)
class BuildTarget:
    """One local code location in the template: a folder to zip, or a ``.zip`` file to use as-is."""

    logical_id: str
    property: str  # "CodeUri" | "ContentUri" | "Code" | "Content"
    source: Path  # absolute path (folder or .zip file)
    kind: str  # "function" | "layer"
    runtime: str | None
    build_method: str | None  # layer Metadata.BuildMethod
    excludes: tuple[str, ...] = ()  # paths under ``source`` the zip leaves out (the template, samconfig.*)
    architecture: str = "x86_64"  # what dependencies are built for: "x86_64" | "arm64" (``_architecture``)
    build_properties: str = ""  # Metadata.BuildProperties as canonical JSON (esbuild's options), "" when none

    @builtins.property          # the field ``property`` shadows the builtin for type checkers
    def is_zip_file(self) -> bool:
        return self.source.suffix.lower() in ZIP_SUFFIXES


ZIP_SUFFIXES = (".zip", ".jar")

# The project's own files beside the template: never code, whatever folder a function zips.
PROJECT_FILES = ("samconfig.toml", "samconfig.yaml", "samconfig.yml")

# SAM types whose missing code property means "the template's folder" (``sam package``'s PACKAGE_NULL_PROPERTY)
DEFAULT_TO_TEMPLATE_FOLDER = frozenset({"AWS::Serverless::Function", "AWS::Serverless::LayerVersion"})

# resource type -> (property, kind)
CODE_PROPERTIES: dict[str, tuple[str, str]] = {
    "AWS::Serverless::Function": ("CodeUri", "function"),
    "AWS::Serverless::LayerVersion": ("ContentUri", "layer"),
    "AWS::Lambda::Function": ("Code", "function"),
    "AWS::Lambda::LayerVersion": ("Content", "layer"),
}


def find_build_targets(template_data: dict, template_dir: Path,
                       locate: Callable[[tuple], Location] | None = None,
                       template_file: Path | None = None) -> list[BuildTarget]:
    """Every local code location in a template (a plain dict, intrinsics in long form), in template order;
    ``locate`` (the template's) places a bad path's error at the property; ``template_file`` (its name in
    ``template_dir``) is left out of a code folder that holds it."""
    resources = template_data.get("Resources") or {}
    if not isinstance(resources, dict):
        return []
    globals_ = template_data.get("Globals") or {}
    globals_fn = (globals_.get("Function") or {}) if isinstance(globals_, dict) else {}
    if not isinstance(globals_fn, dict):
        globals_fn = {}
    targets = []
    project = _ProjectFiles(Path(template_dir), template_file)
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict) or resource.get("Type") not in CODE_PROPERTIES:
            continue
        rtype = resource["Type"]
        prop, kind = CODE_PROPERTIES[rtype]
        props = resource.get("Properties")
        if not isinstance(props, dict):   # sam package skips a resource without properties too
            continue
        if rtype == "AWS::Serverless::Function":
            props = {**{k: v for k, v in globals_fn.items()
                        if k in ("CodeUri", "Runtime", "PackageType", "Architectures")}, **props}
            if "InlineCode" in props:
                continue
        if kind == "function" and props.get("PackageType") == "Image":
            continue
        value = props.get(prop)
        if value is None and rtype in DEFAULT_TO_TEMPLATE_FOLDER and props.get("PackageType") != "Image" \
                and "ImageUri" not in props:
            value = "."
        if not _is_local(value):
            continue
        source = Path(os.path.abspath(Path(template_dir) / value))
        where = locate(("Resources", logical_id, "Properties", prop)) if locate is not None else None
        if not source.exists():
            raise BuildError(f"{logical_id}: {prop} {value!r} does not exist (looked for {source})",
                             hint=f"fix {logical_id}.Properties.{prop} (relative to the template's folder)",
                             location=where)
        if not source.is_dir() and not source.is_file():
            raise BuildError(f"{logical_id}: {prop} {value!r} is neither a folder nor a regular file",
                             hint="point it at the folder that holds the code, or at a .zip", location=where)
        if source.is_file() and source.suffix.lower() not in ZIP_SUFFIXES:
            raise BuildError(f"{logical_id}: {prop} {value!r} is a file, not a folder or a .zip",
                             hint="point it at the folder that holds the code", location=where)
        metadata = resource.get("Metadata") or {}
        build_method = metadata.get("BuildMethod") if isinstance(metadata, dict) else None
        targets.append(BuildTarget(logical_id, prop, source, kind, _runtime(props, kind),
                                   build_method if isinstance(build_method, str) else None,
                                   project.under(source),
                                   _architecture(props, kind, metadata), _build_properties(metadata)))
    return targets


def project_excludes(source: Path, template_dir: Path, template_file: Path | None) -> tuple[str, ...]:
    """The project's own files (the template, ``samconfig.*``) as ``/``-paths under ``source``, when the code folder
    holds the template's folder; () otherwise. Only files that exist are named, so ``--explain`` shows real ones."""
    return _ProjectFiles(template_dir, template_file).under(source)


class _ProjectFiles:
    """The project's files that exist, found once per template (a template of 500 functions asks for each)."""

    def __init__(self, template_dir: Path, template_file: Path | None) -> None:
        self.folder = Path(os.path.realpath(template_dir))
        names = [Path(template_file).name] if template_file is not None else []
        names += [name for name in PROJECT_FILES if name not in names]
        self.files = [self.folder / name for name in names if os.path.isfile(self.folder / name)]

    def under(self, source: Path) -> tuple[str, ...]:
        if not self.files or not source.is_dir():
            return ()
        root = os.path.realpath(source)
        found = []
        for path in self.files:
            rel = os.path.relpath(path, root)
            if not rel.startswith(os.pardir):
                found.append(rel.replace(os.sep, "/"))
        return tuple(found)


def _is_local(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and value.strip() != "" and "://" not in value


def _architecture(props: dict, kind: str, metadata: object) -> str:
    """The architecture dependencies are built for: a function's first ``Architectures`` entry; a layer's
    ``Metadata.BuildArchitecture`` (SAM's), else its only ``CompatibleArchitectures`` entry; x86_64 otherwise
    (Lambda's default). A value given by an intrinsic (``!Ref Arch``) is not resolved here: x86_64."""
    chosen: object = None
    if kind == "function":
        names = props.get("Architectures")
        chosen = names[0] if isinstance(names, list) and len(names) == 1 else None
    else:
        chosen = metadata.get("BuildArchitecture") if isinstance(metadata, dict) else None
        names = props.get("CompatibleArchitectures")
        if chosen is None and isinstance(names, list) and len(names) == 1:
            chosen = names[0]
    return "arm64" if isinstance(chosen, str) and chosen.lower() == "arm64" else "x86_64"


def _build_properties(metadata: object) -> str:
    """``Metadata.BuildProperties`` as canonical JSON (sorted keys), so it can key caches; "" when absent."""
    value = metadata.get("BuildProperties") if isinstance(metadata, dict) else None
    if not isinstance(value, dict) or not value:
        return ""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _runtime(props: dict, kind: str) -> str | None:
    if kind == "function":
        runtime = props.get("Runtime")
    else:
        runtimes = props.get("CompatibleRuntimes")
        runtime = runtimes[0] if isinstance(runtimes, list) and runtimes else None
    return runtime if isinstance(runtime, str) else None
