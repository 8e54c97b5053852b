"""Layers published outside the state home (a public ARN such as Powertools'), built locally from what the user maps
them to: a folder (zipped as-is, like a ``ContentUri`` without BuildMethod: it holds ``python/...``), a ``.zip``
(used as-is), or ``pip:REQUIREMENT`` (installed under ``python/`` with pip, cached per requirement text, like a
layer's ``requirements.txt``).

Where a mapping comes from, first match wins: ``--layer-source ARN=SOURCE`` (repeatable), then
``strata_layer_sources`` in samconfig.toml's deploy parameters (a list of ``ARN=SOURCE``, or a table), then the
well-known public layers (Powertools for AWS Lambda (Python) -> its PyPI package, the release a V3 layer version holds
when known, ``POWERTOOLS_V3_RELEASES``). A mapping may name
an ARN without its version (``...:layer:Name``) to cover every version. Relative paths are taken from the template's
folder.

Contract: no network except pip, and pip only on a dependency-cache miss (``strata.artifacts.deps``). The stand-in's
artifact digest enters the function's version fingerprint (``strata.transform.versions``: a layer in the template
contributes its content digest), so a changed mapping publishes a new version and an unchanged one publishes nothing.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from strata.errors import BuildError, StrataError
from strata.paths import cache_dir

PIP = "pip:"
POWERTOOLS_ACCOUNT = "017000801446"
# Powertools for AWS Lambda (Python)'s public layers -> the PyPI requirement the layer holds. The layers are built
# with every extra (the ``[all]`` extra) and without boto3, which the Lambda runtime brings.
_V3 = re.compile(r"AWSLambdaPowertoolsPythonV3-python3\d+-(x86_64|arm64)")
_POWERTOOLS = (
    (_V3, "aws-lambda-powertools[all]>=3,<4"),
    (re.compile(r"AWSLambdaPowertoolsPythonV2(-Arm64)?"), "aws-lambda-powertools[all]>=2,<3"),
    (re.compile(r"AWSLambdaPowertoolsPython"), "aws-lambda-powertools[all]<2"),
)
# V3 layer version -> the release it holds (each release publishes one layer version, the same in every region): from
# the project's "docs(layer): update layer version number" pull requests (#5344 v3.1.0 -> 2, #5426 v3.2.0 -> 3,
# #5785 v3.4.0 -> 5, #5869 v3.4.1 -> 6); 1 is v3.0.0, which introduced the V3 layers; 4 (v3.3.0, #5562) and 7
# (v3.5.0, #5952) follow from the sequence. Other versions get the newest 3.x.
POWERTOOLS_V3_RELEASES = {1: "3.0.0", 2: "3.1.0", 3: "3.2.0", 4: "3.3.0", 5: "3.4.0", 6: "3.4.1", 7: "3.5.0"}
_ARN = re.compile(r"arn:aws[a-z-]*:lambda:[a-z0-9-]+:(\d{12}):layer:([A-Za-z0-9_-]+)(?::(\d+))?")


@dataclass(frozen=True)
class LayerSource:
    """What an external layer ARN is built from: a folder or zip (``path``) or a pip requirement."""

    arn: str
    path: Path | None = None
    requirement: str | None = None
    origin: str = "--layer-source"      # --layer-source | samconfig.toml | default

    def describe(self) -> str:
        what = f"pip {self.requirement}" if self.requirement else str(self.path)
        return f"{what}, from {self.origin}"


def parse_source(arn: str, text: str, base: Path, origin: str) -> LayerSource:
    """``SOURCE`` of ``ARN=SOURCE``: ``pip:REQ`` or a path (relative to ``base``)."""
    text = text.strip()
    if not _ARN.fullmatch(arn):
        raise StrataError(f"{origin}: {arn!r} is not a Lambda layer ARN",
                          hint="write arn:aws:lambda:REGION:ACCOUNT:layer:NAME[:VERSION]=PATH|pip:REQUIREMENT")
    if text.startswith(PIP):
        requirement = text[len(PIP):].strip()
        if not requirement or "\n" in requirement:
            raise StrataError(f"{origin}: {arn}: the pip requirement is empty or spans lines")
        return LayerSource(arn, requirement=requirement, origin=origin)
    if not text:
        raise StrataError(f"{origin}: {arn}: no source given", hint="write ARN=PATH (folder or .zip) or ARN=pip:REQ")
    return LayerSource(arn, path=(base / text).resolve(), origin=origin)


def parse_mappings(items: Iterable[str] | Mapping[str, Any] | None, base: Path, origin: str) -> dict[str, LayerSource]:
    """``["ARN=SOURCE", ...]`` (or ``{ARN: SOURCE}``, samconfig's table form) -> {arn: source}. An ARN holds colons
    but no ``=``, so the first ``=`` splits."""
    if items is None:
        return {}
    if isinstance(items, str):
        items = items.split()
    pairs: list[tuple[str, str]] = []
    if isinstance(items, Mapping):
        pairs = [(str(k), str(v)) for k, v in items.items()]
    else:
        for item in items:
            arn, sep, source = str(item).partition("=")
            if not sep:
                raise StrataError(f"{origin}: {item!r} is not ARN=SOURCE",
                                  hint="write --layer-source arn:aws:lambda:...:layer:NAME:VERSION=./folder")
            pairs.append((arn.strip(), source))
    return {arn: parse_source(arn, source, base, origin) for arn, source in pairs}


def default_source(arn: str) -> LayerSource | None:
    """The well-known public layer ``arn`` stands for, as a pip requirement (None when it is not one)."""
    match = _ARN.fullmatch(arn)
    if match is None or match.group(1) != POWERTOOLS_ACCOUNT:
        return None
    for pattern, requirement in _POWERTOOLS:
        if pattern.fullmatch(match.group(2)):
            release = POWERTOOLS_V3_RELEASES.get(int(match.group(3) or 0)) if pattern is _V3 else None
            if release is not None:
                requirement = f"aws-lambda-powertools[all]=={release}"
            return LayerSource(arn, requirement=requirement, origin="default (Powertools for AWS Lambda)")
    return None


class LayerSources:
    """The mappings of one deploy, looked up by ARN: exact ARN, then the ARN without its version, then defaults."""

    def __init__(self, mappings: Mapping[str, LayerSource]) -> None:
        self.mappings = dict(mappings)

    def __call__(self, arn: str) -> LayerSource | None:
        found = self.mappings.get(arn)
        if found is None:
            unversioned = arn.rsplit(":", 1)[0]
            found = self.mappings.get(unversioned)
        if found is not None:
            return LayerSource(arn, found.path, found.requirement, found.origin)
        return default_source(arn)


def _requirement_folder(home: Path, requirement: str) -> Path:
    """A folder holding only ``requirements.txt`` with ``requirement``: what the builder installs under python/."""
    folder = cache_dir(home) / "external-layers" / hashlib.sha256(requirement.encode()).hexdigest()[:24]
    wanted = requirement + "\n"
    path = folder / "requirements.txt"
    if not path.is_file() or path.read_text(encoding="utf-8") != wanted:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / ".requirements.txt.tmp"
        tmp.write_text(wanted, encoding="utf-8")
        tmp.replace(path)
    return folder


def build_stand_ins(sources: Mapping[str, LayerSource], home: Path) -> list[Any]:
    """Build each stand-in layer (logical id -> source); the ``BuiltArtifact`` of each, in order."""
    from strata.artifacts.builder import build_targets
    from strata.artifacts.python_target import host_machine
    from strata.artifacts.targets import BuildTarget

    here = "arm64" if host_machine() == "aarch64" else "x86_64"   # a stand-in only ever runs on this machine
    targets = []
    for logical_id, source in sources.items():
        if source.requirement is not None:
            folder, method = _requirement_folder(home, source.requirement), "python3"
        else:
            assert source.path is not None
            if not source.path.exists():
                raise BuildError(f"layer {source.arn} is mapped to {source.path} ({source.origin}), which does not "
                                 "exist", hint="fix the path of --layer-source / strata_layer_sources")
            folder, method = source.path, None
        targets.append(BuildTarget(logical_id, "Content", folder, "layer", None, method, (), here))
    return build_targets(targets, home)


__all__ = ["LayerSource", "LayerSources", "build_stand_ins", "default_source", "parse_mappings", "parse_source"]
