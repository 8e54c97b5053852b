"""Invocation logs: Lambda's START/END/REPORT framing, and an append-only store per function and version.

Files live at ``logs_dir(home)/<function>/<version>.log`` (names percent-encoded, so ``$LATEST`` is
``%24LATEST.log``). Blocks are written with one ``write`` on an ``O_APPEND`` descriptor, so concurrent writers
(threads, or a CLI and a server sharing the home) never interleave inside a block.

The pool queues each invocation's block (``append_later``) instead of writing it before it answers, and writes the
queue (``write_queued``) once it holds ``WRITE_BATCH`` blocks, right after it sends the next request, while the worker
runs: one ``write`` per batch, which on two vCPUs overlaps the worker's work instead of adding to the round trip. A
background thread writes what is left at most ``FLUSH_DELAY`` seconds later when no invoke follows; it only looks once
per ``FLUSH_DELAY`` while invokes keep coming (a writer that formats or writes big batches holds the GIL when a reply
comes in, which showed in p99). Nothing queued is lost on an orderly end:
``read``/``read_from``/``append``/``flush``/``close`` write the queue first, and an ``atexit`` hook flushes every live
store (the server's SIGTERM/SIGINT path closes the pool, which closes its store). Only a hard kill of the process
(SIGKILL, ``os._exit``) can lose the last ``FLUSH_DELAY`` seconds of log text.
"""
from __future__ import annotations

import atexit
import collections
import logging
import math
import os
import threading
import weakref
from pathlib import Path
from urllib.parse import quote, unquote

from strata.paths import logs_dir

# A queued block that no invoke wrote is written by the writer thread at most this long after it was queued (seconds):
# short enough that ``strata logs --follow`` in another process sees it without a noticeable lag, long enough that
# the thread's looks cost nothing measurable.
FLUSH_DELAY = 0.02
# The pool writes the queue while a worker runs once it holds this many blocks: one write per batch, not per invoke.
WRITE_BATCH = 16
# A queue holding more text than this (characters) is written at once by the invoking thread (a chatty handler).
FLUSH_CHARS = 1 << 18

# a queued block: (function, version, text), or a warm block's parts (request id, body, duration ms, memory size,
# max memory MB), formatted when the queue is written
_Queued = tuple[str, str, "str | tuple[str, str, float, int, int]"]

log = logging.getLogger("strata.local.runtime")
_live: weakref.WeakSet[LogStore] = weakref.WeakSet()     # for the exit hook


def start_line(request_id: str, version: str) -> str:
    return f"START RequestId: {request_id} Version: {version}\n"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}\n"


def report_line(request_id: str, duration_ms: float, memory_size: int, max_memory_mb: int,
                init_ms: float | None = None) -> str:
    """Lambda's REPORT line (tab separated, trailing tab); ``Init Duration`` only on cold starts."""
    billed = math.ceil(duration_ms) or 1
    if init_ms is None:
        return (f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\tBilled Duration: {billed} ms\t"
                f"Memory Size: {memory_size} MB\tMax Memory Used: {max_memory_mb} MB\t\n")
    return (f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\tBilled Duration: {billed} ms\t"
            f"Memory Size: {memory_size} MB\tMax Memory Used: {max_memory_mb} MB\tInit Duration: {init_ms:.2f} ms\t\n")


def invocation_block(head: str, request_id: str, version: str, body: str, duration_ms: float, memory_size: int,
                     max_memory_mb: int, init_ms: float | None = None) -> str:
    """One invocation's log block: ``head`` (INIT_START and init output on a cold start), START, what the function
    wrote, END and REPORT. Same text as ``start_line`` + body + ``end_line`` + ``report_line``, in one format."""
    init = "" if init_ms is None else f"Init Duration: {init_ms:.2f} ms\t"
    return (f"{head}START RequestId: {request_id} Version: {version}\n{body}END RequestId: {request_id}\n"
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\tBilled Duration: "
            f"{math.ceil(duration_ms) or 1} ms\tMemory Size: {memory_size} MB\tMax Memory Used: {max_memory_mb} MB\t"
            f"{init}\n")


def _segment(name: str) -> str:
    return quote(name, safe="-_")


