"""Adoption: keep a deployed Version's logical id when the function's version content has not changed.

A stack that SAM (or an earlier strata with other fingerprint rules) deployed names its Versions differently. A new
Version logical id makes CloudFormation call PublishVersion; when nothing a version contains changed, Lambda returns
the existing version and CloudFormation fails the deploy with "A version for this Lambda function exists". So, for
each function whose new Version id is not in the deployed template but an older one is: resolve the new template's
function properties with the deployed physical ids, compare with the live $LATEST (code sha256 and every
version-locked setting) and with the deployed version; when all are equal, the deployed Version resource is kept
verbatim (same id, same properties: changing a Version's properties would fail too) and references follow.

Contract: reads only (GetFunctionConfiguration); returns a new template and one note per decision.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from strata.aws.errors import aws_errors
from strata.model.lambda_errors import is_not_found
from strata.model.naming import version_number_of
from strata.transform.result import FunctionVersionInfo
from strata.transform.versions import VERSION_TYPE, rename_logical_ids
from strata.verify.checker import content_findings
from strata.verify.expected import expected_functions
from strata.verify.model import DeployedStack


@dataclass(frozen=True)
class Adoption:
    function_id: str
    new_version_id: str
    kept_version_id: str | None        # None: not adopted (``reason`` says why)
    reason: str


def adopt_versions(template: dict[str, Any], functions: dict[str, FunctionVersionInfo],
                   parameters: dict[str, Any], deployed: DeployedStack, lambda_client: Any
                   ) -> tuple[dict[str, Any], list[Adoption]]:
    """Return the template with unchanged functions' deployed Version ids kept, and what was decided."""
    old_resources = deployed.template.get("Resources") or {}
    candidates: dict[str, tuple[str, list[str]]] = {}
    for function_id, info in functions.items():
        if not info.version_id or info.version_id in old_resources or function_id not in deployed.resources:
            continue
        old = [lid for lid, res in old_resources.items()
               if isinstance(res, dict) and res.get("Type") == VERSION_TYPE
               and (res.get("Properties") or {}).get("FunctionName") == {"Ref": function_id}
               and lid in deployed.resources]
        if old:
            candidates[function_id] = (info.version_id, old)
    if not candidates:
        return template, []

    probe = DeployedStack(name=deployed.name, template=template, parameters=parameter_text(parameters),
                          resources=deployed.resources, region=deployed.region, account_id=deployed.account_id,
                          partition=deployed.partition, stack_id=deployed.stack_id)
    desired = {f.logical_id: f for f in expected_functions(probe)}
    # a kept Version keeps its deployed properties, the description it was published with included: compare the
    # deployed versions with that description (the new Version ids are not deployed, so ``desired`` has none)
    published = {f.logical_id: f.version_descriptions for f in expected_functions(deployed)}
    desired = {fid: dataclasses.replace(f, version_descriptions=published.get(fid, {})) for fid, f in desired.items()}
    renames: dict[str, str] = {}
    decisions: list[Adoption] = []
    for function_id, (new_id, old_ids) in sorted(candidates.items()):
        expected = desired.get(function_id)
        decision = _decide(function_id, new_id, old_ids, expected, deployed, lambda_client)
        decisions.append(decision)
        if decision.kept_version_id:
            renames[new_id] = decision.kept_version_id
    if not renames:
        return template, decisions
    out = rename_logical_ids(json.loads(json.dumps(template)), renames)
    for kept in renames.values():
        out["Resources"][kept] = json.loads(json.dumps(old_resources[kept]))
    return out, decisions


def _decide(function_id: str, new_id: str, old_ids: list[str], expected: Any, deployed: DeployedStack,
            client: Any) -> Adoption:
    def no(reason: str) -> Adoption:
        return Adoption(function_id, new_id, None, reason)

    if expected is None:
        return no("the function is not deployed yet")
    blocking = [name for name in expected.unchecked if name != "CodeSha256"]
    if blocking or not expected.code_sha256:
        what = ", ".join(blocking + ([] if expected.code_sha256 else ["code"]))
        return no(f"cannot compare with the deployed function ({what} known only after deploy)")
    with aws_errors(f"reading function {expected.name}"):
        latest = client.get_function_configuration(FunctionName=expected.name)
    changed = content_findings(expected, latest, "$LATEST", "$LATEST has")
    if changed:
        return no("content changed: " + "; ".join(f.message for f in changed[:3]))
    for old_id in old_ids:
        number = version_number_of(deployed.resources[old_id].physical_id)
        if number is None:
            return Adoption(function_id, new_id, old_id,
                            f"unchanged: $LATEST matches; kept {old_id} (its version number is not recorded)")
        try:
            with aws_errors(f"reading version {number} of {expected.name}"):
                version = client.get_function_configuration(FunctionName=expected.name, Qualifier=number)
        except Exception as exc:
            if is_not_found(exc):       # AwsError keeps the service's code: ResourceNotFoundException
                continue
            raise
        if not content_findings(expected, version, "", "", version=number):
            return Adoption(function_id, new_id, old_id,
                            f"unchanged: $LATEST and version {number} match the new content; kept {old_id}")
    return no("$LATEST matches the new content but no deployed version does: a publish would return a version "
              "the stack does not own; run `strata verify --target aws --repair` after deploying")


def parameter_text(parameters: dict[str, Any]) -> dict[str, str]:
    """Resolved parameter values as CloudFormation holds them (text; a list joined with commas)."""
    out = {}
    for name, value in parameters.items():
        if isinstance(value, list):
            out[name] = ",".join(str(v) for v in value)
        elif isinstance(value, (str, int, float, bool)):
            out[name] = str(value)
    return out
