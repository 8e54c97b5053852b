"""``--debug FUNCTION``: the function's worker runs under debugpy and waits for a debugger, driven as an editor does it
(a real Debug Adapter Protocol client over TCP: ``dap_client``) against real ``strata invoke`` / ``strata serve``
processes. Timeouts are generous bounds for a loaded machine, never measurements."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from dap_client import DapClient

from strata.local import credentials
from strata.local.discovery import connect
from strata.testing.server import start_serve, stop_serve

pytest.importorskip("debugpy")

HANDLER = """\
import os
LOADED = "at import"


def handler(event, context):
    doubled = event["n"] * 2
    return {"doubled": doubled, "loaded": LOADED, "remaining_ms_positive": context.get_remaining_time_in_millis() > 0}


def other(event, context):
    return {"other": True}
"""
IMPORT_LINE, HANDLER_LINE = 2, 6
TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  DebugFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src
      Handler: app.handler
      Runtime: python3.12
      Timeout: 1
  OtherFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src
      Handler: app.other
      Runtime: python3.12
      Timeout: 1
"""
STACK = "dbg"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A deployed project: (its folder, the state home), shared by the tests (none changes what is deployed)."""
    tmp_path = tmp_path_factory.mktemp("debug")
    folder, home = tmp_path / "project", tmp_path / "home"
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "app.py").write_text(HANDLER)
    (folder / "template.yaml").write_text(TEMPLATE)
    done = _strata(home, folder, "deploy", "--stack-name", STACK)
    assert done.returncode == 0, done.stderr
    return folder, home


def _env(home: Path) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("STRATA_SERVER_")}, "STRATA_HOME": str(home)}


def _strata(home: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "strata.cli.main", *args], env=_env(home), cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _listening(port: int) -> bool:
    """Something listens on 127.0.0.1:port (read from /proc: connecting would be taken for the debugger)."""
    wanted = f"0100007F:{port:04X}"
    with open("/proc/net/tcp") as table:
        return any(line.split()[1] == wanted and line.split()[3] == "0A" for line in list(table)[1:])


def _wait_listening(port: int, process: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not _listening(port):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"nothing listens on {port}"
        time.sleep(0.1)


def _debug_code_folder(home: Path, label: str) -> Path:
    return home / "runtime" / "debug" / label / "code"


def _mapping(folder: Path, home: Path) -> list[dict[str, str]]:
    """The README's launch.json pathMappings: the source folder -> the stable folder the worker runs the code from."""
    return [{"localRoot": str(folder / "src"), "remoteRoot": str(_debug_code_folder(home, "DebugFunction"))}]


