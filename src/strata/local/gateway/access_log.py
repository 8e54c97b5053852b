"""The gateway's access log: one line per request, ``<time> <stack/Api/stage> METHOD path?query STATUS <ms>ms
function:version`` (``-`` when no function ran, ``function:timeout`` when the integration timed out), appended to
``<logs>/gateway/access.log`` by ``strata serve``; ``strata logs gateway`` (every API) or ``strata logs ApiLogicalId``
prints it."""
from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path

POLL_SECONDS = 0.5


def access_log_path(home: Path) -> Path:
    from strata.paths import logs_dir

    return logs_dir(Path(home)) / "gateway" / "access.log"


FLUSH_DELAY = 0.02          # seconds a line waits to be written with the lines that follow it
FLUSH_LINES = 64


class AccessLog:
    """The appending side, on the serve loop: lines queue and go out in one ``write`` on an O_APPEND descriptor at
    most ``FLUSH_DELAY`` later (readers never see half a line; a request pays no system call)."""

    def __init__(self, home: Path, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.path = access_log_path(home)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self.loop = loop
        self.queued: list[str] = []

    def write(self, line: str) -> None:
        queued = self.queued
        queued.append(line)
        if self.loop is None or len(queued) >= FLUSH_LINES:
            self.flush()
        elif len(queued) == 1:
            self.loop.call_later(FLUSH_DELAY, self.flush)

    def flush(self) -> None:
        lines, self.queued = self.queued, []
        if self._fd is None or not lines:
            return
        try:
            os.write(self._fd, "".join(lines).encode("utf-8", "replace"))
        except OSError:
            pass

    def close(self) -> None:
        self.flush()
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


def api_filter(home: Path, target: str, stack: str | None) -> str | None:
    """What ``strata logs TARGET`` shows of the access log: "" for ``gateway`` (everything), ``stack/LogicalId/``
    for an API or function URL of the stack, None when TARGET names no API (a function, then)."""
    if target == "gateway":
        return ""
    if not stack:
        return None
    from strata.local.gateway.routes import load

    for api in load(home):
        if api.stack == stack and api.logical_id == target:
            return f"{stack}/{target}/"
    return None


def show(home: Path, prefix: str, *, emit: Callable[[str], None], note: Callable[[str], None],
         tail: bool = False, rounds: int | None = None) -> None:
    """The access-log lines whose API key starts with ``prefix``; ``tail`` keeps printing new ones."""
    path = access_log_path(home)
    offset = 0

    def read() -> str:
        nonlocal offset
        try:
            with open(path, "rb") as source:
                source.seek(offset)
                data = source.read()
        except FileNotFoundError:
            return ""
        end = data.rfind(b"\n") + 1          # whole lines only
        offset += end
        lines = data[:end].decode("utf-8", "replace").splitlines(keepends=True)
        return "".join(line for line in lines if _key(line).startswith(prefix))

    text = read()
    if not text and not tail:
        note("no requests logged yet" + (f" for {prefix.rstrip('/')}" if prefix else "")
             + " (`strata serve` or `strata dev` serve the APIs)")
        return
    emit(text)
    done = 0
    while tail and (rounds is None or done < rounds):
        time.sleep(POLL_SECONDS)
        emit(read())
        done += 1


def _key(line: str) -> str:
    parts = line.split(" ", 2)
    return parts[1] if len(parts) > 2 else ""
