"""Helpers for the ops tests (rollback, prune, traffic shifting): code zips in a state home, hand-written stack
templates shaped like SAM's output, a fake clock."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from strata_testkit import zip_bytes

from strata.artifacts.store import ArtifactStore
from strata.transform.result import LOCAL_CODE_BUCKET, TransformResult

ROLE_ARN = "arn:aws:iam::123456789012:role/test"


def code(home: Path, files: dict[str, str]) -> tuple[dict[str, str], str]:
    """(CloudFormation Code pointing at a stored zip, Lambda's base64 CodeSha256 of it)."""
    art = ArtifactStore(home).put_bytes(zip_bytes(files))
    return {"S3Bucket": LOCAL_CODE_BUCKET, "S3Key": f"code/{art.sha256}.zip"}, art.code_sha256


def fn_source(answer: str, *, fail: bool = False) -> str:
    body = "    raise RuntimeError('broken release')\n" if fail else ""
    return (f"def handler(event, context):\n{body}"
            f"    return {{'answer': {answer!r}, 'version': context.function_version}}\n")


def app(home: Path, answer: str = "1", *, fail: bool = False, layer: str | None = "a",
        shift: str | None = None, pre_hook: str | None = None, post_hook: str | None = None,
        custom_config: dict | None = None, metadata: dict | None = None) -> dict[str, Any]:
    """A SAM-shaped stack: Fn (+ layer) with a Version named after its code, alias live; with ``shift`` the
    CodeDeploy resources and UpdatePolicy SAM's DeploymentPreference produces."""
    fn_code, sha = code(home, {"app.py": fn_source(answer, fail=fail)})
    version_id = f"FnVersion{answer}{'x' if fail else ''}{layer or ''}"
    resources: dict[str, Any] = {
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
            "Handler": "app.handler", "Runtime": "python3.12", "Role": ROLE_ARN, "Code": fn_code}},
        version_id: {"Type": "AWS::Lambda::Version", "DeletionPolicy": "Retain",
                     "Properties": {"FunctionName": {"Ref": "Fn"}, "CodeSha256": sha}},
        "FnAliaslive": {"Type": "AWS::Lambda::Alias", "Properties": {
            "FunctionName": {"Ref": "Fn"}, "Name": "live",
            "FunctionVersion": {"Fn::GetAtt": [version_id, "Version"]}}},
    }
    if layer is not None:
        content, _ = code(home, {"python/shared.py": f"ANSWER = {layer!r}\n"})
        resources[f"Shared{layer}"] = {"Type": "AWS::Lambda::LayerVersion", "DeletionPolicy": "Retain",
                                       "UpdateReplacePolicy": "Retain",
                                       "Properties": {"LayerName": "shared", "Content": content}}
        resources["Fn"]["Properties"]["Layers"] = [{"Ref": f"Shared{layer}"}]
    if shift is not None:
        resources["ServerlessDeploymentApplication"] = {"Type": "AWS::CodeDeploy::Application",
                                                        "Properties": {"ComputePlatform": "Lambda"}}
        resources["CodeDeployServiceRole"] = {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {}, "ManagedPolicyArns": [
                "arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda"]}}
        config_name: Any = {"Fn::Sub": ["CodeDeployDefault.Lambda${ConfigName}", {"ConfigName": shift}]}
        if custom_config is not None:
            resources["CustomConfig"] = {"Type": "AWS::CodeDeploy::DeploymentConfig", "Properties": custom_config}
            config_name = {"Ref": "CustomConfig"}
        resources["FnDeploymentGroup"] = {"Type": "AWS::CodeDeploy::DeploymentGroup", "Properties": {
            "ApplicationName": {"Ref": "ServerlessDeploymentApplication"},
            "DeploymentConfigName": config_name,
            "AutoRollbackConfiguration": {"Enabled": True, "Events": ["DEPLOYMENT_FAILURE"]},
            "DeploymentStyle": {"DeploymentType": "BLUE_GREEN", "DeploymentOption": "WITH_TRAFFIC_CONTROL"},
            "ServiceRoleArn": {"Fn::GetAtt": ["CodeDeployServiceRole", "Arn"]}}}
        policy: dict[str, Any] = {"ApplicationName": {"Ref": "ServerlessDeploymentApplication"},
                                  "DeploymentGroupName": {"Ref": "FnDeploymentGroup"}}
        for key, source, lid in (("BeforeAllowTrafficHook", pre_hook, "PreHook"),
                                 ("AfterAllowTrafficHook", post_hook, "PostHook")):
            if source is not None:
                hook_code, _ = code(home, {"app.py": source})
                resources[lid] = {"Type": "AWS::Lambda::Function", "Properties": {
                    "Handler": "app.handler", "Runtime": "python3.12", "Role": ROLE_ARN, "Code": hook_code,
                    "FunctionName": f"CodeDeployHook_{lid}"}}
                policy[key] = {"Ref": lid}
        resources["FnAliaslive"]["UpdatePolicy"] = {"CodeDeployLambdaAliasUpdate": policy}
    template: dict[str, Any] = {"Resources": resources}
    if metadata:
        template["Metadata"] = metadata
    return template


def result(template: dict[str, Any]) -> TransformResult:
    return TransformResult(template=template, functions={}, parameters={})


HOOK_OK = "def handler(event, context):\n    assert event['DeploymentId'].startswith('d-')\n    return 'Succeeded'\n"
HOOK_FAILS = "def handler(event, context):\n    return {'status': 'Failed'}\n"
HOOK_RAISES = "def handler(event, context):\n    raise ValueError('smoke test failed')\n"


class FakeClock:
    """A clock whose ``sleep`` advances time and lets the test act (e.g. invoke) while the shift holds."""

    def __init__(self, on_sleep=None) -> None:
        self.now = 1000.0
        self.on_sleep = on_sleep
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep is not None:
            self.on_sleep()


def payload(answer: dict) -> dict:
    body = answer["Payload"]
    return json.loads(body.read() if hasattr(body, "read") else body)
