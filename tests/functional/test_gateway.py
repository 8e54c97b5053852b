"""The local API Gateway in a real ``strata serve``: tests/data/gateway-app deployed (a REST API, an HTTP API and a
function URL, all on the function's ``live`` alias), then plain HTTP (http.client) against each API's own port."""
from __future__ import annotations

import base64
import http.client
import json
import re
import shutil
import time
from pathlib import Path

import pytest
from deploy_helpers import ROOT, strata
from strata_testkit import start_serve, stop_serve

from strata.local.gateway.addresses import serving_ports

APP = ROOT / "tests" / "data" / "gateway-app"
ORIGIN = "http://allowed.test"


def _ports(home: Path, stack: str, wanted: tuple[str, ...]) -> dict[str, int]:
    """The ports ``strata serve`` recorded for the APIs (waits until the gateway wrote them)."""
    for _ in range(600):
        ports = serving_ports(home)
        if all(f"{stack}/{key}" in ports for key in wanted):
            return {key: ports[f"{stack}/{key}"] for key in wanted}
        time.sleep(0.05)
    raise AssertionError(f"the gateway did not record ports for {wanted}: {serving_ports(home)}")


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    base = tmp_path_factory.mktemp("gateway")
    app = base / "gwapp"
    shutil.copytree(APP, app)
    home = app / ".strata"
    deployed = strata(app, home, "deploy").stdout
    process = start_serve(home)
    ports = _ports(home, "gwapp", ("Api/test", "HttpApi/$default", "EchoFunctionUrl/$default"))
    yield {"app": app, "home": home, "rest": ports["Api/test"], "http": ports["HttpApi/$default"],
           "url": ports["EchoFunctionUrl/$default"], "process": process, "deployed": deployed}
    err = stop_serve(process)
    assert process.returncode == 0, err


def call(port: int, method: str, path: str, body: bytes | None = None, headers: dict | list | None = None,
         host: str | None = None) -> tuple[int, http.client.HTTPResponse, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host or f"127.0.0.1:{port}")
        for name, value in (headers.items() if isinstance(headers, dict) else headers or []):
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, response, response.read()
    finally:
        conn.close()


