"""Requests become boto3-shaped params by the input shape; what boto3 would not send gets AWS's errors and texts."""
from __future__ import annotations

import base64
import json

import pytest

from strata.local.server.request import HttpRequest, RequestReader
from strata.local.server.routes import RouteTable
from strata.local.server.validate import compile_pattern, show
from strata.model.lambda_errors import InvalidRequestContentException, ValidationException


def _reader(spec, reader):
    table = RouteTable.from_spec(spec)

    def _read(method, path, query=(), headers=None, body=b""):
        op, labels = table.match(method, path, list(query))
        request = HttpRequest(method, path, list(query), {k.lower(): v for k, v in (headers or {}).items()}, body)
        return reader.read(spec.operations[op], labels, request)
    return _read


@pytest.fixture(scope="module")
def read(spec):
    """As ``strata serve`` reads: shapes the control plane checks itself are left to it."""
    return _reader(spec, RequestReader(spec))


@pytest.fixture(scope="module")
def read_all(spec):
    """Every model constraint checked here (for a dispatcher that checks nothing itself)."""
    return _reader(spec, RequestReader(spec, deferred=frozenset()))


def test_invoke_members_from_uri_query_headers_and_raw_payload(read):
    params = read("POST", "/2015-03-31/functions/my-fn/invocations", [("Qualifier", "live")],
                  {"X-Amz-Invocation-Type": "Event", "X-Amz-Log-Type": "Tail", "X-Amz-Client-Context": "e30="},
                  b'{"a": 1}')
    assert params == {"FunctionName": "my-fn", "Qualifier": "live", "InvocationType": "Event", "LogType": "Tail",
                      "ClientContext": "e30=", "Payload": b'{"a": 1}'}


def test_json_body_blobs_are_base64_decoded_and_types_kept(read):
    body = json.dumps({"FunctionName": "f", "Role": "arn:aws:iam::123456789012:role/r", "Publish": True,
                       "Code": {"ZipFile": base64.b64encode(b"PK\x03\x04zip").decode()}, "Timeout": 30,
                       "Environment": {"Variables": {"A": "1"}}, "Unknown": "ignored"}).encode()
    params = read("POST", "/2015-03-31/functions", body=body, headers={"Content-Type": "application/json"})
    assert params["Code"] == {"ZipFile": b"PK\x03\x04zip"}
    assert (params["Publish"], params["Timeout"], params["Environment"]) == (True, 30, {"Variables": {"A": "1"}})
    assert "Unknown" not in params


def test_querystring_integers_booleans_and_lists(read):
    assert read("GET", "/2015-03-31/functions", [("MaxItems", "10"), ("FunctionVersion", "ALL")]) == \
        {"MaxItems": 10, "FunctionVersion": "ALL"}
    arn = "arn:aws:lambda:us-east-1:123456789012:function:f"
    assert read("DELETE", "/2017-03-31/tags/" + arn.replace(":", "%3A"), [("tagKeys", "a"), ("tagKeys", "b")]) == \
        {"Resource": arn, "TagKeys": ["a", "b"]}


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b"\xff\xfe", b'"text"'])
def test_malformed_json_is_invalid_request_content(read, body):
    with pytest.raises(InvalidRequestContentException, match="Could not parse request body into json"):
        read("POST", "/2015-03-31/functions", body=body)


def test_missing_required_members_are_reported_together(read):
    with pytest.raises(ValidationException) as info:
        read("POST", "/2015-03-31/functions", body=b"{}")
    assert info.value.message == (
        "3 validation errors detected: "
        "Value null at 'functionName' failed to satisfy constraint: Member must not be null; "
        "Value null at 'role' failed to satisfy constraint: Member must not be null; "
        "Value null at 'code' failed to satisfy constraint: Member must not be null")


def test_routing_weight_out_of_range_has_awss_recorded_text(read_all):
    body = json.dumps({"Name": "live", "FunctionVersion": "1",
                       "RoutingConfig": {"AdditionalVersionWeights": {"2": 2.0}}}).encode()
    with pytest.raises(ValidationException) as info:
        read_all("POST", "/2015-03-31/functions/f/aliases", body=body)
    assert info.value.message == (
        "1 validation error detected: Value '{2=2.0}' at 'routingConfig.additionalVersionWeights' failed to "
        "satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, "
        "Member must have value greater than or equal to 0.0, Member must not be null]")


def test_alias_name_pattern_and_qualifier_length(read_all):
    with pytest.raises(ValidationException, match=r"Value '2024' at 'name' failed to satisfy constraint: Member must "
                                                  r"satisfy regular expression pattern: \(\?!\^\[0-9\]\+\$\)"):
        read_all("POST", "/2015-03-31/functions/f/aliases", body=b'{"Name": "2024", "FunctionVersion": "1"}')
    with pytest.raises(ValidationException, match="at 'qualifier' failed to satisfy constraint: Member must have "
                                                  "length less than or equal to 128"):
        read_all("GET", "/2015-03-31/functions/f", [("Qualifier", "a" * 129)])


