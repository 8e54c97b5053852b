"""The events the local gateway hands a function, field by field against events recorded from API Gateway and Lambda
function URLs (tests/data/gateway/, sources in its SOURCE.md), and how a function's answer becomes HTTP."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from strata.local.gateway import payloads
from strata.local.gateway.model import Api, Integration, Route
from strata.local.gateway.payloads import MalformedResponse, Request, event_v1, event_v2, response_v1, response_v2
from strata.local.gateway.routes import RouteTable, _compiled

DATA = Path(__file__).resolve().parents[3] / "data" / "gateway"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:fn:live"


def _recorded(name: str) -> dict:
    return json.loads((DATA / name).read_text())


def _api(kind: str = "REST", **kw) -> Api:
    route = Route("GET", "/my/path", Integration(ARN, "1.0" if kind == "REST" else "2.0"))
    return Api(key="s/Api/Prod", kind=kind, stack="s", logical_id="Api", api_id="id", stage=kw.pop("stage", "Prod"),
               routes=(_compiled(route),), **kw)


def _request(method: str = "GET", path: str = "/my/path", query: str = "", headers=(), body: bytes = b"") -> Request:
    raw = [("Host", "127.0.0.1:3002"), ("User-Agent", "agent"), *headers]
    return Request(method, path, query, {n.lower(): v for n, v in raw}, raw, body, "127.0.0.1", "req-1",
                   1583348638.390)


def _shape(value):
    """The structure of a JSON value: member names and kinds, not values."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__ if value is not None else None


def test_rest_event_has_the_recorded_v1_members():
    """REST event vs powertools ``apiGatewayProxyEvent.json`` (recorded; payload 1.0 as AWS documents it at
    https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html). mTLS-only
    members (clientCert) and the authorizer are absent without mTLS or an authorizer."""
    recorded = _recorded("http_api_v1.json")
    api = _api("REST")
    event = event_v1(api, api.routes[0], _request(query="parameter1=value1&parameter1=value2&parameter2=value",
                                                  headers=[("header2", "value1"), ("header2", "value2")],
                                                  body=b"Hello from Lambda!"), {})
    expected = set(recorded) - {"version"}        # a REST API sends no version member
    assert set(event) == expected
    context = recorded["requestContext"]
    assert set(event["requestContext"]) == set(context) - {"authorizer"}
    assert set(event["requestContext"]["identity"]) == set(context["identity"]) - {"clientCert"}
    assert event["multiValueHeaders"]["header2"] == ["value1", "value2"]
    assert event["headers"]["header2"] == "value2"
    assert event["multiValueQueryStringParameters"] == recorded["multiValueQueryStringParameters"]
    assert event["queryStringParameters"] == {"parameter1": "value2", "parameter2": "value"}
    assert (event["pathParameters"], event["stageVariables"], event["body"], event["isBase64Encoded"]) == \
        (None, None, "Hello from Lambda!", False)
    assert event["requestContext"]["requestTime"] == "04/Mar/2020:19:03:58 +0000"
    assert event["requestContext"]["path"] == "/Prod/my/path"
    assert (event["resource"], event["requestContext"]["resourcePath"], event["requestContext"]["stage"]) == \
        ("/my/path", "/my/path", "Prod")


def test_http_api_payload_1_event_says_its_version():
    """HTTP API payload 1.0 carries ``"version": "1.0"`` (recorded sample's first member)."""
    api = _api("HTTP", stage="$default")
    event = event_v1(api, api.routes[0], _request(), {})
    assert event["version"] == _recorded("http_api_v1.json")["version"] == "1.0"
    assert set(event) == set(_recorded("http_api_v1.json"))


def test_http_api_v2_event_matches_the_recorded_members():
    """Payload 2.0 vs powertools ``apiGatewayProxyV2Event.json`` (recorded from an HTTP API): lower-case headers,
    repeats joined by commas, cookies lifted out, raw path and query kept."""
    recorded = _recorded("http_api_v2.json")
    api = _api("HTTP", stage="$default", stage_variables={"stageVariable1": "value1"})
    route = _compiled(Route("POST", "/my/{parameter1}", Integration(ARN, "2.0")))
    request = _request("POST", "/my/path", "parameter1=value1&parameter1=value2&parameter2=value",
                       headers=[("Header2", "value1"), ("header2", "value2"), ("Cookie", "cookie1; cookie2")],
                       body=b'{"message": "hello world", "username": "tom"}')
    event = event_v2(api, route, request, {"parameter1": "value1"})
    assert set(event) == set(recorded)
    assert set(event["requestContext"]) == set(recorded["requestContext"]) - {"authentication", "authorizer"}
    assert set(event["requestContext"]["http"]) == set(recorded["requestContext"]["http"])
    assert event["cookies"] == recorded["cookies"]
    assert event["headers"]["header2"] == recorded["headers"]["header2"] == "value1,value2"
    assert event["queryStringParameters"] == recorded["queryStringParameters"]
    assert event["rawQueryString"] == recorded["rawQueryString"]
    assert (event["rawPath"], event["body"], event["isBase64Encoded"]) == \
        (recorded["rawPath"], recorded["body"], False)
    assert event["requestContext"]["time"] == "04/Mar/2020:19:03:58 +0000"    # the sample's timeEpoch, CLF
    assert event["requestContext"]["timeEpoch"] == recorded["requestContext"]["timeEpoch"]
    assert event["routeKey"] == event["requestContext"]["routeKey"] == "POST /my/{parameter1}"


