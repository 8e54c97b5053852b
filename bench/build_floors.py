"""In-process floors for bench_build.py: walk+lstat fold, walk+read+sha256, and a 2-thread raw-deflate zip writer
(the reference "rawzip" of performance-floors.md: deflate every file in a thread pool, STORE what does not shrink)."""
from __future__ import annotations

import hashlib
import os
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor


def list_files(root: str) -> list[tuple[str, str]]:
    """(archive name, path) of every regular file, sorted."""
    out = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in files:
            path = os.path.join(folder, name)
            out.append((os.path.relpath(path, root).replace(os.sep, "/"), path))
    out.sort()
    return out


def walk_lstat(root: str) -> str:
    digest = hashlib.sha256()
    stack = [root]
    while stack:
        with os.scandir(stack.pop()) as it:
            for entry in it:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                else:
                    s = entry.stat(follow_symlinks=False)
                    digest.update(f"{entry.path}\0{s.st_size}\0{s.st_mtime_ns}\0{s.st_mode}\n".encode())
    return digest.hexdigest()


def walk_read_sha256(root: str) -> str:
    tree = hashlib.sha256()
    for name, path in list_files(root):
        with open(path, "rb") as fh:
            tree.update(name.encode() + hashlib.file_digest(fh, "sha256").digest())
    return tree.hexdigest()


def _deflate(path: str, level: int):
    with open(path, "rb") as fh:
        data = fh.read()
    comp = zlib.compressobj(level, zlib.DEFLATED, -15)
    packed = comp.compress(data) + comp.flush()
    crc = zlib.crc32(data)
    if len(packed) < len(data):
        return 8, crc, len(data), packed
    return 0, crc, len(data), data


def rawzip(root: str, out_path: str, level: int = 6, threads: int = 2) -> str:
    """Deterministic zip of ``root``; returns the sha256 of the file written."""
    files = list_files(root)
    central = []
    offset = 0
    digest = hashlib.sha256()
    with open(out_path, "wb") as out, ThreadPoolExecutor(threads) as pool:
        def write(b: bytes) -> None:
            nonlocal offset
            out.write(b)
            digest.update(b)
            offset += len(b)

        for (name, _path), (method, crc, size, data) in zip(
                files, pool.map(lambda f: _deflate(f[1], level), files)):
            raw = name.encode()
            header_at = offset
            write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 33, crc, len(data), size, len(raw), 0)
                  + raw)
            write(data)
            central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x314, 20, 0, method, 0, 33, crc,
                                       len(data), size, len(raw), 0, 0, 0, 0, 0o100644 << 16, header_at) + raw)
        start = offset
        for record in central:
            write(record)
        write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), offset - start, start, 0))
    return digest.hexdigest()
