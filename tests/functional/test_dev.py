"""``strata dev`` as a real process on a copy of examples/layered-app: every save deploys what changed, and only that;
a broken template keeps the last good versions serving; a request in flight during a swap finishes on its version;
Ctrl+C stops cleanly. Invocations go through boto3 against the served API, signed with the home's keys."""
from __future__ import annotations

import json
import os
import shutil
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

from strata.local import credentials
from strata.local.discovery import running_server

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "layered-app"

# PlainFunction's code in the copy: says which code answered and, asked to, holds the request open until the test
# lets it go (a request in flight, with no clock involved)
PLAIN = ("import os, socket\n"
         "MARK = 'plain-1'\n"
         "def handler(event, context):\n"
         "    port = (event or {}).get('hold')\n"
         "    if port:\n"
         "        with socket.create_connection(('127.0.0.1', port), timeout=60) as conn:\n"
         "            conn.sendall(b'started')\n"
         "            conn.recv(16)\n"
         "    return {'mark': MARK, 'version': context.function_version, 'pid': os.getpid()}\n")


class Dev:
    """A running ``strata dev`` over a copy of the example app; its output goes to files the test reads."""

    def __init__(self, app: Path, *args: str) -> None:
        self.app = app
        self.home = app / ".strata"
        self.out_path, self.err_path = app.parent / "dev.out", app.parent / "dev.err"
        env = {k: v for k, v in os.environ.items()
               if k not in ("STRATA_HOME", "STRATA_SERVER_ACCESS_KEY_ID", "STRATA_SERVER_SECRET_ACCESS_KEY")}
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            self.process = subprocess.Popen([sys.executable, "-m", "strata.cli.main", "dev", "--port", "0", *args],
                                            cwd=app, env=env, stdout=out, stderr=err)
        self.wait_for(lambda: "Ctrl+C stops" in self.err, "strata dev to serve")
        url = running_server(self.home)
        keys = credentials.load(self.home)
        assert url is not None and keys is not None
        self.lam = boto3.client("lambda", endpoint_url=url, region_name="us-east-1",
                                aws_access_key_id=keys.access_key_id, aws_secret_access_key=keys.secret_access_key,
                                config=Config(retries={"total_max_attempts": 1}, read_timeout=120))
        names = [f["FunctionName"] for f in self.lam.list_functions()["Functions"]]
        self.names = {logical: next(n for n in names if f"-{logical}-" in n)
                      for logical in ("HelloFunction", "PlainFunction")}

    @property
    def out(self) -> str:
        return self.out_path.read_text()

    @property
    def err(self) -> str:
        return self.err_path.read_text()

    def wait_for(self, condition, what: str, timeout: float = 60) -> None:  # noqa: ANN001 - a predicate
        deadline = time.monotonic() + timeout
        while not condition():
            if self.process.poll() is not None:
                raise AssertionError(f"strata dev exited ({self.process.returncode}) before {what}:\n"
                                     f"{self.out}\n{self.err}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}:\nstdout:\n{self.out}\nstderr:\n{self.err}")
            time.sleep(0.05)

    def invoke(self, logical: str, event: object = None) -> dict:
        response = self.lam.invoke(FunctionName=self.names[logical], Qualifier="live",
                                   Payload=json.dumps(event or {}).encode())
        body = json.loads(response["Payload"].read())
        assert "FunctionError" not in response, body
        return {**body, "executed": response["ExecutedVersion"]}

    def alias_version(self, logical: str) -> str:
        return self.lam.get_alias(FunctionName=self.names[logical], Name="live")["FunctionVersion"]

    def versions(self, logical: str) -> list[str]:
        listed = self.lam.list_versions_by_function(FunctionName=self.names[logical])["Versions"]
        return [v["Version"] for v in listed if v["Version"] != "$LATEST"]

    def edit(self, relative: str, old: str, new: str) -> None:
        path = self.app / relative
        text = path.read_text()
        assert old in text, (relative, old)
        path.write_text(text.replace(old, new))

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@pytest.fixture
def dev(tmp_path):
    app = tmp_path / "app"
    shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns(".strata", "__pycache__"))
    (app / "src" / "plain" / "app.py").write_text(PLAIN)
    template = app / "template.yaml"
    template.write_text(template.read_text().replace("    Timeout: 5\n", "    Timeout: 120\n"))
    running = Dev(app)
    yield running
    running.stop()


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rpartition(b")")[2].split()[0] not in (b"Z", b"X")
    except OSError:
        return False


