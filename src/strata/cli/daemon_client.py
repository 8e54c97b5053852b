"""Client side of the warm daemon: send argv, cwd, umask, environment and stdio descriptors; forward signals; return the
command's exit status. Returns None when the daemon cannot take the command (gone, stale, refused), so the caller
runs it in-process instead: the daemon is an accelerator, never a point of failure.

Start-up cost is the point here, so this module uses only built-in modules (``_socket``, ``_signal``, ``marshal``,
``array``): ``socket``, ``signal`` and ``json`` would import ``enum`` and ``re`` and cost more than the command.
Messages are marshal'd dicts behind a 4-byte length; both ends run the same interpreter (the version is checked).
"""
from __future__ import annotations

import _socket
import marshal
import os
import sys
from array import array

TYPE_CHECKING = False           # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import signal as _signal  # typeshed has no stub for _signal; signal is its typed face (same functions)
    from collections.abc import Callable
    from types import FrameType
    from typing import Any
else:
    import _signal

PROTOCOL = 4
VERSION = sys.version
# The strata package this client would run: a daemon started from another checkout or virtualenv must refuse.
PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _frame(message: dict[str, Any]) -> bytes:
    data = marshal.dumps(message)
    return len(data).to_bytes(4, "big") + data


def send_message(sock: _socket.socket, message: dict[str, Any], fds: list[int] | None = None) -> None:
    payload = _frame(message)
    if fds:
        sent = sock.sendmsg([payload], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, array("i", fds).tobytes())])
        payload = payload[sent:]
    while payload:
        payload = payload[sock.send(payload):]


def recv_message(sock: _socket.socket) -> dict[str, Any] | None:
    head = _recv_exact(sock, 4)
    if head is None:
        return None
    body = _recv_exact(sock, int.from_bytes(head, "big"))
    return None if body is None else marshal.loads(body)


def _recv_exact(sock: _socket.socket, size: int) -> bytes | None:
    chunks: list[bytes] = []
    got = 0
    while got < size:
        try:
            chunk = sock.recv(size - got)
        except InterruptedError:
            continue
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _trusted(path: str) -> bool:
    """The socket's folder must be ours and private, and a real folder (``lstat``: a link another user planted is
    not followed): the command's environment (credentials included) and its terminal go to whoever listens there."""
    try:
        folder = os.lstat(os.path.dirname(path))
    except OSError:
        return False
    is_dir = folder.st_mode & 0o170000 == 0o040000     # stat.S_ISDIR without importing stat
    return is_dir and folder.st_uid == os.getuid() and not folder.st_mode & 0o077


def _peer_is_us(sock: _socket.socket) -> bool:
    """The listening process runs as this user (SO_PEERCRED: pid, uid, gid as three C ints)."""
    creds = sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, 12)
    return int.from_bytes(creds[4:8], sys.byteorder, signed=True) == os.getuid()


def run_via_daemon(path: str, argv: list[str]) -> int | None:
    """Run ``strata argv`` in a child of the daemon listening at ``path``; its exit status, or None to run locally."""
    if not _trusted(path):
        return None
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.connect(path)
        if not _peer_is_us(sock):
            return None
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        umask = os.umask(0o077)                        # reading the umask means setting it: put it straight back
        os.umask(umask)
        send_message(sock, {"protocol": PROTOCOL, "version": VERSION, "package": PACKAGE, "executable": sys.executable,
                            "op": "run", "argv": list(argv), "cwd": os.getcwd(), "umask": umask,
                            "env": dict(os.environ)}, [0, 1, 2])
        started = recv_message(sock)
        if not started or started.get("status") != "started":
            return None  # stale or refusing daemon: run here
        child = int(started["pid"])
        signals = (_signal.SIGINT, _signal.SIGTERM, _signal.SIGHUP)
        previous = {sig: _signal.signal(sig, _forward(child)) for sig in signals}
        try:
            done = recv_message(sock)
        finally:
            for sig, handler in previous.items():
                _signal.signal(sig, handler)
        if done is None:
            sys.stderr.write("strata: the command ended without an exit status (killed?)\n")
            return 1
        return int(done.get("exit", 1))
    except (FileNotFoundError, ConnectionRefusedError):
        _remove_stale(path)
        return None
    except OSError:
        return None
    finally:
        sock.close()


def _forward(pid: int) -> Callable[[int, FrameType | None], None]:
    def handler(signum: int, _frame: FrameType | None) -> None:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass
    return handler


def _remove_stale(path: str) -> None:
    """A socket file nobody listens on (the daemon was killed): remove it so the next command skips the attempt."""
    try:
        os.unlink(path)
    except OSError:
        pass
