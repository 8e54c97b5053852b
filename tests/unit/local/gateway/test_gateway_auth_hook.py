"""The gateway's side of authorizers: specs by the names routes use, the request an authorizer sees (taken from the
integration event), Cognito named as not enforced, and ``--jwks`` parsed at the CLI's edge."""
from __future__ import annotations

from click.testing import CliRunner

from strata.cli.serve import serve
from strata.local.engine.model import DeployedResource
from strata.local.gateway import addresses, auth_hook, payloads
from strata.local.gateway.model import Api, Integration, Route

URI = ("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
       "arn:aws:lambda:us-east-1:123456789012:function:Auth:live/invocations")
DOC = {"swagger": "2.0", "securityDefinitions": {
    "TokAuth": {"type": "apiKey", "name": "Authorization", "in": "header",
                "x-amazon-apigateway-authorizer": {"type": "token", "authorizerUri": URI}},
    "Pool": {"type": "apiKey", "name": "Authorization", "in": "header",
             "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools", "providerARNs": ["arn:pool"]}}}}
ROUTE = Route("GET", "/pets/{id}", Integration("arn:aws:lambda:us-east-1:123456789012:function:Fn"),
              authorizer="TokAuth")


def api(**kw: object) -> Api:
    base: dict[str, object] = dict(key="s/Api/dev", kind="REST", stack="s", logical_id="Api", api_id="abc123",
                                   stage="dev", routes=(ROUTE,), document=DOC, stage_variables={"v": "1"})
    base.update(kw)
    return Api(**base)  # type: ignore[arg-type]


def test_specs_by_scheme_name_and_by_authorizer_resource_physical_id() -> None:
    resource = DeployedResource("ReqAuth", "AWS::ApiGateway::Authorizer", "auth-9x", {
        "Type": "REQUEST", "AuthorizerUri": URI, "IdentitySource": "method.request.header.X", "RestApiId": "abc123"},
        {"Ref": "auth-9x"})
    specs = auth_hook.specs(api(authorizer_resources=(resource,)))
    assert set(specs) == {"TokAuth", "auth-9x"}
    assert specs["TokAuth"].function_arn == "arn:aws:lambda:us-east-1:123456789012:function:Auth:live"


def test_auth_request_is_taken_from_the_integration_event() -> None:
    the_api = api()
    request = payloads.Request("GET", "/pets/7", "a=1&a=2", {"authorization": "t", "host": "127.0.0.1:9"},
                               [("Authorization", "t"), ("Host", "127.0.0.1:9")], b"", "127.0.0.9", "req-1", 0.0)
    spec = auth_hook.specs(the_api)["TokAuth"]
    req = auth_hook.auth_request(the_api, ROUTE, request, {"id": "7"}, spec)
    assert req.arn == "arn:aws:execute-api:us-east-1:123456789012:abc123/dev/GET/pets/7"
    assert (req.resource, req.path, req.path_params, req.stage_variables) == ("/pets/{id}", "/pets/7", {"id": "7"},
                                                                                {"v": "1"})
    assert req.multi_value_query == {"a": ["1", "2"]} and req.header("AUTHORIZATION") == "t"
    assert req.request_context is not None and req.request_context["resourcePath"] == "/pets/{id}"
    http_route = Route("GET", "/pets/{id}", Integration("arn:fn", payload_version="2.0"), authorizer="TokAuth")
    http_req = auth_hook.auth_request(api(kind="HTTP", stage="$default"), http_route, request, {}, spec)
    assert http_req.arn == "arn:aws:execute-api:us-east-1:123456789012:abc123/$default/GET/pets/{id}"
    assert http_req.resource == "GET /pets/{id}" and http_req.payload_version == "2.0"


def test_a_cognito_authorizer_is_named_as_not_enforced() -> None:
    guarded = Route("GET", "/x", Integration("arn:fn"), authorizer="Pool")
    notes = addresses.warnings([addresses.Endpoint(api(routes=(ROUTE, guarded)), "")])
    assert notes == ["REST API s/Api stage dev: authorizer Pool is not enforced locally (Cognito user pools; "
                     "requests are let in)"]


def test_a_malformed_jwks_option_is_a_usage_error() -> None:
    result = CliRunner().invoke(serve, ["--jwks", "https://issuer.example=https://issuer.example/keys"])
    assert result.exit_code == 2
    assert "not local" in result.output
