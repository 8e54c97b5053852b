"""HTTP API JWT authorizers against a local JWKS.

The checks and answers follow the API Gateway Developer Guide, "Control access to HTTP APIs with JWT authorizers"
(kid, RSA signature, iss, aud or client_id, exp, nbf, scope/scp) and "Troubleshooting issues with HTTP API JWT
authorizers" (401 ``{"message":"Unauthorized"}`` with ``www-authenticate: Bearer scope="" error="invalid_token"
error_description="the token does not have a valid audience"``; client_id only when aud is absent).
"""
from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey

from strata.local.gateway.authorizers import Authorizers, AuthorizerSpec, AuthRequest
from strata.local.gateway.jwks import JwksError, JwksSource, check_location, parse_entries

ISSUER = "https://issuer.example"
NOW = 1_700_000_000.0
SPEC = AuthorizerSpec(name="Jwt", kind="JWT", api_kind="HTTP", identity_sources=("$request.header.Authorization",),
                      jwt_issuer=ISSUER, jwt_audience=("aud1", "aud2"))
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1", "alg": "RS256", "use": "sig"})
OTHER = RSAKey.generate_key(2048, parameters={"kid": "k1", "alg": "RS256", "use": "sig"})


@pytest.fixture()
def jwks(tmp_path: Path) -> JwksSource:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(KeySet([KEY]).as_dict(private=False)))
    return JwksSource({ISSUER: str(path)})


def token(claims: dict[str, Any] | None = None, *, key: Any = KEY, header: dict[str, Any] | None = None,
          **extra: Any) -> str:
    body = {"iss": ISSUER, "aud": "aud1", "exp": NOW + 600, "iat": NOW - 10, "sub": "user-1",
            "scope": "read write"}
    body.update(claims or {})
    for name, value in extra.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    return jwt.encode(header or {"alg": "RS256", "kid": "k1"}, body, key)


def request(auth: str | None, scopes: tuple[str, ...] = (), version: str = "2.0") -> AuthRequest:
    headers = {} if auth is None else {"Authorization": auth}
    return AuthRequest(method="GET", path="/j", resource="GET /j", headers=headers, multi_value_headers={},
                       query={}, multi_value_query={}, path_params={}, stage="$default", stage_variables={},
                       source_ip="127.0.0.1", request_id="r", arn="arn:aws:execute-api:us-east-1:1:a/$default/GET/j",
                       api_kind="HTTP", payload_version=version, authorization_scopes=scopes)


async def _never(arn: str, payload: bytes) -> Any:
    raise AssertionError("a JWT authorizer invokes no function")


def check(jwks: JwksSource, req: AuthRequest) -> Any:
    return asyncio.run(Authorizers(_never, jwks, wall_clock=lambda: NOW).check(SPEC, req))


def test_valid_token_passes_claims_as_strings_under_jwt(jwks: JwksSource) -> None:
    out = check(jwks, request("Bearer " + token(groups=["admin", "dev"])))
    assert out.status == 200
    claims = out.context["jwt"]["claims"]
    assert claims["sub"] == "user-1" and claims["aud"] == "aud1"
    assert claims["exp"] == str(int(NOW + 600)) and claims["groups"] == "[admin dev]"
    assert out.context["jwt"]["scopes"] is None           # the route asks for no scopes


def test_token_without_bearer_prefix_and_payload_1_0_context(jwks: JwksSource) -> None:
    out = check(jwks, request(token(), version="1.0"))
    assert out.status == 200 and set(out.context) == {"claims", "scopes"}


@pytest.mark.parametrize("make,reason", [
    (lambda: token(exp=NOW - 1), "expired"),
    (lambda: token(exp=None), "expired"),
    (lambda: token(aud="someone-else"), "valid audience"),
    (lambda: token(iss="https://evil.example"), "valid issuer"),
    (lambda: token(nbf=NOW + 60), "not valid yet"),
    (lambda: token(key=OTHER), "signing method or key is invalid"),
    (lambda: token(header={"alg": "RS256"}), "kid"),
    (lambda: token(header={"alg": "RS256", "kid": "unknown"}), "kid"),
    (lambda: jwt.encode({"alg": "HS256", "kid": "k1"}, {"iss": ISSUER}, OctKey.generate_key(256)), "algorithm"),
    (lambda: "not.a.jwt", "malformed"),
])
def test_invalid_tokens_are_401_with_the_reason(jwks: JwksSource, make: Any, reason: str) -> None:
    out = check(jwks, request("Bearer " + make()))
    assert (out.status, json.loads(out.message)) == (401, {"message": "Unauthorized"})
    assert out.headers["www-authenticate"].startswith('Bearer scope="" error="invalid_token"')
    assert reason in out.headers["www-authenticate"]


