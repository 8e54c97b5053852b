"""server.json discovery, the invoke client, and the CLI's refusal to listen publicly without credentials."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
from click.testing import CliRunner

from strata.local import discovery
from strata.local.server.client import invoke_via_server
from strata.model.lambda_errors import ResourceNotFoundException, UnsupportedOperationException


def test_write_read_remove(tmp_path):
    info = discovery.write(tmp_path, "127.0.0.1", 4321, "stack")
    assert json.loads((tmp_path / "server.json").read_text())["pid"] == os.getpid()
    assert discovery.read(tmp_path) == info and info.url == "http://127.0.0.1:4321"
    discovery.remove(tmp_path)
    assert not (tmp_path / "server.json").exists()
    discovery.remove(tmp_path)  # idempotent


def test_running_server_needs_a_live_pid_and_an_answering_port(tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    try:
        discovery.write(tmp_path, "127.0.0.1", port)
        assert discovery.running_server(tmp_path) == f"http://127.0.0.1:{port}"
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True).stdout.strip()
        data = json.loads((tmp_path / "server.json").read_text())
        (tmp_path / "server.json").write_text(json.dumps({**data, "pid": int(dead)}))
        assert discovery.running_server(tmp_path) is None  # stale file from a killed server
    finally:
        listener.close()
    discovery.write(tmp_path, "127.0.0.1", port)
    assert discovery.running_server(tmp_path) is None  # pid alive, nobody listening
    (tmp_path / "server.json").write_text("{half")
    assert discovery.running_server(tmp_path) is None
    assert discovery.running_server(tmp_path / "nowhere") is None


def test_a_newer_servers_file_is_not_removed(tmp_path):
    (tmp_path / "server.json").write_text(json.dumps({"pid": 1, "host": "h", "port": 1, "started": 0}))
    discovery.remove(tmp_path)
    assert (tmp_path / "server.json").exists()


def test_invoke_via_server_keeps_the_connection_alive(server):
    first = invoke_via_server(server.url, "echo", None, b'{"n": 1}', "RequestResponse", "Tail")
    assert (first.status_code, first.payload, first.executed_version) == (200, b'{"n": 1}', "$LATEST")
    assert first.request_id == "11111111-2222-3333-4444-555555555555" and first.log_result
    from strata.local.server import client

    conn = client._local.pool[server.url]
    sock = conn.sock
    again = invoke_via_server(server.url, "echo", "7", b"{}", "Event", "None")
    assert again.status_code == 202 and conn.sock is sock  # same TCP connection
    failed = invoke_via_server(server.url, "fails", None, b"{}", "RequestResponse", "None")
    assert failed.function_error == "Unhandled"


def test_invoke_via_server_raises_the_lambda_error(server):
    with pytest.raises(ResourceNotFoundException, match="Function not found"):
        invoke_via_server(server.url, "missing", None, b"{}", "RequestResponse", "None")
    assert UnsupportedOperationException  # the class map covers the control plane's own codes too


def test_serve_refuses_public_bind_without_credentials(tmp_path, monkeypatch):
    from strata.cli.main import cli

    monkeypatch.setenv("STRATA_HOME", str(tmp_path))
    monkeypatch.delenv("STRATA_SERVER_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("STRATA_SERVER_SECRET_ACCESS_KEY", raising=False)
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--port", "0"], standalone_mode=False)
    assert "refusing to listen on 0.0.0.0 without credentials" in str(result.exception)
    result = CliRunner().invoke(cli, ["serve", "--access-key-id", "AK", "--port", "0"], standalone_mode=False)
    assert "go together" in str(result.exception)
    assert not (tmp_path / "server.json").exists()


def test_serve_process_exits_1_with_a_clear_message(tmp_path):
    env = {**os.environ, "STRATA_HOME": str(tmp_path)}
    env.pop("STRATA_SERVER_ACCESS_KEY_ID", None)
    done = subprocess.run([sys.executable, "-m", "strata.cli.main", "serve", "--host", "0.0.0.0"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "refusing to listen on 0.0.0.0 without credentials" in done.stderr and "hint:" in done.stderr
