"""Code and layer zips on disk: unpacked once per digest, safely, and layers merged the way Lambda builds ``/opt``.

Layout under ``runtime_dir(home)``:
    <sha256>/        one unpacked zip (code or layer), read-only files, complete or absent
    opt/<key>/       merged layers for one ordered tuple of layer digests (hard links into the unpacked layers)
    .manifests/      <sha256>.json: what each tree held when unpacked (``manifest.py``); opt/.manifests/ likewise
    .locks/          one lock file per tree, held while it is checked or (re)built
    .tmp/            work folders; a finished folder is renamed into place, so readers never see half a tree

Why rename: two processes (a CLI and the server) or two threads may unpack the same digest at once. Each works in its
own temp folder; the first rename wins and the loser throws its copy away. Before anything lands in place, the zip
passes ``strata.artifacts.archive_check`` (escaping names and symlinks, damage, bombs); only what it classified is
unpacked.

Why every cold start looks again: the trees are shared by every function with the same code or layers, and a handler
runs as the user who owns them, so it can edit, add or delete files (read-only modes do not stop the owner). Each
tree has a manifest (``manifest.py``, kept outside the tree) written when it was unpacked; ``unpack`` and
``merged_opt`` compare the tree with it (stat hints, content digests where a hint changed) each time they are asked,
and a tree that differs or is gone is unpacked again from its zip (checked against its digest first) and swapped in
whole. A per-tree file lock (``.locks/``) keeps two processes from repairing the same tree at once.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import stat
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from strata.artifacts.archive_check import DEFAULT_LIMITS, NOT_A_ZIP, ArchiveError, check_archive
from strata.local.runtime.limits import UNZIPPED_MAX, UNZIPPED_MESSAGE
from strata.local.runtime.manifest import Manifest, build_manifest, read_manifest, save_manifest
from strata.model.lambda_errors import InvalidParameterValueException


class UnsafeArchiveError(InvalidParameterValueException):
    """A code or layer zip that cannot be unpacked safely (escaping path, escaping symlink, too large, not a zip)."""


@dataclass(frozen=True)
class Unpacked:
    path: Path
    size: int          # bytes of file content (what the 250 MB limit counts)


_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()
_manifests: dict[Path, Manifest] = {}     # the manifest each tree had when this process last found it intact


def _lock_for(name: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(name, threading.Lock())


def unpack(zip_path: str | os.PathLike[str], sha256: str, root: Path, *, limit: int = UNZIPPED_MAX,
           full: bool = False) -> Unpacked:
    """The unpacked folder of the zip whose digest is ``sha256``: unpacked the first time, and unpacked again when
    it no longer matches its manifest (edited, extended, deleted by a handler). ``full`` hashes every file instead
    of trusting unchanged stat hints (``verify --repair``)."""
    final = root / sha256
    zip_file = Path(zip_path)
    with _lock_for(str(final)), _tree_lock(root, sha256):
        manifest = _intact(final, full)
        if manifest is None:
            manifest = _publish(root, final, lambda work: _extract(zip_file, work, limit, sha256),
                                check=lambda: _check_digest(zip_file, sha256))
    return Unpacked(final, manifest.size)


def merged_opt(layers: list[Unpacked], layer_digests: tuple[str, ...], root: Path) -> Path:
    """The ``/opt`` stand-in for these layers in this order: a later layer's file wins. Merged again when it no
    longer matches its manifest (call ``unpack`` for each layer first: the merge links their files)."""
    key = hashlib.sha256("\n".join(layer_digests).encode()).hexdigest()[:32]
    final = root / "opt" / key
    with _lock_for(str(final)), _tree_lock(root, "opt-" + key):
        if _intact(final) is None:
            final.parent.mkdir(parents=True, exist_ok=True)
            _publish(root, final, lambda work: _merge([layer.path for layer in layers], work))
    return final


def check_total(parts: list[Unpacked]) -> None:
    """Lambda's 250 MB limit applies to code plus all layers together."""
    if sum(part.size for part in parts) > UNZIPPED_MAX:
        raise UnsafeArchiveError(UNZIPPED_MESSAGE)


def _intact(final: Path, full: bool = False) -> Manifest | None:
    """``final``'s manifest when the tree matches it; None when it must be (re)built. Caller holds the tree's locks.
    The manifest this process last saw is preferred to the file, which a handler could rewrite along with the tree."""
    manifest = _manifests.get(final) or read_manifest(final)
    if manifest is None or manifest.problems(final, full=full):
        _manifests.pop(final, None)
        return None
    if manifest.refreshed:              # hints changed (a hard link to a file, say) but not the bytes: keep them
        manifest.refreshed = False
        save_manifest(final, manifest)
    _manifests[final] = manifest
    return manifest


