"""HTTP API JWT authorizers: the checks API Gateway makes, in its order, with its answers.

From the API Gateway developer guide ("Control access to HTTP APIs with JWT authorizers", "Troubleshooting issues
with HTTP API JWT authorizers"): the identity source holds the token, bare or after ``Bearer ``; the token is decoded;
its ``kid`` must name a key of the issuer's key set and its signature must verify with an RSA algorithm; ``iss`` must
equal the configured issuer; ``aud`` must match one configured audience, or, only when ``aud`` is absent,
``client_id`` must; ``exp`` must be in the future, ``nbf`` and ``iat`` in the past; a route with authorization scopes
needs at least one of them in ``scope`` (space separated) or ``scp``. A failed check is 401 ``Unauthorized`` with a
``www-authenticate`` header naming the reason (``invalid_token``); missing scopes are 403 ``Forbidden``
(``insufficient_scope``).

Signatures are checked by joserfc (RFC 7515/7517/7519; already a dependency of moto, typed, BSD): strata writes no
cryptography of its own.
"""
from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from strata.local.gateway.jwks import JwksError, JwksSource

RSA_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")


@dataclass(frozen=True)
class JwtVerdict:
    """401 / 403 / 200, the claims as API Gateway passes them on (values as strings), the token's scopes."""
    status: int
    claims: dict[str, str] = field(default_factory=dict)
    scopes: list[str] | None = None
    www_authenticate: str | None = None
    reason: str | None = None


def _refuse(reason: str, scope: str = "") -> JwtVerdict:
    header = f'Bearer scope="{scope}" error="invalid_token" error_description="{reason}"'
    return JwtVerdict(401, www_authenticate=header, reason=reason)


def strip_bearer(value: str) -> str:
    head, _, rest = value.partition(" ")
    return rest.strip() if head.lower() == "bearer" and rest else value.strip()


def verify(value: str, *, issuer: str, audience: Sequence[str], route_scopes: Sequence[str], jwks: JwksSource,
           now: Callable[[], float]) -> JwtVerdict:
    """Check the identity source ``value`` as an HTTP API JWT authorizer would (module docstring)."""
    from joserfc import jwt  # imported on first use (see jwks)
    from joserfc.errors import JoseError

    token_text = strip_bearer(value)
    try:
        header = _header(token_text)
    except ValueError:
        return _refuse("the token is malformed")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        return _refuse("the token does not have a kid")
    if header.get("alg") not in RSA_ALGORITHMS:
        return _refuse("the token is signed with an unsupported algorithm")
    try:
        keys = jwks.keys(issuer, kid=kid)
    except JwksError as exc:
        return _refuse(f"the signing keys are unavailable: {exc}")
    try:
        token = jwt.decode(token_text, keys, algorithms=list(RSA_ALGORITHMS))
    except JoseError:
        return _refuse("signing method or key is invalid" if _has_kid(keys, kid)
                       else "the token's kid does not match a key of the issuer")
    claims: dict[str, Any] = dict(token.claims)
    if str(claims.get("iss", "")).rstrip("/") != issuer.rstrip("/"):
        return _refuse("the token does not have a valid issuer")
    if not _audience_ok(claims, audience):
        return _refuse("the token does not have a valid audience")
    clock = now()
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool) or clock >= float(exp):
        return _refuse("the token has expired")
    for name in ("nbf", "iat"):
        value_ = claims.get(name)
        if value_ is not None and (not _number(value_) or clock < float(value_)):
            return _refuse(f"the token is not valid yet ({name} is in the future)")
    scopes = token_scopes(claims)
    if route_scopes and not set(route_scopes) & set(scopes):
        wanted = " ".join(route_scopes)
        header_ = f'Bearer scope="{wanted}" error="insufficient_scope" error_description="expected scopes: {wanted}"'
        return JwtVerdict(403, www_authenticate=header_, reason="the token lacks the route's scopes")
    return JwtVerdict(200, claims=stringify_claims(claims), scopes=scopes if route_scopes else None)


def token_scopes(claims: Mapping[str, Any]) -> list[str]:
    """``scope`` (RFC 6749: space separated) or ``scp`` (a list or a string)."""
    raw = claims.get("scope", claims.get("scp"))
    if isinstance(raw, str):
        return raw.split()
    if isinstance(raw, list):
        return [str(s) for s in raw]
    return []


def stringify_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as API Gateway hands them to the integration: every value a string; a number in plain notation, a
    list as ``[a b]`` (its Go-style rendering, as seen in recorded events)."""
    return {name: _claim_text(value) for name, value in claims.items()}


def _claim_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return "[" + " ".join(_claim_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_claim_text(v)}" for k, v in value.items()) + "]"
    return str(value)


def _audience_ok(claims: Mapping[str, Any], audience: Sequence[str]) -> bool:
    aud = claims.get("aud")
    if aud is None:
        client_id = claims.get("client_id")
        return isinstance(client_id, str) and client_id in audience
    values = aud if isinstance(aud, list) else [aud]
    return any(isinstance(v, str) and v in audience for v in values)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _has_kid(keys: Any, kid: str) -> bool:
    return any(getattr(key, "kid", None) == kid for key in getattr(keys, "keys", ()))


def _header(token_text: str) -> dict[str, Any]:
    """The JOSE header without verifying anything (to pick the key and check the algorithm first)."""
    parts = token_text.split(".")
    if len(parts) != 3:
        raise ValueError("not a JWS compact serialization")
    head = parts[0]
    raw = base64.urlsafe_b64decode(head + "=" * (-len(head) % 4))
    parsed = json.loads(raw)
    if not isinstance(parsed, dict):
        raise ValueError("JOSE header is not an object")
    return parsed
