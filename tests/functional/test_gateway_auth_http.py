"""Authorizers through the local API Gateway with real HTTP: examples/api-authorizer deployed and served.

The authorizer function (examples/api-authorizer/src/authorizer) appends a line to ``CountFile`` per invocation, so
the cache tests count real invocations. Expected answers follow the API Gateway Developer Guide (see
tests/unit/local/gateway/test_gateway_authorizers.py and tests/data/gateway_auth/SOURCE.md).
"""
from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from deploy_helpers import ROOT, strata
from gateway_helpers import Reply, api_url, request
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from strata_testkit import start_serve, stop_serve

pytestmark = pytest.mark.slow

EXAMPLE = ROOT / "examples" / "api-authorizer"
ISSUER = "https://issuer.example"
KEY = RSAKey.generate_key(2048, parameters={"kid": "test-key", "alg": "RS256", "use": "sig"})


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("authorizers")
    app, home = root / "authapp", root / "home"
    shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns(".strata", "__pycache__"))
    count = root / "authorizer-calls.txt"
    count.write_text("")
    jwks = root / "jwks.json"
    jwks.write_text(json.dumps(KeySet([KEY]).as_dict(private=False)))
    strata(app, home, "deploy", "--parameter-overrides", f"CountFile={count}", timeout=300)
    process = start_serve_with(home, jwks)
    try:
        yield {"rest": api_url(home, "authapp", "Api", "dev"), "http": api_url(home, "authapp", "Http", "$default"),
               "count": count}
    finally:
        stop_serve(process)


def start_serve_with(home: Path, jwks: Path) -> Any:
    import os

    previous = os.environ.get("STRATA_JWKS")
    os.environ["STRATA_JWKS"] = f"{ISSUER}={jwks}"
    try:
        return start_serve(home)
    finally:
        if previous is None:
            del os.environ["STRATA_JWKS"]
        else:
            os.environ["STRATA_JWKS"] = previous


def calls(served: dict[str, Any]) -> int:
    return len(Path(served["count"]).read_text().splitlines())


def get(served: dict[str, Any], api: str, path: str, **headers: str) -> Reply:
    return request(served[api] + path, headers=headers)


def body(reply: Reply) -> Any:
    return json.loads(reply.body)


# ------------------------------------------------------------------------------------------------- REST, TOKEN

def test_token_allow_reaches_the_handler_with_the_authorizers_context(served: dict[str, Any]) -> None:
    reply = get(served, "rest", "/hello", Authorization="Bearer allow-ann")
    assert reply.status == 200, reply.body
    authorizer = body(reply)["authorizer"]
    assert authorizer["principalId"] == "ann"
    assert (authorizer["user"], authorizer["plan"], authorizer["verified"]) == ("ann", "free", True)
    assert isinstance(authorizer["integrationLatency"], int)


def test_token_deny_is_403_explicit_deny(served: dict[str, Any]) -> None:
    reply = get(served, "rest", "/hello", Authorization="Bearer deny")
    assert reply.status == 403
    assert body(reply) == {"Message": "User is not authorized to access this resource with an explicit deny"}


def test_missing_or_malformed_token_is_401_without_invoking(served: dict[str, Any]) -> None:
    before = calls(served)
    assert get(served, "rest", "/hello").status == 401
    reply = get(served, "rest", "/hello", Authorization="Basic abc")      # fails the ValidationExpression
    assert (reply.status, body(reply)) == (401, {"message": "Unauthorized"})
    assert calls(served) == before


def test_authorizer_raising_unauthorized_is_401(served: dict[str, Any]) -> None:
    reply = get(served, "rest", "/hello", Authorization="Bearer unauthorized")
    assert (reply.status, body(reply)) == (401, {"message": "Unauthorized"})


def test_token_answers_are_cached_for_the_ttl(served: dict[str, Any]) -> None:
    token = f"Bearer allow-cache{time.monotonic_ns()}"
    before = calls(served)
    for _ in range(3):
        assert get(served, "rest", "/hello", Authorization=token).status == 200
    assert calls(served) == before + 1                  # ReauthorizeEvery: 300 -> one invocation
    deny = "Bearer deny"
    get(served, "rest", "/hello", Authorization=deny)
    mid = calls(served)
    assert get(served, "rest", "/hello", Authorization=deny).status == 403
    assert calls(served) == mid                         # a cached Deny