def test_enum_and_max_checked_server_side(read_all):
    with pytest.raises(ValidationException, match=r"Value 'Sometimes' at 'invocationType' failed to satisfy "
                                                  r"constraint: Member must satisfy enum value set: \["):
        read_all("POST", "/2015-03-31/functions/f/invocations", headers={"X-Amz-Invocation-Type": "Sometimes"})
    with pytest.raises(ValidationException, match="at 'maxItems' failed to satisfy constraint: Member must have "
                                                  "value less than or equal to 10000"):
        read_all("GET", "/2015-03-31/functions", [("MaxItems", "10001")])


def test_constraints_nobody_else_checks_are_checked_by_default(read):
    body = json.dumps({"FunctionName": "f", "Role": "r", "Code": {}, "KMSKeyArn": "not-an-arn",
                       "VpcConfig": {"SubnetIds": [f"subnet-{i}" for i in range(17)]},
                       "Tags": {"k" * 129: "v"}}).encode()
    with pytest.raises(ValidationException) as info:
        read("POST", "/2015-03-31/functions", body=body)
    message = info.value.message
    assert message.startswith("3 validation errors detected: ")
    assert "at 'vpcConfig.subnetIds' failed to satisfy constraint: Member must have length less than or equal to 16" \
        in message
    assert "at 'kMSKeyArn' failed to satisfy constraint: Member must satisfy regular expression pattern" in message
    assert "at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less " \
        "than or equal to 128" in message


def test_minimum_constraints_are_left_to_botocore(read_all):
    assert read_all("PUT", "/2015-03-31/functions/f/code", body=b'{"S3Bucket": "b", "S3Key": "k"}')["S3Bucket"] == "b"


def test_wrong_types_are_validation_errors(read):
    with pytest.raises(ValidationException, match="Value 'ten' at 'maxItems' failed to satisfy constraint: Member "
                                                  "must be of type integer"):
        read("GET", "/2015-03-31/functions", [("MaxItems", "ten")])
    with pytest.raises(ValidationException, match="at 'code.zipFile' failed to satisfy constraint: Member must be "
                                                  "base64-encoded"):
        read("POST", "/2015-03-31/functions", body=b'{"FunctionName":"f","Role":"r","Code":{"ZipFile":"%%"}}')
    with pytest.raises(ValidationException, match="Value 'yes' at 'publish' failed to satisfy constraint: Member "
                                                  "must be of type boolean"):
        read("PUT", "/2015-03-31/functions/f/code", body=b'{"Publish": "yes"}')


def test_deferred_shapes_are_left_to_the_control_plane(read):
    # Timeout 6000 is over AWS's 900 but under the model's 5400: the control plane answers with AWS's bound
    params = read("PUT", "/2015-03-31/functions/f/configuration", body=b'{"Timeout": 6000, "Runtime": "cobol"}')
    assert params == {"FunctionName": "f", "Timeout": 6000, "Runtime": "cobol"}


def test_java_rendering_and_patterns():
    assert show({"2": 2.0}) == "{2=2.0}"
    assert show(["a", True, None]) == "[a, true, null]"
    assert compile_pattern(r"([\p{L}\p{Z}\p{N}_.:/=+\-@]*)").fullmatch("Team Ä:1") is not None


@pytest.mark.parametrize("deferred", [None, frozenset()])
@pytest.mark.parametrize("method,path,query,headers,body", [
    ("POST", "/2015-03-31/functions/my-fn/invocations", [], {}, b""),
    ("POST", "/2015-03-31/functions/my-fn/invocations", [("Qualifier", "live"), ("Qualifier", "2")],
     {"X-Amz-Invocation-Type": "Event", "X-Amz-Log-Type": "Tail", "X-Amz-Client-Context": "e30="}, b'{"a": 1}'),
    ("POST", "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af/invocations",
     [("Other", "x")], {"X-Amz-Invocation-Type": "Bogus", "X-Amz-Log-Type": "Loud"}, b"raw"),
    ("POST", "/2015-03-31/functions/my-fn/invocations", [], {"X-Amz-Tenant-Id": "bad\ttenant!" * 30}, b"x"),
    ("POST", "/2015-03-31/functions/my-fn/invocations", [], {"X-Amz-Durable-Execution-Name": "no spaces"}, b""),
    ("DELETE", "/2015-03-31/functions/my-fn", [("Qualifier", "7")], {}, b""),
    ("GET", "/2015-03-31/functions/my-fn/aliases", [("MaxItems", "5")], {}, b""),
    ("PUT", "/2015-03-31/functions/my-fn/configuration", [], {}, b'{"Timeout": 5}'),
])
def test_precompiled_reads_equal_the_model_walk(spec, deferred, method, path, query, headers, body):
    """``read_parts`` (Invoke's precompiled path where it applies) answers exactly as ``read``: the same params, or the
    same error with the same text."""
    reader = RequestReader(spec) if deferred is None else RequestReader(spec, deferred=deferred)
    table = RouteTable.from_spec(spec)
    op_name, labels = table.match(method, path, query)
    op = spec.operations[op_name]
    lowered = {k.lower(): v for k, v in headers.items()}

    def outcome(call):
        try:
            return call()
        except Exception as exc:  # noqa: BLE001 - compared below
            return type(exc), str(exc)
    walked = outcome(lambda: reader.read(op, labels, HttpRequest(method, path, query, lowered, body)))
    fast = outcome(lambda: reader.read_parts(op, labels, query, lowered, body, method, path))
    assert fast == walked