def _gone(pid: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _running(pid)


def test_a_code_edit_is_served_by_a_new_version_the_alias_moved_to(dev):
    assert dev.invoke("HelloFunction")["function_version"] == "1"
    dev.edit("src/hello/app.py", '"stage": os.environ.get("STAGE"),', '"stage": os.environ.get("STAGE"), "new": 1,')
    dev.wait_for(lambda: "HelloFunction -> version 2" in dev.out, "the new version")
    answer = dev.invoke("HelloFunction")
    assert (answer.get("new"), answer["function_version"], answer["executed"]) == (1, "2", "2")
    assert dev.alias_version("HelloFunction") == "2"
    line = next(ln for ln in dev.out.splitlines() if "HelloFunction -> version 2" in ln)
    assert "Code changed" in line and "ms from save" in line
    assert "PlainFunction -> version" not in dev.out.split("watching", 1)[1]    # the other function: untouched
    assert dev.versions("PlainFunction") == ["1"]


def test_a_layer_edit_publishes_exactly_its_users(dev):
    dev.edit("layers/shared/python/shared_greeting.py", "LAYER_REVISION = 1", "LAYER_REVISION = 2")
    dev.wait_for(lambda: "HelloFunction -> version 2" in dev.out, "the layer's user to publish")
    assert dev.invoke("HelloFunction")["layer_revision"] == 2
    assert dev.versions("HelloFunction") == ["1", "2"]
    assert dev.versions("PlainFunction") == ["1"] and dev.alias_version("PlainFunction") == "1"
    after_start = dev.out.split("watching", 1)[1]
    assert "PlainFunction" not in after_start and "layer" in after_start.lower()


def test_a_broken_template_prints_the_located_error_and_the_last_version_keeps_serving(dev):
    dev.edit("template.yaml", "        - !Ref SharedLayer\n", "        - !Ref SharedLayerTypo\n")
    dev.wait_for(lambda: "SharedLayerTypo" in dev.err, "the error")
    assert "template.yaml:" in dev.err and "[HelloFunction]" in dev.err     # file:line:col [Id], as validate says
    line = next(ln for ln in dev.err.splitlines() if "SharedLayerTypo" in ln)
    assert line.split("template.yaml:", 1)[1].split(":")[0].isdigit()
    # a code edit while the template is broken deploys nothing: the last good version keeps serving
    dev.edit("src/hello/app.py", '"stage": os.environ.get("STAGE"),', '"stage": os.environ.get("STAGE"), "new": 1,')
    dev.wait_for(lambda: dev.err.count("still serving the last good versions") >= 2, "the second refusal")
    answer = dev.invoke("HelloFunction")
    assert (answer["function_version"], "new" in answer) == ("1", False)
    assert dev.versions("HelloFunction") == ["1"]
    # fixed: the pending code edit deploys
    dev.edit("template.yaml", "        - !Ref SharedLayerTypo\n", "        - !Ref SharedLayer\n")
    dev.wait_for(lambda: "HelloFunction -> version 2" in dev.out, "the fixed template's deploy")
    assert dev.invoke("HelloFunction").get("new") == 1


def test_a_tag_edit_and_a_touched_file_publish_no_version(dev):
    dev.edit("template.yaml", "      app: layered-app\n", "      app: layered-app-renamed\n")
    dev.wait_for(lambda: "PlainFunction -> $LATEST (no new version)" in dev.out
                 and "HelloFunction -> $LATEST (no new version)" in dev.out, "the tag update")
    assert "Tags" in dev.out.split("watching", 1)[1]
    os.utime(dev.app / "src" / "hello" / "app.py")                         # touched, not changed
    # a code edit after the touch is the next thing printed: the touch deployed nothing
    dev.edit("src/plain/app.py", "MARK = 'plain-1'", "MARK = 'plain-2'")
    dev.wait_for(lambda: "PlainFunction -> version 2" in dev.out, "the code edit")
    after_tags = dev.out.split("HelloFunction -> $LATEST", 1)[1]
    assert "HelloFunction" not in after_tags
    assert dev.versions("HelloFunction") == ["1"] and dev.alias_version("HelloFunction") == "1"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_request_in_flight_during_a_swap_completes_on_the_old_version(dev):
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(60)
    answers: list[dict] = []
    hold = {"hold": listener.getsockname()[1]}
    held = threading.Thread(target=lambda: answers.append(dev.invoke("PlainFunction", hold)))
    held.start()
    conn, _ = listener.accept()
    try:
        conn.settimeout(60)
        assert conn.recv(16) == b"started"                                  # in flight on version 1
        dev.edit("src/plain/app.py", "MARK = 'plain-1'", "MARK = 'plain-2'")
        dev.wait_for(lambda: "PlainFunction -> version 2" in dev.out, "the swap")
        fresh = dev.invoke("PlainFunction")
        assert (fresh["mark"], fresh["version"]) == ("plain-2", "2")
        assert held.is_alive()                                              # still held open across the swap
        conn.sendall(b"go")
    finally:
        conn.close()
        listener.close()
    held.join(120)
    (old,) = answers
    assert (old["mark"], old["version"], old["executed"]) == ("plain-1", "1", "1")
    assert _gone(old["pid"])                              # the old version's worker was drained once it finished
    assert _running(fresh["pid"])


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_ctrl_c_stops_cleanly(dev):
    pid = dev.invoke("PlainFunction")["pid"]
    assert _running(pid)
    assert dev.stop(signal.SIGINT) == 0, dev.err
    assert not (dev.home / "server.json").exists()
    assert _gone(pid)
    assert "Traceback" not in dev.err


def test_env_vars_override_locally_without_a_version(tmp_path):
    """``strata dev --env-vars``: the served function sees the override; no version is published for it, and the
    override still holds on the version a later save publishes."""
    app = tmp_path / "app"
    shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns(".strata", "__pycache__"))
    env_file = tmp_path / "env.json"
    env_file.write_text(json.dumps({"HelloFunction": {"STAGE": "from-env-vars"}}))
    running = Dev(app, "--env-vars", str(env_file))
    try:
        answer = running.invoke("HelloFunction")
        assert answer["stage"] == "from-env-vars" and answer["executed"] == "1"
        stage = '"stage": os.environ.get("STAGE"),'
        running.edit("src/hello/app.py", stage, stage + ' "v": 2,')
        running.wait_for(lambda: "HelloFunction -> version 2" in running.out, "the new version")
        answer = running.invoke("HelloFunction")
        assert answer["stage"] == "from-env-vars" and answer["executed"] == "2" and answer["v"] == 2
    finally:
        assert running.stop() == 0
