"""AWS SigV4 on every request to ``strata serve`` (loopback too): the verifier, and the signer strata's own clients use.

The check re-signs the request as received (method, raw path, raw query, the headers the client listed in
``SignedHeaders``, the body) as botocore's ``SigV4Auth`` would, with the server's own secret, then compares signatures
in constant time. The clock may differ from the client's by at most ``MAX_SKEW`` (AWS allows 5 minutes). The scope must
name the server's region. Failures are AWS's errors and texts: no ``Authorization`` ->
MissingAuthenticationTokenException, unknown access key -> UnrecognizedClientException, expired or wrong signature,
wrong region -> InvalidSignatureException (all 403).

Beyond what AWS checks (AWS has TLS; this server speaks plain HTTP, so a signed request can be seen and sent again):
- a signature is accepted once: a repeat within its validity (``SeenSignatures``) is refused, unless it comes on the
  very connection that first used it (the same client sending the same request twice within one second, which SigV4's
  one-second timestamps make identical; injecting into someone else's TCP stream takes more than seeing it). The
  refusal is a 429 (``SignatureReusedException``): two clients sending the same request in the same second sign it
  alike too, and an SDK retries a 429 a moment later, signed afresh;
- the app acts only on signed headers (``signed_headers_only``): an unsigned header added in transit is ignored.
"""
from __future__ import annotations

import functools
import hashlib
import heapq
import hmac
import ipaddress
import re
import socket
import uuid
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from strata.local.credentials import Credentials
from strata.local.server.errors import (
    MISSING_TOKEN,
    SIGNATURE_MISMATCH,
    UNRECOGNIZED_CLIENT,
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    SignatureReusedException,
    UnrecognizedClientException,
)
from strata.model.lambda_errors import TooManyRequestsException

__all__ = ["AllowedHosts", "Authorization", "Credentials", "SignedRequest", "Verifier", "parse_authorization", "sign",
           "signed_headers_only"]

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = timedelta(minutes=5)
_STAMP = "%Y%m%dT%H%M%SZ"
_PARAM = re.compile(r"(\w+)=([^,\s]*)")

SEEN_LIMIT = 200_000        # signatures remembered at once (~40 MB); past it, requests wait (429) for some to expire
REPLAYED = ("Signature already used: a signed request is taken once (a request sent again is refused). Retry: "
            "signed afresh a second later, it is new.")
WRONG_REGION = "Credential should be scoped to a valid region. "
# headers the app may see unsigned: HTTP framing and what SigV4 clients leave unsigned; none changes what a request does
_UNSIGNED_OK = frozenset({"authorization", "host", "content-length", "transfer-encoding", "connection", "expect",
                          "user-agent", "accept", "accept-encoding", "x-amzn-trace-id", "amz-sdk-invocation-id",
                          "amz-sdk-request", "x-amz-content-sha256"})


@dataclass(frozen=True)
class SignedRequest:
    """What the verifier needs to re-sign a request; header names lower-cased, path and query as sent."""

    method: str
    raw_path: str
    raw_query: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Authorization:
    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


