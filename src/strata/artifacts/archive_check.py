"""The one archive checker: every zip that enters strata is checked here, before it is stored, deployed or unpacked.

Where it runs: ``strata build``/``deploy`` on a prebuilt ``.zip`` CodeUri/ContentUri (``builder``), the local Lambda
service's CreateFunction / UpdateFunctionCode / PublishLayerVersion (``lambda_service.code``), and the runtime's
unpack (``runtime.layers``), which extracts exactly the entries this module classified.

What "safe" means (each failure is an ``ArchiveError`` naming the entry):
- the zip's own structure: every entry's local header exists, lies before the central directory, does not overlap
  another entry's data (the overlapping-entries bomb), and agrees with the central directory on name, method, flags,
  CRC and sizes; no encryption; only stored and deflated data (what zip tools write);
- names: relative, ``/``-separated (no backslash, NUL, drive letter or ``..``), bounded in depth and length;
  no name twice, and no name that is both a file and a folder or lies inside a symlink;
- symlinks: each target is resolved inside a virtual tree of the zip, the way the kernel will after unpacking
  (component by component, following links in links, ``..`` taken after the link is followed), so a chain such as
  ``s -> .``, ``t -> s/..`` that leaves the root is refused; loops and more than 40 hops are refused too;
- sizes: entry count and the declared unzipped total are bounded first (Lambda's 250 MB, so a bomb is refused
  before anything is inflated); then, with ``verify_data``, each entry is inflated in bounded chunks and must hold
  exactly its declared size and CRC, with its compressed data ending where it says. Memory stays at a few MB.
Limits live in ``strata.artifacts.limits``.
"""
from __future__ import annotations

import io
import os
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import BinaryIO, Literal

from strata.artifacts import limits as L
from strata.errors import BuildError

NOT_A_ZIP, TOO_LARGE, TOO_MANY, BAD_ENTRY = "not-a-zip", "too-large", "too-many-entries", "bad-entry"
Kind = Literal["file", "dir", "link"]

_LOCAL = struct.Struct("<IHHHHHIIIHH")
_LOCAL_SIGNATURE = 0x04034B50
_STORED, _DEFLATED = 0, 8
_ENCRYPTED, _DESCRIPTOR, _UTF8 = 0x1, 0x8, 0x800
_UNSUPPORTED = 0x20 | 0x40 | 0x2000     # patched data, strong encryption, encrypted central directory
_SAME_FLAGS = _ENCRYPTED | _DESCRIPTOR | _UTF8 | _UNSUPPORTED  # must agree between local header and central record
_ZIP64_MARK = 0xFFFFFFFF
_CHUNK = 1 << 20
# What zipfile raises on a damaged central directory (besides BadZipFile): kept in one place.
_READ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError, struct.error,
                NotImplementedError, OverflowError, UnicodeDecodeError, IndexError, KeyError)


@dataclass(frozen=True)
class ArchiveLimits:
    """Bounds for one archive (defaults: ``strata.artifacts.limits``)."""

    entries: int = L.MAX_ENTRIES
    total_size: int = L.UNZIPPED_MAX
    depth: int = L.MAX_DEPTH
    name_bytes: int = L.MAX_NAME_BYTES
    component_bytes: int = L.MAX_COMPONENT_BYTES
    link_bytes: int = L.MAX_LINK_BYTES
    link_hops: int = L.MAX_LINK_HOPS


DEFAULT_LIMITS = ArchiveLimits()


class ArchiveError(BuildError):
    """A zip that strata will not store or unpack. ``kind`` is ``NOT_A_ZIP``, ``TOO_LARGE``, ``TOO_MANY`` or
    ``BAD_ENTRY``;
    ``entry`` names the offending entry (when one is to blame); ``reason`` is the message without the zip's label,
    so each door (CLI, Lambda API, runtime) can word it its own way."""

    def __init__(self, label: str, reason: str, *, kind: str = BAD_ENTRY, entry: str | None = None) -> None:
        super().__init__(f"{label} {reason}", hint=_HINTS.get(kind))
        self.label, self.reason, self.kind, self.entry = label, reason, kind, entry


_HINTS = {
    NOT_A_ZIP: "rebuild the zip, or point CodeUri at the source folder and let strata build it",
    TOO_LARGE: "Lambda unzips at most 250 MB (code and layers together); move dependencies to a layer or trim them",
    TOO_MANY: "exclude files the function does not need, or move dependencies to a layer",
    BAD_ENTRY: "rebuild the zip from a plain folder, or point CodeUri at the folder and let strata build it",
}


