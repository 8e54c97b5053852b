"""The pieces that keep the server the user's alone: the home's credentials file, strata's own signer, replay
bookkeeping, signed headers only, the Host allow-list, the browser guard, and what a worker's SDK is given."""
from __future__ import annotations

import os
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from server_fakes import start_server

from strata.local import credentials, discovery
from strata.local.credentials import Credentials, CredentialsFileError
from strata.local.server.auth import (
    AllowedHosts,
    SeenSignatures,
    SignedRequest,
    Verifier,
    parse_authorization,
    sign,
    signed_headers_only,
)
from strata.local.server.client import invoke_via_server
from strata.local.server.errors import InvalidSignatureException, SignatureReusedException
from strata.model.lambda_errors import TooManyRequestsException

KEY = Credentials("AKIDSTRATATEST", "s3cret/key+value")


# -- the credentials file ---------------------------------------------------------------------------------------------

def test_credentials_are_made_once_private_and_reused(tmp_path):
    old = os.umask(0)                      # the file is 0600 whatever the umask
    try:
        made = credentials.ensure(tmp_path / "home")
    finally:
        os.umask(old)
    path = credentials.credentials_file(tmp_path / "home")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(made.access_key_id) == 20 and len(made.secret_access_key) >= 40
    assert credentials.ensure(tmp_path / "home") == made == credentials.load(tmp_path / "home")
    assert made.secret_access_key not in repr(made)
    assert [p.name for p in (tmp_path / "home").iterdir()] == ["credentials.json"]      # no temporary left
    assert credentials.load(tmp_path / "elsewhere") is None
    assert credentials.ensure(tmp_path / "other") != made                                 # one pair per home


