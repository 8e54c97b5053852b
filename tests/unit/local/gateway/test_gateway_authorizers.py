"""Lambda authorizers of the local API Gateway, driven with a fake invoke.

Payload shapes are checked against the API Gateway Developer Guide's recorded examples kept in
tests/data/gateway_auth/ (see its SOURCE.md): "Input to an API Gateway Lambda authorizer", "Output from an API
Gateway Lambda authorizer", "Working with AWS Lambda authorizers for HTTP APIs".
"""
from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from samtranslator.translator.transform import transform

from strata.local.gateway.authorizers import (
    REST_EXPLICIT_DENY,
    REST_NOT_ALLOWED,
    Authorizers,
    AuthorizerSpec,
    AuthRequest,
    authorizer_event,
    execute_api_arn,
    function_from_uri,
    policy_effect,
    specs_from_openapi,
    specs_from_resources,
)

DATA = Path(__file__).resolve().parents[3] / "data" / "gateway_auth"
ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/Prod/GET/hello"
FN = "arn:aws:lambda:us-east-1:123456789012:function:AuthFn:live"


def recorded(name: str) -> Any:
    return json.loads((DATA / name).read_text())


@dataclass
class Answer:
    payload: bytes
    function_error: str | None = None


class FakeInvoke:
    """Answers with ``reply(event)``; records every call (the invocation counter of the cache tests)."""

    def __init__(self, reply: Any) -> None:
        self.reply = reply
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def __call__(self, arn: str, payload: bytes) -> Answer:
        event = json.loads(payload)
        self.calls.append((arn, event))
        out = self.reply(event) if callable(self.reply) else self.reply
        return out if isinstance(out, Answer) else Answer(json.dumps(out).encode())


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def policy(effect: str, resource: str | list[str] = ARN, context: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"principalId": "user-1", "policyDocument": {"Version": "2012-10-17", "Statement": [
        {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}]}}
    if context is not None:
        out["context"] = context
    return out


def request(**kw: Any) -> AuthRequest:
    base: dict[str, Any] = dict(
        method="GET", path="/hello", resource="/hello", headers={"Authorization": "Bearer good"},
        multi_value_headers={"Authorization": ["Bearer good"]}, query={}, multi_value_query={}, path_params={},
        stage="Prod", stage_variables={}, source_ip="127.0.0.1", request_id="req-1", arn=ARN, api_kind="REST",
        api_id="abc123")
    base.update(kw)
    return AuthRequest(**base)


TOKEN = AuthorizerSpec(name="TokAuth", kind="TOKEN", api_kind="REST", function_arn=FN,
                       identity_sources=("method.request.header.Authorization",), ttl_seconds=300,
                       validation_regex="^Bearer .+$")


def run(coro: Any) -> Any:
    return asyncio.run(coro)


# -------------------------------------------------------------------------------------------- specs from templates

