"""Walk a source folder into the list of files a zip will hold, with one ``lstat``-class call per file and no reads.

Rules (the same for every build, so two checkouts of one tree give the same list):
- default excludes, matched on the entry name at any depth: folders/files named ``__pycache__``, ``.git``,
  ``.strata``, ``.aws-sam``, and files ending in ``.pyc``;
- symlinks are followed when their target stays inside the source folder (the target's content is stored under the
  link's path); a link that leaves the folder, dangles, or loops is a ``BuildError`` naming the link and its target;
- only regular files become entries: folders are implied by their files (empty folders are dropped) and special files
  (sockets, fifos, devices) are skipped.
"""
from __future__ import annotations

import os
import stat as st

from strata.errors import BuildError

EXCLUDED_NAMES = frozenset({"__pycache__", ".git", ".strata", ".aws-sam"})
EXCLUDED_SUFFIXES = (".pyc",)

# A file's stat key: any change in it means "maybe new bytes". Symlinked files add the link's own inode and ctime.
StatKey = tuple


def stat_key(s: os.stat_result) -> StatKey:
    """(mode, size, mtime_ns, ctime_ns, inode): what must match for a file's cached content hash to be trusted."""
    return (s.st_mode, s.st_size, s.st_mtime_ns, s.st_ctime_ns, s.st_ino)


def walk_tree(root: str) -> list[tuple[str, str, StatKey, int]]:
    """Every file under ``root`` as ``(rel, path, stat_key, change_ns)``, ``rel`` using ``/``; order unspecified."""
    real_root = os.path.realpath(root)
    out: list[tuple[str, str, StatKey, int]] = []
    _walk(real_root, "", real_root, out, {real_root})
    return out


def _walk(folder: str, prefix: str, real_root: str, out: list, active: set[str]) -> None:
    try:
        it = os.scandir(folder)
    except FileNotFoundError:
        raise BuildError(f"folder {folder} does not exist") from None
    except NotADirectoryError:
        raise BuildError(f"{folder} is not a folder") from None
    with it:
        for entry in it:
            name = entry.name
            if name in EXCLUDED_NAMES or name.endswith(EXCLUDED_SUFFIXES):
                continue
            rel = prefix + name
            if entry.is_symlink():
                _follow(entry.path, rel, real_root, out, active)
                continue
            if entry.is_dir(follow_symlinks=False):
                path = entry.path
                active.add(path)
                _walk(path, rel + "/", real_root, out, active)
                active.discard(path)
                continue
            s = entry.stat(follow_symlinks=False)
            if st.S_ISREG(s.st_mode):
                out.append((rel, entry.path, (s.st_mode, s.st_size, s.st_mtime_ns, s.st_ctime_ns, s.st_ino),
                            s.st_ctime_ns))


def _follow(link: str, rel: str, real_root: str, out: list, active: set[str]) -> None:
    """Follow a symlink that stays inside ``real_root``; anything else is an error naming the link and its target."""
    target = os.readlink(link)
    real = os.path.realpath(link)
    if real != real_root and not real.startswith(real_root + os.sep):
        raise BuildError(f"symlink {link} -> {target} points outside the source folder {real_root}",
                         hint="copy the file into the folder, or point the link at a path inside it")
    try:
        s = os.stat(real)
        own = os.lstat(link)
    except FileNotFoundError:
        raise BuildError(f"symlink {link} -> {target} is broken (its target does not exist)") from None
    if st.S_ISDIR(s.st_mode):
        if real in active:
            raise BuildError(f"symlink {link} -> {target} makes a loop (it points at a folder that contains it)")
        active.add(real)
        try:
            _walk(real, rel + "/", real_root, out, active)
        finally:
            active.discard(real)
    elif st.S_ISREG(s.st_mode):
        key = (s.st_mode, s.st_size, s.st_mtime_ns, s.st_ctime_ns, s.st_ino, own.st_ino, own.st_ctime_ns)
        out.append((rel, real, key, max(s.st_ctime_ns, own.st_ctime_ns)))