class LogStore:
    """Append and read invocation logs of each function version under ``logs_dir(home)``."""

    def __init__(self, home: Path, *, flush_delay: float = FLUSH_DELAY) -> None:
        self.root = logs_dir(Path(home))
        self.flush_delay = flush_delay
        self._fds: dict[tuple[str, str], int] = {}     # (function, version) -> O_APPEND descriptor
        self._lock = threading.Lock()
        self._queue: collections.deque[_Queued] = collections.deque()   # (function, version, block)
        self._queued_chars = 0                         # approximate (not locked): only decides an early flush
        self._scheduled = False                        # the writer thread has been woken for what is queued
        self._wake = threading.Event()
        self._flush_lock = threading.Lock()            # one flush at a time keeps each file's blocks in order
        self._writer: threading.Thread | None = None
        self._closed = False
        _live.add(self)

    def path_for(self, function_name: str, version: str) -> Path:
        return self.root / _segment(function_name) / f"{_segment(version)}.log"

    def append(self, function_name: str, version: str, text: str) -> None:
        """Append one block now (a single write, so blocks never interleave), after anything queued."""
        if self._queue:
            self.flush()
        self._write(function_name, version, text)

    def append_later(self, function_name: str, version: str, text: str) -> None:
        """Queue one invocation's block. It is written by the next ``write_queued`` (the pool calls it while it waits
        for the next reply), ``read``, ``append``, ``flush`` or ``close``, else by the writer thread within
        ``flush_delay`` seconds, and at interpreter exit; whole, and in order."""
        if self._closed:
            self.append(function_name, version, text)
            return
        self._enqueue((function_name, version, text), len(text))

    def append_warm_later(self, function_name: str, version: str, request_id: str, body: str, duration_ms: float,
                          memory_size: int, max_memory_mb: int, batch: int = 0) -> None:
        """``append_later`` of a warm invocation's block, formatted when the queue is written (in a batch, off the
        server's answer path) instead of now: same text, same order. With ``batch``, the queue is written once it
        holds that many blocks (``write_queued(batch)``, in the same call)."""
        if self._closed:
            self.append(function_name, version, invocation_block("", request_id, version, body, duration_ms,
                                                                 memory_size, max_memory_mb, None))
            return
        self._enqueue((function_name, version, (request_id, body, duration_ms, memory_size, max_memory_mb)),
                      len(body) + 200, batch)

    def _enqueue(self, item: _Queued, chars: int, batch: int = 0) -> None:
        """Queue ``(function, version, block or its parts)``; written at once past ``FLUSH_CHARS`` queued or when
        the queue holds ``batch`` blocks, else the writer thread is woken if it is not already due."""
        queue = self._queue
        queue.append(item)
        self._queued_chars += chars
        if self._queued_chars > FLUSH_CHARS or batch and len(queue) >= batch:
            self.flush()
        elif not self._scheduled:
            self._schedule()

    def write_queued(self, at_least: int = 1) -> None:
        """Write what is queued if it holds ``at_least`` blocks (cheap when it does not)."""
        if len(self._queue) >= at_least:
            self.flush()

    def _schedule(self) -> None:
        self._scheduled = True
        if self._writer is None:
            with self._lock:
                if self._writer is None:
                    # the thread holds the store until close(), so nothing queued can be dropped by the collector
                    self._writer = threading.Thread(target=self._write_loop, name="strata-log-writer", daemon=True)
                    self._writer.start()
        self._wake.set()

    def _write_loop(self) -> None:
        """Idle until a block is queued, then look every ``flush_delay`` seconds and write what nobody else wrote;
        idle again after a look that found nothing. While invokes keep coming the pool writes the queue itself, so a
        look rarely finds anything, and the thread wakes once per ``flush_delay``, not once per invocation."""
        wake, delay = self._wake, self.flush_delay
        while True:
            wake.wait()
            wake.clear()
            while not self._closed:
                if delay:
                    wake.wait(delay)                   # close() sets it to cut the wait short
                if not self._queue:
                    self._scheduled = False            # idle: the next block queued wakes us again
                    if not self._queue:                # (one queued between the check and the flag is not missed)
                        break
                    self._scheduled = True
                try:
                    self.flush()
                except Exception:  # noqa: BLE001 - the writer must not die; the next look retries
                    log.exception("writing invocation logs under %s failed", self.root)
            if self._closed:
                return

    def flush(self) -> None:
        """Write every queued block now: one ``write`` per file, blocks whole and in the order they were queued."""
        with self._flush_lock:
            queue = self._queue
            if not queue:
                return
            self._queued_chars = 0
            batches: dict[tuple[str, str], list[str]] = {}
            while queue:
                function_name, version, text = queue.popleft()
                if isinstance(text, tuple):                # a warm block queued unformatted
                    request_id, body, duration_ms, memory_size, max_memory_mb = text
                    text = invocation_block("", request_id, version, body, duration_ms, memory_size, max_memory_mb,
                                            None)
                batch = batches.get((function_name, version))
                if batch is None:
                    batches[(function_name, version)] = [text]
                else:
                    batch.append(text)
            for (function_name, version), texts in batches.items():
                try:
                    self._write(function_name, version, texts[0] if len(texts) == 1 else "".join(texts))
                except OSError:                        # a full disk: say so, and keep the other files going
                    log.exception("could not write %d log block(s) of %s:%s under %s", len(texts), function_name,
                                  version, self.root)

    def _write(self, function_name: str, version: str, text: str) -> None:
        fd = self._fds.get((function_name, version))
        if fd is None:
            fd = self._open(function_name, version)
        data = text.encode("utf-8", "backslashreplace")
        written = os.write(fd, data)
        if written < len(data):               # only on a full disk or a signal: finish the block
            view = memoryview(data)[written:]
            while view:
                view = view[os.write(fd, view):]

    def _open(self, function_name: str, version: str) -> int:
        with self._lock:
            fd = self._fds.get((function_name, version))
            if fd is None:
                path = self.path_for(function_name, version)
                path.parent.mkdir(parents=True, exist_ok=True)
                # 0600: a handler may print secrets (its environment variables hold some)
                fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
                self._fds[(function_name, version)] = fd
            return fd

    def read(self, function_name: str, version: str = "$LATEST", *, tail_bytes: int | None = None) -> str:
        """The log text of one version ('' when nothing ran yet); ``tail_bytes`` keeps only the end."""
        return self.read_from(function_name, version, 0 if tail_bytes is None else -tail_bytes)[0]

    def read_from(self, function_name: str, version: str, offset: int) -> tuple[str, int]:
        """Text from byte ``offset`` (negative: that many bytes before the end) and the offset to continue from,
        so ``strata logs --follow`` can poll."""
        if self._queue:
            self.flush()
        path = self.path_for(function_name, version)
        try:
            with open(path, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                start = max(0, size + offset) if offset < 0 else min(offset, size)
                fh.seek(start)
                data = fh.read(size - start)
        except FileNotFoundError:
            return "", 0
        return data.decode("utf-8", "replace"), start + len(data)

    def functions(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(unquote(entry.name) for entry in self.root.iterdir() if entry.is_dir())

    def versions(self, function_name: str) -> list[str]:
        """Versions with a log, ``$LATEST`` first then by number."""
        folder = self.root / _segment(function_name)
        if not folder.is_dir():
            return []
        names = [unquote(entry.name[:-4]) for entry in folder.iterdir() if entry.name.endswith(".log")]
        return sorted(names, key=lambda v: (v != "$LATEST", int(v) if v.isdigit() else 0, v))

    def close(self) -> None:
        """Write what is queued, stop the writer thread, close the descriptors. Later blocks are written at once."""
        self._closed = True
        self._wake.set()
        self.flush()
        writer = self._writer
        if writer is not None and writer is not threading.current_thread():
            writer.join(timeout=5)
        self.flush()                                   # anything queued while the writer stopped
        with self._lock:
            fds, self._fds = list(self._fds.values()), {}
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass


def _after_fork_in_child() -> None:
    """A forked child has no writer thread and may have inherited a held lock; what its parent queued is the
    parent's to write. Start each store afresh (the descriptors stay valid)."""
    for store in list(_live):
        store._lock = threading.Lock()
        store._flush_lock = threading.Lock()
        store._wake = threading.Event()
        store._writer = None
        store._scheduled = False
        store._queue = collections.deque()
        store._queued_chars = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


@atexit.register
def _flush_all() -> None:
    """Interpreter exit: write every store's queue (daemon writer threads do not get to run again)."""
    for store in list(_live):
        try:
            store.flush()
        except Exception:  # noqa: BLE001 - best effort for the others
            pass
