"""Invocations and errors per version during a shift, read from the invocation logs (``strata.local.runtime.logs``).

Why logs: the invocations of a rehearsal come from anywhere (``strata invoke``, ``strata serve``, a test, another
process), and every one of them leaves a START ... REPORT block in ``LogStore``. An invocation counts as an error when
its block holds what the runtime writes for a failure: ``[ERROR] Type: message`` (unhandled exception), ``Task timed
out after``, or ``Runtime exited``. Only text appended after the watch started counts. Reads only.
Invocations in this process are counted exactly (their pool's log queue is written before each read); those of other
processes appear once their pool writes its queue (``strata.local.runtime.logs.FLUSH_DELAY``, a few milliseconds).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from strata.local.runtime.logs import LogStore

ERROR_MARKS = ("\n[ERROR] ", "Task timed out after", "Runtime exited")


@dataclass(frozen=True)
class VersionStats:
    invokes: int = 0
    errors: int = 0

    @property
    def error_rate(self) -> float:
        return self.errors / self.invokes if self.invokes else 0.0


class Metrics(Protocol):
    def read(self) -> dict[str, VersionStats]: ...


@runtime_checkable
class InvocationLogSource(Protocol):
    """A Lambda client whose invocations are logged on this machine (``LocalLambdaClient``): the capability the
    shifter needs to count a version's invocations and errors."""

    def invocation_logs(self) -> LogStore: ...


class LogMetrics:
    """Counts completed invocation blocks per version of one function since construction."""

    def __init__(self, store: LogStore, function_name: str, versions: list[str]) -> None:
        self.store = store
        self.function_name = function_name
        self.offsets = {v: self._size(v) for v in versions}
        self.pending = {v: "" for v in versions}
        self.stats = {v: VersionStats() for v in versions}

    def _size(self, version: str) -> int:
        try:
            return self.store.path_for(self.function_name, version).stat().st_size
        except FileNotFoundError:
            return 0

    def read(self) -> dict[str, VersionStats]:
        for version in self.stats:
            text, self.offsets[version] = self.store.read_from(self.function_name, version, self.offsets[version])
            if text:
                self._count(version, self.pending[version] + text)
        return dict(self.stats)

    def _count(self, version: str, text: str) -> None:
        invokes, errors = self.stats[version].invokes, self.stats[version].errors
        end = text.rfind("\nREPORT RequestId: ")
        if end < 0 and not text.startswith("REPORT RequestId: "):
            self.pending[version] = text
            return
        cut = text.find("\n", end + 1)
        done, self.pending[version] = (text, "") if cut < 0 else (text[: cut + 1], text[cut + 1:])
        for block in done.split("START RequestId: ")[1:]:
            if "REPORT RequestId: " not in block:
                continue
            invokes += 1
            if any(mark in "\n" + block for mark in ERROR_MARKS):
                errors += 1
        self.stats[version] = VersionStats(invokes, errors)
