"""``strata serve`` as a real process: the AWS CLI and boto3 against it, real warm workers, discovery, signing."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from strata_testkit import start_serve, stop_serve, zip_bytes

from strata.local import credentials
from strata.local.discovery import connect, running_server
from strata.local.server.client import invoke_via_server

ROLE = "arn:aws:iam::123456789012:role/lambda-role"
HANDLER = ("import json, os\n"
           "def handler(event, context):\n"
           "    if event == 'pid':\n"
           "        return os.getpid()\n"
           "    print('hello from', context.function_version)\n"
           "    return {'event': event, 'request_id': context.aws_request_id, 'version': context.function_version}\n")
VENV_BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    home = tmp_path_factory.mktemp("serve-home")
    process = start_serve(home)
    yield home, running_server(home)
    err = stop_serve(process)
    assert process.returncode == 0, err
    assert not (home / "server.json").exists()


def _aws(url: str, tmp: Path, *args: str, key: str = "AKIDTEST", secret: str = "x") -> subprocess.CompletedProcess:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret,
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(tmp / "none"),
           "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "none"), "AWS_MAX_ATTEMPTS": "1"}
    return subprocess.run([str(VENV_BIN / "aws"), "lambda", *args, "--endpoint-url", url, "--output", "json"],
                          env=env, capture_output=True, text=True, timeout=120)


def _home_keys(home: Path) -> dict[str, str]:
    """What a user of the home signs with (``strata env`` prints it)."""
    keys = credentials.load(home)
    assert keys is not None
    return {"key": keys.access_key_id, "secret": keys.secret_access_key}


def test_aws_cli_create_publish_invoke(served, tmp_path):
    home, url = served
    keys = _home_keys(home)
    (tmp_path / "fn.zip").write_bytes(zip_bytes({"app.py": HANDLER}))
    created = _aws(url, tmp_path, "create-function", "--function-name", "cli-fn", "--runtime", "python3.12",
                   "--role", ROLE, "--handler", "app.handler", "--zip-file", f"fileb://{tmp_path / 'fn.zip'}",
                   **keys)
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["FunctionName"] == "cli-fn"
    published = _aws(url, tmp_path, "publish-version", "--function-name", "cli-fn", **keys)
    assert published.returncode == 0, published.stderr
    assert json.loads(published.stdout)["Version"] == "1"
    out = tmp_path / "out.json"
    invoked = _aws(url, tmp_path, "invoke", "--function-name", "cli-fn", "--qualifier", "1", "--log-type", "Tail",
                   "--payload", '{"x": 1}', str(out), **keys)
    assert invoked.returncode == 0, invoked.stderr
    meta = json.loads(invoked.stdout)
    assert (meta["StatusCode"], meta["ExecutedVersion"]) == (200, "1")
    assert "hello from 1" in base64.b64decode(meta["LogResult"]).decode()
    assert json.loads(out.read_text())["event"] == {"x": 1}
    missing = _aws(url, tmp_path, "get-function", "--function-name", "nope", **keys)
    assert missing.returncode != 0 and "ResourceNotFoundException" in missing.stderr


def test_boto3_and_the_invoke_client_share_the_warm_worker(served):
    home, url = served
    keys = _home_keys(home)
    lam = boto3.client("lambda", endpoint_url=url, region_name="us-east-1", aws_access_key_id=keys["key"],
                       aws_secret_access_key=keys["secret"], config=Config(retries={"total_max_attempts": 1}))
    lam.create_function(FunctionName="warm", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": zip_bytes({"app.py": HANDLER})})
    response = lam.invoke(FunctionName="warm", Payload=b'{"n": 1}')
    body = json.loads(response["Payload"].read())
    assert body["request_id"] == response["ResponseMetadata"]["RequestId"]  # x-amzn-RequestId is the invocation's
    assert running_server(home) == url
    server = connect(home)
    assert server is not None
    result = invoke_via_server(server, "warm", None, b'{"n": 2}', "RequestResponse", "None")
    assert (result.status_code, result.executed_version) == (200, "$LATEST")
    assert json.loads(result.payload) == {"event": {"n": 2}, "request_id": result.request_id, "version": "$LATEST"}
    # warm: every call is answered by the same worker process, none starts a new one
    pids = {json.loads(invoke_via_server(server, "warm", None, b'"pid"', "RequestResponse", "None").payload)
            for _ in range(20)}
    assert len(pids) == 1


def test_signed_server_on_loopback(tmp_path):
    process = start_serve(tmp_path / "home", "--access-key-id", "AKIDTEST", "--secret-access-key", "right-secret")
    try:
        url = running_server(tmp_path / "home")
        good = boto3.client("lambda", endpoint_url=url, region_name="us-east-1", aws_access_key_id="AKIDTEST",
                            aws_secret_access_key="right-secret", config=Config(retries={"total_max_attempts": 1}))
        assert good.list_functions()["Functions"] == []
        bad = _aws(url, tmp_path, "list-functions", secret="wrong-secret")
        assert bad.returncode != 0 and "InvalidSignatureException" in bad.stderr
        with pytest.raises(ClientError) as info:
            boto3.client("lambda", endpoint_url=url, region_name="us-east-1", aws_access_key_id="OTHER",
                         aws_secret_access_key="x", config=Config(retries={"total_max_attempts": 1})).list_functions()
        assert info.value.response["Error"]["Code"] == "UnrecognizedClientException"
    finally:
        assert stop_serve(process) is not None


SPAWNER = ("import os, subprocess, time\n"
           "def handler(event, context):\n"
           "    pids = [subprocess.Popen(['setsid', 'sleep', '1000']).pid]\n"
           "    read, write = os.pipe()\n"
           "    if os.fork() == 0:\n"
           "        os.setsid()\n"
           "        if os.fork() == 0:\n"
           "            os.write(write, str(os.getpid()).encode())\n"
           "            time.sleep(1000)\n"
           "        os._exit(0)\n"
           "    return pids + [int(os.read(read, 32))]\n")


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rpartition(b")")[2].split()[0] not in (b"Z", b"X")
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_processes_a_handler_started_end_when_the_server_stops(tmp_path):
    home = tmp_path / "home"
    process = start_serve(home)
    try:
        url = running_server(home)
        keys = _home_keys(home)
        lam = boto3.client("lambda", endpoint_url=url, region_name="us-east-1", aws_access_key_id=keys["key"],
                           aws_secret_access_key=keys["secret"], config=Config(retries={"total_max_attempts": 1}))
        lam.create_function(FunctionName="spawner", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                            Code={"ZipFile": zip_bytes({"app.py": SPAWNER})})
        pids = json.loads(lam.invoke(FunctionName="spawner")["Payload"].read())
        assert len(pids) == 2 and all(_running(pid) for pid in pids)    # a new session, a double-forked daemon
    finally:
        stop_serve(process)
    assert process.returncode == 0
    deadline = time.monotonic() + 10
    while any(_running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_running(pid) for pid in pids)


def test_state_damaged_while_serving_is_named_not_an_internal_error(tmp_path):
    """A state database damaged under a running server is answered with what and where, as the CLI says it."""
    home = tmp_path / "home"
    process = start_serve(home)
    try:
        url = running_server(home)
        assert url is not None
        keys = _home_keys(home)
        client = boto3.client("lambda", endpoint_url=url, region_name="us-east-1", aws_access_key_id=keys["key"],
                              aws_secret_access_key=keys["secret"],
                              config=Config(retries={"max_attempts": 1}))
        client.list_functions()
        for name in ("state.db", "state.db-wal", "state.db-shm"):
            path = home / name
            if path.exists():
                path.write_bytes(os.urandom(path.stat().st_size or 4096))
        with pytest.raises(ClientError) as raised:
            client.create_function(FunctionName="f", Runtime="python3.11", Role=ROLE, Handler="app.handler",
                                   Code={"ZipFile": zip_bytes({"app.py": HANDLER})})
        message = raised.value.response["Error"]["Message"]
        assert "internal error" not in message.lower()
        assert str(home / "state.db") in message and "hint:" in message
    finally:
        stop_serve(process)
