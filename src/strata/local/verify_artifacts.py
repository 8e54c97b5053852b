"""verify on the local target, the bytes: every stored zip a stack's functions and layers run must be in the artifact
store (``strata.artifacts.store``) and hash to its name; ``--repair`` (and deploy) writes a damaged one again from the
build.

Why: the Lambda service records each version's code digest, and verify's template check compares those digests; they
stay right when the zip behind them is deleted or overwritten, so a check of the digests alone says OK over bytes
that are gone. What is checked: every version of each function of the stack (``$LATEST`` included, so every alias's
target), every layer version those use, and the stack's own layer versions. Each zip is hashed once per run,
streamed (bounded memory), however many versions share it.

Unpacked code: each zip an invoke has unpacked (``<home>/runtime/<sha>/``, shared by every function with that code)
must still hold what was unpacked, file by file against the tree's manifest (``strata.local.runtime.manifest``);
``--repair`` unpacks it again, in place, from the (verified) stored zip.

Restoring: the store is content-addressed, so the only way to put bytes back under a name is to produce bytes with
that digest. ``Quarantine`` moves the damaged files aside, the caller builds (``verify --repair`` builds the
template; deploy builds it anyway), and ``settle`` reports which digests the build wrote again; a damaged file the
build could not reproduce goes back where it was, and stays a finding: nothing is called repaired over a mismatch.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from strata.artifacts.store import ArtifactCheck, ArtifactStore
from strata.model.naming import LayerVersionRef

if TYPE_CHECKING:       # imported where a finding is made: a deploy whose artifacts are sound never loads verify
    from strata.verify.model import Finding

FUNCTION = "AWS::Lambda::Function"
LAYER = "AWS::Lambda::LayerVersion"
ARTIFACT = "artifact"          # a finding's ``setting`` (and ``subject``) for a damaged stored zip
UNPACKED = "unpacked"          # ... for an unpacked tree that differs from its zip


@dataclass(frozen=True)
class ArtifactUse:
    """One user of a stored zip: a function version or a layer version of the stack."""

    logical_id: str            # the function's (or layer's) logical id; a layer's name when the stack has no resource
    name: str                  # physical function name, or layer name
    what: str                  # "$LATEST", "version 2", "layer version 3"


def artifact_uses(db: sqlite3.Connection, resources: Mapping[str, Any],
                  only: Collection[str] | None = None) -> dict[str, list[ArtifactUse]]:
    """sha256 (hex) of every stored zip the stack's functions (or those in ``only``) and layers use -> its users.
    ``resources``: logical id -> a deployed resource (``type``, ``physical_id``); ``db``: the state database."""
    from strata.local.lambda_service.digests import function_digests, layer_digest

    uses: dict[str, list[ArtifactUse]] = {}
    functions = {r.physical_id: lid for lid, r in resources.items()
                 if r.type == FUNCTION and (only is None or lid in only)}
    layer_ids = {r.physical_id: lid for lid, r in resources.items() if r.type == LAYER}
    layers: set[str] = set() if only is not None else set(layer_ids)
    for version in function_digests(db, functions):
        what = version.version if version.version == "$LATEST" else f"version {version.version}"
        uses.setdefault(version.sha256, []).append(ArtifactUse(functions[version.function_name],
                                                               version.function_name, what))
        layers.update(version.layers)
    for arn in sorted(layers):
        try:
            ref = LayerVersionRef.parse(arn)
        except ValueError:
            continue
        sha = layer_digest(db, ref.name, ref.version)
        if sha:
            uses.setdefault(sha, []).append(ArtifactUse(layer_ids.get(arn, ref.name), ref.name,
                                                        f"layer version {ref.version}"))
    return uses


def stack_uses(home: Path, resources: Mapping[str, Any], only: Collection[str] | None = None
               ) -> dict[str, list[ArtifactUse]]:
    """``artifact_uses`` on a read-only connection of its own to ``home``'s state database."""
    from strata.paths import database_path

    path = database_path(Path(home))
    if not path.is_file():
        return {}
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return artifact_uses(db, resources, only)
    finally:
        db.close()


@dataclass
class BytesCheck:
    """What ``check_bytes`` found (after repairing, with ``repair``), for verify's report."""

    findings: list[Finding] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    trees: int = 0                      # unpacked trees checked


