"""Why a version publishes: the stored form of a function's fingerprint inputs, and the one diff between two of them.

Both targets store the same form (``FunctionFingerprint.to_json``): the local engine in its SQLite state (and in each
deploy's request, for recovery), the AWS target in the stack template's ``Metadata.strata.fingerprints`` (CloudFormation
keeps it with the stack). The next deploy compares its inputs with the stored ones, input by input, and names what
changed: ``Layers[1] changed (SharedLayer (content 02d788109cdd) -> SharedLayer (content 1ac473089a4d))``.

Contract: pure; no I/O.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from strata.transform.result import FingerprintInput, FunctionVersionInfo

# The reason when no input differs but the fingerprint does: the inputs hash to the fingerprint, so only a change in
# strata's fingerprint rules (what goes into an input, or how it is hashed) gets here.
RULES_CHANGED = "the fingerprint inputs are unchanged, but strata's fingerprint rules changed"


@dataclass(frozen=True)
class FunctionFingerprint:
    """What a deploy stores about one function: its Version logical id, fingerprint and the fingerprint's inputs."""

    fingerprint: str
    inputs: tuple[FingerprintInput, ...]
    version_id: str | None = None

    @classmethod
    def of(cls, info: FunctionVersionInfo) -> FunctionFingerprint:
        return cls(info.fingerprint, tuple(info.inputs), info.version_id)

    def to_json(self) -> dict[str, Any]:
        """``{"version": id, "fingerprint": hex, "inputs": {name: {"digest": hex, "display": text}}}`` (input order
        kept: the order the post-pass gives, e.g. ``Layers[2]`` before ``Layers[10]``)."""
        return {"version": self.version_id, "fingerprint": self.fingerprint,
                "inputs": {i.name: {"digest": i.digest, "display": i.display} for i in self.inputs}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FunctionFingerprint:
        """Read ``to_json``'s form, and the local engine's earlier one (``version_id``; ``inputs`` as a list of
        ``{name, display, digest}``), which existing ``.strata/`` state and interrupted deploys still hold."""
        raw = data.get("inputs") or {}
        if isinstance(raw, Mapping):
            inputs = tuple(FingerprintInput(str(name), str((item or {}).get("display", "")),
                                            str((item or {}).get("digest", "")))
                           for name, item in raw.items())
        else:
            inputs = tuple(FingerprintInput(str(item["name"]), str(item.get("display", "")),
                                            str(item.get("digest", "")))
                           for item in raw if isinstance(item, Mapping) and "name" in item)
        version = data.get("version", data.get("version_id"))
        return cls(str(data.get("fingerprint", "")), inputs, None if version is None else str(version))


def input_changes(before: Iterable[FingerprintInput], after: Iterable[FingerprintInput]) -> list[str]:
    """Each input that changed, was added or was removed, in ``after``'s order, then the removed ones in ``before``'s.
    Identical inputs give no reasons."""
    old = {i.name: i for i in before}
    new = {i.name: i for i in after}
    reasons: list[str] = []
    for name, item in new.items():
        was = old.get(name)
        if was is None:
            reasons.append(f"{name} added ({item.display})")
        elif was.digest != item.digest:
            reasons.append(f"{name} changed ({was.display} -> {item.display})")
    reasons += [f"{name} removed (was {item.display})" for name, item in old.items() if name not in new]
    return reasons


def why_new(before: FunctionFingerprint, after: FunctionFingerprint | FunctionVersionInfo) -> list[str]:
    """Why ``after`` needs a version that ``before`` did not give: the inputs that differ, never an empty list."""
    return input_changes(before.inputs, after.inputs) or [RULES_CHANGED]


__all__ = ["FunctionFingerprint", "RULES_CHANGED", "input_changes", "why_new"]
