"""The build stat cache: one ``marshal`` file per build unit under ``<home>/cache/build/``.

A unit's record says, for each file of the last build: its stat key (mode, size, mtime, ctime, inode), its content
sha256 and exec bit; plus the dependency key and the artifact those contents produced. A build trusts a file's cached
hash only while its stat key is unchanged, so a no-op build is a walk + lstat and nothing else.

Guarantee (git's "racily clean" rule, applied to ctime): a file whose bytes change after we hashed them gets a new
ctime at the moment of the write, and ctime cannot be set from user space (``os.utime`` changes mtime but bumps ctime).
The change can hide only when the new ctime equals the recorded one, i.e. when the file was last changed within one
timestamp tick of the moment we read it. So an entry is *trusted* only if its ctime is older than the start of the
build that hashed it minus ``RACY_SLACK_NS`` (generous: coarse kernel clocks, 1-2 s file systems, small clock skew);
an untrusted entry is stored with no stat key and is re-hashed (not re-zipped) on the next build. What it does not
cover: a system clock set backwards by more than the slack, or a file system that does not maintain ctime (and
Windows, where ``st_ctime`` is the creation time: there only size, mtime and the racy rule on ctime protect you).

File layout: 8-byte little-endian length, then the marshalled head (stat keys, deps key, artifact sha256), then the
marshalled content hashes, so a no-op build decodes only the head. Written atomically (temp + rename); an
unreadable or foreign-version file is treated as absent.
"""
from __future__ import annotations

import marshal
import os
from typing import Any

FORMAT = 2
RACY_SLACK_NS = 2_000_000_000


def is_racy(change_ns: int, build_start_ns: int) -> bool:
    """True when a file changed too close to (or after) the build start for its stat key to prove its content."""
    return change_ns >= build_start_ns - RACY_SLACK_NS


def load(path: str) -> Record | None:
    """The record at ``path``, or None when missing, corrupt, or written by another format."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
        head_len = int.from_bytes(data[:8], "little")
        head = marshal.loads(memoryview(data)[8:8 + head_len])
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if type(head) is not dict or head.get("format") != FORMAT:
        return None
    return Record(head, data, 8 + head_len)


class Record:
    """A loaded record: the head (stat keys, deps, artifact) at once, the content hashes only when asked for.

    The split keeps a no-op build to one small ``marshal.loads``; ``marshal.load`` on a file object is 10x slower
    than reading the bytes first, so the whole file is read in one call.
    """

    __slots__ = ("head", "_data", "_offset", "_content")

    def __init__(self, head: dict, data: bytes, offset: int) -> None:
        self.head, self._data, self._offset = head, data, offset
        self._content: dict[Any, Any] | None = None

    def __getitem__(self, key: str) -> Any:
        return self.head[key]

    @property
    def content(self) -> dict[Any, Any]:
        content = self._content
        if content is None:
            try:
                loaded = marshal.loads(memoryview(self._data)[self._offset:])
            except (EOFError, ValueError, TypeError):
                loaded = {}
            content = self._content = loaded if type(loaded) is dict else {}
        return content


def save(path: str, head: dict, content: dict) -> None:
    """Write a record atomically; a cache that cannot be written only costs speed, so errors are ignored."""
    blob = marshal.dumps(dict(head, format=FORMAT))
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "wb") as fh:
            fh.write(len(blob).to_bytes(8, "little"))
            fh.write(blob)
            fh.write(marshal.dumps(content))
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
