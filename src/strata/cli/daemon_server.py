"""The warm daemon: imports strata once, then forks one child per command.

Contract: the daemon itself opens no database, starts no thread and runs no user code; every command runs in a
fresh forked child that takes the client's cwd, environment, umask, argv and stdio descriptors, so commands are as
isolated from each other as separate processes (they are separate processes) and see exactly the client's world.
The socket folder is private to the user: created 0700, and refused unless it is a real folder (not a link) that
the user owns and nobody else can enter (``private_folder``); every peer's uid is checked. One event loop
(``selectors``) reads every connection at once, so a client that connects and sends nothing (or sends slowly) never
holds up another; a connection that has not sent its whole request within ``REQUEST_SECONDS`` is dropped. The
daemon exits after ``idle_seconds`` without a command, on ``stop``, and when any file it runs changes (every module
it imported, strata's and its dependencies', and strata's sources: a stale daemon must never run old code; it
answers "stale" and the client runs the command itself).
"""
from __future__ import annotations

import array
import marshal
import os
import selectors
import signal
import socket
import stat
import struct
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from strata.cli.daemon_client import PACKAGE, PROTOCOL, VERSION, recv_message, send_message

# Modules a command may need, imported before the first fork so every child starts warm.
WARM_MODULES = (
    "strata.cli.main", "strata.cli.options", "strata.cli.transform", "strata.cli.build", "strata.cli.validate",
    "strata.cli.deploy", "strata.cli.plan", "strata.cli.describe", "strata.cli.invoke", "strata.cli.logs",
    "strata.template", "strata.template.parameters", "strata.artifacts", "strata.artifacts.archive",
    "strata.transform.pipeline",
    "strata.transform.sam", "strata.transform.incremental", "strata.transform.py27_copy", "strata.transform.versions",
    "strata.transform.validate", "strata.deploy.settings",
    "strata.local.deploy", "strata.local.invoke", "strata.local.logs", "strata.local.engine.api",
    "strata.local.engine.apply",
    "strata.local.lambda_service.service", "strata.local.lambda_service.wire", "strata.local.verify",
    "json", "sqlite3", "zipfile",
    "concurrent.futures", "samtranslator.translator.translator", "samtranslator.parser.parser",
)


def watched_files() -> tuple[str, ...]:
    """Every file this daemon runs: each module it imported (strata's and every dependency's, extension modules
    included) and every strata source file (one a command may import later). Listed once, after ``warm_up``: a
    file added later can only be reached through one of these, which then changes."""
    files: set[str] = set()
    for module in list(sys.modules.values()):
        name = getattr(module, "__file__", None)
        if isinstance(name, str):
            files.add(os.path.abspath(name))
    root = Path(__file__).resolve().parents[1]
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        files.update(os.path.join(folder, name) for name in names if name.endswith(".py"))
    return tuple(sorted(files))


def source_stamp(files: tuple[str, ...]) -> tuple:
    """(mtime_ns, size) of each of ``files``: any change means this daemon is stale (a forked child would run the
    old code)."""
    stamp = []
    for name in files:
        try:
            st = os.stat(name)
        except OSError:
            stamp.append((-1, -1))             # gone (or unreadable): differs from what was imported
            continue
        stamp.append((st.st_mtime_ns, st.st_size))
    return tuple(stamp)


def warm_up() -> list[str]:
    """Import what commands use; returns the modules that could not be imported (optional extras)."""
    import importlib

    missing = []
    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - an optional module must not stop the daemon
            missing.append(name)
    try:        # cfn-lint with its rules loaded (~1 s): validate's children lint in process; plan never calls it
        from strata.transform.lint import warm

        warm()
    except Exception:  # noqa: BLE001 - validate then lints in a child interpreter, as without the daemon
        missing.append("cfnlint")
    return missing


REQUEST_SECONDS = 30.0         # a connection must have sent its request by then
MAX_REQUEST = 16 * 1024 * 1024  # bytes: argv, cwd and environment fit many times over


class UnsafeSocketFolder(Exception):
    """The socket folder is a link, someone else's, or open to others: the daemon will not use it."""


