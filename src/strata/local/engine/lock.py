"""One deploy (or delete) per stack at a time: an exclusive ``flock`` on a per-stack lock file.

The operating system releases the lock when the holder dies, even by SIGKILL, so a crashed deploy never leaves a
stale lock; what it left half-done is the journal's business, not the lock's."""
from __future__ import annotations

import fcntl
import hashlib
import os
import time
from pathlib import Path

from strata.errors import StateError
from strata.paths import locks_dir


def lock_path(home: Path, stack_name: str) -> Path:
    """The lock file of ``stack_name``: beside the database (file names hashed, stack names are free text)."""
    digest = hashlib.sha256(stack_name.encode()).hexdigest()[:16]
    return locks_dir(Path(home)) / f"stack-{digest}.lock"


class StackLock:
    """Context manager holding the stack's lock; fails at once unless ``wait`` (then polls up to ``timeout``)."""

    def __init__(self, home: Path, stack_name: str, *, wait: bool = False, timeout: float = 3600.0) -> None:
        self.path = lock_path(home, stack_name)
        self.stack_name = stack_name
        self.wait = wait
        self.timeout = timeout
        self.fd: int | None = None

    def __enter__(self) -> StackLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not self.wait or time.monotonic() > deadline:
                    holder = _read_holder(fd)
                    os.close(fd)
                    raise StateError(f"stack {self.stack_name!r} is being deployed by another process{holder}",
                                     hint="wait for it to finish, or pass --wait to queue behind it") from None
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self.fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def _read_holder(fd: int) -> str:
    try:
        pid = os.pread(fd, 32, 0).decode().strip()
    except OSError:
        return ""
    return f" (pid {pid})" if pid.isdigit() else ""