def test_function_url_event_matches_the_recorded_members():
    """A function URL's event vs powertools ``lambdaFunctionUrlEvent.json`` (recorded from a function URL):
    ``$default`` route key and stage, account ``anonymous``, no cookies/query/body members when none were sent."""
    recorded = _recorded("function_url.json")
    api = Api(key="s/Url/$default", kind="URL", stack="s", logical_id="Url", api_id="<url-id>", stage="$default",
              routes=(_compiled(Route("ANY", "$default", Integration(ARN, "2.0"))),))
    event = event_v2(api, api.routes[0], _request("GET", "/"), {})
    assert set(event) == set(recorded)
    assert set(event["requestContext"]) == set(recorded["requestContext"])
    assert _shape(event["requestContext"]["http"]) == _shape(recorded["requestContext"]["http"])
    for member in ("routeKey", "rawPath", "rawQueryString", "isBase64Encoded"):
        assert event[member] == recorded[member]
    for member in ("accountId", "routeKey", "stage"):
        assert event["requestContext"][member] == recorded["requestContext"][member]


def test_binary_bodies_go_base64_by_media_type():
    data = bytes(range(256))
    rest = _api("REST", binary_media_types=("image/*", "application/octet-stream"))
    event = event_v1(rest, rest.routes[0], _request("POST", headers=[("Content-Type", "image/png")], body=data), {})
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == data
    text = event_v1(rest, rest.routes[0], _request("POST", headers=[("Content-Type", "text/plain")], body=b"hi"), {})
    assert (text["body"], text["isBase64Encoded"]) == ("hi", False)
    http = _api("HTTP", stage="$default")
    event = event_v2(http, http.routes[0], _request("POST", headers=[("content-type", "application/zip")],
                                                    body=data), {})
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == data
    assert payloads.is_binary("application/json; charset=utf-8", None) is False


def test_v1_response_needs_a_status_code():
    status, headers, body = response_v1(json.dumps({
        "statusCode": 201, "headers": {"X-One": "1"}, "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": "made"}).encode())
    assert (status, body) == (201, b"made")
    assert headers.count(("Set-Cookie", "a=1")) == 1 and ("Set-Cookie", "b=2") in headers and ("X-One", "1") in headers
    for bad in (b'{"body": "x"}', b'"text"', b"not json", b'{"statusCode": 200, "body": {"a": 1}}',
                b'{"statusCode": "abc"}'):
        with pytest.raises(MalformedResponse):
            response_v1(bad)


def test_v2_response_shorthand_and_cookies():
    """Payload 2.0: anything that is not an object with statusCode is a 200 JSON body (AWS's format 2.0 response
    inference); ``cookies`` become Set-Cookie headers; base64 bodies are decoded."""
    assert response_v2(b'{"hello": "world"}') == (200, [("content-type", "application/json")], b'{"hello": "world"}')
    assert response_v2(b'"plain"')[2] == b'"plain"'
    status, headers, body = response_v2(json.dumps({"statusCode": 200, "cookies": ["c=3"], "isBase64Encoded": True,
                                                    "body": base64.b64encode(b"\x00\xff").decode()}).encode())
    assert (status, body) == (200, b"\x00\xff") and ("set-cookie", "c=3") in headers


def test_route_precedence_and_proxy_parameters():
    """The most specific path wins (literal, then {param}, then {greedy+}), an exact method before ANY, then
    $default; path parameters are decoded."""
    routes = tuple(_compiled(Route(m, p, Integration(ARN))) for m, p in [
        ("ANY", "/{proxy+}"), ("GET", "/items/{id}"), ("GET", "/items/special"), ("ANY", "/items/{id}"),
        ("ANY", "$default")])
    table = RouteTable(Api(key="k", kind="HTTP", stack="s", logical_id="A", api_id="a", stage="$default",
                           routes=routes))

    def found(method: str, path: str) -> tuple[str, dict]:
        match = table.match(method, path)
        assert match is not None
        return match[0].route_key, match[1]

    assert found("GET", "/items/special") == ("GET /items/special", {})
    assert found("GET", "/items/a%20b") == ("GET /items/{id}", {"id": "a b"})
    assert found("POST", "/items/1") == ("ANY /items/{id}", {"id": "1"})
    assert found("DELETE", "/a/b/c") == ("ANY /{proxy+}", {"proxy": "a/b/c"})
    assert found("GET", "/") == ("$default", {})