def check_bytes(home: Path, uses: dict[str, list[ArtifactUse]], *, repair: bool = False,
                template_path: Path | None = None) -> BytesCheck:
    """The stored zips in ``uses``, then the trees unpacked from the sound ones; with ``repair``, restore what can be
    restored (zips first: a tree is unpacked again only from a sound zip) and look again."""
    out = BytesCheck()
    zips = check_artifacts(home, uses)
    if repair and zips:
        done, not_done = repair_artifacts(home, zips, template_path)
        out.repairs += done
        out.notes += not_done
        zips = check_artifacts(home, uses)
    unpacked, unchecked, out.trees = check_unpacked(home, _without(uses, zips))
    if repair and unpacked:
        done, not_done = repair_unpacked(home, unpacked)
        out.repairs += done
        out.notes += not_done
        unpacked, unchecked, out.trees = check_unpacked(home, _without(uses, zips))
    out.findings = zips + unpacked
    out.notes += unchecked
    return out


def _without(uses: dict[str, list[ArtifactUse]], findings: list[Finding]) -> dict[str, list[ArtifactUse]]:
    bad = {f.expected for f in findings}
    return {sha: users for sha, users in uses.items() if sha not in bad}


def stack_damage(home: Path, stack_name: str) -> list[Finding]:
    """The damaged stored artifacts the locally deployed ``stack_name`` uses ([] when it was never deployed)."""
    from strata.local.engine.state import StackState
    from strata.paths import database_path

    if not database_path(Path(home)).is_file():
        return []
    state = StackState(Path(home))
    try:
        return check_artifacts(home, artifact_uses(state.db, state.resources(stack_name)))
    finally:
        state.close()


def check_artifacts(home: Path, uses: dict[str, list[ArtifactUse]]) -> list[Finding]:
    """A finding for each zip in ``uses`` that is missing or does not hash to its name."""
    store = ArtifactStore(Path(home))
    return [artifact_finding(check, uses[sha]) for sha in sorted(uses) if not (check := store.check(sha)).ok]


def check_unpacked(home: Path, uses: dict[str, list[ArtifactUse]]) -> tuple[list[Finding], list[str], int]:
    """(a finding for each unpacked tree ``runtime/<sha>/`` of a zip in ``uses`` that differs from what was unpacked
    from it, notes for trees that cannot be checked, how many trees were checked). Every file is hashed against the
    tree's manifest (``strata.local.runtime.manifest``); a zip never unpacked (no invoke yet) has nothing to check."""
    from strata.local.runtime.manifest import check_tree, manifest_path
    from strata.paths import runtime_dir

    findings: list[Finding] = []
    notes: list[str] = []
    checked = 0
    root = runtime_dir(Path(home))
    for sha in sorted(uses):
        tree = root / sha
        has_manifest = manifest_path(tree).is_file()
        if not has_manifest:
            if tree.exists():
                notes.append(f"{uses[sha][0].logical_id}: unpacked code {tree} has no manifest to check it against "
                             "(unpacked by an earlier strata); it is unpacked again at its next cold start")
            continue
        checked += 1
        problems = check_tree(tree)
        if problems:
            findings.append(unpacked_finding(tree, sha, problems, uses[sha]))
    return findings, notes, checked


def unpacked_finding(tree: Path, sha: str, problems: list[str], users: list[ArtifactUse]) -> Finding:
    from strata.verify.model import Finding

    first = users[0]
    shown = "; ".join(problems[:3]) + (f" (+{len(problems) - 3} more)" if len(problems) > 3 else "")
    return Finding(first.logical_id, first.name, UNPACKED, UNPACKED,
                   f"unpacked code {tree} differs from its artifact: {shown}; it is the code of {users_text(users)}",
                   problems, sha)


def repair_unpacked(home: Path, findings: list[Finding]) -> tuple[list[str], list[str]]:
    """``verify --repair`` for damaged unpacked trees: unpack each again from its stored zip, in place (the runtime's
    own ``unpack``, under its tree lock, which checks the zip's digest first). Returns (done, not done) lines."""
    from strata.local.runtime.layers import unpack
    from strata.paths import runtime_dir

    store = ArtifactStore(Path(home))
    done, not_done = [], []
    for finding in (f for f in findings if f.setting == UNPACKED):
        sha = str(finding.expected)
        tree = runtime_dir(Path(home)) / sha
        try:
            unpack(store.path_for(sha), sha, runtime_dir(Path(home)), full=True)
        except Exception as exc:  # noqa: BLE001 - the runtime's refusal (a damaged or hostile zip) is the answer
            message = getattr(exc, "message", None) or str(exc)
            not_done.append(f"{finding.function}: cannot unpack {tree} again: {message}")
            continue
        done.append(f"{finding.function}: unpacked {tree} again from {store.path_for(sha)}")
    return done, not_done