def test_racing_processes_end_up_with_one_pair(tmp_path):
    found: list[Credentials] = []
    threads = [threading.Thread(target=lambda: found.append(credentials.ensure(tmp_path))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(found)) == 1


def test_a_file_others_may_know_is_refused(tmp_path):
    credentials.ensure(tmp_path)
    path = credentials.credentials_file(tmp_path)
    path.chmod(0o644)
    with pytest.raises(CredentialsFileError, match="readable by others"):
        credentials.load(tmp_path)
    path.unlink()
    target = tmp_path / "planted.json"
    target.write_text('{"aws_access_key_id": "AK", "aws_secret_access_key": "known"}')
    target.chmod(0o600)
    path.symlink_to(target)
    with pytest.raises(CredentialsFileError, match="cannot read"):
        credentials.load(tmp_path)
    with pytest.raises(CredentialsFileError):
        credentials.ensure(tmp_path)                  # never replaced silently, never followed
    path.unlink()
    path.write_text("{half")
    path.chmod(0o600)
    with pytest.raises(CredentialsFileError, match="not a valid credentials file"):
        credentials.load(tmp_path)


# -- strata's own signer, checked by the botocore-based verifier ------------------------------------------------------

@pytest.mark.parametrize("path, query", [
    ("/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af/invocations",
     "Qualifier=%24LATEST"),
    ("/2015-03-31/functions", "MaxItems=5&FunctionVersion=ALL"),
    ("/2015-03-31/functions/f/invocations", ""),
])
def test_strata_signer_is_accepted_by_the_verifier(path, query):
    headers = sign(KEY, "eu-west-1", "POST", "127.0.0.1:3001", path, query,
                   {"X-Amz-Invocation-Type": "Event", "Content-Type": "application/json"}, b'{"a": 1}')
    lowered = {k.lower(): v for k, v in headers.items()}
    verifier = Verifier(KEY, "eu-west-1")
    request = SignedRequest("POST", path, query, lowered, b'{"a": 1}')
    verifier.verify(request, verifier.precheck(lowered))
    again = sign(KEY, "eu-west-1", "POST", "127.0.0.1:3001", path, query, {}, b"")
    assert parse_authorization(again["Authorization"]).signature != parse_authorization(
        headers["Authorization"]).signature          # a unique id in every request: never a replay of another


@pytest.mark.parametrize("path, query", [
    ("/a/./b/../c", ""), ("//2015-03-31//functions/", "b=2&a=&a=1"), ("/p%20q/~x", "Marker=a%2Fb&MaxItems=1"),
    ("/2015-03-31/functions/f%3A1/invocations", "Qualifier=%24LATEST"), ("", ""),
])
def test_the_verifier_agrees_with_botocore_on_odd_paths_and_queries(path, query):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials as BotoCredentials

    request = AWSRequest(method="GET", url=f"http://127.0.0.1:3001{path}" + (f"?{query}" if query else ""),
                         data=b"", headers={"X-Amz-Log-Type": "  Tail   now "})
    SigV4Auth(BotoCredentials(KEY.access_key_id, KEY.secret_access_key), "lambda", "us-east-1").add_auth(request)
    headers = {k.lower(): v for k, v in request.headers.items()}
    headers["host"] = "127.0.0.1:3001"
    verifier = Verifier(KEY, "us-east-1")
    verifier.verify(SignedRequest("GET", path, query, headers, b""), verifier.precheck(headers))


# -- replays ----------------------------------------------------------------------------------------------------------

class _Connection:
    """Stands for an HTTP connection (weak-referenceable, like ``HttpConnection``)."""


def test_a_signature_is_used_once_except_again_on_its_own_connection():
    seen = SeenSignatures()
    first, other = _Connection(), _Connection()
    seen.claim("sig", expires=100.0, now=0.0, connection=first)
    seen.claim("sig", expires=100.0, now=1.0, connection=first)       # the same client, same second, same request
    for connection in (other, None):
        with pytest.raises(SignatureReusedException, match="Signature already used") as info:
            seen.claim("sig", expires=100.0, now=2.0, connection=connection)
        assert (info.value.status, info.value.code) == (429, "TooManyRequestsException")   # SDKs retry, re-signed
    seen.claim("sig", expires=100.0, now=101.0, connection=other)     # expired: forgotten (the skew check refuses it)


def test_a_closed_first_connection_does_not_lend_its_signature():
    seen = SeenSignatures()
    first = _Connection()
    seen.claim("sig", expires=100.0, now=0.0, connection=first)
    del first
    with pytest.raises(SignatureReusedException):
        seen.claim("sig", expires=100.0, now=1.0, connection=_Connection())


def test_memory_is_bounded():
    seen = SeenSignatures(limit=3)
    for n in range(3):
        seen.claim(f"s{n}", expires=10.0, now=0.0, connection=None)
    with pytest.raises(TooManyRequestsException):
        seen.claim("s3", expires=10.0, now=1.0, connection=None)
    seen.claim("s3", expires=20.0, now=11.0, connection=None)          # the old ones expired and were dropped
    assert len(seen.owners) == 1


def test_the_verifier_refuses_a_replay_and_a_wrong_region():
    path = "/2015-03-31/functions/f/invocations"
    headers = {k.lower(): v for k, v in sign(KEY, "us-east-1", "POST", "h:1", path, "", {}, b"{}").items()}
    verifier = Verifier([Credentials("AKIDOTHER", "x"), KEY], "us-east-1",
                        clock=lambda: datetime.now(UTC))
    request = SignedRequest("POST", path, "", headers, b"{}")
    verifier.verify(request, verifier.precheck(headers))
    with pytest.raises(SignatureReusedException, match="Signature already used"):
        verifier.verify(request, verifier.precheck(headers))
    elsewhere = {k.lower(): v for k, v in sign(KEY, "eu-west-1", "POST", "h:1", path, "", {}, b"{}").items()}
    with pytest.raises(InvalidSignatureException, match="^Credential should be scoped to a valid region. $"):
        verifier.precheck(elsewhere)


def test_only_signed_headers_reach_the_app():
    auth = parse_authorization("AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/lambda/aws4_request, "
                               "SignedHeaders=host;x-amz-date;x-amz-log-type, Signature=00")
    headers = {"host": "h", "x-amz-date": "d", "x-amz-log-type": "Tail", "x-amz-invocation-type": "DryRun",
               "content-type": "text/plain", "content-length": "2", "user-agent": "sdk"}
    assert signed_headers_only(headers, auth) == {"host": "h", "x-amz-date": "d", "x-amz-log-type": "Tail",
                                                  "content-length": "2", "user-agent": "sdk"}


# -- Host allow-list --------------------------------------------------------------------------------------------------

def test_allowed_hosts_of_a_loopback_bind():
    hosts = AllowedHosts.for_bind("127.0.0.1", 3001)
    for good in ("127.0.0.1:3001", "localhost:3001", "LOCALHOST:3001", "[::1]:3001"):
        assert good in hosts
    for bad in ("attacker.example:3001", "attacker.example", "127.0.0.1", "127.0.0.1:3002", "", "localhost.:3001",
                "127.0.0.1.nip.io:3001"):
        assert bad not in hosts


def test_allowed_hosts_of_a_wildcard_bind_take_ip_literals_but_no_other_name():
    hosts = AllowedHosts.for_bind("0.0.0.0", 8080)
    assert "10.1.2.3:8080" in hosts and "[fe80::1]:8080" in hosts and "localhost:8080" in hosts
    assert "10.1.2.3:8081" not in hosts and "rebound.example:8080" not in hosts


def test_the_app_refuses_a_foreign_host_and_browsers_before_anything_runs(spec):
    import http.client

    s = start_server(spec)
    try:
        s.app.allowed_hosts = AllowedHosts.for_bind("127.0.0.1", s.port)       # as ``strata serve`` sets it
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
        cases = [({"Host": "attacker.example"}, 421, "MisdirectedRequestException"),
                 ({"Host": f"127.0.0.1:{s.port}", "Origin": "http://attacker.example"}, 403, "AccessDeniedException"),
                 ({"Host": f"127.0.0.1:{s.port}", "Sec-Fetch-Mode": "no-cors"}, 403, "AccessDeniedException"),
                 ({"Host": f"127.0.0.1:{s.port}", "Content-Type": "text/plain"}, 403, "AccessDeniedException"),
                 ({"Host": f"127.0.0.1:{s.port}", "Content-Type": "application/x-www-form-urlencoded"}, 403,
                  "AccessDeniedException")]
        for headers, status, code in cases:
            conn.request("POST", "/2015-03-31/functions/f/aliases", body=b'{"Name": "a", "FunctionVersion": "1"}',
                         headers=headers)
            response = conn.getresponse()
            response.read()
            assert (response.status, response.getheader("x-amzn-ErrorType")) == (status, code), headers
            assert not [h for h, _ in response.getheaders() if h.lower().startswith("access-control-")]
            if response.getheader("connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
        assert s.fake.calls == []                                            # nothing reached the service
        conn.close()
    finally:
        s.stop()


def test_the_invoke_client_signs_for_a_signed_server(spec, tmp_path):
    s = start_server(spec, verifier=Verifier(KEY, "eu-west-1"))
    try:
        access = discovery.ServerAccess(s.url, "eu-west-1", KEY)
        for _ in range(3):                                   # the same call again and again: each signed afresh
            assert invoke_via_server(access, "echo", None, b'{"n": 1}').payload == b'{"n": 1}'
        with pytest.raises(Exception, match="Missing Authentication Token"):
            invoke_via_server(s.url, "echo", None, b"{}")
    finally:
        s.stop()


# -- what a worker's SDK is given -------------------------------------------------------------------------------------

def test_a_worker_gets_the_running_servers_endpoint_and_the_homes_keys(tmp_path):
    from strata.local.runtime import sandbox

    home = Path(tmp_path)
    assert sandbox.server_environment(home) is None              # no server: the dummy pair
    pair = credentials.ensure(home)
    discovery.write(home, "127.0.0.1", 4321, region="us-east-1")
    try:
        assert sandbox.server_environment(home) == {"AWS_ACCESS_KEY_ID": pair.access_key_id,
                                                    "AWS_SECRET_ACCESS_KEY": pair.secret_access_key,
                                                    "AWS_ENDPOINT_URL_LAMBDA": "http://127.0.0.1:4321",
                                                    "AWS_ENDPOINT_URL_CODEDEPLOY": "http://127.0.0.1:4321"}
    finally:
        discovery.remove(home)
    assert sandbox.server_environment(home) is None