class Verifier:
    """Checks requests against the server's key pairs (the home's, and an operator's override) for one region;
    ``clock`` is injectable for the skew tests."""

    def __init__(self, credentials: Credentials | Iterable[Credentials], region: str, service: str = "lambda",
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), seen_limit: int = SEEN_LIMIT) -> None:
        pairs = [credentials] if isinstance(credentials, Credentials) else list(credentials)
        if not pairs:
            raise ValueError("a verifier needs at least one key pair")
        self.keys = pairs
        self.region = region
        self.service = service
        self.clock = clock
        self.seen = SeenSignatures(seen_limit)

    def _secret(self, access_key_id: str) -> Credentials | None:
        found = None
        for pair in self.keys:           # every pair compared, in constant time each
            if hmac.compare_digest(access_key_id.encode(), pair.access_key_id.encode()):
                found = pair
        return found

    def precheck(self, headers: dict[str, str]) -> Authorization:
        """Everything that does not need the body: header present and well formed, key known, clock in range,
        the scope this server's region and service."""
        auth = parse_authorization(headers.get("authorization"))
        if self._secret(auth.access_key_id) is None:
            raise UnrecognizedClientException(UNRECOGNIZED_CLIENT)
        stamp = headers.get("x-amz-date")
        if stamp is None:
            raise IncompleteSignatureException(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
        try:
            sent = _parse_stamp(stamp)
        except ValueError:
            raise IncompleteSignatureException(f"Date must be in ISO-8601 'basic format'. Got '{stamp}'.") from None
        now = self.clock()
        if sent < now - MAX_SKEW:
            raise InvalidSignatureException(
                f"Signature expired: {stamp} is now earlier than {(now - MAX_SKEW).strftime(_STAMP)} "
                f"({now.strftime(_STAMP)} - 5 min.)")
        if sent > now + MAX_SKEW:
            raise InvalidSignatureException(
                f"Signature not yet current: {stamp} is still later than {(now + MAX_SKEW).strftime(_STAMP)} "
                f"({now.strftime(_STAMP)} + 5 min.)")
        if auth.date != stamp[:8]:
            raise InvalidSignatureException(
                f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                f"'{auth.date}' != '{stamp[:8]}', from '{stamp}'.")
        if auth.service != self.service:
            raise InvalidSignatureException(f"Credential should be scoped to correct service: '{self.service}'. ")
        if auth.region != self.region:
            raise InvalidSignatureException(WRONG_REGION)
        return auth

    def verify(self, request: SignedRequest, auth: Authorization, connection: object | None = None) -> None:
        """Re-sign ``request`` and compare with the client's signature; then claim the signature (a replay from
        anywhere but ``connection``, the one that first used it, is refused)."""
        declared = request.headers.get("x-amz-content-sha256")
        if declared is not None and declared != hashlib.sha256(request.body).hexdigest():
            raise InvalidSignatureException(SIGNATURE_MISMATCH)
        if not hmac.compare_digest(self.sign(request, auth).encode(), auth.signature.encode()):
            raise InvalidSignatureException(SIGNATURE_MISMATCH)
        sent = _parse_stamp(request.headers["x-amz-date"])      # precheck parsed it: cached
        self.seen.claim(auth.signature, (sent + MAX_SKEW).timestamp(), self.clock().timestamp(), connection)

    def sign(self, request: SignedRequest, auth: Authorization) -> str:
        """The signature AWS would compute for ``request`` with this server's secret."""
        pair = self._secret(auth.access_key_id)
        if pair is None:
            raise UnrecognizedClientException(UNRECOGNIZED_CLIENT)
        headers = request.headers
        names = sorted(set(auth.signed_headers))
        canonical = "".join(f"{name}:{' '.join(headers.get(name, '').split())}\n" for name in names)
        return _signature(pair.secret_access_key, headers["x-amz-date"], auth.region, auth.service, request.method,
                          request.raw_path, request.raw_query, canonical, ";".join(names),
                          hashlib.sha256(request.body).hexdigest())


@dataclass(frozen=True)
class AllowedHosts:
    """The ``Host`` values the server answers to: what a client of the address it listens on sends. A web page that
    had a DNS name of its own resolve to 127.0.0.1 (DNS rebinding) sends that name, and is refused. On a wildcard
    bind, this machine's names and any IP address literal (a literal cannot be rebound), with the port."""

    names: frozenset[str]          # as sent, lower case, with the port
    port: int
    any_literal: bool = False

    @classmethod
    def for_bind(cls, host: str, port: int) -> AllowedHosts:
        names = {"127.0.0.1", "localhost", "[::1]"}
        wildcard = host in ("0.0.0.0", "::", "")
        if wildcard:
            names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
        else:
            names.add(f"[{host}]" if ":" in host else host.lower())
        values = {f"{name}:{port}" for name in names} | (names if port == 80 else set())
        return cls(frozenset(values), port, wildcard)

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, str):
            return False
        value = value.lower()
        if value in self.names:
            return True
        if not self.any_literal:
            return False
        name, _, port = value.rpartition(":")
        if port != str(self.port):
            return False
        try:
            ipaddress.ip_address(name[1:-1] if name.startswith("[") and name.endswith("]") else name)
        except ValueError:
            return False
        return True

    def __str__(self) -> str:
        return ", ".join(sorted(self.names)) + (f", or an IP address with :{self.port}" if self.any_literal else "")


class SeenSignatures:
    """Signatures accepted and not yet expired (bounded): each may be used once, or again on its first connection.

    Only the event loop's thread calls ``claim`` (the app verifies there), so no lock."""

    def __init__(self, limit: int = SEEN_LIMIT) -> None:
        self.limit = limit
        self.owners: dict[str, weakref.ref | None] = {}     # signature -> its first connection
        self.expiries: list[tuple[float, str]] = []          # heap: when each signature stops being valid anyway

    def claim(self, signature: str, expires: float, now: float, connection: object | None) -> None:
        """Raise ``SignatureReusedException`` for a replay, ``TooManyRequestsException`` when full."""
        expiries, owners = self.expiries, self.owners
        while expiries and expiries[0][0] < now:
            owners.pop(heapq.heappop(expiries)[1], None)
        if signature in owners:
            owner = owners[signature]
            if connection is None or owner is None or owner() is not connection:
                raise SignatureReusedException(REPLAYED)
            return
        if len(owners) >= self.limit:
            raise TooManyRequestsException("Too many signed requests in the last 5 minutes; retry shortly.")
        owners[signature] = weakref.ref(connection) if connection is not None else None
        heapq.heappush(expiries, (expires, signature))


