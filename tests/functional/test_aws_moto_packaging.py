"""``--target aws`` against moto's server: packageable local paths (``strata.artifacts.packageable``) are uploaded
under content-addressed keys and the template points at them, as ``sam package`` does: a state machine's
``DefinitionUri``, an API's ``DefinitionUri``, and a nested stack's local template (with its own code)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("moto.server")

from test_aws_moto import _config, _deploy, endpoint, fake_credentials, names  # noqa: E402,F401 - fixtures

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  HelloFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src
      Handler: app.handler
      Runtime: python3.12
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: statemachine/flow.asl.json
      DefinitionSubstitutions:
        FnArn: !GetAtt HelloFunction.Arn
      Policies:
        - LambdaInvokePolicy:
            FunctionName: !Ref HelloFunction
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      DefinitionUri: api/openapi.yaml
  Child:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: nested/child.yaml
"""

CHILD = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  ChildFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: child.handler
      Runtime: python3.12
"""

ASL = '{"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": "${FnArn}", "End": true}}}\n'
OPENAPI = 'openapi: "3.0.1"\ninfo: {title: demo, version: "1"}\npaths: {}\n'


def _project(root: Path) -> Path:
    for rel, text in {"src/app.py": "def handler(event, context):\n    return 1\n", "statemachine/flow.asl.json": ASL,
                      "api/openapi.yaml": OPENAPI, "nested/child.yaml": CHILD,
                      "nested/child.py": "def handler(event, context):\n    return 2\n",
                      "template.yaml": TEMPLATE}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root / "template.yaml"


def _object(url: str, bucket: str, key: str) -> bytes:
    import boto3

    s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def test_definition_uris_and_a_nested_template_are_uploaded_and_referenced(
        tmp_path, names, endpoint, monkeypatch):  # noqa: F811 - moto's fixtures, imported above
    from strata.aws import deploy as aws_deploy

    sent: list[str] = []   # moto keeps no change set's template: read the body strata sends
    create = aws_deploy.create_change_set
    monkeypatch.setattr(aws_deploy, "create_change_set",
                        lambda cfn, request, **kw: sent.append(request.template_body) or create(cfn, request, **kw))
    template = _project(tmp_path / "app")
    result, text = _deploy(_config(template, names, endpoint, execute=False), endpoint)
    assert result.outcome == "change-set-created", text
    bucket, uploaded = names["bucket"], result.uploads.uploaded
    assert all(key.startswith("app/") for key in uploaded)

    resources = json.loads(sent[0])["Resources"]

    machine = resources["Machine"]["Properties"]["DefinitionS3Location"]
    assert machine["Bucket"] == bucket and machine["Key"] in uploaded
    assert _object(endpoint, bucket, machine["Key"]).decode() == ASL
    api = resources["Api"]["Properties"]["BodyS3Location"]
    assert api["Bucket"] == bucket and api["Key"] in uploaded
    assert _object(endpoint, bucket, api["Key"]).decode() == OPENAPI

    url = resources["Child"]["Properties"]["TemplateURL"]
    assert url.startswith(f"{endpoint}/{bucket}/app/") and url.endswith(".template")
    child = json.loads(_object(endpoint, bucket, url.split(f"/{bucket}/", 1)[1]))
    code_uri = child["Resources"]["ChildFunction"]["Properties"]["CodeUri"]
    assert code_uri.startswith(f"s3://{bucket}/app/") and code_uri.endswith(".zip")
    assert code_uri.split(f"s3://{bucket}/", 1)[1] in uploaded

    again, _ = _deploy(_config(template, names, endpoint, execute=False), endpoint)
    assert again.uploads.uploaded == [] and sorted(again.uploads.present) == sorted(uploaded)
