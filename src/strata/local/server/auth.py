"""AWS SigV4 verification for a server bound beyond loopback.

The check re-signs the request as received (method, raw path, raw query, the headers the client listed in
``SignedHeaders``, the body) with botocore's ``SigV4Auth`` and the server's own secret, then compares signatures in
constant time. The clock may differ from the client's by at most ``MAX_SKEW`` (AWS allows 5 minutes). Failures are
AWS's errors and texts: no ``Authorization`` -> MissingAuthenticationTokenException, unknown access key ->
UnrecognizedClientException, expired or wrong signature -> InvalidSignatureException (all 403).
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from strata.local.server.errors import (
    MISSING_TOKEN,
    SIGNATURE_MISMATCH,
    UNRECOGNIZED_CLIENT,
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnrecognizedClientException,
)

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = timedelta(minutes=5)
_STAMP = "%Y%m%dT%H%M%SZ"
_PARAM = re.compile(r"(\w+)=([^,\s]*)")


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str


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
    """Checks requests against one key pair; ``clock`` is injectable for the skew tests."""

    def __init__(self, credentials: Credentials, service: str = "lambda",
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.credentials = credentials
        self.service = service
        self.clock = clock

    def precheck(self, headers: dict[str, str]) -> Authorization:
        """Everything that does not need the body: header present and well formed, key known, clock in range."""
        auth = parse_authorization(headers.get("authorization"))
        if not hmac.compare_digest(auth.access_key_id.encode(), self.credentials.access_key_id.encode()):
            raise UnrecognizedClientException(UNRECOGNIZED_CLIENT)
        stamp = headers.get("x-amz-date")
        if stamp is None:
            raise IncompleteSignatureException(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
        try:
            sent = datetime.strptime(stamp, _STAMP).replace(tzinfo=UTC)
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
        return auth

    def verify(self, request: SignedRequest, auth: Authorization) -> None:
        """Re-sign ``request`` and compare with the client's signature."""
        declared = request.headers.get("x-amz-content-sha256")
        if declared is not None and declared != hashlib.sha256(request.body).hexdigest():
            raise InvalidSignatureException(SIGNATURE_MISMATCH)
        if not hmac.compare_digest(self.sign(request, auth).encode(), auth.signature.encode()):
            raise InvalidSignatureException(SIGNATURE_MISMATCH)

    def sign(self, request: SignedRequest, auth: Authorization) -> str:
        """The signature AWS would compute for ``request`` with this server's secret."""
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials as BotoCredentials

        host = request.headers.get("host", "")
        url = f"http://{host}{request.raw_path}" + (f"?{request.raw_query}" if request.raw_query else "")
        headers = {name: request.headers[name] for name in auth.signed_headers if name in request.headers}
        aws_request = AWSRequest(method=request.method, url=url, headers=headers, data=request.body)
        aws_request.context["timestamp"] = request.headers["x-amz-date"]
        aws_request.context["signed_headers"] = auth.signed_headers
        signer = _signer_class()(BotoCredentials(self.credentials.access_key_id, self.credentials.secret_access_key),
                                 auth.service, auth.region)
        canonical = signer.canonical_request(aws_request)
        return signer.signature(signer.string_to_sign(aws_request, canonical), aws_request)


@functools.lru_cache(maxsize=1)
def _signer_class() -> type:
    """botocore's ``SigV4Auth``, signing exactly the headers the client listed (botocore would choose its own)."""
    from botocore.auth import SigV4Auth
    from botocore.compat import HTTPHeaders

    class ExactHeadersSigV4Auth(SigV4Auth):
        def headers_to_sign(self, request):  # noqa: ANN001, ANN202 - botocore's signature
            chosen = HTTPHeaders()
            for name in request.context["signed_headers"]:
                chosen[name] = request.headers.get(name, "")
            return chosen

    return ExactHeadersSigV4Auth


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
