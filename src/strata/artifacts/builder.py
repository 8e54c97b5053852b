"""Build targets into artifacts: walk, consult the stat cache, and zip only when some content really changed.

Contract: no network (pip runs only on a dependency-cache miss); reads nothing but the cache on a no-op build (walk +
lstat); a touched-but-identical tree re-hashes only the changed-stat files and reuses the artifact; contents that
match any earlier build (a revert, a branch switch) reuse that build's artifact through a manifest index
(``cache/build/manifests/<digest of names, exec bits, content hashes, deps, level>`` -> artifact sha256); a rebuild
writes a deterministic zip (``archive``) into the content-addressed ``ArtifactStore``. Targets that share a source (same
real folder, layout, dependency runtime and architecture) are built once. The zip writer and thread pools are imported
only after a change is found, so the no-op path stays close to a bare walk.

Layouts: a function's folder goes at the zip root; a layer with ``Metadata.BuildMethod: python3.x`` goes under
``python/`` (SAM's layout), its ``requirements.txt`` installed there too. A ``requirements.txt`` at the root of a
Python function's folder (or of such a layer) is installed with pip, for the function's runtime and architecture
(``strata.artifacts.deps``, ``wheels``), into a cached folder and merged in; the function's own files win on a path
clash. As with ``sam build`` (aws-lambda-builders' python_pip), ``requirements.txt`` is the one manifest: a
``pyproject.toml``, ``uv.lock``, ``poetry.lock`` or ``Pipfile`` without one is not installed, and the build says so
(a note per target, on stderr) rather than shipping a function without its dependencies in silence.

Node.js (a ``nodejs*`` runtime, a layer with ``BuildMethod: nodejs*``): a ``package.json`` at the folder's root is
installed with npm (``strata.artifacts.node_deps``) into a cached ``node_modules`` merged in place of the folder's
own (left out of the walk), ``.npmrc`` left out of the zip; a layer goes under ``nodejs/``. ``BuildMethod: esbuild``
zips the pinned esbuild's output instead of the folder (``strata.artifacts.esbuild``; ``_bundle_unit``); its version
and the ``BuildProperties`` are part of the unit and of the manifest.
"""
from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from strata.artifacts import cache, digest
from strata.artifacts.digest import default_workers, hash_files
from strata.artifacts.store import Artifact, ArtifactStore
from strata.artifacts.targets import BuildTarget
from strata.artifacts.walk import Tree, walk_tree
from strata.errors import BuildError
from strata.paths import cache_dir

REQUIREMENTS = "requirements.txt"
# Manifests sam build's python_pip workflow does not read either: named in a note when found without requirements.txt
OTHER_MANIFESTS = ("pyproject.toml", "uv.lock", "poetry.lock", "Pipfile", "Pipfile.lock")
EXEC_BITS = 0o111
MANIFEST_FORMAT = 1  # bump when the zip layout changes (archive.py), so old manifests stop matching


@dataclass(frozen=True)
class BuiltArtifact:
    """A target and the artifact that holds its code; ``cached`` is True when no zip was written; ``notes`` what the
    build did not do that the user may expect (a manifest other than requirements.txt, not installed)."""

    target: BuildTarget
    artifact: Artifact
    cached: bool
    notes: tuple[str, ...] = ()
    detail: str = ""  # what the plan names beside the code's sha256: a Node folder's lock (``_detail``)


class _Unit(NamedTuple):
    """What determines one zip: the real source, where it goes in the zip, the deps target (runtime, architecture)
    and the deflate level."""

    source: str
    prefix: str  # "", "python/" or "nodejs/"
    deps_runtime: str | None  # set when a requirements.txt will be installed
    level: int
    zip_file: bool
    excludes: tuple[str, ...] = ()  # the project's files under ``source`` (targets.project_excludes)
    deps_architecture: str = "x86_64"  # what the requirements are built for, with deps_runtime
    node: str = ""  # "npm" (a Node function or layer) | "esbuild" (BuildMethod: esbuild) | "" (anything else)
    bundle: str = ""  # esbuild: its version and the BuildProperties (``esbuild.bundle_key``)

    def cache_path(self, home: Path) -> str:
        name = hashlib.sha256(repr(tuple(self)).encode("utf-8", "surrogateescape")).hexdigest()[:32]
        return os.path.join(cache_dir(home), "build", name + ".marshal")