@dataclass(frozen=True)
class Entry:
    """One checked entry: its zip record, its path components inside the root, what it is, a symlink's target."""

    info: zipfile.ZipInfo
    parts: tuple[str, ...]
    kind: Kind
    link: str | None = None


@dataclass(frozen=True)
class ArchiveSummary:
    """A checked zip: its entries in zip order (the root entry ``./`` dropped) and their declared unzipped total."""

    entries: tuple[Entry, ...]
    total_size: int


def check_archive(source: str | os.PathLike[str] | bytes, *, limits: ArchiveLimits = DEFAULT_LIMITS,
                  label: str | None = None, verify_data: bool = True) -> ArchiveSummary:
    """Check ``source`` (a path or the zip's bytes) and return what it holds, or raise ``ArchiveError``.

    ``verify_data=False`` skips inflating file contents (CRC and exact sizes) but checks everything else, symlink
    targets included: for zips already in the artifact store, which were fully checked when they entered it.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        label = label or "the zip"
        return _check(io.BytesIO(bytes(source)), label, limits, verify_data)
    label = label or f"zip {os.fspath(source)}"
    try:
        fh = open(source, "rb")
    except OSError as exc:
        raise ArchiveError(label, f"cannot be read: {exc.strerror or exc}", kind=NOT_A_ZIP) from None
    with fh:
        return _check(fh, label, limits, verify_data)


def _check(fh: BinaryIO, label: str, limits: ArchiveLimits, verify_data: bool) -> ArchiveSummary:
    end = fh.seek(0, io.SEEK_END)
    counted = _count_central_records(fh, end, limits.entries)
    if counted > limits.entries:
        raise ArchiveError(label, f"has more than {limits.entries} entries; at most {limits.entries} are allowed",
                           kind=TOO_MANY)
    fh.seek(0)
    try:
        archive = zipfile.ZipFile(fh)
        infos = archive.infolist()
        start_dir = int(getattr(archive, "start_dir", end))
    except _READ_ERRORS as exc:
        raise ArchiveError(label, f"is not a readable zip file ({exc})", kind=NOT_A_ZIP) from None
    if len(infos) > limits.entries:
        raise ArchiveError(label, f"has {len(infos)} entries; at most {limits.entries} are allowed", kind=TOO_MANY)
    total = sum(info.file_size for info in infos)
    if total > limits.total_size:
        raise ArchiveError(label, f"unzips to {total} bytes: {L.UNZIPPED_MESSAGE}", kind=TOO_LARGE)
    spans = _check_layout(fh, label, infos, start_dir)
    classified: list[tuple[zipfile.ZipInfo, tuple[str, ...], Kind]] = []
    for info in infos:
        parts, kind = _classify(info, label, limits)
        if parts:
            classified.append((info, parts, kind))
    entries: list[Entry] = []
    for info, parts, kind in classified:
        link = None
        if kind == "link":
            link = _read_link(fh, label, info, spans[id(info)], limits)
        elif kind == "file" and verify_data:
            _inflate(fh, label, info, spans[id(info)], None)
        entries.append(Entry(info, parts, kind, link))
    _check_tree(entries, label, limits)
    return ArchiveSummary(tuple(entries), total)


def _count_central_records(fh: BinaryIO, end: int, limit: int) -> int:
    """Central directory records, counted up to ``limit + 1`` before zipfile builds an object for each: a 50 MB
    upload could otherwise hold a million tiny entries that cost seconds and hundreds of MB before any bound
    applies. A directory this cannot find returns 0 and is left to zipfile, which refuses or parses it."""
    tail_start = max(0, end - (22 + 0xFFFF))
    fh.seek(tail_start)
    tail = fh.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return 0
    cd_size = struct.unpack_from("<I", tail, at + 12)[0]
    directory_end = at
    if at >= 20 and tail[at - 20:at - 16] == b"PK\x06\x07":      # zip64: its end record precedes the locator
        directory_end = tail.rfind(b"PK\x06\x06", 0, at - 20)
        if directory_end < 0 or directory_end + 56 > len(tail):
            return 0
        cd_size = struct.unpack_from("<Q", tail, directory_end + 40)[0]
    start = tail_start + directory_end - cd_size  # where the directory really is (data may be prepended)
    if start < 0:
        return 0
    fh.seek(start)
    directory = fh.read(cd_size)
    count = pos = 0
    while pos + 46 <= len(directory) and count <= limit:
        if directory[pos:pos + 4] != b"PK\x01\x02":
            return 0
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", directory, pos + 28)
        pos += 46 + name_len + extra_len + comment_len
        count += 1
    return count


# ---- structure: local headers against the central directory --------------------------------------------------------
def _check_layout(fh: BinaryIO, label: str, infos: list[zipfile.ZipInfo], start_dir: int) -> dict[int, int]:
    """Each entry's data offset (keyed by ``id(info)``), after checking its local header and its extent."""
    spans: dict[int, int] = {}
    extents: list[tuple[int, int, str]] = []
    for info in infos:
        name = info.orig_filename
        if info.flag_bits & _ENCRYPTED:
            raise _bad(label, name, f"has an encrypted entry {name!r}; Lambda cannot unzip encrypted entries")
        if info.flag_bits & _UNSUPPORTED:
            raise _bad(label, name, f"has an entry {name!r} that uses a zip feature unzip tools do not support "
                                    f"(flags {info.flag_bits:#06x}: patched data or strong encryption)")
        if info.compress_type not in (_STORED, _DEFLATED):
            raise _bad(label, name, f"has an entry {name!r} compressed with method {info.compress_type}; only "
                                    "stored and deflated entries are supported")
        if info.compress_type == _STORED and info.compress_size != info.file_size:
            raise _bad(label, name, f"has a stored entry {name!r} whose compressed size ({info.compress_size}) is "
                                    f"not its size ({info.file_size}): its sizes are inconsistent")
        data = _read_local_header(fh, label, info)
        if data + info.compress_size > start_dir:
            raise _bad(label, name, f"has an entry {name!r} whose data runs past the end of the entries "
                                    "(a truncated or damaged zip)")
        spans[id(info)] = data
        extents.append((info.header_offset, data + info.compress_size, name))
    extents.sort()
    for (_start, stop, name), (next_start, _stop, other) in zip(extents, extents[1:]):
        if stop > next_start:
            raise _bad(label, other, f"has an entry {other!r} that overlaps the data of entry {name!r} "
                                     "(overlapping entries are a zip-bomb trick)")
    return spans