def test_route_without_authorizer_is_open(served: dict[str, Any]) -> None:
    assert get(served, "rest", "/public").status == 200


# ----------------------------------------------------------------------------------------------- REST, REQUEST

def test_request_authorizer_sees_headers_and_query_and_is_not_cached(served: dict[str, Any]) -> None:
    before = calls(served)
    for _ in range(2):
        reply = get(served, "rest", "/tenant?tenant=acme", **{"X-User": "allow-bob"})
        assert reply.status == 200, reply.body
        assert body(reply)["authorizer"]["tenant"] == "acme"
    assert calls(served) == before + 2                  # ReauthorizeEvery: 0
    assert get(served, "rest", "/tenant?tenant=blocked", **{"X-User": "allow-bob"}).status == 403
    assert get(served, "rest", "/tenant", **{"X-User": "allow-bob"}).status == 401     # identity source missing


# ------------------------------------------------------------------------------------- HTTP API, Lambda and JWT

def test_http_lambda_authorizer_simple_responses(served: dict[str, Any]) -> None:
    reply = get(served, "http", "/hello", Authorization="allow-cy")
    assert reply.status == 200, reply.body
    assert body(reply)["authorizer"] == {"lambda": {"user": "cy", "plan": "free", "verified": True}}
    denied = get(served, "http", "/hello", Authorization="nope")
    assert (denied.status, body(denied)) == (403, {"message": "Forbidden"})
    assert get(served, "http", "/hello").status == 401


def token(**claims: Any) -> str:
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": "example-app", "sub": "user-7", "exp": now + 600, "iat": now - 5,
               "scope": "hello.read"}
    payload.update(claims)
    return "Bearer " + jwt.encode({"alg": "RS256", "kid": "test-key"}, payload, KEY)


def test_jwt_valid_token_passes_its_claims(served: dict[str, Any]) -> None:
    reply = get(served, "http", "/jwt", Authorization=token())
    assert reply.status == 200, reply.body
    claims = body(reply)["authorizer"]["jwt"]["claims"]
    assert claims["sub"] == "user-7" and claims["iss"] == ISSUER
    assert body(reply)["authorizer"]["jwt"]["scopes"] == ["hello.read"]


@pytest.mark.parametrize("claims,status,reason", [
    ({"exp": int(time.time()) - 60}, 401, "expired"),
    ({"aud": "another-app"}, 401, "valid audience"),
    ({"scope": "hello.write"}, 403, "insufficient_scope"),
])
def test_jwt_refusals(served: dict[str, Any], claims: dict[str, Any], status: int, reason: str) -> None:
    reply = get(served, "http", "/jwt", Authorization=token(**claims))
    assert reply.status == status, reply.body
    assert reason in reply.headers.get("www-authenticate", "")


def test_strata_dev_takes_the_jwks_too(tmp_path: Path) -> None:
    """``strata dev --jwks ISSUER=PATH``: the JWT route of the app it serves accepts a token signed by that key and
    refuses one for another audience (as ``strata serve --jwks`` does)."""
    import os
    import signal
    import subprocess
    import sys

    app = tmp_path / "devauth"
    shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns(".strata", "__pycache__"))
    jwks, count, err_path = tmp_path / "jwks.json", tmp_path / "calls.txt", tmp_path / "dev.err"
    jwks.write_text(json.dumps(KeySet([KEY]).as_dict(private=False)))
    count.write_text("")
    env = {k: v for k, v in os.environ.items() if k not in ("STRATA_HOME", "STRATA_JWKS")}
    with open(err_path, "w") as err:
        process = subprocess.Popen([sys.executable, "-m", "strata.cli.main", "dev", "--port", "0",
                                    "--jwks", f"{ISSUER}={jwks}", "--parameter-overrides", f"CountFile={count}"],
                                   cwd=app, env=env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 300
        while "Ctrl+C stops" not in err_path.read_text():
            assert process.poll() is None and time.monotonic() < deadline, err_path.read_text()
            time.sleep(0.05)
        url = api_url(app / ".strata", "devauth", "Http", "$default")
        reply = request(url + "/jwt", headers={"Authorization": token()})
        assert reply.status == 200, reply.body
        assert request(url + "/jwt", headers={"Authorization": token(aud="another-app")}).status == 401
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
