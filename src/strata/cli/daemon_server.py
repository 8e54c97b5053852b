"""The warm daemon: imports strata once, then forks one child per command.

Contract: the daemon itself opens no database, starts no thread and runs no user code; every command runs in a
fresh forked child that takes the client's cwd, environment, argv and stdio descriptors, so commands are as isolated
from each other as separate processes (they are separate processes) and see exactly the client's world. The socket
folder is private to the user (0700) and every peer's uid is checked. The daemon exits after ``idle_seconds``
without a command, on ``stop``, and when strata's own source files change (a stale daemon must never run old code:
it answers "stale" and the client runs the command itself).
"""
from __future__ import annotations

import os
import signal
import socket
import struct
import sys
import time
from pathlib import Path

from strata.cli.daemon_client import PACKAGE, PROTOCOL, VERSION, recv_message, send_message

# Modules a command may need, imported before the first fork so every child starts warm.
WARM_MODULES = (
    "strata.cli.main", "strata.cli.options", "strata.cli.transform", "strata.cli.build", "strata.cli.validate",
    "strata.cli.deploy", "strata.cli.plan", "strata.cli.describe", "strata.cli.invoke", "strata.cli.logs",
    "strata.template", "strata.template.parameters", "strata.artifacts", "strata.artifacts.archive",
    "strata.transform.pipeline",
    "strata.transform.sam", "strata.transform.versions", "strata.transform.validate", "strata.deploy.settings",
    "strata.local.deploy", "strata.local.invoke", "strata.local.logs", "strata.local.engine.api",
    "strata.local.engine.apply",
    "strata.local.lambda_service.service", "strata.local.lambda_service.wire", "strata.local.verify",
    "json", "sqlite3", "zipfile",
    "concurrent.futures", "samtranslator.translator.translator", "samtranslator.parser.parser",
)


def source_stamp() -> tuple:
    """(path, mtime_ns, size) of every strata source file: any change means this daemon is stale."""
    root = Path(__file__).resolve().parents[1]
    stamp = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            if name.endswith(".py"):
                st = os.stat(os.path.join(folder, name))
                stamp.append((os.path.join(folder, name), st.st_mtime_ns, st.st_size))
    return tuple(sorted(stamp))


def warm_up() -> list[str]:
    """Import what commands use; returns the modules that could not be imported (optional extras)."""
    import importlib

    missing = []
    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - an optional module must not stop the daemon
            missing.append(name)
    return missing


def serve(path: str, *, idle_seconds: float = 1800.0) -> None:
    """Listen on ``path`` until stopped, idle or stale. Runs in the foreground (``start`` daemonises first)."""
    folder = os.path.dirname(path)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    os.chmod(folder, 0o700)
    warm_up()
    stamp = source_stamp()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    listener.bind(path)
    os.chmod(path, 0o600)
    ours = os.stat(path).st_ino
    listener.listen(64)
    listener.settimeout(30.0)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel; their exit goes to the client
    last = time.monotonic()
    try:
        while True:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                if time.monotonic() - last > idle_seconds:
                    return
                continue
            last = time.monotonic()
            if not _handle(conn, listener, stamp):
                return
    finally:
        listener.close()
        try:
            if os.stat(path).st_ino == ours:  # leave a newer daemon's socket alone
                os.unlink(path)
        except OSError:
            pass


def _handle(conn: socket.socket, listener: socket.socket, stamp: tuple) -> bool:
    """Serve one connection; False means: stop the daemon."""
    with conn:
        if not _same_user(conn):
            return True
        try:
            message, fds = _recv_with_fds(conn)
        except (OSError, ValueError):
            return True
        if message is None:
            return True
        op = message.get("op")
        if op == "stop":
            send_message(conn, {"status": "stopping", "pid": os.getpid()})
            return False
        if op == "status":
            send_message(conn, {"status": "running", "pid": os.getpid()})
            return True
        if (op != "run" or message.get("protocol") != PROTOCOL or message.get("version") != VERSION
                or message.get("package") != PACKAGE or message.get("executable") != sys.executable or len(fds) != 3):
            # another checkout, virtualenv or interpreter: that client must run its own code
            _close_all(fds)
            send_message(conn, {"status": "refused"})
            return True
        if source_stamp() != stamp:
            _close_all(fds)
            send_message(conn, {"status": "stale"})
            return False
        pid = os.fork()
        if pid == 0:  # the child: become the client's command
            listener.close()
            _run_child(conn, message, fds)  # never returns
        _close_all(fds)
    return True


def _run_child(conn: socket.socket, message: dict, fds: list[int]) -> None:
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the command waits for its own subprocesses
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        _close_all(fds)
        os.chdir(message["cwd"])
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


def _recv_with_fds(conn: socket.socket) -> tuple[dict | None, list[int]]:
    """One framed message and the descriptors sent with its first bytes (SCM_RIGHTS)."""
    import array
    import marshal

    fds = array.array("i")
    head, ancillary, _flags, _addr = conn.recvmsg(4, socket.CMSG_SPACE(3 * fds.itemsize))
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    while len(head) < 4:
        more = conn.recv(4 - len(head))
        if not more:
            _close_all(list(fds))
            return None, []
        head += more
    size = int.from_bytes(head, "big")
    body = b""
    while len(body) < size:
        chunk = conn.recv(size - len(body))
        if not chunk:
            _close_all(list(fds))
            return None, []
        body += chunk
    return marshal.loads(body), list(fds)


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
    serve(sys.argv[1], idle_seconds=float(sys.argv[2]) if len(sys.argv) > 2 else 1800.0)
