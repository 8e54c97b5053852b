"""The deterministic zip writer: same input files -> same bytes, on any machine with the same zlib.

Format decisions (each one removes a source of variation):
- entries sorted by archive path (code-point order of the ``/``-separated path); **no directory entries**: folders are
  implied by their files, so folder modes and mtimes cannot leak in (an empty folder is dropped; Lambda needs none);
- every timestamp is 1980-01-01 00:00:00 (the DOS epoch), no extra fields (no extended timestamps, no uid/gid), no
  comments, ``create_system`` 3 (Unix) with version 2.0 made-by/needed, external attributes ``0o100755`` when the
  source file has any execute bit and ``0o100644`` otherwise; bit 11 (UTF-8) only for non-ASCII names, as zipfile does;
- raw deflate (``wbits=-15``) at the chosen level (6 by default, 1 for ``--fast``); a member is STORED when deflate
  does not make it smaller, and members whose suffix says they are already compressed are stored without trying.
Members are read and compressed in batches by a thread pool (zlib, crc32 and sha256 release the GIL), written in order
by the calling thread, which also hashes the output, so the artifact's sha256 costs no extra read. No zip64: more than
65,535 entries or 4 GiB is a ``BuildError`` (Lambda's own limits are far below).
"""
from __future__ import annotations

import hashlib
import io
import struct
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from itertools import chain
from typing import BinaryIO, NamedTuple

from strata.errors import BuildError

STORED, DEFLATED = 0, 8
DOS_DATE_1980_01_01 = (0 << 9) | (1 << 5) | 1
DOS_TIME_MIDNIGHT = 0
VERSION = 20
MADE_BY = (3 << 8) | VERSION
UTF8_FLAG = 0x800
MODE_EXEC = 0o100755
MODE_FILE = 0o100644
CHUNK = 1 << 20
BATCH_BYTES = 1 << 20  # small files travel to the pool in batches: a task per file costs more than it saves
BATCH_FILES = 64
IN_FLIGHT_PER_WORKER = 4

# Already-compressed formats: deflate would burn CPU to save (almost) nothing, so store them as they are.
PRECOMPRESSED_SUFFIXES = (
    ".zip", ".whl", ".egg", ".jar", ".war", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".lz4", ".br", ".7z",
    ".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".heic", ".mp3", ".mp4", ".m4a", ".ogg", ".woff", ".woff2",
)

_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")


class Member(NamedTuple):
    """One file to store: archive name, absolute source path, exec bit, expected size (only for batching)."""

    arcname: str
    path: str
    executable: bool
    size: int = 0


class Packed(NamedTuple):
    """A member after compression: what the writer needs, plus the source content's sha256 for the stat cache."""

    method: int
    crc: int
    size: int
    chunks: list[bytes]
    compressed_size: int
    content_sha256: bytes


def pack(path: str, level: int, store: bool) -> Packed:
    """Read one file once: crc32, sha256, and deflate (or not) its bytes."""
    with open(path, "rb") as fh:
        return _pack_chunks(iter(lambda: fh.read(CHUNK), b""), level, store)


def _pack_chunks(chunks: Iterable[bytes], level: int, store: bool) -> Packed:
    crc = 0
    size = 0
    digest = hashlib.sha256()
    raw: list[bytes] = []
    out: list[bytes] = []
    comp = None if store or level == 0 else zlib.compressobj(level, zlib.DEFLATED, -15)
    for chunk in chunks:
        size += len(chunk)
        crc = zlib.crc32(chunk, crc)
        digest.update(chunk)
        raw.append(chunk)
        if comp is not None:
            part = comp.compress(chunk)
            if part:
                out.append(part)
    if comp is not None:
        out.append(comp.flush())
        compressed = sum(map(len, out))
        if compressed < size:
            return Packed(DEFLATED, crc, size, out, compressed, digest.digest())
    return Packed(STORED, crc, size, raw, size, digest.digest())


def _pack_batch(batch: list[Member], level: int) -> list[Packed]:
    return [pack(m.path, level, is_precompressed(m.arcname)) for m in batch]


def _batches(members: list[Member]) -> Iterator[list[Member]]:
    """Consecutive members grouped up to ``BATCH_BYTES`` / ``BATCH_FILES`` (a big file travels alone)."""
    batch: list[Member] = []
    size = 0
    for member in members:
        if batch and (size + member.size > BATCH_BYTES or len(batch) >= BATCH_FILES):
            yield batch
            batch, size = [], 0
        batch.append(member)
        size += member.size
    if batch:
        yield batch


def is_precompressed(name: str) -> bool:
    return name.lower().endswith(PRECOMPRESSED_SUFFIXES)


