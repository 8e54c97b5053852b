"""The one naming module: function and layer identifiers, physical names, artifact keys, code digests."""
from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strata.model.naming import (
    LATEST,
    FunctionRef,
    LayerVersionRef,
    account_of_arn,
    artifact_file_name,
    artifact_key,
    artifact_sha256_of_key,
    code_sha256_of,
    code_sha256_of_bytes,
    function_and_qualifier,
    function_arn,
    function_name_of,
    generated_name,
    is_version_number,
    layer_arn,
    layer_version_arn,
    partition_of,
    sha256_hex_of,
    version_number_of,
)

ACCOUNT = "123456789012"
SHA = hashlib.sha256(b"zip bytes").hexdigest()


@pytest.mark.parametrize("text, name, qualifier, region, account", [
    ("fn", "fn", None, None, None),
    ("fn:live", "fn", "live", None, None),
    ("fn:$LATEST", "fn", LATEST, None, None),
    (f"{ACCOUNT}:function:fn", "fn", None, None, ACCOUNT),
    (f"{ACCOUNT}:function:fn:7", "fn", "7", None, ACCOUNT),
    (f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:fn", "fn", None, "eu-west-1", ACCOUNT),
    (f"arn:aws-cn:lambda:cn-north-1:{ACCOUNT}:function:fn:3", "fn", "3", "cn-north-1", ACCOUNT),
])
def test_every_accepted_form_parses_into_its_parts(text, name, qualifier, region, account):
    ref = FunctionRef.parse(text)
    assert (ref.name, ref.qualifier, ref.region, ref.account) == (name, qualifier, region, account)
    assert str(ref) == text                         # written back in the form it came in


@pytest.mark.parametrize("text", ["a:b:c", "arn:aws:ec2:us-east-1:123456789012:function:f",
                                  "arn:aws:lambda:us-east-1:123456789012:fn", f"{ACCOUNT}:function:a:b:c", ""])
def test_what_is_no_function_identifier_comes_back_whole_as_the_name(text):
    """So the Lambda service rejects it with the pattern message AWS sends, never a half-parsed name."""
    assert FunctionRef.parse(text) == FunctionRef(text)


def test_a_qualified_arn_without_its_qualifier_is_the_function_arn():
    ref = FunctionRef.parse(function_arn("us-east-1", ACCOUNT, "fn", "live", partition="aws-us-gov"))
    assert str(ref.with_qualifier(None)) == f"arn:aws-us-gov:lambda:us-east-1:{ACCOUNT}:function:fn"
    assert ref.qualified_name == "fn:live"
    assert FunctionRef.parse("fn").with_qualifier("2").qualified_name == "fn:2"


def test_physical_ids_of_functions_versions_and_aliases():
    version = function_arn("us-east-1", ACCOUNT, "s-Fn-ABC", "3")
    alias = function_arn("us-east-1", ACCOUNT, "s-Fn-ABC", "live")
    assert function_and_qualifier(version) == ("s-Fn-ABC", "3")
    assert function_and_qualifier(alias) == ("s-Fn-ABC", "live")
    assert function_and_qualifier("s-Fn-ABC") == ("s-Fn-ABC", "")
    assert [function_name_of(p) for p in (version, alias, "s-Fn-ABC")] == ["s-Fn-ABC"] * 3
    assert (version_number_of(version), version_number_of(alias), version_number_of("")) == ("3", None, None)
    assert is_version_number("12") and not is_version_number(LATEST) and not is_version_number("live")


def test_layer_arns():
    arn = layer_version_arn("us-east-1", ACCOUNT, "shared", 4)
    assert arn == f"arn:aws:lambda:us-east-1:{ACCOUNT}:layer:shared:4"
    assert arn == f"{layer_arn('us-east-1', ACCOUNT, 'shared')}:4"
    ref = LayerVersionRef.parse(arn)
    assert (ref.name, ref.version, ref.label, ref.arn) == ("shared", 4, "shared:4", arn)
    for bad in (layer_arn("us-east-1", ACCOUNT, "shared"), f"{arn}:5", arn.replace(":4", ":x"),
                function_arn("us-east-1", ACCOUNT, "fn", "4")):
        with pytest.raises(ValueError, match="not a layer version ARN"):
            LayerVersionRef.parse(bad)


def test_account_of_any_arn():
    assert account_of_arn(f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/s/uuid") == ACCOUNT
    assert account_of_arn("not-an-arn") is None


def test_generated_names_are_deterministic_and_fit():
    name = generated_name("stack", "HelloFunction", "n1")
    assert name.startswith("stack-HelloFunction-") and len(name.rsplit("-", 1)[1]) == 12
    assert name == generated_name("stack", "HelloFunction", "n1") != generated_name("stack", "HelloFunction", "n2")
    long = generated_name("s" * 80, "L" * 80, max_length=64)
    assert len(long) == 64 and long.startswith("s") and "-L" in long


def test_artifact_keys_are_content_addressed():
    assert artifact_file_name(SHA) == f"{SHA}.zip"
    assert artifact_key("app/", SHA) == f"app/{SHA}.zip" and artifact_key("", SHA) == f"{SHA}.zip"
    assert artifact_sha256_of_key(artifact_key("a/b/", SHA)) == SHA
    assert artifact_sha256_of_key(f"{SHA}.zip") == SHA
    for other in (f"x{SHA}.zip", f"{SHA}.jar", f"{SHA.upper()}.zip", f"{SHA[:-1]}.zip", "code.zip"):
        assert artifact_sha256_of_key(other) is None


def test_code_sha256_is_lambdas_base64_of_the_same_digest():
    data = b"zip bytes"
    assert code_sha256_of(SHA) == base64.b64encode(hashlib.sha256(data).digest()).decode() == code_sha256_of_bytes(data)
    assert sha256_hex_of(code_sha256_of(SHA)) == SHA


# ---- properties ------------------------------------------------------------------------------------------------------
_names = st.from_regex(r"[a-zA-Z0-9_-]{1,64}", fullmatch=True)
_qualifiers = st.one_of(st.none(), st.just(LATEST), st.from_regex(r"[0-9]{1,5}", fullmatch=True), _names)
_regions = st.sampled_from(["us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1", "ap-southeast-2"])
_accounts = st.from_regex(r"[0-9]{12}", fullmatch=True)
_partitions = st.sampled_from(["aws", "aws-cn", "aws-us-gov"])


@given(_regions, _accounts, _names, _qualifiers, _partitions)
def test_function_arn_round_trip(region, account, name, qualifier, partition):
    arn = function_arn(region, account, name, qualifier, partition=partition)
    ref = FunctionRef.parse(arn)
    assert (ref.name, ref.qualifier, ref.region, ref.account, ref.partition) == (
        name, qualifier, region, account, partition)
    assert str(ref) == arn
    assert FunctionRef.parse(ref.qualified_name) == FunctionRef(name, qualifier)


@given(_regions, _accounts, _names, st.integers(min_value=1, max_value=10**6), _partitions)
def test_layer_version_arn_round_trip(region, account, name, version, partition):
    arn = layer_version_arn(region, account, name, version, partition=partition)
    assert LayerVersionRef.parse(arn) == LayerVersionRef(region, account, name, version, partition)
    assert LayerVersionRef.parse(arn).arn == arn


@given(st.binary(min_size=32, max_size=32))
def test_hex_and_code_sha256_round_trip(digest):
    hex_digest = digest.hex()
    code_sha = code_sha256_of(hex_digest)
    assert sha256_hex_of(code_sha) == hex_digest
    assert code_sha256_of(sha256_hex_of(code_sha)) == code_sha
    assert artifact_sha256_of_key(artifact_key("prefix/", hex_digest)) == hex_digest


@pytest.mark.parametrize(("region", "expected"), [
    ("us-east-1", ("aws", "amazonaws.com")), ("cn-north-1", ("aws-cn", "amazonaws.com.cn")),
    ("us-gov-west-1", ("aws-us-gov", "amazonaws.com")), ("us-iso-east-1", ("aws-iso", "c2s.ic.gov")),
    ("us-isob-east-1", ("aws-iso-b", "sc2s.sgov.gov")),
])
def test_partition_of_a_region(region: str, expected: tuple[str, str]) -> None:
    assert partition_of(region) == expected