def _read_local_header(fh: BinaryIO, label: str, info: zipfile.ZipInfo) -> int:
    """Compare the entry's local header with its central record; return where its data starts."""
    name = info.orig_filename
    head = b""
    if 0 <= info.header_offset:
        fh.seek(info.header_offset)
        head = fh.read(_LOCAL.size)
    if len(head) < _LOCAL.size:
        raise _bad(label, name, f"has an entry {name!r} whose local header is missing (a truncated zip)")
    (signature, _version, flags, method, _time, _date, crc, compressed, size, name_len,
     extra_len) = _LOCAL.unpack(head)
    if signature != _LOCAL_SIGNATURE:
        raise _bad(label, name, f"has an entry {name!r} whose local header is missing or damaged "
                                f"(at offset {info.header_offset})")
    raw = fh.read(name_len)
    extra = fh.read(extra_len)
    if len(raw) < name_len or len(extra) < extra_len:
        raise _bad(label, name, f"has an entry {name!r} whose local header is truncated")
    central = name.encode("utf-8" if info.flag_bits & _UTF8 else "cp437", "surrogateescape")
    if raw != central:
        local = raw.decode("utf-8" if flags & _UTF8 else "cp437", "replace")
        raise _bad(label, name, f"has an entry named {name!r} in the central directory but {local!r} in its "
                                "local header; unzip tools would disagree about what it holds")
    if method != info.compress_type or flags & _SAME_FLAGS != info.flag_bits & _SAME_FLAGS:
        raise _bad(label, name, f"has an entry {name!r} whose local header and central directory disagree on "
                                "its method or flags")
    if not flags & _DESCRIPTOR:
        compressed, size = _zip64_sizes(extra, compressed, size)
        if (crc, compressed, size) != (info.CRC, info.compress_size, info.file_size):
            raise _bad(label, name, f"has an entry {name!r} whose local header and central directory disagree on "
                                    f"its CRC or sizes (local {size}/{compressed} bytes, central "
                                    f"{info.file_size}/{info.compress_size})")
    return info.header_offset + _LOCAL.size + name_len + extra_len


def _zip64_sizes(extra: bytes, compressed: int, size: int) -> tuple[int, int]:
    """Sizes a local header marks 0xFFFFFFFF are in its zip64 extra field (size first, then compressed size)."""
    if _ZIP64_MARK not in (compressed, size):
        return compressed, size
    pos = 0
    while pos + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4:pos + 4 + length]
        if tag == 0x0001:
            values = [struct.unpack_from("<Q", body, i)[0] for i in range(0, len(body) - 7, 8)]
            if size == _ZIP64_MARK and values:
                size = values.pop(0)
            if compressed == _ZIP64_MARK and values:
                compressed = values.pop(0)
            break
        pos += 4 + length
    return compressed, size