def signed_headers_only(headers: dict[str, str], auth: Authorization) -> dict[str, str]:
    """``headers`` without any the signature does not cover (framing aside): what the app may act on."""
    signed = auth.signed_headers
    return {name: value for name, value in headers.items() if name in signed or name in _UNSIGNED_OK}


def sign(credentials: Credentials, region: str, method: str, host: str, raw_path: str, raw_query: str,
         headers: dict[str, str], body: bytes, *, service: str = "lambda",
         now: datetime | None = None) -> dict[str, str]:
    """``headers`` plus ``Host``, ``X-Amz-Date``, a unique ``Amz-Sdk-Invocation-Id`` (so no two requests share a
    signature) and the SigV4 ``Authorization`` over all of them (no botocore import: ``strata invoke`` stays quick
    to start). ``raw_path``/``raw_query`` as they go on the wire."""
    stamp = (now or datetime.now(UTC)).strftime(_STAMP)
    out = {**headers, "Host": host, "X-Amz-Date": stamp, "Amz-Sdk-Invocation-Id": str(uuid.uuid4())}
    values = {name.lower(): " ".join(value.split()) for name, value in out.items()}
    names = sorted(values)
    signature = _signature(credentials.secret_access_key, stamp, region, service, method, raw_path, raw_query,
                           "".join(f"{name}:{values[name]}\n" for name in names), ";".join(names),
                           hashlib.sha256(body).hexdigest())
    out["Authorization"] = (f"{ALGORITHM} Credential={credentials.access_key_id}/{stamp[:8]}/{region}/{service}/"
                            f"aws4_request, SignedHeaders={';'.join(names)}, Signature={signature}")
    return out


def _signature(secret: str, stamp: str, region: str, service: str, method: str, raw_path: str, raw_query: str,
               canonical_headers: str, signed_headers: str, payload_hash: str) -> str:
    """SigV4's signature, canonicalized as botocore's ``SigV4Auth`` does for a non-S3 service (path without dot
    segments or repeated slashes, percent-encoded again; query pairs sorted as sent). No botocore: it took ~0.5 ms a
    request, three times a warm Invoke."""
    query = "&".join(f"{k}={v}" for k, v in sorted(pair.partition("=")[::2] for pair in raw_query.split("&"))) \
        if raw_query else ""
    request = "\n".join([method.upper(), quote(_without_dot_segments(raw_path), safe="/~"), query, canonical_headers,
                         signed_headers, payload_hash])
    scope = f"{stamp[:8]}/{region}/{service}/aws4_request"
    to_sign = f"{ALGORITHM}\n{stamp}\n{scope}\n{hashlib.sha256(request.encode()).hexdigest()}"
    return hmac.new(_signing_key(secret, stamp[:8], region, service), to_sign.encode(), hashlib.sha256).hexdigest()


@functools.lru_cache(maxsize=256)
def _parse_stamp(stamp: str) -> datetime:
    """``X-Amz-Date`` as a time (a client sends the same one for a whole second: ``strptime`` is slow)."""
    return datetime.strptime(stamp, _STAMP).replace(tzinfo=UTC)


@functools.lru_cache(maxsize=64)
def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _without_dot_segments(path: str) -> str:
    """botocore's ``normalize_url_path``: RFC 3986 dot segments removed, empty segments dropped."""
    if not path:
        return "/"
    if "/." not in path and "//" not in path:
        return path
    kept: list[str] = []
    for part in path.split("/"):
        if part == "..":
            if kept:
                kept.pop()
        elif part and part != ".":
            kept.append(part)
    return ("/" if path[0] == "/" else "") + "/".join(kept) + ("/" if path[-1] == "/" and kept else "")


def parse_authorization(value: str | None) -> Authorization:
    """``AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/lambda/aws4_request, SignedHeaders=..., Signature=...``."""
    if not value:
        raise MissingAuthenticationTokenException(MISSING_TOKEN)
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise IncompleteSignatureException(
            f"Unsupported signature algorithm '{algorithm}': only {ALGORITHM} is accepted.")
    params = dict(_PARAM.findall(rest))
    missing = [f"Authorization header requires '{name}' parameter."
               for name in ("Credential", "Signature", "SignedHeaders") if name not in params]
    if missing:
        raise IncompleteSignatureException(" ".join(missing) + f" Authorization={value}")
    scope = params["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise IncompleteSignatureException(
            f"Credential should be scoped to a valid region, service and terminated by 'aws4_request'. "
            f"Got '{params['Credential']}'.")
    return Authorization(access_key_id=scope[0], date=scope[1], region=scope[2], service=scope[3],
                         signed_headers=tuple(params["SignedHeaders"].lower().split(";")),
                         signature=params["Signature"])
