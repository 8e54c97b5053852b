"""The local server is the user's alone: a real ``strata serve`` refuses what a web page, another local user, or
someone replaying or tampering with a signed request sends; ``strata env`` is all an SDK user needs."""
from __future__ import annotations

import base64
import http.client
import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials as BotoCredentials
from botocore.exceptions import ClientError
from strata_testkit import start_serve, stop_serve, zip_bytes

from strata.local import credentials
from strata.local.discovery import running_server

ROLE = "arn:aws:iam::123456789012:role/lambda-role"
VENV_BIN = Path(sys.executable).parent
# the handler leaves a mark for every run, so a refused request provably ran nothing
MARKING = ("import os\n"
           "def handler(event, context):\n"
           "    with open(os.environ['MARKS'], 'a') as fh:\n"
           "        fh.write('ran\\n')\n"
           "    return {'ran': True}\n")
CALLS_BACK = ("import boto3\n"
              "def handler(event, context):\n"
              "    names = [f['FunctionName'] for f in boto3.client('lambda').list_functions()['Functions']]\n"
              "    return sorted(names)\n")


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[Path, str]]:
    home = tmp_path_factory.mktemp("secure-home")
    process = start_serve(home)
    url = running_server(home)
    assert url is not None
    yield home, url
    stop_serve(process)


def _lambda(home: Path, url: str, region: str = "us-east-1", attempts: int = 5, **keys: str):
    """A client as an SDK user has one (retries included: two clients' identical requests in one second sign alike,
    and the second is retried, signed afresh)."""
    pair = credentials.load(home)
    assert pair is not None
    return boto3.client("lambda", endpoint_url=url, region_name=region,
                        aws_access_key_id=keys.get("key", pair.access_key_id),
                        aws_secret_access_key=keys.get("secret", pair.secret_access_key),
                        config=Config(retries={"total_max_attempts": attempts, "mode": "standard"}))


def _function(home: Path, url: str, marks: Path, code: str = MARKING) -> str:
    name = f"fn-{uuid.uuid4().hex[:8]}"
    _lambda(home, url).create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": zip_bytes({"app.py": code})}, Environment={"Variables": {"MARKS": str(marks)}})
    return name


def _raw(url: str, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
         ) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def _create_body(name: str) -> bytes:
    """CreateFunction's JSON, as a page's script would post it."""
    return json.dumps({"FunctionName": name, "Runtime": "python3.12", "Role": ROLE, "Handler": "app.handler",
                       "Code": {"ZipFile": base64.b64encode(zip_bytes({"app.py": MARKING})).decode()}}).encode()


def _names(home: Path, url: str) -> list[str]:
    return [f["FunctionName"] for f in _lambda(home, url).list_functions()["Functions"]]


def _signed(home: Path, url: str, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
            region: str = "us-east-1") -> AWSRequest:
    pair = credentials.load(home)
    assert pair is not None
    request = AWSRequest(method=method, url=url + path, data=body, headers=headers or {})
    SigV4Auth(BotoCredentials(pair.access_key_id, pair.secret_access_key), "lambda", region).add_auth(request)
    return request


# -- a web page -------------------------------------------------------------------------------------------------------

def test_a_cross_origin_simple_post_creates_nothing_and_runs_nothing(served, tmp_path):
    home, url = served
    marks = tmp_path / "marks"
    existing = _function(home, url, marks)
    page = {"Content-Type": "text/plain", "Origin": "http://attacker.example"}
    status, headers, body = _raw(url, "POST", "/2015-03-31/functions", _create_body("evil"), page)
    assert status == 403, body
    assert not any(name.startswith("access-control-") for name in headers)         # no CORS, ever
    status, headers, _ = _raw(url, "POST", f"/2015-03-31/functions/{existing}/invocations", b"{}", page)
    assert status == 403 and not any(name.startswith("access-control-") for name in headers)
    preflight, headers, _ = _raw(url, "OPTIONS", "/2015-03-31/functions", b"",
                                 {"Origin": "http://attacker.example", "Access-Control-Request-Method": "POST"})
    assert preflight >= 400 and not any(name.startswith("access-control-") for name in headers)
    # the same request without the browser's marks is still unsigned: refused all the same
    status, headers, body = _raw(url, "POST", "/2015-03-31/functions", _create_body("evil"),
                                 {"Content-Type": "application/json"})
    assert (status, headers.get("x-amzn-errortype")) == (403, "MissingAuthenticationTokenException")
    assert "evil" not in _names(home, url)
    assert not marks.exists()


