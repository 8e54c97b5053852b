"""Fingerprint inputs recorded in the stack template, so the next deploy can say *why* a version is published.

The template carries ``Metadata.strata.fingerprints``: per function, its Version logical id, the fingerprint and each
input's digest and display text. CloudFormation stores it with the stack (GetTemplate gives it back); comparing the
new inputs with the recorded ones names what changed ("layer 1: SharedLayer (content a1b2) -> (content c3d4)").
"""
from __future__ import annotations

import json
from typing import Any

from strata.transform.result import FunctionVersionInfo

METADATA_KEY = "strata"


def with_fingerprints(template: dict[str, Any], functions: dict[str, FunctionVersionInfo]) -> dict[str, Any]:
    """A copy of ``template`` whose ``Metadata.strata.fingerprints`` records every function's inputs."""
    out = json.loads(json.dumps(template))
    metadata = out.setdefault("Metadata", {})
    record = {}
    for function_id in sorted(functions):
        info = functions[function_id]
        record[function_id] = {
            "version": info.version_id, "fingerprint": info.fingerprint,
            "inputs": {i.name: {"digest": i.digest, "display": i.display} for i in info.inputs}}
    metadata[METADATA_KEY] = {**(metadata.get(METADATA_KEY) or {}), "fingerprints": record}
    return out


def recorded_fingerprints(template: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """What the deployed template recorded (empty for a stack that SAM or another tool deployed)."""
    metadata = (template or {}).get("Metadata") or {}
    strata = metadata.get(METADATA_KEY) if isinstance(metadata, dict) else None
    found = strata.get("fingerprints") if isinstance(strata, dict) else None
    return found if isinstance(found, dict) else {}


def version_reasons(info: FunctionVersionInfo, recorded: dict[str, Any] | None, *, deployed_stack: bool) -> list[str]:
    """Why ``info``'s Version is new: each input that changed, appeared or went away since the recorded deploy."""
    if recorded is None:
        if not deployed_stack:
            return ["first deploy of the stack"]
        return ["no fingerprint recorded for this function (new function, or a stack deployed by another tool)"]
    old = recorded.get("inputs") or {}
    new = {i.name: i for i in info.inputs}
    reasons = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if before is None and after is not None:
            reasons.append(f"{name} added ({after.display})")
        elif after is None and before is not None:
            reasons.append(f"{name} removed (was {before.get('display')})")
        elif after is not None and before is not None and before.get("digest") != after.digest:
            reasons.append(f"{name} changed ({before.get('display')} -> {after.display})")
    return reasons or ["the fingerprint inputs are unchanged but the Version id differs (strata's fingerprint "
                       "rules changed)"]
