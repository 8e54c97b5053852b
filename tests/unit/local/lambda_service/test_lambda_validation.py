"""Constraint texts and their aggregation (reference 1.2, 4.3)."""
from __future__ import annotations

import pytest

from strata.local.lambda_service import validation as v
from strata.model.lambda_errors import InvalidParameterValueException, ValidationException


def test_checks_aggregate_like_aws():
    checks = v.Checks()
    checks.range(0, "timeout", 1, 900)
    checks.range(10241, "memorySize", 128, 10240)
    with pytest.raises(ValidationException) as info:
        checks.raise_if_any()
    assert info.value.message == (
        "2 validation errors detected: Value '0' at 'timeout' failed to satisfy constraint: Member must have value "
        "greater than or equal to 1; Value '10241' at 'memorySize' failed to satisfy constraint: Member must have "
        "value less than or equal to 10240")


def test_no_failures_raise_nothing():
    checks = v.Checks()
    checks.range(None, "timeout", 1, 900)
    checks.enum("Zip", "packageType", ("Zip", "Image"))
    checks.raise_if_any()


def test_environment_boundary_is_exactly_4096_bytes():
    v.check_environment({"K1": "x" * 4087})  # {"K1":"..."} = 4096 bytes
    with pytest.raises(InvalidParameterValueException, match="exceeded the 4KB limit"):
        v.check_environment({"K1": "x" * 4088})
    with pytest.raises(InvalidParameterValueException, match="multi-byte"):
        v.check_environment({"K1": "é" * 2100 + "multi-byte"})


def test_reserved_keys_listed():
    with pytest.raises(InvalidParameterValueException, match="Reserved keys used in this request: AWS_REGION, TZ$"):
        v.check_environment({"AWS_REGION": "x", "TZ": "y", "OK_KEY": "z"})


def test_alias_names():
    checks = v.Checks()
    v.check_alias_name(checks, "2024")
    v.check_alias_name(checks, "2024-01-02")
    v.check_alias_name(checks, "x" * 129)
    assert len(checks.failures) == 2
