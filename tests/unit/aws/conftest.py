"""Stubbed AWS clients (botocore's Stubber: every stubbed response is validated against the service model) and a
tiny SAM project, for the AWS target's tests that need CloudFormation semantics moto does not have."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_stubs import ACCOUNT, BUCKET, REGION, STACK, STACK_ID  # noqa: F401  (shared with the tests)

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
      AutoPublishAlias: live
Outputs:
  HelloAlias:
    Value: !Ref HelloFunctionAliaslive
"""


class Stubs:
    """One stubbed client per service, handed to an ``AwsSession``; ``verify()`` checks every stub was used."""

    def __init__(self) -> None:
        import botocore.session
        from botocore.stub import Stubber

        from strata.aws.session import AwsSession

        session = botocore.session.Session()
        self.session = AwsSession(REGION)
        self.stubbers: dict[str, Any] = {}
        for service in ("cloudformation", "s3", "lambda", "sts"):
            client = session.create_client(service, region_name=REGION, aws_access_key_id="k",
                                           aws_secret_access_key="s")
            self.stubbers[service] = Stubber(client)
            self.stubbers[service].activate()
            self.session.set_client(service, client)
        self.session._account = None

    def __getattr__(self, service: str) -> Any:
        if service in ("cfn",):
            return self.stubbers["cloudformation"]
        if service in ("s3", "sts"):
            return self.stubbers[service]
        if service == "lam":
            return self.stubbers["lambda"]
        raise AttributeError(service)

    def client(self, service: str) -> Any:
        return self.session.client(service)

    def verify(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


@pytest.fixture
def stubs() -> Stubs:
    return Stubs()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "shop"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("def handler(event, context):\n    return 'hi'\n")
    (root / "template.yaml").write_text(TEMPLATE)
    monkeypatch.setenv("STRATA_HOME", str(tmp_path / "home"))
    return root / "template.yaml"