def test_invoke_waits_for_the_debugger_then_stops_at_import_and_handler_breakpoints(project, tmp_path):
    folder, home = project
    port = _free_port()
    event = tmp_path / "event.json"
    event.write_text('{"n": 21}')
    invoke = subprocess.Popen([sys.executable, "-m", "strata.cli.main", "invoke", "DebugFunction", "--stack-name",
                               STACK, "-e", str(event), "--debug", "DebugFunction", "--debug-port", str(port)],
                              env=_env(home), cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    client = None
    try:
        _wait_listening(port, invoke)
        # Without a debugger it waits, past the function's 1 s timeout: Lambda's timeout is not enforced here.
        time.sleep(2.5)
        assert invoke.poll() is None
        source = folder / "src" / "app.py"
        client = DapClient("127.0.0.1", port)
        # breakpoints set in the user's source folder, mapped to the stable folder the worker runs the code from
        client.attach({str(source): [IMPORT_LINE, HANDLER_LINE]},
                      _mapping(folder, home))
        thread, frame = client.stopped()
        assert (frame["source"]["path"], frame["line"]) == (str(source), IMPORT_LINE)      # before the import ended
        client.request("continue", threadId=thread)
        thread, frame = client.stopped()
        assert (frame["source"]["path"], frame["line"]) == (str(source), HANDLER_LINE)
        assert client.evaluate("event['n']", frame["id"]) == "21"
        time.sleep(2.0)                  # paused longer than the timeout: the invocation is not killed
        # not waiting for continue's answer: the invocation may end, and strata stop the worker, before it is sent
        client.send("continue", threadId=thread)
        out, err = invoke.communicate(timeout=120)
    finally:
        if client is not None:
            client.close()
        if invoke.poll() is None:
            invoke.kill()
            invoke.communicate()
    assert invoke.returncode == 0, err
    # the context still counts down from the function's timeout (paused past it: none left)
    assert json.loads(out) == {"doubled": 42, "loaded": "at import", "remaining_ms_positive": False}
    assert f"127.0.0.1:{port}" in err and "timeout is not enforced" in err
    assert str(_debug_code_folder(home, "DebugFunction")) in err


def test_an_unknown_function_or_a_taken_port_is_refused_before_anything_runs(project):
    folder, home = project
    done = _strata(home, folder, "invoke", "DebugFunction", "--stack-name", STACK, "--debug", "Nope")
    assert done.returncode == 1
    assert "Nope" in done.stderr and "Traceback" not in done.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        busy = _strata(home, folder, "invoke", "DebugFunction", "--stack-name", STACK, "--debug", "DebugFunction",
                       "--debug-port", str(port))
    assert busy.returncode == 1
    assert f"--debug-port {port}" in busy.stderr and "Traceback" not in busy.stderr


def test_serve_debugs_one_function_one_invocation_at_a_time(project):
    folder, home = project
    port = _free_port()
    server = start_serve(home, "--stack-name", STACK, "--debug", "DebugFunction", "--debug-port", str(port))
    client = None
    try:
        access = connect(home)
        assert access is not None
        keys = credentials.load(home)
        assert keys is not None
        lam = boto3.session.Session(aws_access_key_id=keys.access_key_id,
                                    aws_secret_access_key=keys.secret_access_key, region_name=access.region).client(
            "lambda", endpoint_url=access.url, config=Config(retries={"max_attempts": 1}, read_timeout=300))
        names = {fn["FunctionName"] for fn in lam.list_functions()["Functions"]}
        debugged = next(name for name in names if "DebugFunction" in name)
        other = next(name for name in names if "OtherFunction" in name)
        answers: list = []
        first = threading.Thread(target=lambda: answers.append(
            json.loads(lam.invoke(FunctionName=debugged, Payload=b'{"n": 4}')["Payload"].read())))
        first.start()
        _wait_listening(port, server)
        # the other function is not debugged: it answers at once, while the debugged one waits
        assert json.loads(lam.invoke(FunctionName=other)["Payload"].read()) == {"other": True}
        with pytest.raises(ClientError) as refused:        # a second debug worker would need a second port
            lam.invoke(FunctionName=debugged, Payload=b'{"n": 1}')
        assert refused.value.response["Error"]["Code"] == "TooManyRequestsException"
        assert "is being debugged" in refused.value.response["Error"]["Message"]
        client = DapClient("127.0.0.1", port)
        client.attach({str(folder / "src" / "app.py"): [HANDLER_LINE]},
                      _mapping(folder, home))
        thread, frame = client.stopped()
        assert frame["line"] == HANDLER_LINE
        client.request("continue", threadId=thread)
        first.join(timeout=120)
        assert answers and answers[0]["doubled"] == 8
        # warm and still attached: the next invocation stops again at the breakpoint, on the same worker
        second: list = []
        again = threading.Thread(target=lambda: second.append(
            json.loads(lam.invoke(FunctionName=debugged, Payload=b'{"n": 5}')["Payload"].read())))
        again.start()
        thread, frame = client.stopped()
        assert client.evaluate("event['n']", frame["id"]) == "5"
        client.request("continue", threadId=thread)
        again.join(timeout=120)
        assert second and second[0]["doubled"] == 10
    finally:
        if client is not None:
            client.close()
        err = stop_serve(server)
    assert server.returncode == 0, err
    assert f"127.0.0.1:{port}" in err


def test_dev_debugs_the_named_function_after_its_first_deploy(tmp_path):
    """``strata dev --debug F``: F may not exist before dev's own first deploy; its worker then waits for the
    debugger and stops at a breakpoint, and an unknown F ends dev with the error."""
    folder, home = tmp_path / "project", tmp_path / "home"
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "app.py").write_text(HANDLER)
    (folder / "template.yaml").write_text(TEMPLATE)
    refused = _strata(home, folder, "dev", "--port", "0", "--stack-name", STACK, "--debug", "Nope")
    assert refused.returncode == 1 and "Nope is not in the stack" in refused.stderr
    assert "Traceback" not in refused.stderr
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "strata.cli.main", "dev", "--port", "0", "--stack-name", STACK,
                                "--debug", "DebugFunction", "--debug-port", str(port)], env=_env(home), cwd=folder,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    client = None
    try:
        deadline = time.monotonic() + 180
        while (access := connect(home)) is None:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "strata dev did not serve"
            time.sleep(0.2)
        keys = credentials.load(home)
        assert keys is not None
        lam = boto3.session.Session(aws_access_key_id=keys.access_key_id,
                                    aws_secret_access_key=keys.secret_access_key, region_name=access.region).client(
            "lambda", endpoint_url=access.url, config=Config(retries={"max_attempts": 1}, read_timeout=300))
        debugged = next(fn["FunctionName"] for fn in lam.list_functions()["Functions"]
                        if "DebugFunction" in fn["FunctionName"])
        answers: list = []
        call = threading.Thread(target=lambda: answers.append(
            json.loads(lam.invoke(FunctionName=f"{debugged}", Payload=b'{"n": 3}')["Payload"].read())))
        call.start()
        _wait_listening(port, process)
        client = DapClient("127.0.0.1", port)
        client.attach({str(folder / "src" / "app.py"): [HANDLER_LINE]}, _mapping(folder, home))
        thread, frame = client.stopped()
        assert frame["line"] == HANDLER_LINE
        client.request("continue", threadId=thread)
        call.join(timeout=120)
        assert answers and answers[0]["doubled"] == 6
    finally:
        if client is not None:
            client.close()
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert f"127.0.0.1:{port}" in err