# ---- names --------------------------------------------------------------------------------------------------------
def _classify(info: zipfile.ZipInfo, label: str, limits: ArchiveLimits) -> tuple[tuple[str, ...], Kind]:
    """The entry's path components (empty for the root folder entry) and its kind, or an error naming it."""
    name = info.orig_filename
    if "\x00" in name:
        raise _bad(label, name, f"has an entry with a NUL byte in its name: {name!r}")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise _bad(label, name, f"has an absolute entry name {name!r}; entries must be relative to the zip root")
    if "\\" in name:
        raise _bad(label, name, f"has an entry {name!r} with a backslash in its name; zip folders are separated "
                                "by '/' (a zip written by an old Windows tool?)")
    if len(name.encode("utf-8", "surrogateescape")) > limits.name_bytes:
        raise _bad(label, name, f"has an entry {_short(name)} whose name is longer than {limits.name_bytes} bytes")
    parts = tuple(part for part in name.split("/") if part not in ("", "."))
    if ".." in parts:
        raise _bad(label, name, f"has an entry {name!r} that escapes the extraction folder with '..'")
    if len(parts) > limits.depth:
        raise _bad(label, name, f"has an entry {_short(name)} nested {len(parts)} levels deep; at most "
                                f"{limits.depth} are allowed")
    for part in parts:
        if len(part.encode("utf-8", "surrogateescape")) > limits.component_bytes:
            raise _bad(label, name, f"has an entry {_short(name)} with a name part longer than "
                                    f"{limits.component_bytes} bytes")
    mode = info.external_attr >> 16
    kind: Kind = "link" if stat.S_ISLNK(mode) else "dir" if name.endswith("/") else "file"
    if not parts and kind != "dir":
        raise _bad(label, name, f"has an entry with an empty name ({name!r})")
    return parts, kind


# ---- data ---------------------------------------------------------------------------------------------------------
def _read_link(fh: BinaryIO, label: str, info: zipfile.ZipInfo, data: int, limits: ArchiveLimits) -> str:
    name = info.orig_filename
    if info.file_size > limits.link_bytes:
        raise _bad(label, name, f"has a symlink {name!r} whose target is longer than {limits.link_bytes} bytes")
    out = bytearray()
    _inflate(fh, label, info, data, out)
    target = out.decode("utf-8", "surrogateescape")
    if not target or target.startswith("/") or "\x00" in target or "\\" in target:
        raise _bad(label, name, f"has a symlink {name!r} -> {target!r} that escapes the extraction folder; only "
                                "relative links inside the zip are allowed")
    return target


def _take(label: str, info: zipfile.ZipInfo, out: bytes, size: int, crc: int,
          keep: bytearray | None) -> tuple[int, int]:
    """Count and CRC one piece of an entry's bytes, refusing more than it declares as soon as they appear."""
    size += len(out)
    if size > info.file_size:
        raise _bad(label, info.orig_filename, f"has an entry {info.orig_filename!r} that unzips to more than the "
                                              f"{info.file_size} bytes it declares")
    if keep is not None:
        keep += out
    return size, zlib.crc32(out, crc)


def _inflate(fh: BinaryIO, label: str, info: zipfile.ZipInfo, data: int, keep: bytearray | None) -> None:
    """Inflate one entry in bounded chunks: it must hold exactly its declared size and CRC, and its compressed
    stream must end exactly at its declared compressed size. ``keep`` collects the bytes (symlink targets only)."""
    name = info.orig_filename
    fh.seek(data)
    left = info.compress_size
    size = crc = 0
    inflater = zlib.decompressobj(-15) if info.compress_type == _DEFLATED else None
    try:
        while left > 0:
            chunk = fh.read(min(_CHUNK, left))
            if not chunk:
                raise _bad(label, name, f"has an entry {name!r} whose data is cut short (a truncated zip)")
            left -= len(chunk)
            if inflater is None:
                size, crc = _take(label, info, chunk, size, crc, keep)
                continue
            while chunk:
                if inflater.eof:
                    raise _bad(label, name, f"has an entry {name!r} whose compressed data ends before its "
                                            f"declared compressed size ({info.compress_size} bytes)")
                size, crc = _take(label, info, inflater.decompress(chunk, _CHUNK), size, crc, keep)
                chunk = inflater.unconsumed_tail
        if inflater is not None:
            while not inflater.eof:       # output zlib still holds once all input is in (a long match at the end)
                out = inflater.decompress(b"", _CHUNK)
                if not out:
                    break
                size, crc = _take(label, info, out, size, crc, keep)
            if not inflater.eof or inflater.unused_data:
                raise _bad(label, name, f"has an entry {name!r} whose compressed data is incomplete or damaged")
    except zlib.error:
        raise _bad(label, name, f"has an entry {name!r} whose compressed data is damaged") from None
    if size != info.file_size:
        raise _bad(label, name, f"has an entry {name!r} that unzips to {size} bytes, not the {info.file_size} "
                                "it declares")
    if crc != info.CRC:
        raise _bad(label, name, f"has an entry {name!r} that fails its CRC check (the zip is damaged)")