def test_dns_rebinding_a_foreign_host_is_refused_before_anything_else(served, tmp_path):
    home, url = served
    marks = tmp_path / "marks"
    name = _function(home, url, marks)
    port = urlsplit(url).port
    for host in ("attacker.example", f"attacker.example:{port}", f"127.0.0.1.nip.io:{port}", "127.0.0.1:1"):
        # even correctly signed: the Host names someone else's site
        request = _signed(home, url, "POST", f"/2015-03-31/functions/{name}/invocations", b"{}")
        headers = {**dict(request.headers), "Host": host}
        status, answer, body = _raw(url, "POST", f"/2015-03-31/functions/{name}/invocations", b"{}", headers)
        assert (status, answer.get("x-amzn-errortype")) == (421, "MisdirectedRequestException"), (host, body)
    assert not marks.exists()
    for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
        status, _, _ = _raw(url, "GET", "/2015-03-31/functions", b"", {"Host": host})
        assert status == 403                     # allowed Host, still unsigned: the signature check answers


# -- another local user -----------------------------------------------------------------------------------------------

OTHER_USER_SCRIPT = r"""
import http.client, json, sys
home, port = sys.argv[1], int(sys.argv[2])
try:
    open(home + "/credentials.json").read()
    read = "read"
except PermissionError:
    read = "denied"
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
conn.request("POST", "/2015-03-31/functions", body=sys.stdin.buffer.read(),
             headers={"Content-Type": "application/json"})
response = conn.getresponse()
print(json.dumps({"read": read, "status": response.status, "error": response.getheader("x-amzn-ErrorType")}))
"""


@pytest.fixture
def other_user() -> Iterator[str]:
    if os.geteuid() != 0:
        pytest.skip("creating a second local user needs root")
    if not (shutil.which("useradd") and shutil.which("userdel") and shutil.which("runuser")):
        pytest.skip("useradd/userdel/runuser are not installed")
    if not Path("/usr/bin/python3").exists():
        pytest.skip("no system python3 the other user can run")
    name = f"strata{uuid.uuid4().hex[:8]}"
    subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True,
                   capture_output=True)
    try:
        yield name
    finally:
        subprocess.run(["userdel", name], capture_output=True)


def test_another_local_user_can_neither_run_code_nor_read_the_key(other_user):
    # a home every user may look into, so only the credentials file's own mode keeps the key private
    root = Path(tempfile.mkdtemp(prefix="strata-shared-", dir="/tmp"))
    try:
        root.chmod(0o755)
        home = root / "home"
        home.mkdir(mode=0o755)
        home.chmod(0o755)
        process = start_serve(home)
        try:
            url = running_server(home)
            assert url is not None
            keys = credentials.credentials_file(home)
            assert stat.S_IMODE(keys.stat().st_mode) == 0o600 and keys.stat().st_uid == os.geteuid()
            port = str(urlsplit(url).port)
            result = subprocess.run(["runuser", "-u", other_user, "--", "/usr/bin/python3", "-c", OTHER_USER_SCRIPT,
                                     str(home), port], input=_create_body("intruder"), capture_output=True,
                                    timeout=60)
            assert result.returncode == 0, result.stderr
            outcome = json.loads(result.stdout)
            assert pwd.getpwnam(other_user).pw_uid != os.geteuid()
            assert outcome == {"read": "denied", "status": 403, "error": "MissingAuthenticationTokenException"}
            assert "intruder" not in _names(home, url)
        finally:
            stop_serve(process)
    finally:
        shutil.rmtree(root, ignore_errors=True)


# -- signed requests: replays, unsigned headers, regions --------------------------------------------------------------

def test_a_signed_request_replayed_is_refused_and_runs_once(served, tmp_path):
    home, url = served
    marks = tmp_path / "marks"
    name = _function(home, url, marks)
    path = f"/2015-03-31/functions/{name}/invocations"
    request = _signed(home, url, "POST", path, b"{}")
    first = _raw(url, "POST", path, b"{}", dict(request.headers))
    assert first[0] == 200, first[2]
    for _ in range(3):
        again = _raw(url, "POST", path, b"{}", dict(request.headers))      # captured and sent again
        assert (again[0], again[1].get("x-amzn-errortype")) == (429, "TooManyRequestsException")
        assert "Signature already used" in json.loads(again[2])["message"]
    assert marks.read_text() == "ran\n"
    # an SDK repeating the same call at once (SigV4 stamps whole seconds, so the signature repeats) is served on
    # its connection; the call is one no other test makes (MaxItems), or a test just before in the same second on
    # another connection would have taken the signature first
    lam = _lambda(home, url, attempts=1)
    assert {lam.list_functions(MaxItems=37)["Functions"][0]["FunctionName"] for _ in range(5)}
    # two clients sending the same request in the same second: the second one's SDK retries it, signed afresh
    first, second = _lambda(home, url, attempts=1), _lambda(home, url)
    assert first.invoke(FunctionName=name, Payload=b'"same"')["StatusCode"] == 200
    assert second.invoke(FunctionName=name, Payload=b'"same"')["StatusCode"] == 200
    assert marks.read_text() == "ran\n" * 3