def test_missing_identity_source_is_401(jwks: JwksSource) -> None:
    assert check(jwks, request(None)).status == 401


def test_client_id_counts_only_when_aud_is_absent(jwks: JwksSource) -> None:
    assert check(jwks, request(token(aud=None, client_id="aud2"))).status == 200
    assert check(jwks, request(token(aud="x", client_id="aud2"))).status == 401
    assert check(jwks, request(token(aud=["x", "aud2"]))).status == 200


def test_route_scopes_need_one_match_in_scope_or_scp(jwks: JwksSource) -> None:
    ok = check(jwks, request(token(), scopes=("read",)))
    assert ok.status == 200 and ok.context["jwt"]["scopes"] == ["read", "write"]
    assert check(jwks, request(token(scope=None, scp=["admin"]), scopes=("admin", "x"))).status == 200
    missing = check(jwks, request(token(), scopes=("admin",)))
    assert (missing.status, json.loads(missing.message)) == (403, {"message": "Forbidden"})
    assert 'error="insufficient_scope"' in missing.headers["www-authenticate"]


def test_issuer_without_jwks_is_refused_and_never_fetched() -> None:
    fetched: list[str] = []
    source = JwksSource({}, fetch=lambda url: fetched.append(url) or b"")
    out = check(source, request(token()))
    assert out.status == 401 and "--jwks" in out.headers["www-authenticate"]
    assert fetched == []


def test_loopback_issuer_is_discovered_locally() -> None:
    issuer = "http://127.0.0.1:9999/pool"
    docs = {issuer + "/.well-known/openid-configuration": json.dumps({"jwks_uri": "http://127.0.0.1:9999/keys"}),
            "http://127.0.0.1:9999/keys": json.dumps(KeySet([KEY]).as_dict(private=False))}
    source = JwksSource({}, fetch=lambda url: docs[url].encode())
    spec = AuthorizerSpec(name="J", kind="JWT", api_kind="HTTP", identity_sources=("$request.header.Authorization",),
                          jwt_issuer=issuer, jwt_audience=("aud1",))
    out = asyncio.run(Authorizers(_never, source, wall_clock=lambda: NOW).check(
        spec, request(token(iss=issuer))))
    assert out.status == 200


def test_jwks_file_is_reread_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    path.write_text(json.dumps(KeySet([OTHER]).as_dict(private=False)))
    source = JwksSource({ISSUER: f"file://{path}"})
    assert check(source, request(token())).status == 401
    path.write_text(json.dumps(KeySet([KEY]).as_dict(private=False)) + " ")
    import os
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert check(source, request(token())).status == 200


def test_jwks_locations_must_be_local() -> None:
    assert parse_entries(["https://i.example/=./jwks.json"]) == {"https://i.example": "./jwks.json"}
    assert check_location("http://localhost:8000/keys") == "http://localhost:8000/keys"
    assert check_location("http://[::1]:8000/keys") == "http://[::1]:8000/keys"
    with pytest.raises(ValueError, match="not local"):
        parse_entries(["https://i.example=https://i.example/.well-known/jwks.json"])
    with pytest.raises(ValueError, match="ISSUER=LOCATION"):
        parse_entries(["just-a-path.json"])


def test_from_settings_reads_the_environment_and_the_option_wins(tmp_path: Path) -> None:
    source = JwksSource.from_settings(["https://a=/opt/a.json"], {"STRATA_JWKS": "https://a=/env/a.json "
                                                                                  "https://b=/env/b.json"})
    assert source.configured("https://a") and source.configured("https://b/")
    assert not source.configured("https://c")
    with pytest.raises(JwksError, match="JWKS file /opt/a.json"):
        source.keys("https://a")


def test_malformed_jwks_file_is_401_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{}")
    out = check(JwksSource({ISSUER: str(path)}), request(token()))
    assert out.status == 401 and "bad.json" in out.headers["www-authenticate"]