def private_folder(folder: str) -> None:
    """Create ``folder`` 0700 if missing, then insist that it is a real folder (``lstat``: a link planted there by
    another user is refused, never followed or chmod'ed through), owned by this user, entered by nobody else.
    A folder of ours with wider permissions is narrowed through a descriptor opened with ``O_NOFOLLOW``."""
    parent = os.path.dirname(folder)
    if parent and not os.path.isdir(parent):
        os.makedirs(parent, exist_ok=True)
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass
    st = os.lstat(folder)
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise UnsafeSocketFolder(f"{folder} is not a folder (a symbolic link or a file is there)")
    if st.st_uid != os.getuid():
        raise UnsafeSocketFolder(f"{folder} belongs to another user (uid {st.st_uid})")
    if st.st_mode & 0o077:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            if os.fstat(fd).st_ino != st.st_ino:
                raise UnsafeSocketFolder(f"{folder} changed while it was being checked")
            os.fchmod(fd, 0o700)
        finally:
            os.close(fd)


@dataclass
class _Pending:
    """A connection whose request is still arriving."""

    conn: socket.socket
    deadline: float
    data: bytearray = field(default_factory=bytearray)
    fds: list[int] = field(default_factory=list)

    def message(self) -> dict | None:
        """The request once all of it is here (None before)."""
        if len(self.data) < 4:
            return None
        size = int.from_bytes(self.data[:4], "big")
        if len(self.data) < 4 + size:
            return None
        return marshal.loads(bytes(self.data[4:4 + size]))

    def too_big(self) -> bool:
        return len(self.data) >= 4 and int.from_bytes(self.data[:4], "big") > MAX_REQUEST

    def close(self) -> None:
        _close_all(self.fds)
        self.fds = []
        self.conn.close()


def serve(path: str, *, idle_seconds: float = 1800.0) -> None:
    """Listen on ``path`` until stopped, idle or stale. Runs in the foreground (``start`` daemonises first)."""
    private_folder(os.path.dirname(path))
    warm_up()
    files = watched_files()
    stamp = source_stamp(files)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    listener.bind(path)
    os.chmod(path, 0o600)  # in a folder only we can enter, checked above: not a link
    ours = os.stat(path).st_ino
    listener.listen(64)
    listener.setblocking(False)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel; their exit goes to the client
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, None)
    pending: dict[int, _Pending] = {}
    last = time.monotonic()
    try:
        while True:
            now = time.monotonic()
            wake = min([p.deadline for p in pending.values()] + [now + 30.0])
            events = selector.select(max(0.0, wake - now))
            now = time.monotonic()
            for key, _mask in events:
                if key.data is None:
                    _accept(listener, selector, pending, now)
                    continue
                item = pending[key.fd]
                if not _receive(item):
                    continue
                selector.unregister(item.conn)
                del pending[key.fd]
                message = _complete(item)
                if message is None:
                    continue
                last = now
                if not _handle(item, message, (files, stamp), listener, selector, pending):
                    return
            for fd, item in list(pending.items()):
                if now >= item.deadline:  # sent nothing (or not all) in time: drop it, others were never waiting
                    selector.unregister(item.conn)
                    del pending[fd]
                    item.close()
            if not pending and now - last > idle_seconds:
                return
    finally:
        for item in pending.values():
            item.close()
        selector.close()
        listener.close()
        try:
            if os.stat(path).st_ino == ours:  # leave a newer daemon's socket alone
                os.unlink(path)
        except OSError:
            pass


def _accept(listener: socket.socket, selector: selectors.BaseSelector, pending: dict[int, _Pending],
            now: float) -> None:
    try:
        conn, _ = listener.accept()
    except (BlockingIOError, InterruptedError, ConnectionAbortedError):
        return
    if not _same_user(conn):
        conn.close()
        return
    conn.setblocking(False)
    pending[conn.fileno()] = _Pending(conn, now + REQUEST_SECONDS)
    selector.register(conn, selectors.EVENT_READ, True)


def _receive(item: _Pending) -> bool:
    """Read what has arrived; True once the request is whole, the peer hung up, or it is refused (too big)."""
    fds = array.array("i")
    try:
        data, ancillary, _flags, _addr = item.conn.recvmsg(65536, socket.CMSG_SPACE(3 * fds.itemsize))
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:
        data, ancillary = b"", []
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
    item.fds.extend(fds)
    if not data:
        item.data = bytearray()  # hung up before its request was whole
        return True
    item.data += data
    return item.too_big() or item.message() is not None


