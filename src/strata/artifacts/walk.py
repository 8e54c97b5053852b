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
from typing import NamedTuple

from strata.errors import BuildError

EXCLUDED_NAMES = frozenset({"__pycache__", ".git", ".strata", ".aws-sam"})
EXCLUDED_SUFFIXES = (".pyc",)

# A file's stat key: (mode, size, mtime_ns, ctime_ns, inode); any change means "maybe new bytes". A file reached
# through a symlink adds the link's own inode and ctime, so re-pointing the link is noticed too.
StatKey = tuple

class Tree(NamedTuple):
    """A walked folder: ``stats`` maps each file's ``/``-separated path to its stat key; ``links`` maps the paths
    reached through a symlink to the real file (every other file is ``root/rel``)."""

    root: str
    stats: dict[str, StatKey]
    links: dict[str, str]

    def path(self, rel: str) -> str:
        return self.links.get(rel) or os.path.join(self.root, rel)


def walk_tree(root: str) -> Tree:
    """Every file under ``root`` (see the module rules); iteration order unspecified."""
    real_root = os.path.realpath(root)
    tree = Tree(real_root, {}, {})
    _walk(real_root, "", tree, {real_root})
    return tree


def _walk(folder: str, prefix: str, tree: Tree, active: set[str]) -> None:
    try:
        it = os.scandir(folder)
    except FileNotFoundError:
        raise BuildError(f"folder {folder} does not exist") from None
    except NotADirectoryError:
        raise BuildError(f"{folder} is not a folder") from None
    stats = tree.stats
    excluded = EXCLUDED_NAMES
    with it:
        for entry in it:
            name = entry.name
            if name in excluded or name[-4:] == ".pyc":
                continue
            if entry.is_dir(follow_symlinks=False):
                path = entry.path
                active.add(path)
                _walk(path, prefix + name + "/", tree, active)
                active.discard(path)
                continue
            if entry.is_symlink():
                _follow(entry.path, prefix + name, tree, active)
                continue
            s = entry.stat(follow_symlinks=False)
            if s.st_mode & 0o170000 == 0o100000:  # S_ISREG
                stats[prefix + name] = (s.st_mode, s.st_size, s.st_mtime_ns, s.st_ctime_ns, s.st_ino)


def _follow(link: str, rel: str, tree: Tree, active: set[str]) -> None:
    """Follow a symlink that stays inside the root; anything else is an error naming the link and its target."""
    real_root = tree.root
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
            _walk(real, rel + "/", tree, active)
        finally:
            active.discard(real)
    elif st.S_ISREG(s.st_mode):
        tree.stats[rel] = (s.st_mode, s.st_size, s.st_mtime_ns, s.st_ctime_ns, s.st_ino, own.st_ino, own.st_ctime_ns)
        tree.links[rel] = real
