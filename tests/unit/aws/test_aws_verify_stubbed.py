"""``verify_aws`` through botocore's Stubber: the same checker as the local target, reading CloudFormation and
Lambda; an alias moved to a version with another layer, $LATEST drift, a weighted alias; ``--repair``."""
from __future__ import annotations

import base64
import hashlib
from typing import Any

from aws_stubs import ACCOUNT, FUNCTION, STACK, alias, configuration, resources, stack, template_body

from strata.aws.verify import verify_aws

SHA = base64.b64encode(hashlib.sha256(b"code").digest()).decode()
OTHER_SHA = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
LAYER = f"arn:aws:lambda:us-east-1:{ACCOUNT}:layer:shared"
VERSION_ID = "HelloFunctionVersion1a2b3c4d5e"


def deployed_template(routing: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A stack template as strata deploys it: external layer ARN, content-addressed code, CodeSha256 on the Version."""
    alias_props: dict[str, Any] = {"FunctionName": {"Ref": "HelloFunction"}, "Name": "live",
                                   "FunctionVersion": {"Fn::GetAtt": [VERSION_ID, "Version"]}}
    if routing:
        alias_props["RoutingConfig"] = {"AdditionalVersionWeights": routing}
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": {
        "HelloFunctionRole": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}},
        "HelloFunction": {"Type": "AWS::Lambda::Function", "Properties": {
            "Code": {"S3Bucket": "bkt", "S3Key": f"app/{hashlib.sha256(b'code').hexdigest()}.zip"},
            "Handler": "app.handler", "Runtime": "python3.12", "Role": {"Fn::GetAtt": ["HelloFunctionRole", "Arn"]},
            "Layers": [f"{LAYER}:5"], "Environment": {"Variables": {"STAGE": "prod"}}}},
        VERSION_ID: {"Type": "AWS::Lambda::Version",
                     "Properties": {"FunctionName": {"Ref": "HelloFunction"}, "CodeSha256": SHA}},
        "HelloFunctionAliaslive": {"Type": "AWS::Lambda::Alias", "Properties": alias_props}}}


def good(version: str = "$LATEST", **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"layers": (f"{LAYER}:5",), "environment": {"STAGE": "prod"}, **extra}
    return configuration(values.pop("code", SHA), version=version, **values)


def _stack_reads(stubs, template: dict[str, Any]) -> None:
    stubs.cfn.add_response("describe_stacks", stack("UPDATE_COMPLETE"), {"StackName": STACK})
    stubs.cfn.add_response("get_template", template_body(template), {"StackName": STACK, "TemplateStage": "Processed"})
    stubs.cfn.add_response("list_stack_resources", resources(VERSION_ID, "3"), {"StackName": STACK})


def _fn(stubs, response: dict[str, Any], qualifier: str | None = None) -> None:
    params = {"FunctionName": FUNCTION, **({"Qualifier": qualifier} if qualifier else {})}
    stubs.lam.add_response("get_function_configuration", response, params)


def test_alias_on_a_version_with_another_layer_is_reported_in_words(stubs):
    _stack_reads(stubs, deployed_template())
    _fn(stubs, good())
    stubs.lam.add_response("get_alias", alias("live", "2"), {"FunctionName": FUNCTION, "Name": "live"})
    _fn(stubs, good("2", layers=(f"{LAYER}:4",)), "2")
    _fn(stubs, good("3"), "3")   # the stack's own version still exists and is right

    report = verify_aws(stubs.session, STACK, sleep=lambda _s: None)
    stubs.verify()
    assert [f.message for f in report.findings] == [
        "alias live serves version 2; the stack deployed version 3",
        "alias live serves version 2 with layer shared:4; the deployed configuration uses shared:5"]
    assert report.checked == [f"HelloFunction ({FUNCTION}): $LATEST; alias live -> 2; version 3"]


def test_repair_restores_latest_and_moves_the_alias_back(stubs):
    _stack_reads(stubs, deployed_template())
    _fn(stubs, good(timeout=30, code=OTHER_SHA))
    stubs.lam.add_response("get_alias", alias("live", "4"), {"FunctionName": FUNCTION, "Name": "live"})
    _fn(stubs, good("4", code=OTHER_SHA), "4")
    _fn(stubs, good("3"), "3")
    # repair: code first (from the deployed S3 location), then only the settings that differ, then the alias
    stubs.lam.add_response("update_function_code", good(code=SHA, timeout=30), {
        "FunctionName": FUNCTION, "S3Bucket": "bkt", "S3Key": f"app/{hashlib.sha256(b'code').hexdigest()}.zip"})
    _fn(stubs, {**good(timeout=30), "LastUpdateStatus": "InProgress"})
    _fn(stubs, good(timeout=30))
    stubs.lam.add_response("update_function_configuration", good(), {"FunctionName": FUNCTION, "Timeout": 3})
    _fn(stubs, good())
    _fn(stubs, good("3"), "3")
    stubs.lam.add_response("update_alias", alias("live", "3"), {
        "FunctionName": FUNCTION, "Name": "live", "FunctionVersion": "3",
        "RoutingConfig": {"AdditionalVersionWeights": {}}})
    # verify again
    _fn(stubs, good())
    stubs.lam.add_response("get_alias", alias("live", "3"), {"FunctionName": FUNCTION, "Name": "live"})
    _fn(stubs, good("3"), "3")

    sleeps: list[float] = []
    report = verify_aws(stubs.session, STACK, repair=True, sleep=sleeps.append)
    stubs.verify()
    assert report.ok, report.findings
    assert report.repairs == ["HelloFunction: restored $LATEST code from s3://bkt/app/"
                              f"{hashlib.sha256(b'code').hexdigest()}.zip",
                              "HelloFunction: restored $LATEST Timeout",
                              "HelloFunction: alias live now serves version 3"]
    assert sleeps == [1.0]          # waited once for LastUpdateStatus InProgress


def test_repair_publishes_with_code_sha_when_the_stack_version_is_gone(stubs):
    _stack_reads(stubs, deployed_template())
    _fn(stubs, good())
    stubs.lam.add_response("get_alias", alias("live", "2"), {"FunctionName": FUNCTION, "Name": "live"})
    _fn(stubs, good("2", layers=(f"{LAYER}:4",)), "2")
    stubs.lam.add_client_error("get_function_configuration", "ResourceNotFoundException", "Function not found",
                               404, expected_params={"FunctionName": FUNCTION, "Qualifier": "3"})
    stubs.lam.add_client_error("get_function_configuration", "ResourceNotFoundException", "Function not found",
                               404, expected_params={"FunctionName": FUNCTION, "Qualifier": "3"})
    stubs.lam.add_response("publish_version", good("5"), {"FunctionName": FUNCTION, "CodeSha256": SHA})
    stubs.lam.add_response("update_alias", alias("live", "5"), {
        "FunctionName": FUNCTION, "Name": "live", "FunctionVersion": "5",
        "RoutingConfig": {"AdditionalVersionWeights": {}}})
    _fn(stubs, good())
    stubs.lam.add_response("get_alias", alias("live", "5"), {"FunctionName": FUNCTION, "Name": "live"})
    _fn(stubs, good("5"), "5")
    stubs.lam.add_client_error("get_function_configuration", "ResourceNotFoundException", "Function not found",
                               404, expected_params={"FunctionName": FUNCTION, "Qualifier": "3"})

    report = verify_aws(stubs.session, STACK, repair=True, sleep=lambda _s: None)
    stubs.verify()
    assert "HelloFunction: published version 5 from the deployed $LATEST" in report.repairs
    assert [f.message for f in report.findings] == ["version 3, which the stack published, no longer exists"]
    assert any("serves version 5, not the stack's version 3" in note for note in report.notes)


def test_weighted_alias_checks_both_versions_and_the_weights(stubs):
    template = deployed_template(routing=[{"FunctionVersion": "2", "FunctionWeight": 0.1}])
    _stack_reads(stubs, template)
    _fn(stubs, good())
    stubs.lam.add_response("get_alias", alias("live", "3", {"2": 0.25}), {"FunctionName": FUNCTION, "Name": "live"})
    _fn(stubs, good("3"), "3")
    _fn(stubs, good("2", environment={"STAGE": "dev"}), "2")

    report = verify_aws(stubs.session, STACK, sleep=lambda _s: None)
    stubs.verify()
    assert [f.message for f in report.findings] == [
        "alias live routes 75% to version 3, 25% to version 2; the deployed configuration routes 90% to version 3, "
        "10% to version 2",
        "alias live serves version 2 with environment variable STAGE=dev; the deployed configuration has STAGE=prod"]
