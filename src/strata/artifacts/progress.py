"""A progress bar for long builds: rich, on stderr, only for a terminal, and only once a build outlasts a moment.

rich is imported on first display, so short and no-op builds never pay for it.
"""
from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID

DELAY_S = 0.5


class Progress:
    """Byte-based progress for one zip; silent unless enabled, stderr is a TTY and ``DELAY_S`` has passed."""

    def __init__(self, enabled: bool, label: str, total_bytes: int) -> None:
        self.enabled = enabled and _stderr_is_tty()
        self.label = label
        self.total = total_bytes
        self.done = 0
        self.start = time.monotonic()
        self._bar: tuple[RichProgress, TaskID] | None = None     # the displayed bar and its task

    def advance(self, nbytes: int) -> None:
        if not self.enabled:
            return
        self.done += nbytes
        shown = self._bar
        if shown is None:
            if time.monotonic() - self.start < DELAY_S:
                return
            shown = self._bar = self._open()
        bar, task = shown
        bar.update(task, completed=self.done)

    def _open(self) -> tuple[RichProgress, TaskID]:
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress

        bar = RichProgress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                           TimeElapsedColumn(), console=Console(stderr=True), transient=True)
        bar.start()
        return bar, bar.add_task(f"building {self.label}", total=self.total, completed=self.done)

    def close(self) -> None:
        if self._bar is not None:
            self._bar[0].stop()
            self._bar = None


def _stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False
