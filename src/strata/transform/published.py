"""A deployed Version keeps the description it was published with (SAM's ``VersionDescription``).

Why: a version's description is a label given to PublishVersion, not part of what a version contains
(``fields.VERSION_RESOURCE_IGNORED``): with nothing changed in ``$LATEST``, Lambda returns the existing version
whatever description it is given. But ``Description`` is a replacement property of ``AWS::Lambda::Version`` (on
CloudFormation, and in the local engine that follows it), and a replacement publishes, which then fails with "A version
for this Lambda function exists". So, for every fingerprint-named Version that is already deployed under the same
logical id (its content is unchanged), the template carries the description the version was published with, and the
plan says that the new one takes effect at the next publish (the next content change gives a new Version id, published
with the template's description). The deployed template then records, per version, the description it was published
with: what verify compares.

``keep_unchanged_versions`` carries a local stack deployed under the earlier rule (the description counted as content)
over without a publish. Contract: pure. Both targets call ``keep_published_descriptions`` with what they have
deployed, before planning (the AWS target's ``adoption`` carries over its stacks deployed under other rules).
"""
from __future__ import annotations

import copy
import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any

from strata.template.intrinsics import NO_VALUE
from strata.transform.result import FunctionVersionInfo
from strata.transform.versions import is_generated_version_id, rename_logical_ids
from strata.transform.why import FunctionFingerprint

VERSION_TYPE = "AWS::Lambda::Version"
NOTE = "VersionDescription change takes effect at the next publish"


@dataclass(frozen=True)
class KeptDescriptions:
    template: dict[str, Any]         # ``template`` itself when nothing was kept
    notes: tuple[str, ...]           # one per Version whose new description waits for the next publish


def description_text(value: Any) -> str | None:
    """A Version's description as Lambda reports it: absent and ``""`` are the same (no description)."""
    if value is None or value is NO_VALUE or value == "":
        return None
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def keep_published_descriptions(template: dict[str, Any], functions: Mapping[str, FunctionVersionInfo],
                                deployed: Mapping[str, Any], *,
                                resolve: Callable[[Any, tuple], Any] | None = None) -> KeptDescriptions:
    """``template`` with each deployed fingerprint-named Version's Description set back to the one it was published
    with. ``deployed``: Version logical id -> its deployed (resolved) Description, None when it had none; only the
    Versions deployed under that id. ``resolve`` evaluates the template's value (parameters, Sub ...) for the
    comparison; without it the value is compared as written."""
    resources = template.get("Resources") or {}
    out = template
    notes: list[str] = []
    for function_id, info in sorted(functions.items()):
        version_id = info.version_id
        if not version_id or version_id not in deployed or not is_generated_version_id(version_id, function_id):
            continue
        body = resources.get(version_id)
        if not isinstance(body, dict) or body.get("Type") != VERSION_TYPE:
            continue
        raw = (body.get("Properties") or {}).get("Description")
        path = ("Resources", version_id, "Properties", "Description")
        wanted = description_text(resolve(raw, path) if resolve is not None and raw is not None else raw)
        published = description_text(deployed[version_id])
        if wanted == published:
            continue
        if out is template:
            out = copy.deepcopy(template)
        props = out["Resources"][version_id].setdefault("Properties", {})
        if published is None:
            props.pop("Description", None)
        else:
            props["Description"] = published
        notes.append(f"{version_id}: {NOTE} (the deployed version of {function_id} keeps "
                     f"{_quoted(published)}; {_quoted(wanted)} goes to the next version published)")
    return KeptDescriptions(out, tuple(notes))


def _quoted(text: str | None) -> str:
    return "no description" if text is None else json.dumps(text)




@dataclass(frozen=True)
class KeptVersions:
    template: dict[str, Any]
    functions: dict[str, FunctionVersionInfo]
    notes: tuple[str, ...]


# The fingerprint input that earlier rules counted as version content (``fields.VERSION_RESOURCE_IGNORED``).
_DROPPED_INPUTS = frozenset({"Version.Description"})


def keep_unchanged_versions(template: dict[str, Any], functions: Mapping[str, FunctionVersionInfo],
                            previous: Mapping[str, FunctionFingerprint], deployed: Collection[str]) -> KeptVersions:
    """Keep a deployed Version's logical id when its function's fingerprint inputs are the recorded ones, but for an
    input earlier rules counted (the VersionDescription): a stack deployed before would otherwise get a new Version id
    for unchanged content, whose publish fails ("A version for this Lambda function exists"). The id stays kept (the
    stored fingerprint records it) until the content changes. ``previous``: the fingerprints the last deploy recorded;
    ``deployed``: the logical ids of the deployed resources."""
    renames: dict[str, str] = {}
    kept: dict[str, FunctionVersionInfo] = dict(functions)
    notes: list[str] = []
    resources = template.get("Resources") or {}
    for function_id, info in sorted(functions.items()):
        before = previous.get(function_id)
        new_id, old_id = info.version_id, before.version_id if before else None
        if (before is None or not new_id or not old_id or old_id == new_id or old_id not in deployed
                or old_id in resources or not is_generated_version_id(new_id, function_id)
                or not is_generated_version_id(old_id, function_id)):
            continue
        was = {i.name: i.digest for i in before.inputs if i.name not in _DROPPED_INPUTS}
        if was != {i.name: i.digest for i in info.inputs}:
            continue
        renames[new_id] = old_id
        kept[function_id] = replace(info, version_id=old_id)
        if len(was) != len(before.inputs):
            notes.append(f"{old_id}: kept (the content of {function_id} is unchanged; strata no longer counts "
                         "VersionDescription as version content)")
    if not renames:
        return KeptVersions(template, dict(functions), ())
    return KeptVersions(rename_logical_ids(copy.deepcopy(template), renames), kept, tuple(notes))


__all__ = ["NOTE", "KeptDescriptions", "KeptVersions", "description_text", "keep_published_descriptions",
           "keep_unchanged_versions"]
