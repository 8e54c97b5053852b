"""The ``strata`` console entry point: hand the command to a warm ``strata daemon`` when one runs for this user,
else run it in this process.

Why: a strata command's own work is a few milliseconds (a cached transform, a no-op build or deploy), but importing
click, PyYAML and strata costs ~100 ms on every start. A daemon that has imported all of it forks one child per
command; the child takes this process's working directory, environment, argv and its stdin/stdout/stderr file
descriptors (passed over a Unix socket), so the command behaves exactly as if it ran here, and its exit status comes
back. Without a daemon (the default) the only cost is one ``stat`` of the socket path.

This module must stay tiny: it runs before anything else, on every command.
"""
from __future__ import annotations

import os
import sys

NO_DAEMON_ENV = "STRATA_NO_DAEMON"
LOCAL_VERBS = frozenset({"daemon"})  # always run here: they manage the daemon itself


def socket_path() -> str:
    """Per-user socket: ``$XDG_RUNTIME_DIR/strata/daemon.sock``, else ``/tmp/strata-<uid>/daemon.sock``. Another user
    may plant anything at the /tmp path first: the daemon refuses a folder that is a link, not ours or open to
    others (``daemon_server.private_folder``), and the client checks the same with ``lstat`` before connecting."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    folder = os.path.join(base, "strata") if base else os.path.join("/tmp", f"strata-{os.getuid()}")
    return os.path.join(folder, "daemon.sock")


def main() -> None:
    argv = sys.argv[1:]
    if os.environ.get(NO_DAEMON_ENV) != "1" and not (argv and argv[0] in LOCAL_VERBS):
        path = socket_path()
        if os.path.exists(path):
            from strata.cli.daemon_client import run_via_daemon

            code = run_via_daemon(path, argv)
            if code is not None:
                sys.exit(code)
    from strata.cli.main import main as run_here

    try:
        run_here()
    except SystemExit as exc:
        _leave(exc.code)
        raise


def _leave(code: object) -> None:
    """End this process with ``code`` without tearing down its heap: a command on a 500-function stack holds
    ~100 MB of small objects, and freeing them one by one at exit costs ~60 ms for nothing. Output is flushed and the
    atexit handlers run first (they stop the on-demand servers and flush logging), as a normal exit would. Only here,
    in the console script, and only when no other thread runs (Python would wait for it); a text exit code keeps
    the normal path, which prints it."""
    import threading

    if not (code is None or isinstance(code, int)) or threading.active_count() > 1:
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        import atexit

        atexit._run_exitfuncs()     # what a normal exit runs (its handlers' output flushed below)
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:           # noqa: BLE001 - a closed pipe, a failing handler: let Python exit its own way
        return
    os._exit(code or 0)
