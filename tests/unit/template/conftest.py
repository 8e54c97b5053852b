"""Shared fixtures: a large, realistic SAM template (N functions with events, env, policies, layers)."""
from __future__ import annotations

HEADER = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Description: generated
Parameters:
  Stage:
    Type: String
    Default: dev
    AllowedValues: [dev, prod]
  Memory:
    Type: Number
    Default: 256
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Globals:
  Function:
    Timeout: 10
    Tracing: Active
Resources:
  SharedLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layers/shared
      CompatibleRuntimes: [python3.11, python3.12]
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
"""

FUNCTION = """\
  Fn{i}:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub "${{AWS::StackName}}-fn{i}-${{Stage}}"
      Handler: app.handler{i}
      Runtime: python3.12
      CodeUri: src/fn{i}/
      MemorySize: !Ref Memory
      Description: "Function number {i}: handles things"
      AutoPublishAlias: live
      Layers:
        - !Ref SharedLayer
      Environment:
        Variables:
          TABLE: !Ref Table
          TABLE_ARN: !GetAtt Table.Arn
          MODE: !If [IsProd, strict, lax]
          INDEX: "{i}"
      Policies:
        - DynamoDBCrudPolicy:
            TableName: !Ref Table
        - Statement:
            - Effect: Allow
              Action: ["s3:GetObject", "s3:PutObject"]
              Resource: !Join ["", ["arn:", !Ref "AWS::Partition", ":s3:::bucket-{i}/*"]]
      Events:
        Api:
          Type: Api
          Properties:
            Path: /fn{i}/{{id}}
            Method: get
        Schedule:
          Type: Schedule
          Properties:
            Schedule: rate(5 minutes)
            Enabled: false
"""


def big_template(functions: int = 500) -> str:
    """The template text with ``functions`` functions."""
    return HEADER + "".join(FUNCTION.format(i=i) for i in range(functions))


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def big_template_text() -> str:
    return big_template(500)
