"""CORS as API Gateway applies it. HTTP APIs and function URLs (``CorsConfiguration``/``Cors``): the gateway answers
a preflight itself and adds the allow headers to every response to an allowed origin; an origin that is not allowed
gets no CORS headers, so the browser blocks the read. REST APIs: SAM's ``Cors`` is a mock OPTIONS method answering
the preflight with fixed headers; other responses carry only what the function returns (as on AWS, a Lambda proxy
function adds its own ``Access-Control-Allow-Origin``)."""
from __future__ import annotations

from strata.local.gateway.model import Cors

Headers = list[tuple[str, str]]


def origin_allowed(cors: Cors, origin: str) -> bool:
    return "*" in cors.allow_origins or origin in cors.allow_origins


def is_preflight(method: str, headers: dict[str, str]) -> bool:
    return method == "OPTIONS" and "origin" in headers and "access-control-request-method" in headers


def preflight(cors: Cors, headers: dict[str, str]) -> Headers:
    """The headers of the gateway's answer to a preflight (empty: the browser refuses the request)."""
    origin = headers.get("origin", "")
    if not origin_allowed(cors, origin):
        return []
    wanted_method = headers.get("access-control-request-method", "").upper()
    methods = cors.allow_methods
    if methods and "*" not in methods and wanted_method not in methods:
        return []
    wanted_headers = [h.strip().lower() for h in headers.get("access-control-request-headers", "").split(",")
                      if h.strip()]
    allowed = cors.allow_headers
    if wanted_headers and "*" not in allowed and any(h not in allowed for h in wanted_headers):
        return []
    out = [("access-control-allow-origin", _origin_value(cors, origin))]
    if cors.allow_credentials:
        out.append(("access-control-allow-credentials", "true"))
    out.append(("access-control-allow-methods", ",".join(methods) if methods else wanted_method or "*"))
    if wanted_headers:
        out.append(("access-control-allow-headers", ",".join(wanted_headers)))
    if cors.expose_headers:
        out.append(("access-control-expose-headers", ",".join(cors.expose_headers)))
    if cors.max_age is not None:
        out.append(("access-control-max-age", str(cors.max_age)))
    return out


def response_headers(cors: Cors, headers: dict[str, str]) -> Headers:
    """Headers added to an actual response for the request's Origin (none when it is not allowed)."""
    origin = headers.get("origin")
    if origin is None or not origin_allowed(cors, origin):
        return []
    out = [("access-control-allow-origin", _origin_value(cors, origin))]
    if cors.allow_credentials:
        out.append(("access-control-allow-credentials", "true"))
    if cors.expose_headers:
        out.append(("access-control-expose-headers", ",".join(cors.expose_headers)))
    return out


def mock_preflight(cors: Cors) -> Headers:
    """A REST API's mock OPTIONS method: its fixed response headers, as SAM wrote them."""
    out = []
    if cors.allow_origins:
        out.append(("Access-Control-Allow-Origin", ",".join(cors.allow_origins)))
    if cors.allow_methods:
        out.append(("Access-Control-Allow-Methods", ",".join(cors.allow_methods)))
    if cors.allow_headers:
        out.append(("Access-Control-Allow-Headers", ",".join(cors.allow_headers)))
    if cors.allow_credentials:
        out.append(("Access-Control-Allow-Credentials", "true"))
    if cors.max_age is not None:
        out.append(("Access-Control-Max-Age", str(cors.max_age)))
    return out


def _origin_value(cors: Cors, origin: str) -> str:
    """``*`` when every origin is allowed (credentials aside, which need the origin itself)."""
    return "*" if "*" in cors.allow_origins and not cors.allow_credentials else origin