def test_an_unsigned_header_added_to_a_signed_request_is_not_acted_on(served, tmp_path):
    home, url = served
    marks = tmp_path / "marks"
    name = _function(home, url, marks)
    path = f"/2015-03-31/functions/{name}/invocations"
    request = _signed(home, url, "POST", path, b"{}")
    headers = {**dict(request.headers), "X-Amz-Invocation-Type": "DryRun", "X-Amz-Log-Type": "Tail"}
    status, answer, body = _raw(url, "POST", path, b"{}", headers)
    assert status == 200 and json.loads(body) == {"ran": True}           # a DryRun would be 204 and run nothing
    assert "x-amz-log-result" not in answer
    assert marks.read_text() == "ran\n"


def test_a_signature_for_another_region_is_refused(served):
    home, url = served
    with pytest.raises(ClientError) as info:
        _lambda(home, url, region="eu-west-1").list_functions()
    error = info.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("InvalidSignatureException",
                                                 "Credential should be scoped to a valid region. ")


def test_the_server_region_is_the_one_it_was_started_for(tmp_path):
    process = start_serve(tmp_path / "home", "--region", "eu-central-1")
    try:
        url = running_server(tmp_path / "home")
        assert url is not None
        assert _lambda(tmp_path / "home", url, region="eu-central-1").list_functions()["Functions"] == []
        with pytest.raises(ClientError):
            _lambda(tmp_path / "home", url, region="us-east-1").list_functions()
    finally:
        stop_serve(process)


def test_strata_invoke_works_against_a_server_with_extra_keys_sharing_its_home(tmp_path):
    home = tmp_path / "home"
    process = start_serve(home, "--access-key-id", "AKIDOPERATOR", "--secret-access-key", "operator-secret")
    try:
        url = running_server(home)
        assert url is not None
        operator = _lambda(home, url, key="AKIDOPERATOR", secret="operator-secret")
        operator.create_function(FunctionName="shared", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                                 Code={"ZipFile": zip_bytes({"app.py": CALLS_BACK})})
        env = {**os.environ, "STRATA_HOME": str(home)}
        result = subprocess.run([sys.executable, "-m", "strata.cli.main", "invoke", "shared"], env=env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        # the handler's own boto3 reached the same server, signed with the home's key, with no configuration
        assert json.loads(result.stdout) == ["shared"]
    finally:
        stop_serve(process)


# -- strata env -------------------------------------------------------------------------------------------------------

def _clean_aws_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_CONFIG_FILE": str(tmp / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "none"),
                "PATH": f"{VENV_BIN}:{env.get('PATH', '')}"})
    return env


def test_eval_strata_env_makes_the_aws_cli_and_boto3_work(served, tmp_path):
    home, url = served
    env = {**_clean_aws_env(tmp_path), "STRATA_HOME": str(home)}
    listed = tmp_path / "listed.json"
    script = (f'eval "$({sys.executable} -m strata.cli.main env)" && '
              f'aws lambda list-functions --output json > {listed} && env | grep ^AWS_')
    result = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Functions" in json.loads(listed.read_text())
    values = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert values["AWS_ENDPOINT_URL_LAMBDA"] == url
    # boto3 built from nothing but those exports
    probe = ("import boto3, json; c = boto3.client('lambda'); "
             "print(json.dumps([c.meta.endpoint_url, len(c.list_functions()['Functions']) >= 0]))")
    result = subprocess.run([sys.executable, "-c", probe], env={**_clean_aws_env(tmp_path), **values},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [url, True]


def test_strata_env_json_and_no_server(served, tmp_path):
    home, url = served
    from click.testing import CliRunner

    from strata.cli.main import cli

    runner = CliRunner()
    out = runner.invoke(cli, ["env", "--output", "json"], env={"STRATA_HOME": str(home)})
    assert out.exit_code == 0, out.output
    values = json.loads(out.output)
    pair = credentials.load(home)
    assert pair is not None
    assert values == {"AWS_ENDPOINT_URL_LAMBDA": url, "AWS_ACCESS_KEY_ID": pair.access_key_id,
                      "AWS_SECRET_ACCESS_KEY": pair.secret_access_key, "AWS_DEFAULT_REGION": "us-east-1",
                      "AWS_REGION": "us-east-1"}
    missing = runner.invoke(cli, ["env", "--stack-name", "nope"], env={"STRATA_HOME": str(home)})
    assert missing.exit_code == 1 and "stack 'nope' does not exist" in str(missing.exception)
    none = subprocess.run([sys.executable, "-m", "strata.cli.main", "env"], capture_output=True, text=True,
                          env={**os.environ, "STRATA_HOME": str(tmp_path / "idle")}, timeout=60)
    assert none.returncode == 1 and none.stdout == ""
    assert "no `strata serve` is running" in none.stderr and "hint: start one" in none.stderr