SAM_TEMPLATE = {
    "Transform": "AWS::Serverless-2016-10-31",
    "Resources": {
        "AuthFn": {"Type": "AWS::Serverless::Function",
                   "Properties": {"Runtime": "python3.12", "Handler": "a.h", "CodeUri": "s3://b/k",
                                  "AutoPublishAlias": "live"}},
        "Fn": {"Type": "AWS::Serverless::Function", "Properties": {
            "Runtime": "python3.12", "Handler": "a.h", "CodeUri": "s3://b/k", "Events": {
                "Get": {"Type": "Api", "Properties": {"RestApiId": {"Ref": "Api"}, "Path": "/hello",
                                                      "Method": "get"}},
                "Req": {"Type": "Api", "Properties": {"RestApiId": {"Ref": "Api"}, "Path": "/req", "Method": "get",
                                                      "Auth": {"Authorizer": "ReqAuth"}}},
                "H": {"Type": "HttpApi", "Properties": {"ApiId": {"Ref": "Http"}, "Path": "/h", "Method": "get"}},
                "J": {"Type": "HttpApi", "Properties": {"ApiId": {"Ref": "Http"}, "Path": "/j", "Method": "get",
                                                        "Auth": {"Authorizer": "Jwt",
                                                                 "AuthorizationScopes": ["read"]}}}}}},
        "Api": {"Type": "AWS::Serverless::Api", "Properties": {"StageName": "Prod", "Auth": {
            "DefaultAuthorizer": "TokAuth", "Authorizers": {
                "TokAuth": {"FunctionArn": {"Fn::GetAtt": ["AuthFn", "Arn"]},
                            "Identity": {"Header": "Authorization", "ValidationExpression": "^Bearer .+$",
                                         "ReauthorizeEvery": 60}},
                "ReqAuth": {"FunctionPayloadType": "REQUEST", "FunctionArn": {"Fn::GetAtt": ["AuthFn", "Arn"]},
                            "Identity": {"Headers": ["X-Token"], "QueryStrings": ["q"], "ReauthorizeEvery": 0}}}},
            "Cors": "'*'"}},
        "Http": {"Type": "AWS::Serverless::HttpApi", "Properties": {"Auth": {
            "DefaultAuthorizer": "LamAuth", "Authorizers": {
                "LamAuth": {"FunctionArn": {"Fn::GetAtt": ["AuthFn", "Arn"]},
                            "AuthorizerPayloadFormatVersion": "2.0", "EnableSimpleResponses": True,
                            "Identity": {"Headers": ["Authorization"], "ReauthorizeEvery": 30}},
                "Jwt": {"IdentitySource": "$request.header.Authorization",
                        "JwtConfiguration": {"issuer": "https://issuer.example", "audience": ["aud1", "aud2"]}}}}}},
    },
}


class _NoPolicies:
    def load(self) -> dict[str, str]:
        return {}


def translated_bodies() -> dict[str, dict[str, Any]]:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    out = transform(json.loads(json.dumps(SAM_TEMPLATE)), {}, _NoPolicies())
    return {k: v["Properties"]["Body"] for k, v in out["Resources"].items()
            if v["Type"] in ("AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api")}


