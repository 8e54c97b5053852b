"""Framed messages between the pool and a worker over two pipes (requests one way, replies the other).

A frame is a 4-byte little-endian length followed by ``marshal`` (format 4) of a tuple of plain values (str, bytes,
int, float, None). Why not JSON: the worker would pay several ms to import ``json``'s dependencies before its first
reply, and marshal is built in, faster, and carries the event and result as raw bytes untouched. Format 4 is readable
by every CPython from 3.4 on, so a worker may run another interpreter version than the pool.

Messages (the worker mirrors this file in ``worker.py``, which must not import strata's parent-side code):
    pool -> worker:  GO, one raw byte before any frame: the worker may run handler code (it is caged)
                     (request_id, payload, timeout_ms, invoked_arn, client_context_or_None)
    worker -> pool:  ("ready",)                      init succeeded
                     ("init_error", payload)         init failed; the worker exits
                     ("ok", payload, max_rss_kb)     the handler returned (payload is the JSON result)
                     ("error", payload, max_rss_kb)  the handler raised: Lambda's error object
                     ("oom", max_rss_kb)             MemoryError escaped the handler; the worker exits
"""
from __future__ import annotations

import marshal
import os

MARSHAL_VERSION = 4
HEADER = 4
GO = b"\x01"                # the first byte a worker reads (before any frame): see process.WorkerProcess
READ_CHUNK = 1 << 16       # below malloc's mmap threshold: a bigger read buffer costs an mmap+munmap per message


def frame(message: tuple) -> bytes:
    """One wire frame for ``message``."""
    body = marshal.dumps(message, MARSHAL_VERSION)
    return len(body).to_bytes(HEADER, "little") + body


def write_all(fd: int, data: bytes | memoryview) -> None:
    """Write every byte (large payloads take several writes on a pipe)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class FrameBuffer:
    """Bytes received so far; yields whole messages as they complete."""

    __slots__ = ("data",)

    def __init__(self) -> None:
        self.data = b""

    def feed(self, chunk: bytes) -> None:
        self.data = self.data + chunk if self.data else chunk

    def pop(self) -> tuple | None:
        """The next complete message, or None when more bytes are needed."""
        data = self.data
        if len(data) < HEADER:
            return None
        end = HEADER + int.from_bytes(data[:HEADER], "little")
        if len(data) < end:
            return None
        self.data = data[end:]
        return marshal.loads(data[HEADER:end])

    def needed(self) -> int:
        """How many more bytes complete the pending frame (a read size hint)."""
        data = self.data
        if len(data) < HEADER:
            return READ_CHUNK
        return max(HEADER + int.from_bytes(data[:HEADER], "little") - len(data), READ_CHUNK)


def read_message(fd: int, buffer: FrameBuffer) -> tuple | None:
    """Block until one whole message arrives on ``fd``; None on end of file."""
    while True:
        message = buffer.pop()
        if message is not None:
            return message
        chunk = os.read(fd, buffer.needed())
        if not chunk:
            return None
        buffer.feed(chunk)
