"""The values the transform stage hands to plan/deploy: the stack template plus, per function, why its Version id is
what it is. Plain frozen dataclasses, so a plan can print and compare them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Where the stack template points code when the target is the local engine: the Lambda service resolves
# ``s3://<LOCAL_CODE_BUCKET>/<prefix>/<sha256>.zip`` to the content-addressed artifact store.
LOCAL_CODE_BUCKET = "strata-local-artifacts"


@dataclass(frozen=True)
class FingerprintInput:
    """One input of a function's version fingerprint.

    ``name`` says what it is ("code", "layer 1: SharedLayer", "Handler", "Environment.Variables.TABLE" ...),
    ``display`` is what a person reads (a short digest or the value, truncated), ``digest`` is the sha256 of the
    input's canonical JSON, so two deploys can be compared input by input to say *why* a version is published.
    """

    name: str
    display: str
    digest: str


@dataclass(frozen=True)
class FunctionVersionInfo:
    """A function of the stack template and the Version that the post-pass derived for it."""

    function_id: str                      # logical id of the AWS::Lambda::Function
    version_id: str | None                # logical id of its AWS::Lambda::Version, if it has one
    alias_ids: tuple[str, ...]            # logical ids of AWS::Lambda::Alias resources pointing at that Version
    fingerprint: str                      # hex sha256 of the canonical version-relevant properties
    code_sha256: str | None               # hex sha256 of the code artifact (None for inline/image/external code)
    inputs: tuple[FingerprintInput, ...]
    warnings: tuple[str, ...] = ()        # e.g. a reference that cannot be known before deploy


@dataclass
class TransformResult:
    template: dict[str, Any]                         # plain CloudFormation: the same document for every target
    functions: dict[str, FunctionVersionInfo]        # by function logical id
    parameters: dict[str, Any]                       # resolved parameter values (defaults + overrides)
    artifacts: list[Any] = field(default_factory=list)   # strata.artifacts.BuiltArtifact, in build order
    translated_from_cache: bool = False
    files: list[Any] = field(default_factory=list)       # strata.artifacts.packageable.LocalFile: packaged local paths
    uploads: list[Any] = field(default_factory=list)     # strata.transform.package.Upload: (aws) files for the bucket
