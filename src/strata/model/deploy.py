"""What a deploy is asked to do (``DeploySettings``) and what it did (``DeployResult``): one pair of values for both
targets, so the local and the AWS orchestrator take and return the same shapes.

``DeploySettings`` is already resolved (flag > samconfig.toml > default, ``strata.deploy.settings``); the
orchestrators read it and never look at flags or files again. Each target reads the fields it needs (the comments
say which); the rest are ignored. ``DeployResult`` holds what both targets report (outcome, outputs, the verify
report) and each target's own detail; ``to_json`` is the ``--output json`` document of its target, whose keys scripts
rely on.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from strata.errors import StrataError
from strata.model.python import PythonSettings

LOCAL, AWS = "local", "aws"
DEFAULT_REGION = "us-east-1"                 # the local target's region when neither flag nor samconfig names one
DEFAULT_ACCOUNT = "123456789012"             # the local target's account id
DEFAULT_CAPABILITIES = ("CAPABILITY_IAM",)   # what `sam deploy` passes when nothing says otherwise


@dataclass(frozen=True)
class DeploySettings:
    template_path: Path
    stack_name: str
    target: str = LOCAL
    region: str | None = None                # local: always set; aws: None lets boto3's chain decide
    parameter_overrides: Mapping[str, str] = field(default_factory=dict)
    execute: bool = True                     # false: show the plan / create the change set, change nothing
    verify: bool = True                      # verify the deployed functions at the end
    home: Path | None = None                 # the state folder (local state; the build and transform caches)
    samconfig: dict[str, Any] = field(default_factory=dict)   # the deploy section, for settings read later
    # local target
    account_id: str = DEFAULT_ACCOUNT
    strict: bool = False                     # fail on resource types the local engine does not emulate
    disable_rollback: bool = False
    wait: bool = False                       # wait for another deploy of the stack instead of failing
    force: bool = False                      # move aliases pinned by `strata rollback` forward
    shift_speed: float = 1.0                 # traffic shifting: run the schedule this many times faster
    error_threshold: float = 0.0             # traffic shifting: roll back above this error rate (percent)
    build_progress: bool = False             # show the build's progress line (a terminal is watching)
    # layer ARN -> strata.artifacts.external_layers.LayerSource (--layer-source, samconfig strata_layer_sources)
    layer_sources: Mapping[str, Any] = field(default_factory=dict)
    # which Python runs each pythonX.Y runtime (--python, --allow-python-substitute, samconfig.toml, environment)
    python: PythonSettings = field(default_factory=PythonSettings)
    # aws target
    s3_bucket: str = ""
    s3_prefix: str = ""
    profile: str | None = None
    endpoint_url: str | None = None
    capabilities: tuple[str, ...] = DEFAULT_CAPABILITIES
    tags: dict[str, str] = field(default_factory=dict)
    # aws target, `sam deploy`'s other settings (samconfig.toml keys of the same names)
    resolve_s3: bool = False                 # no s3_bucket: use (creating it once) SAM's managed bucket
    confirm_changeset: bool = False          # show the change set, then ask before executing it
    fail_on_empty_changeset: bool = False    # no changes is an error (exit 1) instead of a success
    role_arn: str | None = None              # the service role CloudFormation assumes
    notification_arns: tuple[str, ...] = ()  # SNS topics for the stack's events
    kms_key_id: str | None = None            # KMS key the uploaded artifacts are encrypted with
    on_failure: str | None = None            # ROLLBACK | DELETE | DO_NOTHING (what a failed deploy leaves)

    @property
    def local_region(self) -> str:
        """The region the local target uses: the one named, else ``DEFAULT_REGION``."""
        return self.region or DEFAULT_REGION


class CheckReport(Protocol):
    """A verify report as a deploy result carries it (``strata.verify.model.VerifyReport``)."""

    @property
    def ok(self) -> bool: ...

    def to_json(self) -> dict[str, Any]: ...


@dataclass
class DeployResult:
    """What a deploy did. ``outcome``: deployed | no-changes | not-executed (local) | change-set-created (aws) |
    rolled-back | failed. ``failure`` is set when the deploy failed and the failure was reported rather than raised
    (the local engine rolled back): the caller renders the result, then raises it."""

    target: str
    stack_name: str
    outcome: str
    status: str | None = None                # local: the engine's status word; aws: the stack's status
    outputs: dict[str, Any] = field(default_factory=dict)
    verify: CheckReport | None = None
    verified: tuple[str, ...] = ()           # logical ids of the functions verify checked (local: those changed)
    failure: StrataError | None = None
    # local target
    engine: Any = None                       # strata.local.engine.api.DeployReport: plan, error, cleanup, recovery
    substitutions: list[Any] = field(default_factory=list)  # strata.local.preflight.Substitution: another Python
    pruned: Any = None                       # strata.ops.prune.PruneReport of the automatic prune
    # aws target
    change_set: Any = None                   # strata.aws.changeset.ChangeSet
    uploads: Any = None                      # strata.aws.upload.UploadReport
    versions: list[Any] = field(default_factory=list)      # strata.aws.deploy.VersionPlan
    adoptions: list[Any] = field(default_factory=list)     # strata.aws.adoption.Adoption

    def to_json(self) -> dict[str, Any]:
        return self._aws_json() if self.target == AWS else self._local_json()

    def _local_json(self) -> dict[str, Any]:
        data = dict(self.engine.to_dict())
        if self.substitutions:
            data["PythonSubstitutions"] = [s.to_dict() for s in self.substitutions]
        return data

    def _aws_json(self) -> dict[str, Any]:
        return {"stack": self.stack_name, "outcome": self.outcome, "status": self.status, "outputs": self.outputs,
                "uploaded": self.uploads.uploaded if self.uploads else [],
                "changes": [c.__dict__ for c in self.change_set.changes] if self.change_set else [],
                "versions": [v.__dict__ for v in self.versions],
                "verify": self.verify.to_json() if self.verify else None}
