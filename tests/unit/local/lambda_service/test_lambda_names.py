"""Name/ARN/qualifier parsing and resolution (reference 3)."""
from __future__ import annotations

import pytest

from strata.local.lambda_service.names import (
    parse_function_name,
    parse_layer_name,
    parse_layer_version_arn,
    resolve_function,
)
from strata.model.lambda_errors import InvalidParameterValueException, ResourceNotFoundException, ValidationException
from strata.model.naming import FunctionRef


@pytest.mark.parametrize("value, expected", [
    ("fn", FunctionRef("fn")),
    ("fn:live", FunctionRef("fn", "live")),
    ("fn:$LATEST", FunctionRef("fn", "$LATEST")),
    ("123456789012:function:fn", FunctionRef("fn", account="123456789012")),
    ("123456789012:function:fn:7", FunctionRef("fn", "7", account="123456789012")),
    ("arn:aws:lambda:eu-west-1:123456789012:function:fn", FunctionRef("fn", None, "eu-west-1", "123456789012")),
    ("arn:aws-cn:lambda:cn-north-1:123456789012:function:fn:3", FunctionRef("fn", "3", "cn-north-1", "123456789012")),
    ("my-func-1:live", FunctionRef("my-func-1", "live")),
])
def test_accepted_forms(value, expected):
    assert parse_function_name(value) == expected


@pytest.mark.parametrize("value", ["", "fn!", "fn:1:2", "fn:$LATES", "arn:aws:ec2:us-east-1:123456789012:function:f",
                                   "arn:aws:lambda:us-east-1:1234:function:f",
                                   "arn:aws:lambda:us-east-1:123456789012:fn"])
def test_rejected_forms(value):
    with pytest.raises(ValidationException, match="at 'functionName' failed to satisfy constraint"):
        parse_function_name(value)


def test_dots_only_in_namespaced_names():
    assert parse_function_name("a.b", namespaced=True).name == "a.b"
    with pytest.raises(ValidationException):
        parse_function_name("a.b")


def test_qualifier_rules():
    assert resolve_function("fn", "1", region="us-east-1") == FunctionRef("fn", "1")
    assert resolve_function("fn:1", "1", region="us-east-1").qualifier == "1"
    with pytest.raises(InvalidParameterValueException):
        resolve_function("fn:1", "2", region="us-east-1")
    with pytest.raises(ValidationException, match="at 'qualifier'.*length less than or equal to 128"):
        resolve_function("fn", "q" * 129, region="us-east-1")
    with pytest.raises(ResourceNotFoundException, match="not reachable in this region"):
        resolve_function("arn:aws:lambda:eu-west-1:123456789012:function:fn", None, region="us-east-1")
    with pytest.raises(ValidationException, match="length less than or equal to 140"):
        resolve_function("a" * 141, None, region="us-east-1")


def test_layer_names_and_arns():
    assert parse_layer_name("shared") == ("shared", None)
    assert parse_layer_name("arn:aws:lambda:us-east-1:123456789012:layer:shared") == ("shared", "us-east-1")
    ref = parse_layer_version_arn("arn:aws:lambda:us-east-1:123456789012:layer:shared:3", path="layers")
    assert (ref.name, ref.version, ref.arn) == ("shared", 3, "arn:aws:lambda:us-east-1:123456789012:layer:shared:3")
    with pytest.raises(ValidationException, match="at 'arn'"):
        parse_layer_version_arn("arn:aws:lambda:us-east-1:123456789012:layer:shared", path="arn")
    with pytest.raises(ValidationException, match="at 'layerName'"):
        parse_layer_name("bad name")
