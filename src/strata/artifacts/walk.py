"""Walk a source folder into the list of files a zip will hold, with one ``lstat``-class call per file and no reads.

Rules (the same for every build, so two checkouts of one tree give the same list):
- default excludes, matched on the entry name at any depth: folders/files named ``__pycache__``, ``.strata``,
  ``.aws-sam``, the version-control folders (``.git``, ``.hg``, ``.svn``, ``.bzr``, ``.jj``), and files ending in
  ``.pyc``; plus the paths a caller names (``exclude``: ``/``-separated, relative to the root), which the build uses
  for the project's own files when the code folder holds the template (``strata.artifacts.targets``);
- symlinks are followed when their target stays inside the source folder (the target's content is stored under the
  link's path); a link that leaves the folder, dangles, or loops is a ``BuildError`` naming the link and its target;
- only regular files become entries: folders are implied by their files (empty folders are dropped) and special files
  (sockets, fifos, devices) are skipped;
- bounded while walking, not after (``strata.artifacts.limits``): files, folders entered, depth, loops by
  ``(st_dev, st_ino)`` of the folders on the current path, and how often one folder is entered through links.
"""
from __future__ import annotations

import errno
import os
import stat as st
from typing import NamedTuple, NoReturn

from strata.artifacts.limits import MAX_DEPTH, MAX_ENTRIES, MAX_FOLDERS, MAX_LINK_REACH
from strata.errors import BuildError

MAX_FILES = MAX_ENTRIES  # each file becomes one zip entry
_FOLDER_DEPTH = MAX_DEPTH - 2  # deepest folder: a file in it and a layer's ``python/`` keep the zip within MAX_DEPTH

VCS_NAMES = (".git", ".hg", ".svn", ".bzr", ".jj")
EXCLUDED_NAMES = frozenset({"__pycache__", ".strata", ".aws-sam", *VCS_NAMES})
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


def walk_tree(root: str, exclude: frozenset[str] | tuple[str, ...] = ()) -> Tree:
    """Every file under ``root`` (see the module rules) but the ``exclude`` paths; iteration order unspecified."""
    real_root = os.path.realpath(root)
    tree = Tree(real_root, {}, {})
    try:
        top = os.stat(real_root)
    except FileNotFoundError:
        raise BuildError(f"folder {real_root} does not exist") from None
    except OSError as exc:
        raise BuildError(f"cannot read folder {real_root}: {exc.strerror}") from None
    _Walk(tree, frozenset(exclude)).walk(real_root, "", 0, (top.st_dev, top.st_ino))
    return tree


class _Walk:
    """One walk's bounds, applied as it goes (a hostile tree is refused after at most the limit's worth of work):
    files and folders counted, depth measured in path components, the folders on the current path known by
    ``(st_dev, st_ino)`` (a link back to one of them is a loop), and each real folder entered through links counted
    (a fan-out of links that multiplies one folder is refused)."""

    def __init__(self, tree: Tree, exclude: frozenset[str] = frozenset()) -> None:
        self.tree = tree
        self.exclude = exclude
        self.active: set[tuple[int, int]] = set()
        self.folders = 0
        self.reached: dict[tuple[int, int], int] = {}

    def walk(self, folder: str, prefix: str, depth: int, ident: tuple[int, int]) -> None:
        self.folders += 1
        if self.folders > MAX_FOLDERS:
            raise BuildError(f"{self.tree.root} holds more than {MAX_FOLDERS:,} folders (symlinked visits included)",
                             hint=_TRIM)
        if depth > _FOLDER_DEPTH:
            raise BuildError(f"folder {folder} is nested more than {_FOLDER_DEPTH} levels deep in {self.tree.root}",
                             hint=_TRIM)
        try:
            it = os.scandir(folder)
        except FileNotFoundError:
            raise BuildError(f"folder {folder} does not exist") from None
        except NotADirectoryError:
            raise BuildError(f"{folder} is not a folder") from None
        except OSError as exc:
            raise BuildError(f"cannot read folder {folder}: {exc.strerror}") from None
        self.active.add(ident)
        stats = self.tree.stats
        excluded = EXCLUDED_NAMES
        max_files = MAX_FILES
        try:
            with it:
                for entry in it:
                    name = entry.name
                    if name in excluded or name[-4:] == ".pyc":
                        continue
                    if self.exclude and prefix + name in self.exclude:
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        # d_ino costs no stat call; a mount point inside the tree shows its covered inode, so a
                        # link to one is caught by the depth and fan-out bounds rather than as a loop
                        self.walk(entry.path, prefix + name + "/", depth + 1, (ident[0], entry.inode()))
                        continue
                    if entry.is_symlink():
                        self.follow(entry.path, prefix + name, depth)
                        continue
                    s = entry.stat(follow_symlinks=False)
                    if s.st_mode & 0o170000 == 0o100000:  # S_ISREG
                        if len(stats) >= max_files:
                            self.too_many()
                        stats[prefix + name] = (s.st_mode, s.st_size, s.st_mtime_ns, s.st_ctime_ns, s.st_ino)
        finally:
            self.active.discard(ident)

    def follow(self, link: str, rel: str, depth: int) -> None:
        """Follow a symlink that stays inside the root; anything else is an error naming the link and its target."""
        real_root = self.tree.root
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
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise BuildError(f"symlink {link} -> {target} makes a loop (it leads back to itself)") from None
            raise BuildError(f"symlink {link} -> {target} cannot be followed: {exc.strerror}") from None
        if st.S_ISDIR(s.st_mode):
            ident = (s.st_dev, s.st_ino)
            if ident in self.active:
                raise BuildError(f"symlink {link} -> {target} makes a loop (it points at a folder that contains it)")
            reached = self.reached[ident] = self.reached.get(ident, 0) + 1
            if reached > MAX_LINK_REACH:
                raise BuildError(f"symlink {link} -> {target}: folder {real} is reached through symlinks more than "
                                 f"{MAX_LINK_REACH} times (a symlink fan-out)",
                                 hint="link the folder once, or copy what the links share")
            self.walk(real, rel + "/", depth + 1, ident)
        elif st.S_ISREG(s.st_mode):
            if len(self.tree.stats) >= MAX_FILES:
                self.too_many()
            self.tree.stats[rel] = (s.st_mode, s.st_size, s.st_mtime_ns, s.st_ctime_ns, s.st_ino, own.st_ino,
                                    own.st_ctime_ns)
            self.tree.links[rel] = real

    def too_many(self) -> NoReturn:
        raise BuildError(f"{self.tree.root} holds more than {MAX_FILES:,} files (symlinked copies included); "
                         "a zip without zip64 holds no more", hint=_TRIM)


_TRIM = "exclude what the function does not need (move dependencies to a layer), or remove the symlinks that repeat it"
