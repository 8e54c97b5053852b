"""What an unpacked tree held when strata unpacked it, kept outside the tree, so that a handler that edits, adds or
deletes a file in shared code is caught at the next cold start (and by ``verify``) instead of being run by every
function that shares the code.

One manifest per tree, at ``manifest_path(tree)`` (``<parent>/.manifests/<name>.json``, never inside the tree):

    {"version": 1, "entries": {"<relative path>": ["f", mode, size, sha256, ino, mtime_ns, ctime_ns]
                                                  | ["d", mode] | ["l", link target]}}      ("." is the tree itself)

``mode`` is the permission bits; ``sha256`` the file's content digest. ``ino``/``mtime_ns``/``ctime_ns`` are only a
hint of where bytes may have changed: a file whose hint still matches is taken as intact without reading it (any
write changes ``ctime``, which no one can set back), one whose hint differs has its content hashed, and only a
different digest (or size, mode, type, a missing or an extra entry) is a problem. Why a hint rather than hashing
every file at every cold start: a layer of a few thousand files would cost tens of milliseconds per cold start.

``check_tree(tree)`` is the reader for ``verify`` (it only reads); ``write_manifest(tree)`` is called by the unpacker.
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

VERSION = 1
_CHUNK = 1 << 20


def manifest_path(tree: Path) -> Path:
    """Where the manifest of ``tree`` lives: beside the tree, outside it."""
    return tree.parent / ".manifests" / f"{tree.name}.json"


@dataclass
class Manifest:
    """The entries of one unpacked tree (see the module docstring for their shape)."""

    entries: dict[str, list] = field(default_factory=dict)
    refreshed: bool = False             # a stat hint was updated after the bytes were found unchanged

    @property
    def size(self) -> int:
        """Bytes of file content (what Lambda's unzipped-size limit counts)."""
        return sum(entry[2] for entry in self.entries.values() if entry[0] == "f")

    def problems(self, tree: Path, *, full: bool = False) -> list[str]:
        """How ``tree`` differs from this manifest (empty: intact). ``full`` hashes every file instead of trusting
        the stat hints. A file whose hint changed but whose bytes did not gets its hint refreshed (``refreshed``)."""
        try:
            found = _scan(tree)
        except FileNotFoundError:
            return [f"{tree}: the folder is missing"]
        problems = []
        entries = self.entries
        for rel, entry in entries.items():
            info = found.pop(rel, None)
            if info is None:
                problems.append(f"{rel}: missing")
                continue
            kind = _kind(info.st_mode)
            if kind != entry[0]:
                problems.append(f"{rel}: was a {_KIND_NAMES[entry[0]]}, now a {_KIND_NAMES.get(kind, 'special file')}")
            elif kind == "l":
                if os.readlink(tree / rel) != entry[1]:
                    problems.append(f"{rel}: link target changed")
            elif stat.S_IMODE(info.st_mode) != entry[1]:
                problems.append(f"{rel}: mode changed from {entry[1]:o} to {stat.S_IMODE(info.st_mode):o}")
            elif kind == "f":
                if info.st_size != entry[2]:
                    problems.append(f"{rel}: size changed from {entry[2]} to {info.st_size}")
                elif full or (info.st_ino, info.st_mtime_ns, info.st_ctime_ns) != tuple(entry[4:7]):
                    try:
                        digest = _digest(tree / rel)
                    except OSError as exc:
                        problems.append(f"{rel}: unreadable ({exc.strerror})")
                        continue
                    if digest != entry[3]:
                        problems.append(f"{rel}: content changed")
                    else:
                        entry[4:7] = [info.st_ino, info.st_mtime_ns, info.st_ctime_ns]
                        self.refreshed = True
        problems += [f"{rel}: not in the unpacked archive" for rel in sorted(found)]
        return problems

    def to_json(self) -> str:
        return json.dumps({"version": VERSION, "entries": self.entries}, separators=(",", ":"), sort_keys=True)


def build_manifest(tree: Path) -> Manifest:
    """The manifest of ``tree`` as it is now (every file hashed)."""
    entries: dict[str, list] = {}
    for rel, info in _scan(tree).items():
        kind = _kind(info.st_mode)
        if kind == "f":
            entries[rel] = ["f", stat.S_IMODE(info.st_mode), info.st_size, _digest(tree / rel), info.st_ino,
                            info.st_mtime_ns, info.st_ctime_ns]
        elif kind == "d":
            entries[rel] = ["d", stat.S_IMODE(info.st_mode)]
        elif kind == "l":
            entries[rel] = ["l", os.readlink(tree / rel)]
        else:
            raise ValueError(f"{tree / rel}: not a file, folder or symlink")
    return Manifest(entries)


def save_manifest(tree: Path, manifest: Manifest) -> None:
    """Write the manifest beside ``tree`` atomically (a reader sees the old one or the new one, never half)."""
    path = manifest_path(tree)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(manifest.to_json())
    os.replace(tmp, path)


def write_manifest(tree: Path) -> Manifest:
    """Record ``tree`` as it is now (call right after unpacking it) and return the manifest."""
    manifest = build_manifest(tree)
    save_manifest(tree, manifest)
    return manifest


def read_manifest(tree: Path) -> Manifest | None:
    """The stored manifest of ``tree``; None when there is none or it cannot be read (treat the tree as unverified)."""
    try:
        data = json.loads(manifest_path(tree).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("entries"), dict):
        return None
    entries = data["entries"]
    if not all(isinstance(entry, list) and entry and entry[0] in _KIND_NAMES for entry in entries.values()):
        return None
    return Manifest(entries)


def check_tree(tree: Path, *, full: bool = True) -> list[str]:
    """How ``tree`` differs from what was unpacked (empty: intact). Reads only; ``full`` (the default, for
    ``verify``) hashes every file."""
    manifest = read_manifest(tree)
    if manifest is None:
        if not tree.exists():
            return [f"{tree}: the folder is missing"]
        return [f"{tree}: no manifest at {manifest_path(tree)}"]
    return manifest.problems(tree, full=full)


_KIND_NAMES = {"f": "file", "d": "folder", "l": "symlink"}


def _kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "f"
    if stat.S_ISDIR(mode):
        return "d"
    if stat.S_ISLNK(mode):
        return "l"
    return "?"


def _scan(tree: Path) -> dict[str, os.stat_result]:
    """Every entry under ``tree`` (not following symlinks), by path relative to it; the tree itself is ``"."``."""
    info = os.lstat(tree)
    if not stat.S_ISDIR(info.st_mode):
        raise FileNotFoundError(tree)
    found: dict[str, os.stat_result] = {".": info}
    pending = [("", os.fspath(tree))]
    while pending:
        prefix, folder = pending.pop()
        with os.scandir(folder) as listing:
            for item in listing:
                rel = prefix + item.name
                info = item.stat(follow_symlinks=False)
                found[rel] = info
                if stat.S_ISDIR(info.st_mode):
                    pending.append((rel + "/", item.path))
    return found


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
