"""Invoke with the real runtime: tiny handlers zipped in the test (reference sections 7.3, 9, 10), each test run
against the Python runtime and the Node.js runtime (``kit``: the same handlers in each language)."""
from __future__ import annotations

import base64
import json

import pytest

pytest.importorskip("strata.local.runtime.pool")

from contract_helpers import arn, make_zip, payload_of  # noqa: E402
from contract_helpers import create as create_python  # noqa: E402

HANDLERS = {
    "app.py": (
        "import os\n"
        "def handler(event, context):\n"
        "    return event\n"
        "def whoami(event, context):\n"
        "    return {'version': context.function_version, 'arn': context.invoked_function_arn,\n"
        "            'request_id': context.aws_request_id, 'memory': context.memory_limit_in_mb,\n"
        "            'stage': os.environ.get('STAGE')}\n"
        "def fail(event, context):\n"
        "    raise ValueError('boom')\n"
        "def chatty(event, context):\n"
        "    print('hello from the handler')\n"
        "    return 'ok'\n"
        "def slow(event, context):\n"
        "    import time\n"
        "    time.sleep(30)\n"
    ),
}
NODE_HANDLERS = {
    "app.js": (
        "exports.handler = async (event) => event;\n"
        "exports.whoami = async (event, context) => ({version: context.functionVersion,\n"
        "  arn: context.invokedFunctionArn, request_id: context.awsRequestId, memory: context.memoryLimitInMB,\n"
        "  stage: process.env.STAGE});\n"
        "exports.fail = async () => { throw new TypeError('boom'); };\n"
        "exports.chatty = (event, context, callback) => {\n"
        "  console.log('hello from the handler'); callback(null, 'ok'); };\n"
        "exports.slow = () => new Promise(() => setTimeout(() => {}, 30000));\n"
    ),
}


class Kit:
    """One language's side of the contract: its runtime, handlers, and what its runtime calls things."""

    def __init__(self, language: str) -> None:
        self.language = language
        node = language == "node"
        self.runtime = "nodejs20.x" if node else "python3.12"
        self.handlers = NODE_HANDLERS if node else HANDLERS
        self.error = ("TypeError", "boom") if node else ("ValueError", "boom")

    def returning(self, value: int) -> bytes:
        if self.language == "node":
            return make_zip({"app.js": f"exports.handler = async () => {value};\n"})
        return make_zip({"app.py": f"def handler(e, c):\n    return {value}\n"})

    def layer_and_user(self) -> tuple[bytes, bytes]:
        if self.language == "node":
            return (make_zip({"nodejs/node_modules/shared_value/index.js": "exports.VALUE = 'from layer';\n"}),
                    make_zip({"app.js": "const shared = require('shared_value');\n"
                                        "exports.handler = async () => shared.VALUE;\n"}))
        return (make_zip({"python/shared_value.py": "VALUE = 'from layer'\n"}),
                make_zip({"app.py": "import shared_value\ndef handler(e, c):\n    return shared_value.VALUE\n"}))


@pytest.fixture(params=["python", "node"])
def kit(request: pytest.FixtureRequest) -> Kit:
    return Kit(request.param)


def create(lam, kit: Kit, **params):
    params.setdefault("zip_bytes", make_zip(kit.handlers))
    return create_python(lam, Runtime=kit.runtime, **params)


def invoke(lam, name, payload=None, **params):
    response = lam.invoke(FunctionName=name, Payload=json.dumps(payload).encode(), **params)
    return response, payload_of(response)