def build_targets(
    targets: list[BuildTarget],
    home: Path,
    *,
    progress: bool = False,
    level: int = 6,
    clock: Callable[[], int] = time.time_ns,
    warn: Callable[[str], None] | None = None,
) -> list[BuiltArtifact]:
    """Build every target (each distinct source once) and return one ``BuiltArtifact`` per target, in order.

    ``clock`` (ns) dates the racily-clean rule (see ``strata.artifacts.cache``); tests inject it. ``warn`` gets each
    note once per distinct source (default: stderr).
    """
    if not 0 <= level <= 9:
        raise BuildError(f"compression level {level} is not between 0 and 9")
    home = Path(home)
    done: dict[_Unit, tuple[Artifact, bool]] = {}
    results = []
    for target in targets:
        unit = _unit_for(target, level)
        notes = _notes(unit, target)
        if unit not in done:
            done[unit] = _build_unit(unit, target, home, progress, clock)
            for note in notes:
                (warn or _stderr)(note)
        artifact, cached = done[unit]
        detail = _read_detail(unit, home) if unit.node and unit.deps_runtime is not None else ""
        results.append(BuiltArtifact(target, artifact, cached, notes, detail))
    return results


def _stderr(text: str) -> None:
    import sys

    print(text, file=sys.stderr)


def _notes(unit: _Unit, target: BuildTarget) -> tuple[str, ...]:
    """A Python folder with another manifest but no requirements.txt: say that its dependencies are not installed.
    A Node folder with package.json but no npm lock: say that npm resolves at build time (``node_deps.notes``)."""
    if unit.node and not unit.zip_file:
        from strata.artifacts.node_deps import notes

        return notes(unit.source, _label(target))
    if unit.zip_file or unit.deps_runtime is not None:
        return ()
    python = unit.prefix == "python/" or (target.kind == "function" and
                                         (target.runtime is None or target.runtime.startswith("python")))
    found = [name for name in OTHER_MANIFESTS if python and os.path.isfile(os.path.join(unit.source, name))]
    if not found:
        return ()
    return (f"note: {_label(target)}: {', '.join(found)} found but not read: strata installs dependencies from "
            f"{REQUIREMENTS} only, as sam build's pip workflow does; export one (e.g. `uv export --no-dev "
            f"--no-hashes -o {REQUIREMENTS}`, `poetry export -o {REQUIREMENTS}`) or the function ships without them",)


def _unit_for(target: BuildTarget, level: int) -> _Unit:
    source = os.path.realpath(target.source)
    if target.is_zip_file and os.path.isfile(source):
        return _Unit(source, "", None, 0, True)
    method = (target.build_method or "").lower()
    if target.kind == "layer":
        python = method.startswith("python")
        runtime = target.build_method if python or method.startswith("nodejs") else None
    else:
        python = target.runtime is None or target.runtime.startswith("python")
        runtime = target.runtime
    if method == "esbuild" or (runtime or "").startswith("nodejs"):
        return _node_unit(target, source, runtime, method, level)
    deps = python and os.path.isfile(os.path.join(source, REQUIREMENTS))
    prefix = "python/" if target.kind == "layer" and method.startswith("python") else ""
    return _Unit(source, prefix, (runtime or "") if deps else None, level, False, tuple(sorted(target.excludes)),
                 target.architecture if deps else "x86_64")


def _node_unit(target: BuildTarget, source: str, runtime: str | None, method: str, level: int) -> _Unit:
    """A Node function or layer: npm's production dependencies replace the folder's own ``node_modules`` (left out
    of the walk) when there is a ``package.json``; a layer's files go under ``nodejs/`` (Lambda's NODE_PATH)."""
    from strata.artifacts.node_deps import PACKAGE_JSON

    deps = os.path.isfile(os.path.join(source, PACKAGE_JSON))
    excludes = tuple(sorted({*target.excludes, *(("node_modules",) if deps else ())}))
    bundle = ""
    if method == "esbuild":
        from strata.artifacts.esbuild import bundle_key

        bundle = bundle_key(target.build_properties)
    prefix = "nodejs/" if target.kind == "layer" else ""
    return _Unit(source, prefix, (runtime or "") if deps else None, level, False, excludes,
                 target.architecture if deps else "x86_64", "esbuild" if bundle else "npm", bundle)


def zip_leaves_out(target: BuildTarget) -> tuple[str, ...]:
    """What a target's zip leaves out besides the walk's rules, in words (``strata transform --explain``)."""
    if target.is_zip_file:
        return ()
    unit = _unit_for(target, 6)
    if unit.node == "esbuild":
        return ("every source file: the zip holds esbuild's output",)
    if unit.node:
        return (("node_modules (npm's production install replaces it)", ".npmrc") if unit.deps_runtime is not None
                else (".npmrc",))
    return ()


