"""Route tables read from deployed resources (OpenAPI bodies, explicit ApiGatewayV2 and ApiGateway resources), CORS
decisions, output URLs shown as local ones, and the authorizer call site."""
from __future__ import annotations

import asyncio
import json

from strata.local.engine.model import DeployedResource
from strata.local.gateway import cors
from strata.local.gateway.addresses import Endpoint, localize
from strata.local.gateway.app import GatewayApp, Invoker
from strata.local.gateway.model import Cors
from strata.local.gateway.routes import RouteTable, apis_of_stack

FN = "arn:aws:lambda:us-east-1:123456789012:function:s-Fn-1"
URI = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{FN}:live/invocations"


def _res(logical_id: str, type_: str, physical: str, props: dict, attributes: dict | None = None) -> DeployedResource:
    return DeployedResource(logical_id, type_, physical, props, {"Ref": physical, **(attributes or {})})


def _integration(**extra) -> dict:
    return {"type": "aws_proxy", "httpMethod": "POST", "uri": URI, **extra}


def test_openapi_security_records_authorizers_scopes_iam_and_api_keys():
    """OpenAPI ``security`` with ``x-amazon-apigateway-authorizer`` schemes names the route's authorizer; awsSigv4 is
    AWS_IAM, an apiKey scheme an API key: both recorded (and reported as not enforced), none silently dropped."""
    body = {"swagger": "2.0", "paths": {
        "/a": {"get": {"x-amazon-apigateway-integration": _integration(), "security": [{"MyAuth": ["read"]}]}},
        "/b": {"get": {"x-amazon-apigateway-integration": _integration(), "security": [{"sigv4": []}]}},
        "/c": {"get": {"x-amazon-apigateway-integration": _integration(), "security": [{"api_key": []}]}},
        "/d": {"get": {"x-amazon-apigateway-integration": {"type": "http", "uri": "https://example.com"}}}},
        "securityDefinitions": {
            "MyAuth": {"type": "apiKey", "name": "Authorization", "in": "header",
                       "x-amazon-apigateway-authorizer": {"type": "token"}},
            "sigv4": {"type": "apiKey", "name": "Authorization", "in": "header",
                      "x-amazon-apigateway-authtype": "awsSigv4"},
            "api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"}}}
    api, = apis_of_stack("s", {"Api": _res("Api", "AWS::ApiGateway::RestApi", "abc", {"Body": body})})
    routes = {r.path: r for r in api.routes}
    assert (routes["/a"].authorizer, routes["/a"].scopes) == ("MyAuth", ("read",))
    assert routes["/b"].iam and routes["/b"].authorizer is None
    assert routes["/c"].api_key_required
    assert routes["/d"].integration is None and "not served locally" in str(routes["/d"].unsupported)
    assert routes["/a"].integration is not None and routes["/a"].integration.function_name == "s-Fn-1:live"
    assert (api.stage, api.kind) == ("Prod", "REST")


def test_explicit_http_api_resources_and_stages():
    resources = {
        "Api": _res("Api", "AWS::ApiGatewayV2::Api", "h1", {"ProtocolType": "HTTP", "Name": "x",
                                                             "CorsConfiguration": {"AllowOrigins": ["*"]}}),
        "Int": _res("Int", "AWS::ApiGatewayV2::Integration", "int1", {
            "ApiId": "h1", "IntegrationType": "AWS_PROXY", "IntegrationUri": FN, "PayloadFormatVersion": "1.0",
            "TimeoutInMillis": 5000}),
        "Route": _res("Route", "AWS::ApiGatewayV2::Route", "r1", {
            "ApiId": "h1", "RouteKey": "POST /orders/{id}", "Target": "integrations/int1", "AuthorizerId": "auth1",
            "AuthorizationType": "JWT", "AuthorizationScopes": ["orders"]}),
        "Stage": _res("Stage", "AWS::ApiGatewayV2::Stage", "st", {"ApiId": "h1", "StageName": "v1",
                                                                  "StageVariables": {"k": "v"}}),
        "Ws": _res("Ws", "AWS::ApiGatewayV2::Api", "w1", {"ProtocolType": "WEBSOCKET"}),
    }
    api, = apis_of_stack("s", resources)
    route, = api.routes
    assert (route.route_key, route.authorizer, route.scopes) == ("POST /orders/{id}", "auth1", ("orders",))
    assert route.integration is not None
    assert (route.integration.payload_version, route.integration.timeout_ms) == ("1.0", 5000)
    assert (api.stage, api.stage_variables, api.cors) == ("v1", {"k": "v"}, Cors(allow_origins=("*",)))
    assert api.key == "s/Api/v1"


def test_rest_resources_and_methods_without_a_body():
    resources = {
        "Api": _res("Api", "AWS::ApiGateway::RestApi", "r1", {"Name": "x"}),
        "Items": _res("Items", "AWS::ApiGateway::Resource", "res1", {"RestApiId": "r1", "ParentId": "root",
                                                                     "PathPart": "items"}),
        "Item": _res("Item", "AWS::ApiGateway::Resource", "res2", {"RestApiId": "r1", "ParentId": "res1",
                                                                   "PathPart": "{id}"}),
        "Get": _res("Get", "AWS::ApiGateway::Method", "m1", {
            "RestApiId": "r1", "ResourceId": "res2", "HttpMethod": "GET", "AuthorizationType": "AWS_IAM",
            "Integration": {"Type": "AWS_PROXY", "IntegrationHttpMethod": "POST", "Uri": URI}}),
        "Stage": _res("Stage", "AWS::ApiGateway::Stage", "s1", {"RestApiId": "r1", "StageName": "dev"}),
    }
    api, = apis_of_stack("s", resources)
    table = RouteTable(api)
    found = table.match("GET", "/items/7")
    assert found is not None and found[1] == {"id": "7"} and found[0].iam
    assert api.stage == "dev"