@contextmanager
def _tree_lock(root: Path, name: str) -> Iterator[None]:
    """An exclusive lock on one tree across processes (a CLI and the server may both check or repair it)."""
    folder = root / ".locks"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.lock"
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError:                     # something planted in its place (a symlink, a folder): locks are disposable
        _clear(path)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _check_digest(zip_path: Path, sha256: str) -> None:
    """Unpack only the bytes that were deployed: a stored zip that no longer has its digest is refused."""
    digest = hashlib.sha256()
    try:
        with open(zip_path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    except OSError as exc:
        raise UnsafeArchiveError(f"Could not read the stored zip {zip_path} to unpack code {sha256[:12]}: "
                                 f"{exc.strerror}; run `strata verify --repair` or deploy again") from exc
    if digest.hexdigest() != sha256:
        raise UnsafeArchiveError(f"The stored zip {zip_path} no longer has its digest {sha256[:12]} (got "
                                 f"{digest.hexdigest()[:12]}); run `strata verify --repair` or deploy again")


def _publish(root: Path, final: Path, build: Callable[[Path], object],
             check: Callable[[], object] | None = None) -> Manifest:
    """Build into a private temp folder, move it into place, record its manifest. Caller holds the tree's locks.

    A damaged tree already there keeps its folder: its entries are moved aside (and deleted) and the new ones moved
    in, so a warm worker of another function, whose working directory is that folder, keeps reading files relative to
    it. A folder that is gone (or was replaced by something else) is simply replaced."""
    tmp_root = root / ".tmp"
    tmp_root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=tmp_root, prefix=final.name[:16] + "-"))
    old = None
    try:
        if check is not None:
            check()                     # the zip must still be the bytes that were deployed
        build(work)
        if os.path.isdir(final) and not os.path.islink(final):
            old = Path(tempfile.mkdtemp(dir=tmp_root, prefix="old-"))
            for name in os.listdir(final):
                os.rename(final / name, old / name)
            for name in os.listdir(work):
                os.rename(work / name, final / name)
            os.chmod(final, stat.S_IMODE(os.lstat(work).st_mode))
        else:
            if os.path.lexists(final):
                os.unlink(final)
            os.rename(work, final)
        manifest = build_manifest(final)
        save_manifest(final, manifest)
        _manifests[final] = manifest
        return manifest
    finally:
        for leftover in (work, old):
            if leftover is not None and leftover.exists():
                _remove_tree(leftover)


def _remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _extract(zip_path: Path, dest: Path, limit: int, sha256: str) -> None:
    """Unpack exactly the entries the shared archive checker accepted (it refuses escapes, bombs, damage)."""
    try:
        summary = check_archive(zip_path, limits=replace(DEFAULT_LIMITS, total_size=limit), label=f"Zip {sha256[:12]}")
    except ArchiveError as exc:
        text = f"Could not unzip {zip_path}: {exc.reason}" if exc.kind == NOT_A_ZIP else exc.message
        raise UnsafeArchiveError(text) from None
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnsafeArchiveError(f"Could not unzip {zip_path}: {exc}") from exc
    with archive:
        for entry in summary.entries:
            target = dest.joinpath(*entry.parts)
            if entry.kind == "dir":
                target.mkdir(parents=True, exist_ok=True)
            elif entry.kind == "file":
                target.parent.mkdir(parents=True, exist_ok=True)
                executable = bool((entry.info.external_attr >> 16) & 0o111)
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
                with os.fdopen(fd, "wb") as out, archive.open(entry.info) as src:
                    shutil.copyfileobj(src, out, 1 << 20)
                os.chmod(target, 0o555 if executable else 0o444)
        # Links last: while files are written no symlink exists, so no write can be redirected through one.
        for entry in summary.entries:
            if entry.kind == "link" and entry.link is not None:
                target = dest.joinpath(*entry.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.symlink(entry.link, target)


def _merge(sources: list[Path], dest: Path) -> None:
    """Overlay each source tree onto ``dest`` in order, with hard links (copies across file systems)."""
    for source in sources:
        for folder, dirs, files in os.walk(source):
            rel = os.path.relpath(folder, source)
            out_dir = dest if rel == "." else dest / rel
            for name in list(dirs):
                src = os.path.join(folder, name)
                if os.path.islink(src):          # a symlinked folder is an entry, not something to descend into
                    dirs.remove(name)
                    _place(src, out_dir / name)
                else:
                    out = out_dir / name
                    if out.is_symlink() or (out.exists() and not out.is_dir()):
                        _clear(out)
                    out.mkdir(exist_ok=True)
            for name in files:
                _place(os.path.join(folder, name), out_dir / name)


def _clear(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        _remove_tree(path)
    else:
        path.unlink()


def _place(src: str, out: Path) -> None:
    if out.is_symlink() or out.exists():
        _clear(out)
    if os.path.islink(src):
        os.symlink(os.readlink(src), out)
        return
    try:
        os.link(src, out)
    except OSError:
        shutil.copy2(src, out)