def _label(target: BuildTarget) -> str:
    return f"{target.logical_id} ({target.property} {target.source})"


def _build_unit(unit: _Unit, target: BuildTarget, home: Path, progress: bool,
                clock: Callable[[], int]) -> tuple[Artifact, bool]:
    start_ns = clock()
    store = ArtifactStore(home)
    cache_path = unit.cache_path(home)
    record = cache.load(cache_path)
    if unit.zip_file:
        return _use_zip_file(unit, target, store, cache_path, record, start_ns)
    try:
        tree = walk_tree(unit.source, unit.excludes)
    except BuildError as exc:
        raise BuildError(f"{_label(target)}: {exc.message}", hint=exc.hint) from None
    stats = tree.stats

    if record is not None and record["stats"] == stats:  # the no-op path: nothing was read
        artifact = store.get(record["sha256"])
        if artifact is not None and _deps_present(home, record["deps"]):
            return artifact, True

    content: dict[str, tuple[bytes, bool]] = {}
    if record is not None:  # re-hash the files whose stat changed; reuse the artifact if no content did
        old_stats, old_content = record["stats"], record.content
        stale = []
        for rel, key in stats.items():
            known = old_content.get(rel)
            if known is not None and old_stats.get(rel) == key:
                content[rel] = known
            else:
                stale.append((rel, tree.path(rel), key))
        if stale:
            digests = hash_files([p for _r, p, _k in stale], [k[1] for _r, _p, k in stale], default_workers())
            for (rel, _path, key), sha in zip(stale, digests):
                content[rel] = (sha, bool(key[0] & EXEC_BITS))
        deps = _deps_key(unit, content, tree)
        if _deps_present(home, deps):
            if content == old_content and deps == record["deps"]:
                known_sha = record["sha256"]  # touched but identical
            else:
                known_sha = _read_manifest(home, _manifest(unit, content, deps))  # built before (e.g. a revert)
            artifact = store.get(known_sha) if known_sha else None
            if artifact is not None:
                _save(cache_path, tree, content, deps, artifact, start_ns, detail=_detail(unit, content))
                return artifact, True
    else:  # nothing to compare with: zip straight away (the zip pass hashes every file anyway)
        deps = _deps_key(unit, content, tree)

    artifact = _zip_unit(unit, target, home, store, tree, content, deps, progress)
    _save(cache_path, tree, content, deps, artifact, start_ns, detail=_detail(unit, content))
    _write_manifest(home, _manifest(unit, content, deps), artifact.sha256)
    return artifact, False


def _manifest(unit: _Unit, content: dict, deps: str | None) -> str:
    """Digest of everything that decides the zip's bytes: names, exec bits, content hashes, deps, level, format."""
    node = (unit.node, unit.bundle) if unit.node else ()   # Python's manifests stay as they were
    h = hashlib.sha256(repr((MANIFEST_FORMAT, unit.prefix, unit.level, deps, *node)).encode())
    for rel in sorted(content):
        sha, executable = content[rel]
        h.update(f"\0{rel}\0{int(executable)}".encode("utf-8", "surrogateescape"))
        h.update(sha)
    return h.hexdigest()


def _manifest_path(home: Path, manifest: str) -> str:
    return os.path.join(cache_dir(home), "build", "manifests", manifest[:2], manifest)


def _read_manifest(home: Path, manifest: str) -> str | None:
    try:
        with open(_manifest_path(home, manifest), encoding="ascii") as fh:
            sha = fh.read().strip()
    except (OSError, ValueError):
        return None
    return sha if len(sha) == 64 else None


def _write_manifest(home: Path, manifest: str, sha: str) -> None:
    path = _manifest_path(home, manifest)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "w", encoding="ascii") as fh:
            fh.write(sha)
        os.replace(tmp, path)
    except OSError:
        pass


def _deps_key(unit: _Unit, content: dict, tree: Tree) -> str | None:
    if unit.node:
        return _node_deps_key(unit, content, tree)
    if unit.deps_runtime is None or REQUIREMENTS not in tree.stats:
        return None
    from strata.artifacts.deps import deps_key

    if REQUIREMENTS not in content:  # first build: only this one file is hashed ahead of the zip
        key = tree.stats[REQUIREMENTS]
        content[REQUIREMENTS] = (digest.hash_file(tree.path(REQUIREMENTS)), bool(key[0] & EXEC_BITS))
    return deps_key(content[REQUIREMENTS][0], unit.deps_runtime, unit.deps_architecture)