def test_function_url_qualifier_and_cors():
    url = _res("FnUrl", "AWS::Lambda::Url", f"{FN}:live", {
        "TargetFunctionArn": FN, "Qualifier": "live", "AuthType": "AWS_IAM",
        "Cors": {"AllowOrigins": ["http://a.test"], "AllowHeaders": ["X-Custom"], "MaxAge": 10}},
        {"FunctionUrl": "https://abc123.lambda-url.us-east-1.on.aws/"})
    api, = apis_of_stack("s", {"FnUrl": url})
    route, = api.routes
    assert route.integration is not None and route.integration.function_arn == f"{FN}:live"
    assert api.api_id == "abc123" and api.cors == Cors(("http://a.test",), (), ("x-custom",), (), False, 10)
    assert any("AWS_IAM is not enforced" in w for w in api.warnings)


def test_cors_decisions():
    config = Cors(allow_origins=("http://a.test",), allow_methods=("GET",), allow_headers=("x-custom",),
                  expose_headers=("x-v",), allow_credentials=True, max_age=5)
    ask = {"origin": "http://a.test", "access-control-request-method": "GET",
           "access-control-request-headers": "X-Custom"}
    assert dict(cors.preflight(config, ask)) == {
        "access-control-allow-origin": "http://a.test", "access-control-allow-credentials": "true",
        "access-control-allow-methods": "GET", "access-control-allow-headers": "x-custom",
        "access-control-expose-headers": "x-v", "access-control-max-age": "5"}
    assert cors.preflight(config, {**ask, "access-control-request-method": "DELETE"}) == []
    assert cors.preflight(config, {**ask, "access-control-request-headers": "x-other"}) == []
    assert cors.preflight(config, {**ask, "origin": "http://b.test"}) == []
    assert cors.response_headers(config, {"origin": "http://b.test"}) == []
    star = Cors(allow_origins=("*",))
    assert cors.response_headers(star, {"origin": "http://any.test"}) == [("access-control-allow-origin", "*")]


def test_outputs_naming_deployed_urls_show_local_ones():
    resources = {"Api": _res("Api", "AWS::ApiGateway::RestApi", "abc", {"Body": {"paths": {}}}),
                 "Stage": _res("Stage", "AWS::ApiGateway::Stage", "st", {"RestApiId": "abc", "StageName": "Prod"}),
                 "Http": _res("Http", "AWS::ApiGatewayV2::Api", "h1", {"Body": {"paths": {}}})}
    rest, http = apis_of_stack("s", resources)
    found = [Endpoint(rest, "http://127.0.0.1:3002/"), Endpoint(http, "http://127.0.0.1:3003/")]
    assert localize("https://abc.execute-api.eu-west-1.amazonaws.com/Prod/hello/", found) == \
        "http://127.0.0.1:3002/hello/"
    assert localize("https://h1.execute-api.us-east-1.amazonaws.com/", found) == "http://127.0.0.1:3003/"
    assert localize("https://other.execute-api.us-east-1.amazonaws.com/Prod/", found) == \
        "https://other.execute-api.us-east-1.amazonaws.com/Prod/"


def test_a_route_with_an_authorizer_never_passes_silently():
    """A guarded route runs its authorizer first: without a token, 401 and the function never runs."""
    jwt = {"type": "jwt", "identitySource": "$request.header.Authorization",
           "jwtConfiguration": {"issuer": "https://i.example", "audience": ["a"]}}
    body = {"openapi": "3.0.1", "paths": {"/a": {"get": {"x-amazon-apigateway-integration": _integration(),
                                                         "security": [{"Jwt": []}]}}},
            "components": {"securitySchemes": {"Jwt": {"type": "oauth2", "x-amazon-apigateway-authorizer": jwt}}}}
    api, = apis_of_stack("s", {"Api": _res("Api", "AWS::ApiGatewayV2::Api", "h1", {"Body": body})})

    class NoInvoke:
        def __getattr__(self, name):
            raise AssertionError("the function must not run")

    app = GatewayApp(api, Invoker(NoInvoke(), None), 3002)
    admitted = app.admit("GET", "/a", "", {"host": "127.0.0.1:3002"}, None)
    status, _, body_bytes, _ = asyncio.run(app.respond(admitted, b""))
    assert (status, json.loads(body_bytes)) == (401, {"message": "Unauthorized"})


def test_iam_and_api_keys_are_reported_as_not_enforced():
    """``deploy`` and ``serve`` print these (``addresses.endpoints_text``): never a silent pass."""
    from strata.local.gateway.addresses import endpoints_text

    body = {"swagger": "2.0", "paths": {
        "/b": {"get": {"x-amazon-apigateway-integration": _integration(), "security": [{"AWS_IAM": []}]}},
        "/c": {"get": {"x-amazon-apigateway-integration": _integration(), "security": [{"api_key": []}]}}},
        "securityDefinitions": {"AWS_IAM": {"x-amazon-apigateway-authtype": "awsSigv4"},
                                "api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"}}}
    api, = apis_of_stack("s", {"Api": _res("Api", "AWS::ApiGateway::RestApi", "abc", {"Body": body})})
    text = endpoints_text([Endpoint(api, "http://127.0.0.1:3002/")])
    assert "REST API s/Api stage Prod: http://127.0.0.1:3002/" in text
    assert "warning: REST API s/Api stage Prod: AWS_IAM authorization is not enforced locally" in text
    assert "warning: REST API s/Api stage Prod: API keys are not enforced locally" in text
