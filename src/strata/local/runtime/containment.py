"""Every process a handler starts ends with its worker: whether the worker is killed (timeout, memory, pool close,
server shutdown, idle reaping) or exits by itself, its descendants are killed too, including those that left the
worker's process group and session (``setsid``, ``start_new_session=True``) or were orphaned by a double fork.

Two mechanisms, the first that works here:
- cgroup v2 (Linux, where the cgroup tree is writable, e.g. as root): each worker is moved into its own cgroup
  ``<own cgroup>/strata-<pool pid>/w<worker pid>`` right after it is spawned (Python takes milliseconds to start, so no
  handler code has run yet). Children stay in their parent's cgroup whatever they do with sessions or parents, so
  ``cgroup.kill`` ends them all, atomically. A pool process that died without cleaning up leaves its cgroup behind;
  the next pool to start kills what is left in it.
- otherwise a /proc walk: the worker's descendants (by parent pid), plus any process whose environment carries the
  worker's unique ``AWS_LAMBDA_LOG_STREAM_NAME`` (a double-forked daemon is re-parented away from the worker, but
  keeps the environment it was started with). Killed repeatedly until none is found. A process that replaced its
  environment before being orphaned escapes this fallback; the cgroup has no such gap.

Why not a child subreaper (``PR_SET_CHILD_SUBREAPER``): it would make every orphan in the pool's process (the CLI,
the server) a zombie child of that process to reap, and it still cannot tell which worker an orphan came from.
"""
from __future__ import annotations

import atexit
import errno
import os
import signal
import threading
import time
from pathlib import Path

_MARKER_VARIABLE = b"AWS_LAMBDA_LOG_STREAM_NAME="
_KILL_ROUNDS = 20
_EMPTY_WAIT = 2.0                      # seconds to wait for a killed cgroup to empty before leaving it for later

_base_lock = threading.Lock()
_bases: dict[int, Path | None] = {}    # pool process id -> its cgroup folder (None: no usable cgroup v2)


class Cage:
    """What holds one worker and everything it starts; ``end()`` kills them all."""

    def __init__(self, pid: int, marker: str | None) -> None:
        self.pid = pid
        self.marker = _MARKER_VARIABLE + marker.encode() if marker else None
        self.cgroup: Path | None = None
        self._removed = False
        base = cgroup_base()
        if base is not None:
            group = base / f"w{pid}"
            try:
                group.mkdir(exist_ok=True)
                (group / "cgroup.procs").write_text(str(pid))
                self.cgroup = group
            except OSError:
                _remove_group(group)

    def end(self) -> None:
        """Kill every process the worker started (and the worker, if still running). Idempotent."""
        group = self.cgroup
        if group is not None:
            if not self._removed:
                _kill_group(group)
                self._removed = _remove_group(group)
            return
        for _round in range(_KILL_ROUNDS):
            found = _descendants(self.pid, self.marker)
            if not found:
                return
            for pid in found:
                _kill(pid)


def cgroup_base() -> Path | None:
    """This process's own cgroup for its workers (made on first use), or None where cgroup v2 is not writable."""
    pid = os.getpid()
    if pid in _bases:
        return _bases[pid]
    with _base_lock:
        if pid not in _bases:
            _bases[pid] = _make_base(pid)
    return _bases[pid]


def _make_base(pid: int) -> Path | None:
    parent = _own_cgroup()
    if parent is None:
        return None
    _sweep_stale(parent)
    base = parent / f"strata-{pid}"
    try:
        base.mkdir(exist_ok=True)
    except OSError:
        return None
    if not os.access(base / "cgroup.procs", os.W_OK):
        _remove_group(base)
        return None
    atexit.register(_remove_base, base, pid)
    return base


def _remove_base(base: Path, pid: int) -> None:
    """At exit, the process's own cgroup folder goes too (a forked child inherits this hook: not its folder)."""
    if os.getpid() == pid:
        _remove_group(base, wait=0.0)


def _own_cgroup() -> Path | None:
    """The cgroup v2 folder this process is in, where the v2 hierarchy is mounted."""
    mount = None
    try:
        with open("/proc/self/mountinfo") as fh:
            for line in fh:
                left, _, right = line.partition(" - ")
                if right.split(" ", 1)[0] == "cgroup2":
                    mount = left.split(" ")[4]
                    break
        with open("/proc/self/cgroup") as fh:
            path = next((line.strip()[3:] for line in fh if line.startswith("0::")), None)
    except OSError:
        return None
    if mount is None or path is None:
        return None
    folder = Path(mount + path.rstrip("/"))
    return folder if folder.is_dir() else None


def _sweep_stale(parent: Path) -> None:
    """Kill what is left in cgroups of pool processes that are gone (a server killed with SIGKILL, say)."""
    try:
        candidates = [item for item in parent.iterdir() if item.name.startswith("strata-")]
    except OSError:
        return
    for base in candidates:
        owner = base.name.removeprefix("strata-")
        if not owner.isdigit() or Path(f"/proc/{owner}").exists():
            continue
        try:
            groups = [item for item in base.iterdir() if item.is_dir()]
        except OSError:
            continue
        for group in groups:
            _kill_group(group)
            _remove_group(group)
        _remove_group(base)


def _kill_group(group: Path) -> None:
    try:
        (group / "cgroup.kill").write_text("1")
        return
    except FileNotFoundError:
        if not group.exists():
            return
    except OSError:
        pass
    for _round in range(_KILL_ROUNDS):       # a kernel before 5.14 has no cgroup.kill: kill by the list
        try:
            pids = [int(line) for line in (group / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            return
        if not pids:
            return
        for pid in pids:
            _kill(pid)


def _remove_group(group: Path, wait: float = _EMPTY_WAIT) -> bool:
    """Remove an emptied cgroup (its killed processes may take a moment to exit); False if it is still busy."""
    until = time.monotonic() + wait
    while True:
        try:
            group.rmdir()
            return True
        except FileNotFoundError:
            return True
        except OSError as exc:
            if exc.errno != errno.EBUSY or time.monotonic() > until:
                return False
        time.sleep(0.002)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _descendants(root: int, marker: bytes | None) -> list[int]:
    """Live processes below ``root`` by parent pid, plus those whose environment holds ``marker`` (not ``root``)."""
    children: dict[int, list[int]] = {}
    marked = []
    me = os.getpid()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        pid = int(name)
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                fields = fh.read().rpartition(b")")[2].split()
        except OSError:
            continue
        if fields[0] in (b"Z", b"X"):       # already dead, waiting to be reaped
            continue
        children.setdefault(int(fields[1]), []).append(pid)
        if marker is not None and pid not in (root, me):
            try:
                with open(f"/proc/{name}/environ", "rb") as fh:
                    if marker in fh.read().split(b"\0"):
                        marked.append(pid)
            except OSError:
                continue
    found: list[int] = []
    pending = [root]
    while pending:
        for child in children.get(pending.pop(), ()):
            found.append(child)
            pending.append(child)
    return found + [pid for pid in marked if pid not in found]