def _node_deps_key(unit: _Unit, content: dict, tree: Tree) -> str | None:
    """npm's key: package.json, the lock and .npmrc hashed ahead of the zip when this build has not read them yet."""
    from strata.artifacts.node_deps import MANIFESTS, PACKAGE_JSON, deps_key

    if unit.deps_runtime is None or PACKAGE_JSON not in tree.stats:
        return None
    for name in MANIFESTS:
        if name in tree.stats and name not in content:
            content[name] = (digest.hash_file(tree.path(name)), bool(tree.stats[name][0] & EXEC_BITS))
    return deps_key({name: content[name][0] for name in MANIFESTS if name in tree.stats}, unit.deps_runtime,
                    unit.deps_architecture)


def _deps_present(home: Path, key: str | None) -> bool:
    if key is None:
        return True
    from strata.artifacts.deps import deps_dir

    return deps_dir(home, key).is_dir()


def _zip_unit(unit: _Unit, target: BuildTarget, home: Path, store: ArtifactStore, tree: Tree,
              content: dict, deps: str | None, progress: bool) -> Artifact:
    """Write the zip for ``tree`` (+ installed deps) into the store; refresh ``content`` from what was read."""
    from strata.artifacts.archive import Member, Packed, write_zip
    from strata.artifacts.progress import Progress

    if unit.node == "esbuild":
        return _bundle_unit(unit, target, home, store, tree, content, deps)
    skip = {".npmrc"} if unit.node else set()   # npm's config may hold a registry token; SAM drops it too
    members = [Member(unit.prefix + rel, tree.path(rel), bool(key[0] & EXEC_BITS), key[1])
               for rel, key in tree.stats.items() if rel not in skip]
    total = sum(key[1] for key in tree.stats.values())
    if deps is not None:
        from strata.artifacts.deps import ensure_deps
        from strata.artifacts.node_deps import ensure_node_deps

        if unit.node:
            folder = ensure_node_deps(home, deps, Path(unit.source), what=_label(target),
                                      runtime=unit.deps_runtime or None, architecture=unit.deps_architecture)
        else:
            folder = ensure_deps(home, deps, Path(unit.source) / REQUIREMENTS, what=_label(target),
                                 runtime=unit.deps_runtime or None, architecture=unit.deps_architecture)
        ours = {m.arcname for m in members}
        installed = walk_tree(str(folder))
        for rel, key in installed.stats.items():
            if unit.prefix + rel not in ours:
                members.append(Member(unit.prefix + rel, installed.path(rel), bool(key[0] & EXEC_BITS), key[1]))
                total += key[1]
    by_arcname = {unit.prefix + rel: rel for rel in tree.stats}
    bar = Progress(progress, target.logical_id, total)

    def on_member(member: Member, packed: Packed) -> None:
        rel = by_arcname.get(member.arcname)
        if rel is not None:  # what was zipped is what the cache must remember
            content[rel] = (packed.content_sha256, member.executable)
        bar.advance(packed.size)

    tmp = store.temp_path()
    try:
        with open(tmp, "wb") as fh:
            sha, _size = write_zip(members, fh, level=unit.level, workers=default_workers(), on_member=on_member)
        return store.put_file(tmp, sha)
    except FileNotFoundError as exc:
        raise BuildError(f"{_label(target)}: {exc.filename} disappeared during the build",
                         hint="run the build again") from None
    except OSError as exc:   # a full or read-only disk: name the file written, the CLI says what to do
        exc.filename = exc.filename or str(tmp)
        raise
    finally:
        bar.close()
        if tmp.exists():
            tmp.unlink()


