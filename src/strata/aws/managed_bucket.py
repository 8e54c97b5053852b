"""``--resolve-s3``: the artifact bucket SAM CLI manages for an account and region, found or created once.

SAM CLI keeps it in a CloudFormation stack named ``aws-sam-cli-managed-default`` whose output ``SourceBucket`` names
the bucket (``samcli.lib.bootstrap.bootstrap``); strata reads the same stack, so a bucket SAM created is reused and
one strata creates is SAM's too. The stack's template is SAM's in substance: a versioned, encrypted bucket that
denies plain-HTTP access, tagged as SAM tags it.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from strata.aws.errors import DeployFailedError, aws_errors
from strata.aws.stack import describe_stack

MANAGED_STACK = "aws-sam-cli-managed-default"
OUTPUT = "SourceBucket"

_TEMPLATE = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Description": "Managed Stack for AWS SAM CLI",
    "Metadata": {"SamCliInfo": "strata"},
    "Resources": {
        "SamCliSourceBucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "VersioningConfiguration": {"Status": "Enabled"},
                "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]},
                "Tags": [{"Key": "ManagedStackSource", "Value": "AwsSamCli"}]},
        },
        "SamCliSourceBucketBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": "SamCliSourceBucket"},
                "PolicyDocument": {"Statement": [{
                    "Action": ["s3:*"], "Effect": "Deny", "Principal": "*",
                    "Resource": [{"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::",
                                                    {"Ref": "SamCliSourceBucket"}, "/*"]]},
                                 {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::",
                                                    {"Ref": "SamCliSourceBucket"}]]}],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}},
        },
    },
    "Outputs": {OUTPUT: {"Value": {"Ref": "SamCliSourceBucket"}}},
}


def managed_bucket(cfn: Any, *, out: Callable[[str], None], sleep: Callable[[float], None] = time.sleep,
                   timeout: float = 600.0) -> str:
    """The managed bucket's name: from the stack's output, creating the stack first when there is none."""
    stack = describe_stack(cfn, MANAGED_STACK)
    if stack is None or stack.get("StackStatus") in ("DELETE_COMPLETE",):
        out(f"Creating the managed S3 bucket (stack {MANAGED_STACK}), as `sam deploy --resolve-s3` does")
        with aws_errors(f"creating stack {MANAGED_STACK}", stack=MANAGED_STACK):
            cfn.create_stack(StackName=MANAGED_STACK, TemplateBody=json.dumps(_TEMPLATE),
                             Tags=[{"Key": "ManagedStackSource", "Value": "AwsSamCli"}])
        waited = 0.0
        while True:
            stack = describe_stack(cfn, MANAGED_STACK) or {}
            status = str(stack.get("StackStatus", ""))
            if not status.endswith("_IN_PROGRESS"):
                break
            if waited >= timeout:
                raise DeployFailedError(f"stack {MANAGED_STACK} is still {status} after {timeout:.0f} s")
            sleep(1.0)
            waited += 1.0
    status = str(stack.get("StackStatus", ""))
    bucket = next((o.get("OutputValue") for o in stack.get("Outputs") or [] if o.get("OutputKey") == OUTPUT), None)
    if not bucket:
        with aws_errors(f"reading stack {MANAGED_STACK}", stack=MANAGED_STACK):
            resources = cfn.describe_stack_resources(StackName=MANAGED_STACK).get("StackResources") or []
        bucket = next((r.get("PhysicalResourceId") for r in resources
                       if r.get("LogicalResourceId") == "SamCliSourceBucket"), None)
    if not bucket or status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"):
        raise DeployFailedError(f"the managed bucket stack {MANAGED_STACK} is {status or 'missing'} and names no "
                                "bucket", hint=f"look at stack {MANAGED_STACK} in the CloudFormation console, or "
                                               "pass --s3-bucket")
    out(f"Managed S3 bucket: {bucket}")
    return str(bucket)
