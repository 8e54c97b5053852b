"""Typed values of verification: what a stack deployed (as read back from its target) and what verify found.

``DeployedStack`` is the one input both targets produce (AWS: DescribeStacks + GetTemplate + ListStackResources;
local: the engine's state), so the same checker runs on both. Everything is a plain frozen value.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strata.model.routing import AliasRouting


@dataclass(frozen=True)
class StackResource:
    """One deployed resource: its type, physical id and any attributes the target recorded (GetAtt values)."""

    logical_id: str
    type: str
    physical_id: str
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeployedStack:
    """A stack as deployed: the processed template, its parameter values and each resource's physical id."""

    name: str
    template: dict[str, Any]
    parameters: dict[str, str]
    resources: dict[str, StackResource]
    region: str
    account_id: str
    partition: str = "aws"
    status: str | None = None
    stack_id: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ExpectedAlias:
    name: str
    routing: AliasRouting               # as deployed (primary "" when unknown until deploy; unresolved extras left out)

    @property
    def version(self) -> str | None:
        """The version number the stack deployed (None when unknown)."""
        return self.routing.primary or None


@dataclass(frozen=True)
class ExpectedFunction:
    """What one function must look like, everywhere it is served ($LATEST, the stack's versions, its aliases)."""

    logical_id: str
    name: str                                        # physical function name
    code_sha256: str | None                          # Lambda's base64 CodeSha256 (None: not known, not checked)
    code_location: dict[str, str] | None             # S3Bucket/S3Key of the deployed code (for --repair)
    settings: dict[str, Any]                         # setting name -> canonical value (see verify.settings)
    unchecked: tuple[str, ...] = ()                  # settings whose deployed value could not be resolved
    versions: tuple[str, ...] = ()                   # version numbers of the stack's AWS::Lambda::Version resources
    aliases: tuple[ExpectedAlias, ...] = ()
    # version number -> the Description the stack published it with (SAM's VersionDescription), canonical form;
    # a version published without one holds the function's Description
    version_descriptions: dict[str, Any] = field(default_factory=dict)

    def settings_of(self, version: str | None) -> dict[str, Any]:
        """The settings ``version`` must hold (``$LATEST`` for None): a version's own description is the one it was
        published with, not the function's (a description-only edit publishes nothing, so the two may differ)."""
        if version is None or version not in self.version_descriptions or "Description" not in self.settings:
            return self.settings
        return {**self.settings, "Description": self.version_descriptions[version]}


@dataclass(frozen=True)
class Finding:
    """One mismatch between what is served and what was deployed, in words a user acts on."""

    function: str            # logical id
    function_name: str       # physical name
    subject: str             # "$LATEST", "alias live", "version 3"
    setting: str             # "CodeSha256", "Layers", "FunctionVersion", "RoutingConfig", "missing", ...
    message: str
    live: Any = None
    expected: Any = None

    def __str__(self) -> str:
        return f"{self.function}: {self.message}"


@dataclass
class VerifyReport:
    stack: str
    target: str
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)        # "HelloFunction: $LATEST, alias live -> 2", ...
    repairs: list[str] = field(default_factory=list)        # what --repair did
    unrepaired: list[str] = field(default_factory=list)     # what --repair could not do, and why
    artifacts: int | None = None                             # stored zips hashed against their names (local)
    unpacked: int | None = None                              # unpacked trees checked file by file (local)

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_json(self) -> dict[str, Any]:
        return {"stack": self.stack, "target": self.target, "ok": self.ok, "checked": list(self.checked),
                "findings": [{"function": f.function, "function_name": f.function_name, "subject": f.subject,
                              "setting": f.setting, "message": f.message, "live": f.live, "expected": f.expected}
                             for f in self.findings],
                "notes": list(self.notes), "repairs": list(self.repairs),
                **({"unrepaired": list(self.unrepaired)} if self.unrepaired else {}),
                **({"artifacts_checked": self.artifacts} if self.artifacts is not None else {}),
                **({"unpacked_checked": self.unpacked} if self.unpacked is not None else {})}

    def text(self) -> str:
        """The text report: what was checked, what was repaired, each finding, notes, and the verdict."""
        from strata.model.listing import LIST_LIMIT

        lines = [f"Stack {self.stack} ({self.target}):"]
        if len(self.checked) <= LIST_LIMIT:
            lines += [f"  checked {line}" for line in self.checked]
        else:       # each function's line is in --output json; a mismatch below names its function
            lines.append(f"  checked {_checked_counts(self.checked)}")
        if self.artifacts is not None:
            lines.append(f"  checked {self.artifacts} stored artifact(s) (each zip's bytes against its sha256)"
                         + (f" and {self.unpacked} unpacked tree(s) (each file against what was unpacked)"
                            if self.unpacked else ""))
        lines += [f"  repaired: {line}" for line in self.repairs]
        lines += [f"  not repaired: {line}" for line in self.unrepaired]
        lines += [f"  MISMATCH {finding}" for finding in self.findings]
        lines += [f"  note: {note}" for note in self.notes]
        if self.ok:
            lines.append("OK: every function serves what was deployed.")
        else:
            count = len(self.findings)
            lines.append(f"FAILED: {count} mismatch{'es' if count != 1 else ''}; " + (
                "`strata verify --repair` could not restore what was deployed (see 'not repaired')."
                if self.unrepaired else "`strata verify --repair` restores what was deployed."))
        return "\n".join(lines)


def _checked_counts(checked: list[str]) -> str:
    """``500 functions ($LATEST, 500 aliases, 500 versions)`` from ``checker``'s per-function lines
    (``Fn (name): $LATEST; alias live -> 1; version 1``)."""
    aliases = versions = 0
    for line in checked:
        for part in line.split(": ", 1)[-1].split("; "):
            aliases += part.startswith("alias ")
            versions += part.startswith("version ")
    return (f"{len(checked)} functions ($LATEST, {aliases} alias{'es' if aliases != 1 else ''}, "
            f"{versions} version{'s' if versions != 1 else ''})")
