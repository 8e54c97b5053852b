"""The opt-in warm daemon: a command run through it behaves exactly as when it runs in its own process (output,
exit status, working directory, environment, stdin, signals), and the client falls back to running the command
itself when no daemon answers."""
from __future__ import annotations

import json
import os
import shutil
import signal
import stat
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


def test_a_link_planted_at_the_socket_folder_is_refused(env: dict, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"                 # what another user's link would point at
    target.mkdir(mode=0o755)
    target.chmod(0o755)
    folder = Path(env["XDG_RUNTIME_DIR"]) / "strata"
    folder.symlink_to(target)
    started = strata(env, "daemon", "start")
    assert started.returncode == 1 and "not a folder" in started.stderr and "XDG_RUNTIME_DIR" in started.stderr
    direct = subprocess.run([sys.executable, "-m", "strata.cli.daemon_server", str(folder / "daemon.sock"), "5"],
                            env=env, capture_output=True, text=True, timeout=60)
    assert direct.returncode == 1 and "not a folder" in direct.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o755  # never chmod'ed through the link
    assert list(target.iterdir()) == []             # and no socket put there
    assert folder.is_symlink()


def test_a_client_does_not_follow_a_linked_socket_folder(env: dict, tmp_path: Path) -> None:
    start(env)                                      # a daemon of ours, in a real private folder
    other = Path(env["XDG_RUNTIME_DIR"]) / "linked"
    other.mkdir(mode=0o700)
    (other / "strata").symlink_to(Path(env["XDG_RUNTIME_DIR"]) / "strata")
    from strata.cli.daemon_client import run_via_daemon

    # whoever can plant a link can point it at a socket of theirs: the client runs the command itself
    assert run_via_daemon(str(other / "strata" / "daemon.sock"), ["--help"]) is None


def test_the_command_runs_with_the_clients_umask(env: dict, tmp_path: Path) -> None:
    start(env)                                      # started with this process's umask (022 here)
    out = tmp_path / "out.yaml"
    done = subprocess.run([STRATA, "transform", "-t", str(EXAMPLE / "template.yaml"), "--output-template-file",
                           str(out)], env=env, capture_output=True, text=True, timeout=120, umask=0o077)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # as it would be had the client written it (not 0644)


def test_a_changed_dependency_makes_the_daemon_stale(env: dict, tmp_path: Path) -> None:
    extra = tmp_path / "site"
    extra.mkdir()
    module = extra / "sitecustomize.py"             # stands for any dependency the daemon imported
    module.write_text("VALUE = 1\n")
    env = {**env, "PYTHONPATH": os.pathsep.join(p for p in (str(extra), env.get("PYTHONPATH")) if p)}
    start(env)
    assert strata(env, "validate", "-t", str(EXAMPLE / "template.yaml")).returncode == 0
    assert strata(env, "daemon", "status").returncode == 0  # still warm: nothing changed
    module.write_text("VALUE = 2  # upgraded\n")
    result = strata(env, "validate", "-t", str(EXAMPLE / "template.yaml"))
    assert result.returncode == 0 and "is valid" in result.stdout  # ran by the client itself
    assert strata(env, "daemon", "status").returncode == 1  # the stale daemon is gone


def test_an_idle_connection_blocks_no_other_command(env: dict, tmp_path: Path) -> None:
    import _socket

    start(env)
    idle = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    idle.connect(str(Path(env["XDG_RUNTIME_DIR"]) / "strata" / "daemon.sock"))  # connects, then sends nothing
    slow = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    slow.connect(str(Path(env["XDG_RUNTIME_DIR"]) / "strata" / "daemon.sock"))
    slow.send(b"\x00\x00")                          # half of a length prefix, and no more
    try:
        status = strata(env, "daemon", "status")
        assert status.returncode == 0 and "running" in status.stdout
        result = strata(env, "validate", "-t", str(EXAMPLE / "template.yaml"))
        assert result.returncode == 0 and "is valid" in result.stdout
    finally:
        idle.close()
        slow.close()
    assert strata(env, "daemon", "status").returncode == 0