def resolve_uris(doc: Any) -> Any:
    """Stand-in for the deploy's intrinsic resolution: each authorizerUri becomes the URI API Gateway stores."""
    if isinstance(doc, dict):
        if "authorizerUri" in doc:
            return {**doc, "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                                            f"{FN}/invocations"}
        return {k: resolve_uris(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [resolve_uris(v) for v in doc]
    return doc


def test_specs_from_the_sam_translators_openapi_for_rest_and_http_apis() -> None:
    """What aws-sam-translator writes for ``Auth: Authorizers:`` (TOKEN with its header and validation expression,
    REQUEST with headers and query strings, HTTP API Lambda 2.0 simple responses, JWT) reads back as specs."""
    bodies = translated_bodies()
    rest = specs_from_openapi(resolve_uris(bodies["Api"]), "REST")
    assert rest["TokAuth"] == AuthorizerSpec(
        name="TokAuth", kind="TOKEN", api_kind="REST", function_arn=FN,
        identity_sources=("method.request.header.Authorization",), ttl_seconds=60, validation_regex="^Bearer .+$")
    assert rest["ReqAuth"].kind == "REQUEST"
    assert rest["ReqAuth"].identity_sources == ("method.request.header.X-Token", "method.request.querystring.q")
    assert rest["ReqAuth"].ttl_seconds == 0
    http = specs_from_openapi(resolve_uris(bodies["Http"]), "HTTP")
    lam = http["LamAuth"]
    assert (lam.kind, lam.payload_version, lam.simple_responses, lam.ttl_seconds, lam.identity_sources) == (
        "REQUEST", "2.0", True, 30, ("$request.header.Authorization",))
    jwt = http["Jwt"]
    assert (jwt.kind, jwt.jwt_issuer, jwt.jwt_audience, jwt.identity_sources) == (
        "JWT", "https://issuer.example", ("aud1", "aud2"), ("$request.header.Authorization",))


def test_rest_ttl_defaults_to_300_and_http_to_0_when_absent() -> None:
    ext = {"type": "request", "authorizerUri": f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                                                f"{FN}/invocations", "identitySource": "method.request.header.A"}
    rest = specs_from_openapi({"securityDefinitions": {"A": {"x-amazon-apigateway-authorizer": ext}}}, "REST")
    http = specs_from_openapi({"components": {"securitySchemes": {"A": {"x-amazon-apigateway-authorizer": ext}}}},
                              "HTTP")
    assert rest["A"].ttl_seconds == 300 and http["A"].ttl_seconds == 0


def test_specs_from_explicit_authorizer_resources() -> None:
    uri = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{FN}/invocations"
    specs = specs_from_resources({
        "RestAuth": {"Type": "AWS::ApiGateway::Authorizer", "Properties": {
            "Type": "TOKEN", "AuthorizerUri": uri, "IdentitySource": "method.request.header.Auth", "Name": "auth"}},
        "HttpAuth": {"Type": "AWS::ApiGatewayV2::Authorizer", "Properties": {
            "AuthorizerType": "REQUEST", "AuthorizerUri": uri, "IdentitySource": ["$request.header.X"],
            "AuthorizerPayloadFormatVersion": "2.0", "EnableSimpleResponses": True, "Name": "h"}},
        "JwtAuth": {"Type": "AWS::ApiGatewayV2::Authorizer", "Properties": {
            "AuthorizerType": "JWT", "IdentitySource": ["$request.header.Authorization"],
            "JwtConfiguration": {"Issuer": "https://i", "Audience": ["a"]}}},
        "Pool": {"Type": "AWS::ApiGateway::Authorizer", "Properties": {"Type": "COGNITO_USER_POOLS"}},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {}},
    })
    assert set(specs) == {"RestAuth", "HttpAuth", "JwtAuth"}
    assert (specs["RestAuth"].name, specs["RestAuth"].ttl_seconds, specs["RestAuth"].function_arn) == ("auth", 300, FN)
    assert specs["HttpAuth"].simple_responses and specs["HttpAuth"].ttl_seconds == 0
    assert specs["JwtAuth"].jwt_audience == ("a",)


def test_function_from_uri() -> None:
    assert function_from_uri("arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/"
                             "arn:aws:lambda:eu-west-1:1:function:f:live/invocations") == \
        "arn:aws:lambda:eu-west-1:1:function:f:live"
    with pytest.raises(ValueError, match="not resolved"):
        function_from_uri({"Fn::Sub": "x"})


# ------------------------------------------------------------------------------------------------ recorded payloads

def test_token_event_matches_the_recorded_token_input() -> None:
    """Developer guide, "Input to an API Gateway Lambda authorizer", TOKEN input (rest_token_event.json)."""
    sample = recorded("rest_token_event.json")
    req = request(headers={"Authorization": "allow"}, arn=sample["methodArn"])
    spec = AuthorizerSpec(name="T", kind="TOKEN", api_kind="REST", identity_sources=(
        "method.request.header.Authorization",))
    assert authorizer_event(spec, req, ["allow"]) == sample


def test_rest_request_event_matches_the_recorded_request_input() -> None:
    """Developer guide, "Input to an API Gateway Lambda authorizer", REQUEST input for GET /request with a proxy
    integration (rest_request_event.json): every recorded field equal; the multi-value maps that the REST proxy
    input also carries come in addition."""
    sample = recorded("rest_request_event.json")
    req = request(method="GET", path="/request", resource="/request", headers=sample["headers"],
                  multi_value_headers={k: [v] for k, v in sample["headers"].items()},
                  query=sample["queryStringParameters"],
                  multi_value_query={k: [v] for k, v in sample["queryStringParameters"].items()},
                  stage="test", stage_variables=sample["stageVariables"], arn=sample["methodArn"],
                  request_context=sample["requestContext"])
    spec = AuthorizerSpec(name="R", kind="REQUEST", api_kind="REST", identity_sources=(
        "method.request.header.HeaderAuth1",))
    event = authorizer_event(spec, req, ["headerValue1"])
    for key, value in sample.items():
        assert event[key] == value, key
    assert event["multiValueQueryStringParameters"] == {"QueryString1": ["queryValue1"]}
    assert set(event) - set(sample) == {"multiValueHeaders", "multiValueQueryStringParameters"}


def test_http_api_v2_event_matches_the_recorded_2_0_input() -> None:
    """"Working with AWS Lambda authorizers for HTTP APIs", payload format 2.0 (http_request_v2_event.json).
    Header names compare case-insensitively: HTTP APIs lower-case them (the guide's own handler reads
    ``event.headers.authorization``)."""
    sample = recorded("http_request_v2_event.json")
    req = request(method="POST", path="/my/path", resource="$default",
                  headers={"Header1": "value1", "Header2": "value2", "Cookie": "cookie1; cookie2"},
                  multi_value_headers={}, query={"parameter1": "value2", "parameter2": "value"},
                  multi_value_query={"parameter1": ["value1", "value2"], "parameter2": ["value"]},
                  raw_query=sample["rawQueryString"], path_params=sample["pathParameters"], stage="$default",
                  stage_variables=sample["stageVariables"], arn=sample["routeArn"], api_kind="HTTP",
                  payload_version="2.0", request_context=sample["requestContext"])
    spec = AuthorizerSpec(name="L", kind="REQUEST", api_kind="HTTP", payload_version="2.0",
                          identity_sources=("$request.header.Header1", "$request.querystring.parameter2"))
    event = authorizer_event(spec, req, ["user1", "123"])
    assert set(event) == set(sample)
    for key, value in sample.items():
        if key == "headers":
            assert event[key] == {k.lower(): v for k, v in value.items()}
        else:
            assert event[key] == value, key


def test_http_api_v1_event_matches_the_recorded_1_0_input() -> None:
    """"Working with AWS Lambda authorizers for HTTP APIs", payload format 1.0 (http_request_v1_event.json)."""
    sample = recorded("http_request_v1_event.json")
    req = request(method="GET", path="/request", resource="GET /request", headers=sample["headers"],
                  multi_value_headers={}, query=sample["queryStringParameters"], multi_value_query={},
                  stage="test", stage_variables=sample["stageVariables"], arn=sample["methodArn"], api_kind="HTTP",
                  request_context=sample["requestContext"])
    spec = AuthorizerSpec(name="L", kind="REQUEST", api_kind="HTTP", payload_version="1.0",
                          identity_sources=("$request.header.HeaderAuth1",))
    event = authorizer_event(spec, req, ["user1", "123"])
    for key, value in sample.items():
        assert event[key] == value, key


# ----------------------------------------------------------------------------------------------------- decisions

def test_token_allow_passes_principal_and_context_to_the_integration() -> None:
    fake = FakeInvoke(policy("Allow", context={"user": "ann", "admin": True, "level": 3}))
    out = run(Authorizers(fake).check(TOKEN, request()))
    assert out.status == 200 and out.allowed
    assert fake.calls == [(FN, {"type": "TOKEN", "authorizationToken": "Bearer good", "methodArn": ARN})]
    assert out.context["principalId"] == "user-1"
    assert {k: out.context[k] for k in ("user", "admin", "level")} == {"user": "ann", "admin": True, "level": 3}
    assert isinstance(out.context["integrationLatency"], int)


def test_recorded_deny_output_is_an_explicit_deny_403() -> None:
    """Developer guide, "Output from an API Gateway Lambda authorizer" (rest_deny_output.json): Deny on
    ``ymy8tbxw7b/*/GET/`` -> 403 with REST's explicit-deny message."""
    fake = FakeInvoke(recorded("rest_deny_output.json"))
    arn = "arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/test/GET/"
    out = run(Authorizers(fake).check(TOKEN, request(arn=arn)))
    assert (out.status, out.message) == (403, REST_EXPLICIT_DENY)
    assert json.loads(out.message or "") == {
        "Message": "User is not authorized to access this resource with an explicit deny"}


def test_allow_on_another_method_is_403_not_allowed() -> None:
    fake = FakeInvoke(policy("Allow", resource=ARN.replace("/GET/", "/POST/")))
    out = run(Authorizers(fake).check(TOKEN, request()))
    assert (out.status, out.message) == (403, REST_NOT_ALLOWED)


def test_missing_token_and_regex_mismatch_are_401_without_invoking() -> None:
    fake = FakeInvoke(policy("Allow"))
    auth = Authorizers(fake)
    missing = run(auth.check(TOKEN, request(headers={})))
    empty = run(auth.check(TOKEN, request(headers={"authorization": ""})))
    mismatch = run(auth.check(TOKEN, request(headers={"authorization": "Basic abc"})))
    for out in (missing, empty, mismatch):
        assert (out.status, json.loads(out.message or "")) == (401, {"message": "Unauthorized"})
    assert fake.calls == []


def test_identity_source_header_names_are_case_insensitive() -> None:
    fake = FakeInvoke(policy("Allow"))
    out = run(Authorizers(fake).check(TOKEN, request(headers={"authorization": "Bearer x"})))
    assert out.status == 200 and fake.calls[0][1]["authorizationToken"] == "Bearer x"


def test_request_authorizer_needs_every_identity_source() -> None:
    spec = AuthorizerSpec(name="R", kind="REQUEST", api_kind="REST", function_arn=FN, ttl_seconds=0,
                          identity_sources=("method.request.header.X-Token", "method.request.querystring.q",
                                            "stageVariables.env"))
    fake = FakeInvoke(policy("Allow"))
    auth = Authorizers(fake)
    full = request(headers={"x-token": "t"}, query={"q": "1"}, stage_variables={"env": "dev"})
    assert run(auth.check(spec, full)).status == 200
    assert run(auth.check(spec, request(headers={"x-token": "t"}, stage_variables={"env": "dev"}))).status == 401
    assert run(auth.check(spec, request(headers={"x-token": "t"}, query={"Q": "1"},
                                        stage_variables={"env": "dev"}))).status == 401   # query names: case matters
    assert len(fake.calls) == 1
    assert fake.calls[0][1]["type"] == "REQUEST" and fake.calls[0][1]["queryStringParameters"] == {"q": "1"}


@pytest.mark.parametrize("resource,expected", [
    ("arn:aws:execute-api:us-east-1:123456789012:abc123/*/GET/hello", "Allow"),
    ("arn:aws:execute-api:us-east-1:123456789012:abc123/*/*", "Allow"),
    ("arn:aws:execute-api:us-east-1:123456789012:abc123/Prod/???/hello", "Allow"),
    ("arn:aws:execute-api:us-east-1:123456789012:abc123/Prod/GE?/hello", "Allow"),
    ("arn:aws:execute-api:us-east-1:123456789012:abc123/Prod/POST/*", "None"),
    ("arn:aws:execute-api:us-east-1:123456789012:other/*", "None"),
    ("*", "Allow"),
])
def test_policy_resource_wildcards(resource: str, expected: str) -> None:
    doc = {"Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": resource}]}
    assert policy_effect(doc, ARN) == expected


