"""The opt-in warm daemon: a command run through it behaves exactly as when it runs in its own process (output,
exit status, working directory, environment, stdin, signals), and the client falls back to running the command
itself when no daemon answers."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

STRATA = str(Path(sys.executable).parent / "strata")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "layered-app"


@pytest.fixture
def env(tmp_path: Path):
    runtime_dir = Path("/tmp") / f"strata-test-{os.getpid()}-{tmp_path.name}"  # AF_UNIX paths must stay short
    runtime_dir.mkdir(parents=True)
    values = {k: v for k, v in os.environ.items() if k not in ("STRATA_NO_DAEMON", "PYTHONDONTWRITEBYTECODE")}
    values.update(XDG_RUNTIME_DIR=str(runtime_dir), STRATA_HOME=str(tmp_path / "home"))
    yield values
    subprocess.run([STRATA, "daemon", "stop"], env=values, capture_output=True)
    shutil.rmtree(runtime_dir, ignore_errors=True)


def strata(env: dict, *args: str, cwd: Path | None = None, stdin: str | None = None, daemon: bool = True):
    run_env = dict(env) if daemon else {**env, "STRATA_NO_DAEMON": "1"}
    return subprocess.run([STRATA, *args], env=run_env, cwd=cwd, input=stdin, capture_output=True, text=True,
                          timeout=120)


def start(env: dict) -> int:
    started = strata(env, "daemon", "start")
    assert started.returncode == 0, started.stderr
    status = strata(env, "daemon", "status")
    assert status.returncode == 0 and "running" in status.stdout
    return int(status.stdout.split("pid ")[1].split(",")[0])


def test_commands_through_the_daemon_match_local_runs(env: dict, tmp_path: Path) -> None:
    app = tmp_path / "app"
    shutil.copytree(EXAMPLE, app)
    local = strata(env, "transform", "--explain", "--output", "json", cwd=app, daemon=False)
    daemon_pid = start(env)
    remote = strata(env, "transform", "--explain", "--output", "json", cwd=app)  # relative -t: the client's cwd
    assert remote.returncode == 0, remote.stderr
    assert json.loads(remote.stdout) == json.loads(local.stdout)
    assert (tmp_path / "home" / "artifacts").is_dir()  # STRATA_HOME from the client's environment
    # exit statuses and messages come back unchanged
    missing_local = strata(env, "validate", "-t", "missing.yaml", cwd=app, daemon=False)
    missing = strata(env, "validate", "-t", "missing.yaml", cwd=app)
    assert (missing.returncode, missing.stderr) == (missing_local.returncode, missing_local.stderr) and \
        missing.returncode == 1
    usage = strata(env, "deploy", "--bogus", cwd=app)
    assert usage.returncode == 2 and "No such option '--bogus'" in usage.stderr
    # the command ran in a child of the daemon, which keeps serving
    assert strata(env, "daemon", "status").returncode == 0
    assert int(strata(env, "daemon", "status").stdout.split("pid ")[1].split(",")[0]) == daemon_pid


def test_stdin_reaches_the_command(env: dict, tmp_path: Path) -> None:
    app = tmp_path / "app"
    shutil.copytree(EXAMPLE, app)
    start(env)
    assert strata(env, "deploy", cwd=app).returncode == 0
    answer = strata(env, "invoke", "HelloFunction:live", "--stack-name", "app", "--event", "-", cwd=app,
                    stdin='{"name": "stdin"}')
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout)["message"] == "Hello, stdin!"


def test_interrupt_is_forwarded_to_the_command(env: dict, tmp_path: Path) -> None:
    start(env)
    home = tmp_path / "home"
    client = subprocess.Popen([STRATA, "serve", "--port", "0"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    from strata.local.discovery import running_server

    deadline = time.monotonic() + 30
    while running_server(home) is None and time.monotonic() < deadline:  # serving, so its handlers are installed
        time.sleep(0.05)
    assert running_server(home) is not None
    client.send_signal(signal.SIGINT)
    assert client.wait(timeout=30) == 0
    assert not (home / "server.json").exists()  # the server in the daemon's child shut down cleanly


def test_without_a_daemon_the_command_runs_locally(env: dict, tmp_path: Path) -> None:
    socket_dir = Path(env["XDG_RUNTIME_DIR"]) / "strata"
    socket_dir.mkdir(mode=0o700)  # as the daemon makes it
    (socket_dir / "daemon.sock").write_text("")  # a leftover file nobody listens on
    result = strata(env, "validate", "-t", str(EXAMPLE / "template.yaml"))
    assert result.returncode == 0 and "is valid" in result.stdout
    assert not (socket_dir / "daemon.sock").exists()  # removed, so later commands skip the attempt


def test_a_client_of_another_checkout_is_refused(env: dict) -> None:
    import _socket

    from strata.cli import daemon_client

    start(env)
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    sock.connect(str(Path(env["XDG_RUNTIME_DIR"]) / "strata" / "daemon.sock"))
    try:
        daemon_client.send_message(sock, {"protocol": daemon_client.PROTOCOL, "version": daemon_client.VERSION,
                                          "package": "/elsewhere/strata", "executable": sys.executable, "op": "run",
                                          "argv": ["--help"], "cwd": "/", "env": {}}, [0, 1, 2])
        assert daemon_client.recv_message(sock) == {"status": "refused"}  # it must run its own code, not ours
    finally:
        sock.close()


def test_a_socket_folder_others_can_enter_is_not_trusted(env: dict) -> None:
    start(env)
    folder = Path(env["XDG_RUNTIME_DIR"]) / "strata"
    folder.chmod(0o755)  # whoever could plant a socket there would receive our environment and terminal
    try:
        from strata.cli.daemon_client import run_via_daemon

        assert run_via_daemon(str(folder / "daemon.sock"), ["--help"]) is None  # the command runs locally instead
    finally:
        folder.chmod(0o700)