# ---- the virtual tree: duplicates, files used as folders, symlink resolution -----------------------------------------
@dataclass(eq=False)
class _Node:
    kind: Kind | None                   # None: a folder implied by a deeper entry
    entry: Entry | None = None
    children: dict[str, _Node] = field(default_factory=dict)


def _check_tree(entries: list[Entry], label: str, limits: ArchiveLimits) -> None:
    root = _Node("dir")
    for entry in entries:
        node = root
        for depth, part in enumerate(entry.parts[:-1]):
            child = node.children.get(part)
            if child is None:
                child = node.children[part] = _Node(None)
            elif child.kind in ("file", "link"):
                other = "/".join(entry.parts[:depth + 1])
                what = "the symlink" if child.kind == "link" else "the file"
                raise _bad(label, entry.info.orig_filename,
                           f"has an entry {entry.info.orig_filename!r} inside {what} {other!r}")
            node = child
        last = entry.parts[-1]
        existing = node.children.get(last)
        if existing is None:
            node.children[last] = _Node(entry.kind, entry)
        elif entry.kind == "dir" and existing.kind in (None, "dir"):
            existing.kind = "dir"
        else:
            name = entry.info.orig_filename
            kinds = sorted({_WORDS[existing.kind or "dir"], _WORDS[entry.kind]})
            raise _bad(label, name, f"has the entry {name!r} twice" if len(kinds) == 1 else
                       f"has an entry {name!r} that is both a {kinds[0]} and a {kinds[1]}")
    _Resolver(root, label, limits).check_all(entries)


_WORDS = {"dir": "folder", "file": "file", "link": "symlink"}


class _Resolver:
    """Resolves every symlink inside the tree as the kernel will: ``..`` after a followed link goes to the parent of
    where the link points, not of where it sits. Each link is resolved once (memo), so the cost is linear."""

    def __init__(self, root: _Node, label: str, limits: ArchiveLimits) -> None:
        self.root, self.label, self.limits = root, label, limits
        self.done: dict[int, list[_Node | None]] = {}
        self.active: list[Entry] = []

    def check_all(self, entries: list[Entry]) -> None:
        for entry in entries:
            if entry.kind == "link":
                self.resolve_link(entry)

    def resolve_link(self, entry: Entry) -> list[_Node | None]:
        key = id(entry)
        known = self.done.get(key)
        if known is not None:
            return known
        if any(active is entry for active in self.active) or len(self.active) >= self.limits.link_hops:
            first = self.active[0] if self.active else entry
            raise _bad(self.label, first.info.orig_filename,
                       f"has a symlink {first.info.orig_filename!r} -> {first.link!r} that loops or passes more "
                       f"than {self.limits.link_hops} links")
        self.active.append(entry)
        try:
            parent: list[_Node | None] = [self.root]
            for part in entry.parts[:-1]:
                node = parent[-1]
                parent.append(node.children.get(part) if node is not None else None)
            resolved = self.walk(parent, entry.link or "", entry)
        finally:
            self.active.pop()
        self.done[key] = resolved
        return resolved

    def walk(self, path: list[_Node | None], target: str, entry: Entry) -> list[_Node | None]:
        path = list(path)
        for part in target.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if len(path) == 1:
                    origin = self.active[0] if self.active else entry
                    through = "" if origin is entry else f" (through the symlink {entry.info.orig_filename!r})"
                    raise _bad(self.label, origin.info.orig_filename,
                               f"has a symlink {origin.info.orig_filename!r} -> {origin.link!r} that escapes the "
                               f"extraction folder{through}; only relative links inside the zip are allowed")
                path.pop()
                continue
            node = path[-1]
            child = node.children.get(part) if node is not None else None
            if child is not None and child.kind == "link" and child.entry is not None:
                path = list(self.resolve_link(child.entry))
            else:
                path.append(child)
        return path


def _bad(label: str, entry: str, reason: str) -> ArchiveError:
    return ArchiveError(label, reason, kind=BAD_ENTRY, entry=entry)


def _short(name: str) -> str:
    return repr(name if len(name) <= 80 else name[:60] + "..." + name[-16:])
