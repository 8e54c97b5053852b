"""Routes come from the model: every operation is reachable, fixed queries and encoded labels route right."""
from __future__ import annotations

import pickle

import pytest

from strata.local.server.model import _load_raw, compile_model, service_spec
from strata.local.server.routes import RouteTable, compile_route


@pytest.fixture(scope="module")
def table(spec):
    return RouteTable.from_spec(spec)


def _uri_for(op) -> tuple[str, list[tuple[str, str]]]:
    from urllib.parse import parse_qsl

    path, _, query = op.request_uri.partition("?")
    for m in op.uri:
        path = path.replace("{" + m.wire_name + "}", "x1")
    return path, parse_qsl(query)


def test_every_model_operation_routes_to_itself(spec, table):
    for name, op in spec.operations.items():
        path, query = _uri_for(op)
        found = table.match(op.method, path, query)
        assert found is not None and found[0] == name, (name, path, found)


@pytest.mark.parametrize("method, path, query, expected", [
    ("GET", "/2018-10-31/layers", [("find", "LayerVersion"), ("Arn", "a")], "GetLayerVersionByArn"),
    ("GET", "/2018-10-31/layers", [("CompatibleRuntime", "python3.12")], "ListLayers"),
    ("GET", "/2018-10-31/layers", [], "ListLayers"),
    ("GET", "/2019-09-30/functions/f/provisioned-concurrency", [("List", "ALL")], "ListProvisionedConcurrencyConfigs"),
    ("GET", "/2019-09-30/functions/f/provisioned-concurrency", [("Qualifier", "1")], "GetProvisionedConcurrencyConfig"),
    ("GET", "/2015-03-31/functions/", [], "ListFunctions"),  # a trailing slash some SDKs send
    ("POST", "/2015-03-31/functions/f/invocations", [], "Invoke"),
    ("DELETE", "/2017-03-31/tags/arn", [("tagKeys", "a")], "UntagResource"),
])
def test_route_choice(table, method, path, query, expected):
    assert table.match(method, path, query)[0] == expected


def test_labels_are_percent_decoded_one_segment_at_a_time(table):
    op, labels = table.match("GET", "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012"
                                    "%3Afunction%3Af%3A%24LATEST/configuration", [])
    assert op == "GetFunctionConfiguration"
    assert labels == {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST"}
    op, labels = table.match("GET", "/2015-03-31/functions/a%2Fb", [])  # an encoded slash stays in its label
    assert (op, labels) == ("GetFunction", {"FunctionName": "a/b"})


@pytest.mark.parametrize("method, path", [
    ("GET", "/"), ("GET", "/nope"), ("PATCH", "/2015-03-31/functions"), ("GET", "/2015-03-31/functions/f/x/y/z"),
    ("GET", "/2015-03-31/functions//configuration"),
])
def test_unknown_routes(table, method, path):
    assert table.match(method, path, []) is None


def test_literal_segments_beat_labels():
    table = RouteTable([compile_route("ByName", "GET", "/v/{Name}"), compile_route("List", "GET", "/v/list")])
    assert table.match("GET", "/v/list", [])[0] == "List"
    assert table.match("GET", "/v/other", []) == ("ByName", {"Name": "other"})


def test_compiled_spec_is_cached_on_disk_and_reused(tmp_path, monkeypatch):
    first = service_spec(tmp_path)
    files = list(tmp_path.glob("server-model-lambda-*.pickle"))
    assert len(files) == 1
    assert pickle.loads(files[0].read_bytes()).operations.keys() == first.operations.keys()
    from strata.local.server import model

    model._spec_for.cache_clear()
    model._compiled.clear()                 # the process-wide copy too: this is about the file
    monkeypatch.setattr(model, "_load_raw", lambda: pytest.fail("cache miss: the model was loaded again"))
    assert service_spec(tmp_path).operations.keys() == first.operations.keys()
    files[0].write_bytes(b"garbage")  # a corrupt cache is rebuilt, never fatal
    model._spec_for.cache_clear()
    model._compiled.clear()                 # the process-wide copy too: this is about the file
    monkeypatch.setattr(model, "_load_raw", _load_raw)
    assert service_spec(tmp_path).operations["Invoke"].payload.name == "Payload"
    model._spec_for.cache_clear()
    model._compiled.clear()                 # the process-wide copy too: this is about the file


def test_invoke_spec_from_model(spec):
    op = spec.operations["Invoke"]
    assert (op.method, op.status) == ("POST", 200)
    assert {m.wire_name for m in op.headers} >= {"X-Amz-Invocation-Type", "X-Amz-Log-Type", "X-Amz-Client-Context"}
    assert [m.wire_name for m in op.query] == ["Qualifier"]
    assert op.out_status.name == "StatusCode"
    assert {m.wire_name for m in op.out_headers} >= {"X-Amz-Function-Error", "X-Amz-Log-Result",
                                                    "X-Amz-Executed-Version"}


def test_compile_model_is_pure():
    raw = {"operations": {"Op": {"http": {"method": "GET", "requestUri": "/x/{A}?fixed=1", "responseCode": 202},
                                 "input": {"shape": "In"}}},
           "shapes": {"In": {"type": "structure", "required": ["A"],
                             "members": {"A": {"shape": "S", "location": "uri", "locationName": "A"},
                                         "B": {"shape": "S", "documentation": "dropped"}}},
                      "S": {"type": "string", "documentation": "dropped"}}}
    spec = compile_model(raw, "test")
    op = spec.operations["Op"]
    assert (op.status, op.required, [m.name for m in op.body]) == (202, ("A",), ["B"])
    assert "documentation" not in spec.shapes["S"]