def _complete(item: _Pending) -> dict | None:
    """The whole request, the connection made blocking for the answer; None (connection closed) otherwise."""
    try:
        message = None if item.too_big() else item.message()
    except (ValueError, EOFError, TypeError):
        message = None
    if not isinstance(message, dict):
        item.close()
        return None
    item.conn.setblocking(True)
    item.conn.settimeout(REQUEST_SECONDS)  # answers are a few bytes; never wait on a client for long
    return message


def _handle(item: _Pending, message: dict, stamp: tuple[tuple[str, ...], tuple], listener: socket.socket,
            selector: selectors.BaseSelector, pending: dict[int, _Pending]) -> bool:
    """Answer one whole request; False means: stop the daemon."""
    conn, fds = item.conn, item.fds
    try:
        op = message.get("op")
        if op == "stop":
            send_message(conn, {"status": "stopping", "pid": os.getpid()})
            return False
        if op == "status":
            send_message(conn, {"status": "running", "pid": os.getpid()})
            return True
        if (op != "run" or message.get("protocol") != PROTOCOL or message.get("version") != VERSION
                or message.get("package") != PACKAGE or message.get("executable") != sys.executable or len(fds) != 3
                or not isinstance(message.get("umask"), int)):
            # another checkout, virtualenv or interpreter: that client must run its own code
            send_message(conn, {"status": "refused"})
            return True
        if source_stamp(stamp[0]) != stamp[1]:
            send_message(conn, {"status": "stale"})
            return False
        conn.settimeout(None)
        pid = os.fork()
        if pid == 0:  # the child: become the client's command; nothing of the daemon's stays open in it
            for other in pending.values():
                _close_all(other.fds)
                other.conn.close()
            selector.close()
            listener.close()
            _run_child(conn, message, fds)  # never returns
        return True
    except OSError:
        return True
    finally:
        item.close()


def _run_child(conn: socket.socket, message: dict, fds: list[int]) -> None:
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the command waits for its own subprocesses
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        _close_all(fds)
        os.chdir(message["cwd"])
        os.umask(message["umask"])  # files the command creates get the modes they would get in the client
        os.environ.clear()
        os.environ.update(message["env"])
        sys.stdin = open(0, closefd=False)
        sys.stdout = open(1, "w", buffering=1 if os.isatty(1) else -1, closefd=False)  # as Python sets it up
        sys.stderr = open(2, "w", buffering=1, closefd=False)
        sys.argv = ["strata", *message["argv"]]
        send_message(conn, {"status": "started", "pid": os.getpid()})
        from strata.cli.main import main

        try:
            main(list(message["argv"]))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if not isinstance(exc.code, int) and exc.code is not None:
                sys.stderr.write(f"{exc.code}\n")
    except BaseException as exc:  # noqa: BLE001 - report, never let a child fall back into the accept loop
        try:
            sys.stderr.write(f"strata daemon: {type(exc).__name__}: {exc}\n")
        except Exception:  # noqa: BLE001
            pass
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:  # noqa: BLE001
            pass
        try:
            send_message(conn, {"status": "done", "exit": code})
        except OSError:
            pass
        os._exit(code)


def _same_user(conn: socket.socket) -> bool:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid == os.getuid()


def _close_all(fds: list[int]) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def request(path: str, op: str, timeout: float = 5.0) -> dict | None:
    """Send ``stop`` or ``status`` to the daemon at ``path``; None when none answers."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
        send_message(sock, {"protocol": PROTOCOL, "op": op})
        return recv_message(sock)
    except OSError:
        return None
    finally:
        sock.close()


if __name__ == "__main__":  # started by `strata daemon start`: python -m strata.cli.daemon_server PATH [IDLE]
    try:
        serve(sys.argv[1], idle_seconds=float(sys.argv[2]) if len(sys.argv) > 2 else 1800.0)
    except UnsafeSocketFolder as exc:
        sys.stderr.write(f"strata daemon: {exc}; not started\n")
        sys.exit(1)