def artifact_finding(check: ArtifactCheck, users: list[ArtifactUse]) -> Finding:
    from strata.verify.model import Finding

    first = users[0]
    return Finding(first.logical_id, first.name, ARTIFACT, ARTIFACT,
                   f"stored artifact {check.path} {check.problem}; it holds the code of {users_text(users)}",
                   check.actual, check.sha256)


def users_text(users: list[ArtifactUse]) -> str:
    """``HelloFunction ($LATEST, version 2), SharedLayer (layer version 1)``."""
    grouped: dict[str, list[str]] = {}
    for use in users:
        grouped.setdefault(use.logical_id, []).append(use.what)
    return ", ".join(f"{lid} ({', '.join(whats)})" for lid, whats in grouped.items())


def damaged(findings: list[Finding]) -> list[Finding]:
    """The artifact findings among ``findings``."""
    return [f for f in findings if f.setting == ARTIFACT]


@dataclass
class Quarantine:
    """Damaged artifacts moved out of their names while a build writes them again (see the module docstring)."""

    home: Path
    findings: list[Finding]
    aside: dict[str, Path | None] = field(default_factory=dict)      # sha256 -> where the damaged file went

    def __post_init__(self) -> None:
        store = ArtifactStore(Path(self.home))
        for finding in self.findings:
            self.aside[str(finding.expected)] = store.quarantine(str(finding.expected))

    def settle(self) -> tuple[list[Finding], list[Finding]]:
        """After the build: (restored, not restored); a damaged file not restored is put back under its name."""
        import os

        store = ArtifactStore(Path(self.home))
        restored, lost = [], []
        for finding in self.findings:
            sha = str(finding.expected)
            if store.check(sha).ok:
                restored.append(finding)
                continue
            lost.append(finding)
            moved = self.aside.get(sha)
            if moved is not None and not store.path_for(sha).exists():
                os.replace(moved, store.path_for(sha))
        return restored, lost


def restore_text(home: Path, finding: Finding, template_path: Path | None) -> str:
    where = f" from the build of {template_path}" if template_path is not None else " from the build"
    return (f"{finding.function}: restored stored artifact {_path(home, finding)}{where} (its bytes hash to its "
            "name again)")


def cannot_text(home: Path, finding: Finding, why: str) -> str:
    return f"{finding.function}: cannot restore stored artifact {_path(home, finding)}: {why}"


NOT_REBUILT = ("no build of the template produces bytes with that digest now (its sources changed since it was "
               "built): `strata deploy` moves $LATEST and the aliases to what the build produces, then `strata prune` "
               "deletes the versions that still hold the lost bytes")


def repair_artifacts(home: Path, findings: list[Finding], template_path: Path | None,
                     build: Callable[[Path, Path], object] | None = None) -> tuple[list[str], list[str]]:
    """``verify --repair`` for damaged artifacts: build the template with them out of the way. Returns (one line per
    artifact restored, one line per artifact not restored saying why)."""
    found = damaged(findings)
    if not found:
        return [], []
    if template_path is None or not Path(template_path).is_file():
        return [], [cannot_text(home, f, f"no template to build it from ({template_path or 'none given'}); "
                                         "pass --template-file") for f in found]
    if build is None:
        from strata.artifacts.project import build_template

        def build(path: Path, where: Path) -> object:
            return build_template(path, where, progress=False)
    from strata.errors import StrataError

    quarantine = Quarantine(Path(home), found)
    failure = None
    try:
        build(Path(template_path), Path(home))
    except StrataError as exc:
        failure = f"the build of {template_path} failed: {exc.message}"
    finally:
        restored, lost = quarantine.settle()
    return ([restore_text(home, f, template_path) for f in restored],
            [cannot_text(home, f, failure or NOT_REBUILT) for f in lost])


def _path(home: Path, finding: Finding) -> Path:
    return ArtifactStore(Path(home)).path_for(str(finding.expected))
