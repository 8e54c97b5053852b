"""Code and layer zips on disk: unpacked once per digest, safely, and layers merged the way Lambda builds ``/opt``.

Layout under ``runtime_dir(home)``:
    <sha256>/        one unpacked zip (code or layer), read-only files, complete or absent
    opt/<key>/       merged layers for one ordered tuple of layer digests (hard links into the unpacked layers)
    .tmp/            work folders; a finished folder is renamed into place, so readers never see half a tree

Why rename: two processes (a CLI and the server) or two threads may unpack the same digest at once. Each works in its
own temp folder; the first rename wins and the loser throws its copy away. Extraction refuses absolute names, ``..``
components, symlinks that point outside the tree and more than 250 MB unzipped, before anything lands in place.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from strata.local.runtime.limits import UNZIPPED_MAX, UNZIPPED_MESSAGE
from strata.model.lambda_errors import InvalidParameterValueException


class UnsafeArchiveError(InvalidParameterValueException):
    """A code or layer zip that cannot be unpacked safely (escaping path, escaping symlink, too large, not a zip)."""


@dataclass(frozen=True)
class Unpacked:
    path: Path
    size: int          # bytes of file content (what the 250 MB limit counts)


_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()
_sizes: dict[Path, int] = {}


def _lock_for(name: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(name, threading.Lock())


def unpack(zip_path: str | os.PathLike[str], sha256: str, root: Path, *, limit: int = UNZIPPED_MAX) -> Unpacked:
    """The unpacked folder of the zip whose digest is ``sha256`` (unpacking it the first time)."""
    final = root / sha256
    with _lock_for(str(final)):
        size = _sizes.get(final)
        if size is None:
            if not final.is_dir():
                _publish(root, final, lambda work: _extract(Path(zip_path), work, limit, sha256))
            size = _tree_size(final)
            _sizes[final] = size
    return Unpacked(final, size)


def merged_opt(layers: list[Unpacked], layer_digests: tuple[str, ...], root: Path) -> Path:
    """The ``/opt`` stand-in for these layers in this order: a later layer's file wins."""
    key = hashlib.sha256("\n".join(layer_digests).encode()).hexdigest()[:32]
    final = root / "opt" / key
    with _lock_for(str(final)):
        if not final.is_dir():
            final.parent.mkdir(parents=True, exist_ok=True)
            _publish(root, final, lambda work: _merge([layer.path for layer in layers], work))
    return final


def check_total(parts: list[Unpacked]) -> None:
    """Lambda's 250 MB limit applies to code plus all layers together."""
    if sum(part.size for part in parts) > UNZIPPED_MAX:
        raise UnsafeArchiveError(UNZIPPED_MESSAGE)


def _publish(root: Path, final: Path, build: Callable[[Path], object]) -> None:
    """Build into a private temp folder, then rename into place; losing a race to another process is fine."""
    tmp_root = root / ".tmp"
    tmp_root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=tmp_root, prefix=final.name[:16] + "-"))
    try:
        build(work)
        try:
            os.rename(work, final)
        except OSError:
            if not final.is_dir():
                raise
    finally:
        if work.exists():
            _remove_tree(work)


def _remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _safe_parts(name: str, sha256: str) -> list[str] | None:
    """The path components of a zip entry, or an error when the entry would land outside the folder."""
    if "\x00" in name:
        raise UnsafeArchiveError(f"Zip {sha256[:12]} has an entry with a NUL byte in its name: {name!r}")
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchiveError(f"Zip {sha256[:12]} has an absolute entry name {name!r}; "
                                 "entries must be relative to the zip root")
    parts = [part for part in name.replace("\\", "/").split("/") if part not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchiveError(f"Zip {sha256[:12]} has an entry {name!r} that escapes the extraction folder "
                                 "with '..'; rebuild the zip from a plain folder")
    return parts or None


def _extract(zip_path: Path, dest: Path, limit: int, sha256: str) -> None:
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnsafeArchiveError(f"Could not unzip {zip_path}: {exc}") from exc
    with archive:
        infos = archive.infolist()
        if sum(info.file_size for info in infos) > limit:
            raise UnsafeArchiveError(UNZIPPED_MESSAGE)
        links: list[tuple[list[str], str]] = []
        for info in infos:
            parts = _safe_parts(info.filename, sha256)
            if parts is None:
                continue
            mode = info.external_attr >> 16
            target = dest.joinpath(*parts)
            if stat.S_ISLNK(mode):
                links.append((parts, archive.read(info).decode("utf-8", "surrogateescape")))
            elif info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                executable = bool(mode & 0o111)
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
                with os.fdopen(fd, "wb") as out, archive.open(info) as src:
                    shutil.copyfileobj(src, out, 1 << 20)
                os.chmod(target, 0o555 if executable else 0o444)
        # Links last: while files are written no symlink exists, so no write can be redirected through one.
        for parts, link in links:
            _check_link(parts, link, sha256)
            target = dest.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.symlink(link, target)
            except FileExistsError as exc:
                raise UnsafeArchiveError(f"Zip {sha256[:12]} has a symlink {'/'.join(parts)!r} over an existing "
                                         "entry") from exc


def _check_link(parts: list[str], link: str, sha256: str) -> None:
    name = "/".join(parts)
    if not link or link.startswith("/") or "\x00" in link:
        raise UnsafeArchiveError(f"Zip {sha256[:12]} has a symlink {name!r} -> {link!r} that escapes the extraction "
                                 "folder; only relative links inside the zip are allowed")
    depth = len(parts) - 1
    for part in link.split("/"):
        if part == "..":
            depth -= 1
        elif part not in ("", "."):
            depth += 1
        if depth < 0:
            raise UnsafeArchiveError(f"Zip {sha256[:12]} has a symlink {name!r} -> {link!r} that escapes the "
                                     "extraction folder; only relative links inside the zip are allowed")


def _tree_size(path: Path) -> int:
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            try:
                info = os.lstat(os.path.join(folder, name))
            except FileNotFoundError:
                continue
            if stat.S_ISREG(info.st_mode):
                total += info.st_size
    return total


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
