"""Where the AWS target keeps each function's fingerprint inputs: the stack template's ``Metadata.strata.fingerprints``.

CloudFormation stores the template with the stack (GetTemplate gives it back), so the next deploy reads what the
previous one recorded. The stored form and the diff that names what changed are ``strata.transform.why``'s, the same
the local engine uses.
"""
from __future__ import annotations

import json
from typing import Any

from strata.transform.result import FunctionVersionInfo
from strata.transform.why import FunctionFingerprint, why_new

METADATA_KEY = "strata"


def with_fingerprints(template: dict[str, Any], functions: dict[str, FunctionVersionInfo]) -> dict[str, Any]:
    """A copy of ``template`` whose ``Metadata.strata.fingerprints`` records every function's inputs."""
    out = json.loads(json.dumps(template))
    metadata = out.setdefault("Metadata", {})
    record = {fid: FunctionFingerprint.of(functions[fid]).to_json() for fid in sorted(functions)}
    metadata[METADATA_KEY] = {**(metadata.get(METADATA_KEY) or {}), "fingerprints": record}
    return out


def recorded_fingerprints(template: dict[str, Any] | None) -> dict[str, FunctionFingerprint]:
    """What the deployed template recorded (empty for a stack that SAM or another tool deployed)."""
    metadata = (template or {}).get("Metadata") or {}
    strata = metadata.get(METADATA_KEY) if isinstance(metadata, dict) else None
    found = strata.get("fingerprints") if isinstance(strata, dict) else None
    if not isinstance(found, dict):
        return {}
    return {str(fid): FunctionFingerprint.from_json(data) for fid, data in found.items() if isinstance(data, dict)}


def version_reasons(info: FunctionVersionInfo, recorded: FunctionFingerprint | None, *,
                    deployed_stack: bool) -> list[str]:
    """Why ``info``'s Version is new: each input that changed, appeared or went away since the recorded deploy."""
    if recorded is None:
        if not deployed_stack:
            return ["first deploy of the stack"]
        return ["no fingerprint recorded for this function (new function, or a stack deployed by another tool)"]
    return why_new(recorded, info)
