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


def hash_files(paths: list[str], sizes: list[int], workers: int) -> list[bytes]:
    """sha256 of each path, in order. With enough bytes, the list is cut into ``workers`` contiguous slices of
    about equal bytes, one plain thread each: a task per file would cost more in pool overhead than small files
    cost to hash."""
    total = sum(sizes)
    if workers <= 1 or total < PARALLEL_BYTES or len(paths) < 2:
        return [hash_file(p) for p in paths]
    import threading

    out: list[bytes | None] = [None] * len(paths)
    errors: list[BaseException] = []
    bounds = [0]
    acc = 0
    for i, size in enumerate(sizes):
        acc += size
        if len(bounds) < workers and acc >= total * len(bounds) / workers:
            bounds.append(i + 1)
    bounds.append(len(paths))

    def work(lo: int, hi: int) -> None:
        try:
            for i in range(lo, hi):
                out[i] = hash_file(paths[i])
        except BaseException as exc:  # re-raised in the caller
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(lo, hi)) for lo, hi in zip(bounds, bounds[1:]) if hi > lo]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return out  # type: ignore[return-value]


def default_workers() -> int:
    """Threads for hashing and deflate: one per CPU, at most 8 (zlib and hashlib release the GIL)."""
    return max(1, min(8, os.cpu_count() or 1))
