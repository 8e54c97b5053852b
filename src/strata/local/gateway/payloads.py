"""The events API Gateway hands a Lambda proxy integration, and how it reads the function's answer back.

Shapes follow payloads recorded from API Gateway (tests/data/gateway/, each with its SOURCE): REST (and HTTP API
payload 1.0) events keep header names as sent and list repeated headers and query parameters in the ``multiValue``
maps; payload 2.0 lower-cases header names, joins repeats with commas, lifts cookies out into ``cookies`` and keeps
``rawPath``/``rawQueryString``. A body is text unless its media type is binary (a REST API's ``binaryMediaTypes``; for
HTTP APIs and function URLs anything that is not text), then base64 with ``isBase64Encoded``.

The answer: payload 1.0 must be an object with an integer ``statusCode`` (else 502, as API Gateway's "Malformed
Lambda proxy response"); payload 2.0 also takes the shorthand, any JSON that is not such an object being a 200
``application/json`` body.
"""
from __future__ import annotations

import base64
import fnmatch
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from strata.local.gateway.model import Api, Route

ACCOUNT_ID = "123456789012"
_TEXT_MEDIA = ("text/", "application/json", "application/javascript", "application/xml", "application/xhtml",
               "application/x-www-form-urlencoded", "application/ld+json", "application/graphql")


class MalformedResponse(ValueError):
    """The function answered something API Gateway cannot turn into an HTTP response (a 502)."""


@dataclass
class Request:
    """One HTTP request as the gateway received it."""

    method: str
    raw_path: str
    raw_query: str
    headers: dict[str, str]                      # lower-case names, last value
    raw_headers: list[tuple[str, str]]           # as sent: names' case, repeats
    body: bytes
    source_ip: str
    request_id: str
    received: float                              # epoch seconds

    @property
    def path(self) -> str:
        return unquote(self.raw_path)


_clf_cache: list = [None, ""]      # (whole second, its text): requests in the same second share it


def _clf_time(epoch: float) -> str:
    """``04/Mar/2020:19:15:17 +0000`` (API Gateway's requestTime), formatted once per second."""
    second = int(epoch)
    if _clf_cache[0] != second:
        _clf_cache[0], _clf_cache[1] = second, time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(second))
    return _clf_cache[1]