class _HashingWriter:
    """File wrapper that tracks the offset and the sha256 of everything written."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.offset = 0
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> None:
        self.fh.write(data)
        self.digest.update(data)
        self.offset += len(data)


def write_zip(
    members: list[Member],
    out: BinaryIO,
    *,
    level: int = 6,
    workers: int = 2,
    on_member: Callable[[Member, Packed], None] | None = None,
) -> tuple[str, int]:
    """Write ``members`` (sorted here) as a deterministic zip to ``out``; return (sha256 hex, size) of the bytes.

    ``on_member`` is called in archive order after each member is written (content hashes for the cache, progress).
    """
    members = _sorted(members)
    writer = _HashingWriter(out)
    central: list[bytes] = []
    workers = max(1, workers)
    feed = _batches(members)
    first, second = next(feed, None), next(feed, None)
    if first is None or second is None:   # one batch (most functions' code): packed here, no pool threads started
        for member, packed in zip(first or [], _pack_batch(first, level) if first else []):
            central.append(_write_member(writer, member, packed))
            if on_member is not None:
                on_member(member, packed)
        return _finish(writer, central)
    feed = chain([first, second], feed)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque = deque()

        def submit() -> bool:
            batch = next(feed, None)
            if batch is None:
                return False
            pending.append((batch, pool.submit(_pack_batch, batch, level)))
            return True

        for _ in range(workers * IN_FLIGHT_PER_WORKER):
            if not submit():
                break
        while pending:
            batch, future = pending.popleft()
            packed_batch = future.result()
            submit()
            for member, packed in zip(batch, packed_batch):
                central.append(_write_member(writer, member, packed))
                if on_member is not None:
                    on_member(member, packed)
    return _finish(writer, central)


def zip_bytes(files: Mapping[str, bytes], *, level: int = 6) -> bytes:
    """The same deterministic zip of content held in memory (archive name -> bytes, mode 0644): inline code, such as
    CloudFormation's ``Code.ZipFile``, is packaged exactly like built code."""
    members = _sorted([Member(name, f"<{name} in memory>", False, len(data)) for name, data in files.items()])
    buf = io.BytesIO()
    writer = _HashingWriter(buf)
    central = [_write_member(writer, m, _pack_chunks([files[m.arcname]], level, is_precompressed(m.arcname)))
               for m in members]
    _finish(writer, central)
    return buf.getvalue()


def _sorted(members: list[Member]) -> list[Member]:
    members = sorted(members, key=lambda m: m.arcname)
    if len(members) > 0xFFFF:
        raise BuildError(f"{len(members)} files is more than a zip without zip64 holds (65,535)",
                         hint="Lambda rejects such packages anyway; exclude files or split the layer")
    return members


def _finish(writer: _HashingWriter, central: list[bytes]) -> tuple[str, int]:
    """The central directory and end record after the members; (sha256 hex, size) of the whole zip."""
    cd_offset = writer.offset
    for record in central:
        writer.write(record)
    cd_size = writer.offset - cd_offset
    if writer.offset > 0xFFFFFFFF:
        raise BuildError("the package would be larger than 4 GiB", hint="Lambda's limit is 250 MB unzipped")
    writer.write(_END.pack(0x06054B50, 0, 0, len(central), len(central), cd_size, cd_offset, 0))
    return writer.digest.hexdigest(), writer.offset


def _write_member(writer: _HashingWriter, member: Member, packed: Packed) -> bytes:
    """Write one local header + data; return its central directory record."""
    try:
        name = member.arcname.encode("utf-8")
    except UnicodeEncodeError:
        raise BuildError(f"file name {member.arcname!r} ({member.path!r}) cannot be stored: it is not valid UTF-8",
                         hint="rename the file") from None
    flags = 0 if member.arcname.isascii() else UTF8_FLAG
    offset = writer.offset
    if offset > 0xFFFFFFFF or packed.size > 0xFFFFFFFF:
        raise BuildError("the package would be larger than 4 GiB", hint="Lambda's limit is 250 MB unzipped")
    writer.write(_LOCAL.pack(0x04034B50, VERSION, flags, packed.method, DOS_TIME_MIDNIGHT, DOS_DATE_1980_01_01,
                             packed.crc, packed.compressed_size, packed.size, len(name), 0) + name)
    for chunk in packed.chunks:
        writer.write(chunk)
    mode = MODE_EXEC if member.executable else MODE_FILE
    return _CENTRAL.pack(0x02014B50, MADE_BY, VERSION, flags, packed.method, DOS_TIME_MIDNIGHT,
                         DOS_DATE_1980_01_01, packed.crc, packed.compressed_size, packed.size, len(name), 0, 0, 0,
                         0, mode << 16, offset) + name
