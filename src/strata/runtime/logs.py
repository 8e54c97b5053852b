"""Invocation logs: Lambda's START/END/REPORT framing, and an append-only store per function and version.

Files live at ``logs_dir(home)/<function>/<version>.log`` (names percent-encoded, so ``$LATEST`` is
``%24LATEST.log``). Each invocation's whole block is written with one ``write`` on an ``O_APPEND`` descriptor, so
concurrent writers (threads, or a CLI and a server sharing the home) never interleave inside a block.
"""
from __future__ import annotations

import math
import os
import threading
from pathlib import Path
from urllib.parse import quote, unquote

from strata.paths import logs_dir


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


def _segment(name: str) -> str:
    return quote(name, safe="-_")


class LogStore:
    """Append and read invocation logs of each function version under ``logs_dir(home)``."""

    def __init__(self, home: Path) -> None:
        self.root = logs_dir(Path(home))
        self._fds: dict[tuple[str, str], int] = {}     # (function, version) -> O_APPEND descriptor
        self._lock = threading.Lock()

    def path_for(self, function_name: str, version: str) -> Path:
        return self.root / _segment(function_name) / f"{_segment(version)}.log"

    def append(self, function_name: str, version: str, text: str) -> None:
        """Append one invocation's block (a single write, so blocks never interleave)."""
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
                fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
                self._fds[(function_name, version)] = fd
            return fd

    def read(self, function_name: str, version: str = "$LATEST", *, tail_bytes: int | None = None) -> str:
        """The log text of one version ('' when nothing ran yet); ``tail_bytes`` keeps only the end."""
        return self.read_from(function_name, version, 0 if tail_bytes is None else -tail_bytes)[0]

    def read_from(self, function_name: str, version: str, offset: int) -> tuple[str, int]:
        """Text from byte ``offset`` (negative: that many bytes before the end) and the offset to continue from,
        so ``strata logs --follow`` can poll."""
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
        with self._lock:
            fds, self._fds = list(self._fds.values()), {}
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass
