"""A real ``strata serve`` as a child process, for tests: started on a free port of 127.0.0.1 for one state home and
returned once its ``server.json`` names a port that answers; stopped as Ctrl+C's sibling SIGTERM does. The one home
of this logic: strata's own tests (``tests/support/strata_testkit``) and the pytest plugin (``strata.testing``) both
use it. No pytest import here."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

START_TIMEOUT = 60.0       # seconds for the server to answer (generous: a loaded CI machine imports slowly)
STOP_TIMEOUT = 30.0

# The operator's extra key pair (``strata serve --access-key-id``): a test server uses the home's own pair only.
_OPERATOR_KEYS = ("STRATA_SERVER_ACCESS_KEY_ID", "STRATA_SERVER_SECRET_ACCESS_KEY")


def serve_environment(home: Path) -> dict[str, str]:
    """This process's environment pointed at ``home``, without the operator's server credentials."""
    env = {**os.environ, "STRATA_HOME": str(home)}
    for name in _OPERATOR_KEYS:
        env.pop(name, None)
    return env


def start_serve(home: Path, *args: str, log: Path | None = None,
                timeout: float = START_TIMEOUT) -> subprocess.Popen:
    """``strata serve --port 0 ARGS`` for ``home``, returned once it answers. Its output goes to pipes (read by
    ``stop_serve``), or to the file ``log`` for a server that runs long enough to fill a pipe."""
    from strata.local.discovery import running_server

    output = open(log, "ab") if log is not None else subprocess.PIPE   # noqa: SIM115 - the child keeps it
    try:
        process = subprocess.Popen([sys.executable, "-m", "strata.cli.main", "serve", "--port", "0", *args],
                                   env=serve_environment(home), stdout=output, stderr=output,
                                   text=log is None)
    finally:
        if log is not None:
            output.close()              # type: ignore[union-attr]  # the child has its own descriptor
    deadline = time.monotonic() + timeout
    while running_server(home) is None:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            out, err = process.communicate()
            said = log.read_text(errors="replace") if log is not None else f"{out}{err}"
            raise RuntimeError(f"strata serve did not start for {home}: {said}")
        time.sleep(0.05)
    return process


def stop_serve(process: subprocess.Popen) -> str:
    """Stop a ``start_serve`` server (SIGTERM: a clean stop, ``server.json`` removed); its stderr ("" when its output
    went to a log file)."""
    process.send_signal(signal.SIGTERM)
    try:
        _, err = process.communicate(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
    return err or ""
