"""Content hashes of source files (sha256, the digest Lambda itself uses), in parallel when there is enough to read.

hashlib releases the GIL on large updates, so two threads hash two files at once; small jobs stay on one thread to
skip the thread pool's start-up.
"""
from __future__ import annotations

import hashlib
import os

CHUNK = 1 << 20
PARALLEL_BYTES = 8 << 20


def hash_file(path: str) -> bytes:
    """The sha256 of a file's bytes (raw 32-byte digest)."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").digest()


def hash_files(paths: list[str], total_bytes: int, workers: int) -> list[bytes]:
    """sha256 of each path, in order; threads only when ``total_bytes`` makes them worth it."""
    if workers <= 1 or total_bytes < PARALLEL_BYTES or len(paths) < 2:
        return [hash_file(p) for p in paths]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(hash_file, paths))


def default_workers() -> int:
    """Threads for hashing and deflate: one per CPU, at most 8 (zlib and hashlib release the GIL)."""
    return max(1, min(8, os.cpu_count() or 1))