def test_explicit_deny_wins_over_allow_and_actions_must_cover_invoke() -> None:
    both = {"Statement": [{"Effect": "Allow", "Action": "execute-api:*", "Resource": "*"},
                          {"Effect": "Deny", "Action": ["execute-api:Invoke"], "Resource": [ARN]}]}
    assert policy_effect(both, ARN) == "Deny"
    other_action = {"Statement": {"Effect": "Allow", "Action": "execute-api:ManageConnections", "Resource": "*"}}
    assert policy_effect(other_action, ARN) == "None"
    with pytest.raises(ValueError):
        policy_effect({"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]}, ARN)


def test_answers_are_cached_for_the_ttl_by_identity_source_values_deny_included() -> None:
    clock = Clock()
    fake = FakeInvoke(lambda e: policy("Allow" if e["authorizationToken"] == "Bearer good" else "Deny"))
    auth = Authorizers(fake, clock=clock)
    first = run(auth.check(TOKEN, request()))
    again = run(auth.check(TOKEN, request()))
    assert first.status == again.status == 200 and again.cached and not first.cached
    assert again.context["integrationLatency"] == 0
    bad = request(headers={"Authorization": "Bearer bad"})
    assert run(auth.check(TOKEN, bad)).status == 403
    assert run(auth.check(TOKEN, bad)).status == 403
    assert len(fake.calls) == 2                         # one per token within the TTL, the Deny cached too
    clock.now += 301
    assert run(auth.check(TOKEN, request())).status == 200
    assert len(fake.calls) == 3                         # TTL over: asked again


def test_a_cached_policy_is_evaluated_against_each_requests_arn() -> None:
    """The cache keeps the policy, not the verdict: a policy naming only GET /hello denies GET /other from cache
    (the behaviour API Gateway documents for cached policies)."""
    fake = FakeInvoke(policy("Allow"))
    auth = Authorizers(fake, clock=Clock())
    assert run(auth.check(TOKEN, request())).status == 200
    other = request(path="/other", resource="/other", arn=ARN.replace("/hello", "/other"))
    assert run(auth.check(TOKEN, other)).status == 403
    assert len(fake.calls) == 1


def test_ttl_zero_invokes_every_time() -> None:
    spec = AuthorizerSpec(name="T0", kind="TOKEN", api_kind="REST", function_arn=FN,
                          identity_sources=("method.request.header.Authorization",), ttl_seconds=0)
    fake = FakeInvoke(policy("Allow"))
    auth = Authorizers(fake)
    run(auth.check(spec, request()))
    run(auth.check(spec, request()))
    assert len(fake.calls) == 2


@pytest.mark.parametrize("reply", [
    Answer(b'{"errorMessage": "boom", "errorType": "Exception"}', "Unhandled"),
    {"principalId": "u"},                                               # no policy
    {"policyDocument": {"Statement": []}},                              # no principalId (REST)
    policy("Allow", context={"nested": {"a": 1}}),                      # REST context values must be scalars
    Answer(b"not json"),
    [1, 2],
])
def test_rest_authorizer_errors_and_malformed_answers_are_500_null(reply: Any) -> None:
    out = run(Authorizers(FakeInvoke(reply)).check(TOKEN, request()))
    assert (out.status, json.loads(out.message or "")) == (500, {"message": None})
    assert out.headers["x-amzn-ErrorType"] == "AuthorizerConfigurationException"
    assert out.error


def test_rest_authorizer_failing_with_unauthorized_is_401() -> None:
    """The blueprint's ``raise Exception('Unauthorized')`` (awslabs aws-apigateway-lambda-authorizer-blueprints)."""
    reply = Answer(b'{"errorMessage": "Unauthorized", "errorType": "Exception"}', "Unhandled")
    out = run(Authorizers(FakeInvoke(reply)).check(TOKEN, request()))
    assert (out.status, json.loads(out.message or "")) == (401, {"message": "Unauthorized"})


def test_invoke_failure_is_500() -> None:
    async def broken(arn: str, payload: bytes) -> Answer:
        raise RuntimeError("function not found")

    out = run(Authorizers(broken).check(TOKEN, request()))
    assert out.status == 500 and "function not found" in (out.error or "")


HTTP_SIMPLE = AuthorizerSpec(name="LamAuth", kind="REQUEST", api_kind="HTTP", function_arn=FN, payload_version="2.0",
                             simple_responses=True, identity_sources=("$request.header.Authorization",),
                             ttl_seconds=30)


def http_request(**kw: Any) -> AuthRequest:
    return request(api_kind="HTTP", payload_version="2.0", resource="GET /hello", **kw)


def test_http_simple_response_recorded_allows_and_context_goes_under_lambda() -> None:
    """"Working with AWS Lambda authorizers for HTTP APIs", simple response (http_simple_response.json): arrays and
    maps are allowed in an HTTP API context; the integration (2.0) sees ``authorizer.lambda``."""
    sample = recorded("http_simple_response.json")
    fake = FakeInvoke(sample)
    out = run(Authorizers(fake).check(HTTP_SIMPLE, http_request()))
    assert out.status == 200
    assert out.context == {"lambda": sample["context"]}
    assert fake.calls[0][1]["version"] == "2.0" and fake.calls[0][1]["identitySource"] == ["Bearer good"]


def test_http_simple_response_false_is_403_forbidden_and_cached() -> None:
    fake = FakeInvoke({"isAuthorized": False})
    auth = Authorizers(fake, clock=Clock())
    for _ in range(2):
        out = run(auth.check(HTTP_SIMPLE, http_request()))
        assert (out.status, json.loads(out.message or "")) == (403, {"message": "Forbidden"})
    assert len(fake.calls) == 1


def test_http_errors_are_500_internal_server_error() -> None:
    for reply in ({"isAuthorized": "yes"}, Answer(b'{"errorMessage": "Unauthorized"}', "Unhandled")):
        out = run(Authorizers(FakeInvoke(reply)).check(HTTP_SIMPLE, http_request()))
        assert (out.status, json.loads(out.message or "")) == (500, {"message": "Internal Server Error"})


def test_http_missing_identity_source_is_401_without_invoking() -> None:
    fake = FakeInvoke({"isAuthorized": True})
    out = run(Authorizers(fake).check(HTTP_SIMPLE, http_request(headers={})))
    assert out.status == 401 and fake.calls == []


def test_http_policy_response_deny_is_403_forbidden() -> None:
    spec = AuthorizerSpec(name="P", kind="REQUEST", api_kind="HTTP", function_arn=FN, payload_version="2.0",
                          identity_sources=("$request.header.Authorization",))
    out = run(Authorizers(FakeInvoke(policy("Deny"))).check(spec, http_request()))
    assert (out.status, json.loads(out.message or "")) == (403, {"message": "Forbidden"})
    allowed = run(Authorizers(FakeInvoke(policy("Allow", context={"k": "v"}))).check(spec, http_request()))
    assert allowed.context == {"lambda": {"k": "v"}}


def test_http_authorizer_without_identity_sources_invokes_every_time() -> None:
    spec = AuthorizerSpec(name="N", kind="REQUEST", api_kind="HTTP", function_arn=FN, payload_version="2.0",
                          simple_responses=True, ttl_seconds=0)
    fake = FakeInvoke({"isAuthorized": True})
    auth = Authorizers(fake)
    assert run(auth.check(spec, http_request(headers={}))).status == 200
    assert run(auth.check(spec, http_request(headers={}))).status == 200
    assert len(fake.calls) == 2


def test_execute_api_arn() -> None:
    assert execute_api_arn("us-east-1", "1", "api", "Prod", "GET", "/pets/7") == \
        "arn:aws:execute-api:us-east-1:1:api/Prod/GET/pets/7"
    assert execute_api_arn("us-east-1", "1", "api", "Prod", "GET", "/") == \
        "arn:aws:execute-api:us-east-1:1:api/Prod/GET/"


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from strata.local.gateway import authorizers

    monkeypatch.setattr(authorizers, "CACHE_LIMIT", 4)
    fake = FakeInvoke(policy("Allow"))
    auth = Authorizers(fake, clock=Clock())
    for n in range(10):
        assert run(auth.check(TOKEN, request(headers={"Authorization": f"Bearer t{n}"}))).status == 200
    assert len(auth._cache) <= 4
    assert run(auth.check(TOKEN, request(headers={"Authorization": "Bearer t9"}))).cached
