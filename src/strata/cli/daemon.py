"""``strata daemon start|stop|status``: an opt-in warm process that makes every strata command start in a few
milliseconds instead of ~100 ms (see ``strata.cli.launch``). Commands behave the same with or without it."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import click

from strata.cli.launch import socket_path


@click.group(help="Manage the warm daemon that runs strata commands without start-up cost (opt-in).")
def daemon() -> None:
    pass


@daemon.command(help="Start the daemon for this user (no-op if it runs).")
@click.option("--idle-minutes", type=float, default=30.0, show_default=True, help="Exit after this long unused.")
def start(idle_minutes: float) -> None:
    from strata.cli.daemon_server import UnsafeSocketFolder, private_folder, request

    path = socket_path()
    try:
        private_folder(os.path.dirname(path))   # created 0700 without following links, or refused
    except UnsafeSocketFolder as exc:
        from strata.errors import StrataError

        raise StrataError(f"{exc}: the daemon's socket must live in a private folder of yours",
                          hint="remove it if it is yours, or set XDG_RUNTIME_DIR to a folder only you can enter "
                               "(the daemon then uses $XDG_RUNTIME_DIR/strata)") from None
    running = request(path, "status", timeout=1.0)
    if running:
        click.echo(f"strata daemon already running (pid {running['pid']}, {path})")
        return
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.Popen([sys.executable, "-m", "strata.cli.daemon_server", path,
                      str(idle_minutes * 60)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True, env=env, cwd="/")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        answer = request(path, "status", timeout=1.0)
        if answer:
            click.echo(f"strata daemon started (pid {answer['pid']}, {path})")
            return
        time.sleep(0.05)
    from strata.errors import StrataError

    raise StrataError("the strata daemon did not start within 30 s", hint="run `python -m strata.cli.daemon_server "
                      f"{path}` in a terminal to see why")


@daemon.command(help="Stop the daemon.")
def stop() -> None:
    from strata.cli.daemon_server import request

    answer = request(socket_path(), "stop")
    click.echo(f"strata daemon stopped (pid {answer['pid']})" if answer else "no strata daemon running")


@daemon.command(help="Say whether the daemon runs.")
def status() -> int:
    from strata.cli.daemon_server import request

    answer = request(socket_path(), "status", timeout=1.0)
    if answer:
        click.echo(f"running (pid {answer['pid']}, {socket_path()})")
        return 0
    click.echo("not running")
    return 1
