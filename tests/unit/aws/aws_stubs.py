"""Builders of AWS-shaped responses for the stubbed tests (every one validates against botocore's model)."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REGION = "us-east-1"
ACCOUNT = "123456789012"
STACK = "shop"
STACK_ID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK}/6b7f1a10-0000-0000-0000-000000000000"
BUCKET = "deploy-bucket"

FUNCTION = f"{STACK}-HelloFunction-1A2B3C"
ROLE = f"{STACK}-HelloFunctionRole-4D5E6F"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FUNCTION}"
T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def transformed(template: Path, **overrides: Any):
    """What deploy_to_aws computes for ``template`` (same home, so the translator cache is shared)."""
    from strata.transform.pipeline import transform

    return transform(template, region=REGION, account_id=ACCOUNT, stack_name=STACK, code_bucket=BUCKET,
                     code_prefix="", parameter_overrides=overrides or None)


def configuration(code_sha: str, *, version: str = "$LATEST", timeout: int = 3, layers: tuple[str, ...] = (),
                  environment: dict[str, str] | None = None) -> dict[str, Any]:
    arn = FUNCTION_ARN if version == "$LATEST" else f"{FUNCTION_ARN}:{version}"
    config: dict[str, Any] = {
        "FunctionName": FUNCTION, "FunctionArn": arn, "Runtime": "python3.12", "Role": ROLE_ARN,
        "Handler": "app.handler", "CodeSha256": code_sha, "CodeSize": 321, "Description": "", "Timeout": timeout,
        "MemorySize": 128, "Version": version, "TracingConfig": {"Mode": "PassThrough"},
        "Architectures": ["x86_64"], "EphemeralStorage": {"Size": 512}, "PackageType": "Zip",
        "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{FUNCTION}"}, "State": "Active",
        "LastUpdateStatus": "Successful"}
    if layers:
        config["Layers"] = [{"Arn": arn, "CodeSize": 10} for arn in layers]
    if environment:
        config["Environment"] = {"Variables": dict(environment)}
    return config


def alias(name: str, version: str, weights: dict[str, float] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"AliasArn": f"{FUNCTION_ARN}:{name}", "Name": name, "FunctionVersion": version}
    if weights:
        out["RoutingConfig"] = {"AdditionalVersionWeights": weights}
    return out


def stack(status: str, outputs: dict[str, str] | None = None) -> dict[str, Any]:
    description: dict[str, Any] = {"StackId": STACK_ID, "StackName": STACK, "CreationTime": T0, "StackStatus": status,
                                   "Parameters": []}
    if outputs:
        description["Outputs"] = [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()]
    return {"Stacks": [description]}


def event(n: int, logical_id: str, resource_type: str, status: str, reason: str | None = None) -> dict[str, Any]:
    out = {"StackId": STACK_ID, "EventId": f"event-{n}", "StackName": STACK, "LogicalResourceId": logical_id,
           "ResourceType": resource_type, "Timestamp": T0 + timedelta(seconds=n), "ResourceStatus": status}
    if reason:
        out["ResourceStatusReason"] = reason
    return out


def events(*items: dict[str, Any]) -> dict[str, Any]:
    """DescribeStackEvents: newest first, as CloudFormation returns them."""
    return {"StackEvents": sorted(items, key=lambda e: e["Timestamp"], reverse=True)}


def change(action: str, logical_id: str, resource_type: str, replacement: str | None = None) -> dict[str, Any]:
    rc: dict[str, Any] = {"Action": action, "LogicalResourceId": logical_id, "ResourceType": resource_type}
    if replacement:
        rc["Replacement"] = replacement
    return {"Type": "Resource", "ResourceChange": rc}


def resources(version_id: str, version_number: str | None, alias_logical: str = "HelloFunctionAliaslive"
              ) -> dict[str, Any]:
    summaries = [("HelloFunctionRole", ROLE, "AWS::IAM::Role"), ("HelloFunction", FUNCTION, "AWS::Lambda::Function"),
                 (version_id, f"{FUNCTION_ARN}:{version_number}" if version_number else "", "AWS::Lambda::Version"),
                 (alias_logical, f"{FUNCTION_ARN}:live", "AWS::Lambda::Alias")]
    return {"StackResourceSummaries": [
        {"LogicalResourceId": lid, "PhysicalResourceId": pid, "ResourceType": rtype, "LastUpdatedTimestamp": T0,
         "ResourceStatus": "CREATE_COMPLETE"} for lid, pid, rtype in summaries]}


def template_body(template: dict[str, Any]) -> dict[str, Any]:
    return {"TemplateBody": json.dumps(template), "StagesAvailable": ["Original", "Processed"]}


def client_error(stubber: Any, method: str, code: str, message: str, status: int = 400,
                 expected_params: dict[str, Any] | None = None) -> None:
    stubber.add_client_error(method, service_error_code=code, service_message=message, http_status_code=status,
                             expected_params=expected_params)