def _bundle_unit(unit: _Unit, target: BuildTarget, home: Path, store: ArtifactStore, tree: Tree,
                 content: dict, deps: str | None) -> Artifact:
    """``BuildMethod: esbuild``: copy the folder (and npm's production ``node_modules``) into a scratch folder, run
    the pinned esbuild there, and zip its output alone (``strata.artifacts.esbuild``). Every source file is hashed
    for the cache first: the zip holds none of them as they are."""
    import json
    import shutil
    import tempfile

    from strata.artifacts.archive import Member, write_zip
    from strata.artifacts.esbuild import ensure_esbuild, esbuild_args, normalise_properties, run_esbuild

    stale = [rel for rel in tree.stats if rel not in content]
    for rel, sha in zip(stale, hash_files([tree.path(r) for r in stale], [tree.stats[r][1] for r in stale],
                                          default_workers())):
        content[rel] = (sha, bool(tree.stats[rel][0] & EXEC_BITS))
    what = _label(target)
    binary = ensure_esbuild()
    folder = None
    if deps is not None:
        from strata.artifacts.node_deps import ensure_node_deps

        folder = ensure_node_deps(home, deps, Path(unit.source), what=what, runtime=unit.deps_runtime or None,
                                  architecture=unit.deps_architecture)
    cache_dir(home).mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=cache_dir(home), prefix=".esbuild-"))
    try:
        work, out = scratch / "src", scratch / "out"
        for rel in tree.stats:
            dest = work / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(tree.path(rel), dest)
        if folder is not None:
            shutil.copytree(folder / "node_modules", work / "node_modules", symlinks=True)
        properties = normalise_properties(json.loads(target.build_properties or "{}"))
        run_esbuild(binary, esbuild_args(properties, work, str(out), what=what), work, what=what)
        built = walk_tree(str(out)) if out.is_dir() else Tree(str(out), {}, {})
        members = [Member(unit.prefix + rel, built.path(rel), False, key[1]) for rel, key in built.stats.items()]
        tmp = store.temp_path()
        try:
            with open(tmp, "wb") as fh:
                zip_sha, _size = write_zip(members, fh, level=unit.level, workers=default_workers())
            return store.put_file(tmp, zip_sha)
        finally:
            if tmp.exists():
                tmp.unlink()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _use_zip_file(unit: _Unit, target: BuildTarget, store: ArtifactStore, cache_path: str, record: cache.Record | None,
                  start_ns: int) -> tuple[Artifact, bool]:
    """A ``.zip`` named directly is the artifact as-is: check it (``archive_check``) and hash it, unless the stat
    cache vouches for both, then store it."""
    try:
        s = os.stat(unit.source)
    except FileNotFoundError:
        raise BuildError(f"{_label(target)}: the file does not exist") from None
    key = (s.st_mode, s.st_size, s.st_mtime_ns, s.st_ctime_ns, s.st_ino)
    if record is not None and record["stats"] == {"": key} and record.head.get("checked"):
        artifact = store.get(record["sha256"])
        if artifact is not None:
            return artifact, True
    from strata.artifacts.archive_check import ArchiveError, check_archive

    try:  # a zip made elsewhere is checked before it is stored: a hostile one fails the build, not the first invoke
        check_archive(unit.source, label="the zip")
    except ArchiveError as exc:
        raise BuildError(f"{_label(target)}: {exc.message}", hint=exc.hint) from None
    sha = digest.hash_file(unit.source).hex()
    artifact = store.get(sha)
    cached = artifact is not None
    if artifact is None:
        artifact = store.put_file(Path(unit.source), sha)
    single = Tree(os.path.dirname(unit.source), {"": key}, {"": unit.source})
    _save(cache_path, single, {"": (bytes.fromhex(sha), False)}, None, artifact, start_ns, checked=True)
    return artifact, cached


def _detail(unit: _Unit, content: dict) -> str:
    """A Node folder's dependency inputs as the plan shows them beside the code's sha256
    (``package-lock.json 1a2b3c4d5e6f``), so a version that publishes for a lock change says so."""
    if not unit.node or unit.deps_runtime is None:
        return ""
    from strata.artifacts.node_deps import LOCK_FILES, PACKAGE_JSON

    for name in (*LOCK_FILES, PACKAGE_JSON):
        if name in content:
            return f"{name} {content[name][0].hex()[:12]}"
    return ""


def _read_detail(unit: _Unit, home: Path) -> str:
    record = cache.load(unit.cache_path(home))
    detail = record.head.get("detail") if record is not None else None
    return detail if isinstance(detail, str) else ""


def _save(cache_path: str, tree: Tree, content: dict, deps: str | None, artifact: Artifact,
          start_ns: int, *, checked: bool = False, detail: str = "") -> None:
    """Record this build; racily-clean entries keep their hash but lose their stat key (re-hashed next time)."""
    threshold = start_ns - cache.RACY_SLACK_NS  # cache.is_racy, inlined for 10k files
    stats = {rel: (key if (key[3] if len(key) == 5 else max(key[3], key[6])) < threshold else None)
             for rel, key in tree.stats.items()}
    head: dict[str, object] = {"stats": stats, "deps": deps, "sha256": artifact.sha256}
    if checked:  # a prebuilt zip passed the archive checker (records from before the checker lack this key)
        head["checked"] = True
    if detail:
        head["detail"] = detail
    cache.save(cache_path, head, content)
