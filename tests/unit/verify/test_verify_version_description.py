"""verify with SAM's VersionDescription: a version is compared with the description it was published with, $LATEST
with the function's; ``--repair`` never says repaired when Lambda hands back the same differing version."""
from __future__ import annotations

import copy
from typing import Any

from strata.verify import verify_stack
from strata.verify.model import DeployedStack, StackResource

NAME = "s-Fn-1"
ARN = f"arn:aws:lambda:us-east-1:123456789012:function:{NAME}"
ROLE = "arn:aws:iam::123456789012:role/r"
SHA = "gpbw7wsBIUXVNwyU8pvXkPzanhzbVrBK12QOxjUQ/JE="
VID = "FnVersion0123456789"


def _stack(version_description: str | None = "1") -> DeployedStack:
    version_props: dict[str, Any] = {"FunctionName": {"Ref": "Fn"}, "CodeSha256": SHA}
    if version_description is not None:
        version_props["Description"] = version_description
    template = {"Resources": {
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
            "Handler": "app.handler", "Runtime": "python3.12", "Role": ROLE, "Description": "the function",
            "Code": {"S3Bucket": "b", "S3Key": "k.zip"}}},
        VID: {"Type": "AWS::Lambda::Version", "Properties": version_props},
        "FnAliasdev": {"Type": "AWS::Lambda::Alias", "Properties": {
            "FunctionName": {"Ref": "Fn"}, "Name": "dev", "FunctionVersion": {"Fn::GetAtt": [VID, "Version"]}}}}}
    resources = {"Fn": StackResource("Fn", "AWS::Lambda::Function", NAME),
                 VID: StackResource(VID, "AWS::Lambda::Version", f"{ARN}:1"),
                 "FnAliasdev": StackResource("FnAliasdev", "AWS::Lambda::Alias", f"{ARN}:dev")}
    return DeployedStack("s", template, {}, resources, "us-east-1", "123456789012")


class FakeLambda:
    """$LATEST and version 1; a publish with $LATEST unchanged returns version 1 as it is (Lambda's rule)."""

    def __init__(self, version_description: str) -> None:
        latest = {"FunctionName": NAME, "Version": "$LATEST", "Handler": "app.handler", "Runtime": "python3.12",
                  "Role": ROLE, "Description": "the function", "CodeSha256": SHA}
        self.configs = {"$LATEST": latest, "1": {**latest, "Version": "1", "Description": version_description}}
        self.calls: list[str] = []

    def get_function_configuration(self, FunctionName: str, Qualifier: str | None = None) -> dict[str, Any]:
        return copy.deepcopy(self.configs[Qualifier or "$LATEST"])

    def get_alias(self, FunctionName: str, Name: str) -> dict[str, Any]:
        return {"Name": Name, "FunctionVersion": "1"}

    def publish_version(self, FunctionName: str, **params: Any) -> dict[str, Any]:
        self.calls.append("PublishVersion")
        return copy.deepcopy(self.configs["1"])

    def update_alias(self, FunctionName: str, Name: str, **params: Any) -> dict[str, Any]:
        self.calls.append("UpdateAlias")
        return {}


def test_a_version_is_compared_with_the_description_it_was_published_with():
    report = verify_stack(_stack("1"), FakeLambda("1"), target="local")
    assert report.ok, report.text()


def test_a_version_published_without_one_holds_the_functions_description():
    assert verify_stack(_stack(None), FakeLambda("the function"), target="local").ok
    report = verify_stack(_stack(None), FakeLambda("other"), target="local")
    assert [f.message for f in report.findings] == [
        "alias dev serves version 1 with Description other; the deployed configuration has Description the function"]


def test_a_differing_version_description_is_a_finding_that_repair_does_not_claim_to_fix():
    lam = FakeLambda("other")
    report = verify_stack(_stack("1"), lam, target="local")
    assert [f.message for f in report.findings] == [
        "alias dev serves version 1 with Description other; the stack published it with Description 1"]
    repaired = verify_stack(_stack("1"), lam, target="local", repair=True)
    assert not repaired.ok
    assert repaired.repairs == [] and "UpdateAlias" not in lam.calls
    assert len(repaired.unrepaired) == 1 and "Lambda returned the existing version 1" in repaired.unrepaired[0]
    text = repaired.text()
    assert "repaired:" not in text.replace("not repaired:", "") and "could not restore" in text
