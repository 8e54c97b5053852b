"""Shapes <-> boto3-shaped dicts: derived member names, irregular spellings, None omitted, maps kept."""
from __future__ import annotations

from strata.local.lambda_service.convert import attr_name, from_wire, member_name, to_wire
from strata.local.lambda_service.shapes import (
    AliasConfiguration,
    AliasRoutingConfiguration,
    EnvironmentResponse,
    FunctionCode,
    FunctionConfiguration,
    Layer,
)


def test_member_names():
    pairs = {"code_sha256": "CodeSha256", "kms_key_arn": "KMSKeyArn", "s3_bucket": "S3Bucket",
             "zip_file": "ZipFile", "ipv6_allowed_for_dual_stack": "Ipv6AllowedForDualStack",
             "image_config_response": "ImageConfigResponse", "revision_id": "RevisionId",
             "source_kms_key_arn": "SourceKMSKeyArn"}
    for attr, member in pairs.items():
        assert member_name(attr) == member
        assert attr_name(member) == attr


def test_round_trip_keeps_maps_and_omits_none():
    config = FunctionConfiguration(function_name="fn", code_sha256="abc=", kms_key_arn="arn:aws:kms:k",
                                   environment=EnvironmentResponse(variables={"My_Key": "v"}),
                                   layers=[Layer(arn="arn:x", code_size=3)])
    wire = to_wire(config)
    assert wire == {"FunctionName": "fn", "CodeSha256": "abc=", "KMSKeyArn": "arn:aws:kms:k",
                    "Environment": {"Variables": {"My_Key": "v"}}, "Layers": [{"Arn": "arn:x", "CodeSize": 3}]}
    assert from_wire(FunctionConfiguration, wire) == config


def test_unknown_members_ignored_and_nested_shapes_built():
    code = from_wire(FunctionCode, {"ZipFile": b"zz", "S3ObjectStorageMode": "x"})
    assert code == FunctionCode(zip_file=b"zz")
    alias = from_wire(AliasConfiguration, {"Name": "live", "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.5}}})
    assert alias.routing_config == AliasRoutingConfiguration(additional_version_weights={"2": 0.5})