def test_rest_api_payload_v1(gateway):
    """REST payload 1.0 (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-
    integrations.html): resource, path parameters, repeated headers and query parameters, stage and its variables;
    the function's multiValueHeaders come back as repeated headers."""
    status, response, body = call(gateway["rest"], "GET", "/items/42?a=1&a=2&b=x%20y",
                                  headers=[("X-Multi", "1"), ("X-Multi", "2")])
    assert status == 200, body
    out = json.loads(body)
    event = out["event"]
    assert (event["resource"], event["path"], event["httpMethod"]) == ("/items/{id}", "/items/42", "GET")
    assert event["pathParameters"] == {"id": "42"}
    assert event["multiValueHeaders"]["X-Multi"] == ["1", "2"] and event["headers"]["X-Multi"] == "2"
    assert event["queryStringParameters"] == {"a": "2", "b": "x y"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": ["x y"]}
    assert event["stageVariables"] == {"color": "blue"}
    context = event["requestContext"]
    assert (context["stage"], context["resourcePath"], context["path"]) == ("test", "/items/{id}", "/test/items/42")
    assert context["identity"]["sourceIp"] == "127.0.0.1" and context["requestId"]
    assert out["version"] == "1" and response.getheader("X-Version") == "1"
    assert response.headers.get_all("Set-Cookie") == ["a=1", "b=2"]


def test_rest_proxy_and_missing_route(gateway):
    status, _, body = call(gateway["rest"], "POST", "/deep/er/path", body=b"plain text",
                           headers={"Content-Type": "text/plain"})
    event = json.loads(body)["event"]
    assert status == 200
    assert (event["resource"], event["pathParameters"]) == ("/{proxy+}", {"proxy": "deep/er/path"})
    assert (event["body"], event["isBase64Encoded"]) == ("plain text", False)
    status, _, body = call(gateway["rest"], "GET", "/")
    assert (status, json.loads(body)) == (403, {"message": "Missing Authentication Token"})


def test_rest_binary_bodies(gateway):
    """BinaryMediaTypes: a binary request body reaches the function base64-encoded; a base64 answer goes out as
    bytes."""
    data = bytes(range(256)) * 4
    status, _, body = call(gateway["rest"], "POST", "/upload", body=data,
                           headers={"Content-Type": "application/octet-stream"})
    event = json.loads(body)["event"]
    assert status == 200 and event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == data
    status, response, body = call(gateway["rest"], "GET", "/image/png")
    assert (status, response.getheader("Content-Type"), body) == (200, "image/png", b"\x89PNG\r\n\x1a\n\x00\xff")


def test_request_payload_limit(gateway):
    """API Gateway's 10 MB request quota: a larger body is refused before any function runs."""
    status, _, body = call(gateway["http"], "POST", "/v1/big", body=b"x" * (10 * 1024 * 1024 + 1),
                           headers={"Content-Type": "text/plain"})
    assert (status, json.loads(body)) == (413, {"message": "Request Entity Too Large"})
    status, _, _ = call(gateway["http"], "POST", "/v1/big", body=b"x" * (1024 * 1024),
                        headers={"Content-Type": "text/plain"})
    assert status == 200


def test_http_api_payload_v2(gateway):
    """Payload 2.0 (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-
    lambda.html): route key, raw path and query, cookies, comma-joined repeats; response cookies become Set-Cookie."""
    status, response, body = call(gateway["http"], "GET", "/h/7?x=1&x=2",
                                  headers=[("Cookie", "s=1; t=2"), ("X-Multi", "1"), ("X-Multi", "2")])
    assert status == 200, body
    event = json.loads(body)["event"]
    assert (event["version"], event["routeKey"], event["rawPath"], event["rawQueryString"]) == \
        ("2.0", "GET /h/{id}", "/h/7", "x=1&x=2")
    assert event["cookies"] == ["s=1", "t=2"] and "cookie" not in event["headers"]
    assert event["headers"]["x-multi"] == "1,2"
    assert event["queryStringParameters"] == {"x": "1,2"} and event["pathParameters"] == {"id": "7"}
    assert event["requestContext"]["http"]["method"] == "GET" and event["requestContext"]["stage"] == "$default"
    assert response.headers.get_all("set-cookie") == ["c=3"]


def test_http_api_default_route_payload_v1_and_shorthand(gateway):
    status, _, body = call(gateway["http"], "DELETE", "/no/such/route")
    assert status == 200
    event = json.loads(body)["event"]
    assert (event["routeKey"], json.loads(body)["version"]) == ("$default", "$LATEST")   # DefaultFunction, unaliased
    status, _, body = call(gateway["http"], "POST", "/v1/a/b", body=b"{}", headers={"Content-Type": "application/json"})
    event = json.loads(body)["event"]
    assert (event["version"], event["resource"], event["pathParameters"]) == ("1.0", "/v1/{proxy+}", {"proxy": "a/b"})
    status, response, body = call(gateway["http"], "GET", "/h/shorthand")
    assert (status, response.getheader("content-type")) == (200, "application/json")
    assert json.loads(body) == {"shorthand": True, "version": "1"}


def test_function_errors_malformed_answers_and_timeouts(gateway):
    """A function error or a malformed proxy answer is API Gateway's 502; an integration slower than its
    TimeoutInMillis is 504."""
    for port, path in ((gateway["http"], "/h/fail"), (gateway["http"], "/h/malformed"), (gateway["rest"], "/fail")):
        status, _, body = call(port, "GET", path)
        assert (status, json.loads(body)) == (502, {"message": "Internal server error"}), path
    status, _, body = call(gateway["http"], "GET", "/h/timeout/slow")
    assert (status, json.loads(body)) == (504, {"message": "Endpoint request timed out"})
    status, _, body = call(gateway["http"], "GET", "/nope", host="evil.example")
    assert status == 421


def test_cors(gateway):
    """HttpApi CorsConfiguration and a function URL's Cors: the gateway answers preflights and adds the headers for
    an allowed origin only; a REST Api's Cors is SAM's mock OPTIONS method."""
    preflight = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"}
    status, response, _ = call(gateway["http"], "OPTIONS", "/h/1", headers=preflight)
    assert status == 204
    assert response.getheader("access-control-allow-origin") == ORIGIN
    assert response.getheader("access-control-allow-methods") == "GET,POST"
    assert response.getheader("access-control-max-age") == "60"
    status, response, _ = call(gateway["http"], "OPTIONS", "/h/1",
                               headers={**preflight, "Origin": "http://evil.test"})
    assert response.getheader("access-control-allow-origin") is None
    status, response, _ = call(gateway["http"], "GET", "/h/1", headers={"Origin": ORIGIN})
    assert response.getheader("access-control-allow-origin") == ORIGIN
    assert response.getheader("access-control-expose-headers") == "x-version"
    status, response, _ = call(gateway["http"], "GET", "/h/1", headers={"Origin": "http://evil.test"})
    assert status == 200 and response.getheader("access-control-allow-origin") is None
    status, response, _ = call(gateway["rest"], "OPTIONS", "/items/1", headers=preflight)
    assert status == 200 and response.getheader("Access-Control-Allow-Origin") == ORIGIN
    assert response.getheader("Access-Control-Allow-Headers") == "content-type,x-custom"
    simple = {"Origin": ORIGIN, "Access-Control-Request-Method": "DELETE"}
    status, response, _ = call(gateway["url"], "OPTIONS", "/", headers=simple)
    assert status == 204 and response.getheader("access-control-allow-origin") == ORIGIN
    status, response, _ = call(gateway["url"], "OPTIONS", "/", headers=preflight)   # no AllowHeaders: refused
    assert response.getheader("access-control-allow-origin") is None


def test_function_url(gateway):
    status, _, body = call(gateway["url"], "GET", "/any/path?q=1")
    event = json.loads(body)["event"]
    assert status == 200
    assert (event["routeKey"], event["rawPath"], event["requestContext"]["accountId"]) == \
        ("$default", "/any/path", "anonymous")
    assert json.loads(body)["version"] == "1"     # the URL's qualifier: the live alias


def test_access_log(gateway):
    call(gateway["http"], "GET", "/h/logged")
    log = gateway["home"] / "logs" / "gateway" / "access.log"
    for _ in range(100):
        if "GET /h/logged 200" in log.read_text():
            break
        time.sleep(0.05)
    line = next(line for line in log.read_text().splitlines() if "GET /h/logged 200" in line)
    assert "ms " in line and line.endswith(":1") and "EchoFunction" in line and " gwapp/HttpApi/$default " in line
    shown = strata(gateway["app"], gateway["home"], "logs", "HttpApi").stdout
    assert "GET /h/logged 200" in shown and "gwapp/Api/test" not in shown
    assert "gwapp/Api/test" in strata(gateway["app"], gateway["home"], "logs", "gateway").stdout


def test_weighted_alias_splits_http_traffic_and_routes_follow_deploys(gateway):
    """A second version, then ``live`` weighted 50/50 between 1 and 2: HTTP requests reach both (the integration is
    the alias, invoked as Invoke invokes it). A deploy that adds a route while serve runs is served without a
    restart."""
    app, home = gateway["app"], gateway["home"]
    source = app / "src" / "app.py"
    source.write_text(source.read_text().replace("VERSION_MARK = 1", "VERSION_MARK = 2"))
    template = app / "template.yaml"
    template.write_text(template.read_text().replace("""  DefaultFunction:""", """  LateFunction:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Late:
          Type: HttpApi
          Properties:
            ApiId: !Ref HttpApi
            Path: /late
            Method: get

  DefaultFunction:"""))
    strata(app, home, "deploy")
    from strata.local.lambda_service.service import LambdaService
    from strata.local.lambda_service.wire import dispatch

    service = LambdaService(home)
    try:
        name = next(f["FunctionName"] for f in dispatch(service, "ListFunctions", {})["Functions"]
                    if "EchoFunction" in f["FunctionName"])
        dispatch(service, "UpdateAlias", {"FunctionName": name, "Name": "live", "FunctionVersion": "2",
                                          "RoutingConfig": {"AdditionalVersionWeights": {"1": 0.5}}})
    finally:
        service.close()
    seen = set()
    for _ in range(200):
        status, _, body = call(gateway["http"], "GET", "/h/w")
        assert status == 200
        seen.add(json.loads(body)["version"])
        if seen == {"1", "2"}:
            break
    assert seen == {"1", "2"}
    for _ in range(600):
        status, _, body = call(gateway["http"], "GET", "/late")
        if status == 200 and json.loads(body).get("event", {}).get("routeKey") == "GET /late":
            break
        time.sleep(0.05)
    assert json.loads(body)["event"]["routeKey"] == "GET /late"


def test_deploy_and_describe_show_local_urls(gateway):
    """Outputs naming execute-api / lambda-url URLs show the local ones; deploy and describe list the endpoints."""
    deployed = gateway["deployed"]
    assert "Local endpoints (served by `strata serve` and `strata dev`):" in deployed
    assert "execute-api" not in deployed and "lambda-url" not in deployed
    info = json.loads(strata(gateway["app"], gateway["home"], "describe", "--output", "json").stdout)
    assert info["LocalEndpoints"]["Api/test"] == f"http://127.0.0.1:{gateway['rest']}/"
    assert info["LocalEndpoints"]["HttpApi/$default"] == f"http://127.0.0.1:{gateway['http']}/"
    text = strata(gateway["app"], gateway["home"], "describe").stdout
    assert f"RestUrl      http://127.0.0.1:{gateway['rest']}/" in text
    assert f"function URL gwapp/EchoFunctionUrl: http://127.0.0.1:{gateway['url']}/" in text


def test_public_sam_init_app_answers_http(tmp_path):
    """The SAM CLI "hello world" app (tests/data/sam_apps/sam-init-hello, unchanged): its `Api` event's route answers
    on the REST API's local port as `sam local start-api` would, and its HelloWorldApi output shows that URL."""
    app = tmp_path / "hello"
    shutil.copytree(ROOT / "tests" / "data" / "sam_apps" / "sam-init-hello", app)
    home = app / ".strata"
    deployed = strata(app, home, "deploy").stdout
    process = start_serve(home)
    try:
        port = _ports(home, "hello", ("ServerlessRestApi/Prod",))["ServerlessRestApi/Prod"]
        status, _, body = call(port, "GET", "/hello")
        assert (status, json.loads(body)) == (200, {"message": "hello world"})
        assert (call(port, "GET", "/nope")[0]) == 403
    finally:
        stop_serve(process)
    assert re.search(r"HelloWorldApi\s+http://127\.0\.0\.1:\d+/hello/\n", deployed), deployed


def test_strata_dev_serves_the_api_and_every_save(tmp_path):
    """examples/http-api under ``strata dev``: the HTTP API answers on its port, and a saved code change answers
    from the new version through the alias without a restart."""
    import os
    import signal
    import subprocess
    import sys

    app = tmp_path / "http-api"
    shutil.copytree(ROOT / "examples" / "http-api", app)
    out_path, err_path = tmp_path / "dev.out", tmp_path / "dev.err"
    env = {k: v for k, v in os.environ.items() if k != "STRATA_HOME"}
    with open(out_path, "w") as out, open(err_path, "w") as err:
        process = subprocess.Popen([sys.executable, "-m", "strata.cli.main", "dev", "--port", "0"], cwd=app, env=env,
                                   stdout=out, stderr=err)

    def wait_for(pattern: str) -> re.Match:
        for _ in range(1200):
            found = re.search(pattern, out_path.read_text() + err_path.read_text())
            if found:
                return found
            assert process.poll() is None, out_path.read_text() + err_path.read_text()
            time.sleep(0.05)
        raise AssertionError(f"no {pattern!r} in:\n{out_path.read_text()}\n{err_path.read_text()}")

    try:
        port = int(wait_for(r"HTTP API http-api/HttpApi: http://127\.0\.0\.1:(\d+)/").group(1))
        status, _, body = call(port, "GET", "/hello/dev")
        assert (status, json.loads(body)) == (200, {"message": "Hello, dev!", "version": "1"})
        source = app / "src" / "app.py"
        source.write_text(source.read_text().replace("Hello, ", "Hi, "))
        wait_for(r"GreetFunction -> version 2")
        status, _, body = call(port, "GET", "/hello/dev")
        assert (status, json.loads(body)) == (200, {"message": "Hi, dev!", "version": "2"})
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert process.returncode == 0, err_path.read_text()


DEFINITION_URI_TEMPLATE = """AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  DocApi:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
      DefinitionUri: openapi.yaml
  DocFunction:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: gw-defuri-fn
      CodeUri: src
      Handler: app.handler
      Runtime: python3.12
"""
OPENAPI = """openapi: "3.0.1"
info: {title: doc, version: "1"}
paths:
  /things/{thing}:
    put:
      x-amazon-apigateway-integration:
        type: aws_proxy
        httpMethod: POST
        uri: "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/\\
          arn:aws:lambda:us-east-1:123456789012:function:gw-defuri-fn/invocations"
"""


def test_definition_uri_openapi_routes(tmp_path):
    """A REST API from an OpenAPI file (``DefinitionUri``, inlined as the RestApi's Body when packaging): its
    x-amazon-apigateway-integration routes are served."""
    app = tmp_path / "docapi"
    (app / "src").mkdir(parents=True)
    shutil.copy(APP / "src" / "app.py", app / "src" / "app.py")
    (app / "template.yaml").write_text(DEFINITION_URI_TEMPLATE)
    (app / "openapi.yaml").write_text(OPENAPI)
    home = app / ".strata"
    strata(app, home, "deploy")
    process = start_serve(home)
    try:
        port = _ports(home, "docapi", ("DocApi/v1",))["DocApi/v1"]
        status, _, body = call(port, "PUT", "/things/lamp", body=b"on", headers={"Content-Type": "text/plain"})
        event = json.loads(body)["event"]
        assert status == 200
        assert (event["resource"], event["pathParameters"], event["body"]) == \
            ("/things/{thing}", {"thing": "lamp"}, "on")
        assert call(port, "GET", "/things/lamp")[0] == 403
    finally:
        stop_serve(process)