def is_binary(content_type: str | None, binary_media_types: tuple[str, ...] | None) -> bool:
    """Whether a body of ``content_type`` goes base64: a REST API's ``binary_media_types`` (wildcards allowed), or,
    when None (HTTP APIs, function URLs), anything that is not text."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if binary_media_types is None:
        return bool(media) and not media.startswith(_TEXT_MEDIA) and not media.endswith(("+json", "+xml"))
    return any(fnmatch.fnmatchcase(media, pattern.lower()) for pattern in binary_media_types)


def _body(request: Request, binary_types: tuple[str, ...] | None) -> tuple[str | None, bool]:
    if not request.body:
        return None, False
    if is_binary(request.headers.get("content-type"), binary_types):
        return base64.b64encode(request.body).decode("ascii"), True
    return request.body.decode("utf-8", errors="replace"), False


def _query(raw_query: str) -> list[tuple[str, str]]:
    return parse_qsl(raw_query, keep_blank_values=True)


def event_v1(api: Api, route: Route, request: Request, path_params: dict[str, str],
             authorizer: dict[str, Any] | None = None) -> dict[str, Any]:
    """A REST API event (or an HTTP API's payload 1.0)."""
    headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in request.raw_headers:
        headers[name] = value
        multi_headers.setdefault(name, []).append(value)
    query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for name, value in _query(request.raw_query):
        query[name] = value
        multi_query.setdefault(name, []).append(value)
    body, encoded = _body(request, api.binary_media_types if api.kind == "REST" else None)
    resource = route.path if route.path != "$default" else "$default"
    context: dict[str, Any] = {
        "accountId": ACCOUNT_ID, "apiId": api.api_id, "domainName": request.headers.get("host", "localhost"),
        "domainPrefix": api.api_id, "extendedRequestId": request.request_id, "httpMethod": request.method,
        "identity": {"accessKey": None, "accountId": None, "caller": None, "cognitoAuthenticationProvider": None,
                     "cognitoAuthenticationType": None, "cognitoIdentityId": None, "cognitoIdentityPoolId": None,
                     "principalOrgId": None, "sourceIp": request.source_ip, "user": None,
                     "userAgent": request.headers.get("user-agent"), "userArn": None},
        "path": f"/{api.stage}{request.path}" if api.kind == "REST" else request.path,
        "protocol": "HTTP/1.1", "requestId": request.request_id, "requestTime": _clf_time(request.received),
        "requestTimeEpoch": int(request.received * 1000), "resourceId": None, "resourcePath": resource,
        "stage": api.stage,
    }
    if authorizer is not None:
        context["authorizer"] = authorizer
    event: dict[str, Any] = {
        "resource": resource, "path": request.path, "httpMethod": request.method,
        "headers": headers or None, "multiValueHeaders": multi_headers or None,
        "queryStringParameters": query or None, "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_params or None, "stageVariables": api.stage_variables or None,
        "requestContext": context, "body": body, "isBase64Encoded": encoded,
    }
    if api.kind != "REST":
        event = {"version": "1.0", **event}
    return event


def event_v2(api: Api, route: Route, request: Request, path_params: dict[str, str],
             authorizer: dict[str, Any] | None = None) -> dict[str, Any]:
    """An HTTP API payload 2.0 event, or a function URL's."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.raw_headers:
        key = name.lower()
        if key == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    query: dict[str, str] = {}
    for name, value in _query(request.raw_query):
        query[name] = f"{query[name]},{value}" if name in query else value
    body, encoded = _body(request, None)
    route_key = route.route_key if api.kind == "HTTP" else "$default"
    context: dict[str, Any] = {
        "accountId": ACCOUNT_ID if api.kind == "HTTP" else "anonymous", "apiId": api.api_id,
        "domainName": request.headers.get("host", "localhost"), "domainPrefix": api.api_id,
        "http": {"method": request.method, "path": request.path, "protocol": "HTTP/1.1",
                 "sourceIp": request.source_ip, "userAgent": request.headers.get("user-agent", "")},
        "requestId": request.request_id, "routeKey": route_key, "stage": api.stage,
        "time": _clf_time(request.received), "timeEpoch": int(request.received * 1000),
    }
    if authorizer is not None:
        context["authorizer"] = authorizer
    event: dict[str, Any] = {"version": "2.0", "routeKey": route_key, "rawPath": request.raw_path,
                             "rawQueryString": request.raw_query}
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = context
    if body is not None:
        event["body"] = body
    if path_params:
        event["pathParameters"] = path_params
    event["isBase64Encoded"] = encoded
    if api.stage_variables:
        event["stageVariables"] = api.stage_variables
    return event


Answer = tuple[int, list[tuple[str, str]], bytes]


def response_v1(payload: bytes) -> Answer:
    """The HTTP answer for a payload 1.0 function result; ``MalformedResponse`` when it is none."""
    try:
        result = json.loads(payload)
    except ValueError:
        raise MalformedResponse("the function's result is not JSON") from None
    if not isinstance(result, dict):
        raise MalformedResponse("the function's result is not an object with statusCode")
    return _structured(result, v2=False)


def response_v2(payload: bytes) -> Answer:
    """The HTTP answer for a payload 2.0 result: a ``statusCode`` object, or the shorthand (a 200 JSON body)."""
    try:
        result = json.loads(payload)
    except ValueError:
        raise MalformedResponse("the function's result is not JSON") from None
    if isinstance(result, dict) and "statusCode" in result:
        return _structured(result, v2=True)
    return 200, [("content-type", "application/json")], payload.strip() if result is not None else b""


def _structured(result: dict[str, Any], *, v2: bool) -> Answer:
    status = result.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise MalformedResponse(f"statusCode {status!r} is not an HTTP status")
    headers: list[tuple[str, str]] = []
    given = result.get("headers") or {}
    multi = result.get("multiValueHeaders") or {}
    if not isinstance(given, dict) or not isinstance(multi, dict):
        raise MalformedResponse("headers must be an object")
    overridden = {str(k).lower() for k in multi} if multi else ()
    for name, value in given.items():
        if not overridden or str(name).lower() not in overridden:
            headers.append((str(name), value if type(value) is str else _header_text(value)))
    for name, values in multi.items():
        for value in values if isinstance(values, list) else [values]:
            headers.append((str(name), _header_text(value)))
    if v2:
        for cookie in result.get("cookies") or []:
            headers.append(("set-cookie", str(cookie)))
    body = result.get("body")
    if body is None:
        data = b""
    elif isinstance(body, str):
        if result.get("isBase64Encoded"):
            try:
                data = base64.b64decode(body, validate=True)
            except ValueError:
                raise MalformedResponse("isBase64Encoded, but the body is not base64") from None
        else:
            data = body.encode("utf-8")
    elif v2:
        data = json.dumps(body).encode()
    else:
        raise MalformedResponse("body must be a string")
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("content-type", "application/json"))
    return status, headers, data


def _header_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