def test_returns_the_event(lam, kit):
    create(lam, kit)
    response, body = invoke(lam, "fn", {"hello": "world"})
    assert response["StatusCode"] == 200 and json.loads(body) == {"hello": "world"}
    assert response["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in response


def test_context_for_each_qualifier(lam, kit):
    create(lam, kit, Handler="app.whoami", MemorySize=256,
           Environment={"Variables": {"STAGE": "one"}}, Publish=True)
    lam.update_function_configuration(FunctionName="fn", Environment={"Variables": {"STAGE": "two"}})
    lam.create_alias(FunctionName="fn", Name="live", FunctionVersion="1")
    cases = [({}, "$LATEST", arn("fn"), "two"), ({"Qualifier": "1"}, "1", arn("fn", "1"), "one"),
             ({"Qualifier": "live"}, "1", arn("fn", "live"), "one"),
             ({"Qualifier": "$LATEST"}, "$LATEST", arn("fn", "$LATEST"), "two")]
    for params, version, invoked, stage in cases:
        response, body = invoke(lam, "fn", {}, **params)
        seen = json.loads(body)
        assert (seen["version"], seen["arn"], seen["stage"]) == (version, invoked, stage)
        assert seen["memory"] == "256"
        assert response["ExecutedVersion"] == version


def test_alias_routing_reports_the_executed_version(lam, kit):
    create(lam, kit, Handler="app.whoami", Publish=True)
    lam.update_function_configuration(FunctionName="fn", Timeout=5)
    lam.publish_version(FunctionName="fn")
    lam.create_alias(FunctionName="fn", Name="all-extra", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 1.0}})
    lam.create_alias(FunctionName="fn", Name="none-extra", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.0}})
    lam.create_alias(FunctionName="fn", Name="half", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    for _ in range(3):
        response, body = invoke(lam, "fn", {}, Qualifier="all-extra")
        assert response["ExecutedVersion"] == "2" and json.loads(body)["version"] == "2"
        assert json.loads(body)["arn"] == arn("fn", "all-extra")
        assert invoke(lam, "fn", {}, Qualifier="none-extra")[0]["ExecutedVersion"] == "1"
    seen = {invoke(lam, "fn", {}, Qualifier="half")[0]["ExecutedVersion"] for _ in range(40)}
    assert seen == {"1", "2"}


def test_moving_an_alias_applies_to_the_next_call(lam, kit):
    create(lam, kit, Handler="app.whoami", Publish=True)
    lam.update_function_configuration(FunctionName="fn", Timeout=5)
    lam.publish_version(FunctionName="fn")
    lam.create_alias(FunctionName="fn", Name="live", FunctionVersion="1")
    assert invoke(lam, "fn", {}, Qualifier="live")[0]["ExecutedVersion"] == "1"
    lam.update_alias(FunctionName="fn", Name="live", FunctionVersion="2")
    assert invoke(lam, "fn", {}, Qualifier="live")[0]["ExecutedVersion"] == "2"


def test_function_error_is_not_an_http_error(lam, kit):
    create(lam, kit, Handler="app.fail")
    response, body = invoke(lam, "fn", {})
    assert response["StatusCode"] == 200 and response["FunctionError"] == "Unhandled"
    error = json.loads(body)
    assert (error["errorType"], error["errorMessage"]) == kit.error
    if kit.language == "node":          # Lambda's Node.js error payload carries the stack as ``trace``
        assert error["trace"][0] == "TypeError: boom"


def test_log_tail(lam, kit):
    create(lam, kit, Handler="app.chatty")
    response, body = invoke(lam, "fn", {}, LogType="Tail")
    assert json.loads(body) == "ok"
    log = base64.b64decode(response["LogResult"]).decode()
    assert "hello from the handler" in log
    assert "START RequestId: " in log and "END RequestId: " in log and "REPORT RequestId: " in log
    if kit.language == "node":          # console.log lines as Lambda's Node.js runtime writes them
        request_id = log.split("START RequestId: ")[1].split()[0]
        assert f"\t{request_id}\tINFO\thello from the handler" in log


def test_timeout_is_a_function_error(lam, kit):
    create(lam, kit, Handler="app.slow", Timeout=1)
    response, body = invoke(lam, "fn", {}, LogType="Tail")
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(body)
    assert error["errorType"] == "Sandbox.Timedout" and "Task timed out after 1.00 seconds" in error["errorMessage"]
    assert "Task timed out after 1.00 seconds" in base64.b64decode(response["LogResult"]).decode()


def test_event_invocation_is_accepted(lam, kit):
    create(lam, kit)
    response, body = invoke(lam, "fn", {"a": 1}, InvocationType="Event")
    assert response["StatusCode"] == 202 and body == b""
    assert "ExecutedVersion" not in response


def test_new_code_runs_after_update(lam, kit):
    create(lam, kit, zip_bytes=kit.returning(1), Publish=True)
    lam.update_function_code(FunctionName="fn", ZipFile=kit.returning(2))
    assert json.loads(invoke(lam, "fn", {})[1]) == 2
    assert json.loads(invoke(lam, "fn", {}, Qualifier="1")[1]) == 1


def test_layers_are_importable(lam, kit):
    layer_zip, code_zip = kit.layer_and_user()
    layer = lam.publish_layer_version(LayerName="shared", Content={"ZipFile": layer_zip})
    create(lam, kit, zip_bytes=code_zip, Layers=[layer["LayerVersionArn"]])
    assert json.loads(invoke(lam, "fn", {})[1]) == "from layer"
