"""boto3 clients for one target (region, profile, endpoint), created on first use.

boto3 is imported here and only here, when a client is first needed: ``strata --help`` and the local target never
pay for it. ``--endpoint-url`` points every client at one endpoint (moto's server, LocalStack); S3 then uses
path-style addressing, which such endpoints need.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strata.aws.errors import aws_errors

DEFAULT_REGION = "us-east-1"


@dataclass
class AwsSession:
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)
    _session: Any = field(default=None, repr=False)
    _account: str | None = field(default=None, repr=False)

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` ("s3", "cloudformation", "lambda", "sts"), cached."""
        if service not in self._clients:
            from botocore.config import Config

            config = Config(retries={"mode": "standard", "max_attempts": 5},
                            s3={"addressing_style": "path"} if self.endpoint_url else None)
            with aws_errors(f"setting up the {service} client", profile=self.profile):
                self._clients[service] = self.boto_session.client(
                    service, region_name=self.region_name, endpoint_url=self.endpoint_url, config=config)
        return self._clients[service]

    def set_client(self, service: str, client: Any) -> None:
        """Use ``client`` for ``service`` (tests hand in stubbed clients)."""
        self._clients[service] = client

    @property
    def boto_session(self) -> Any:
        if self._session is None:
            import boto3

            with aws_errors("loading AWS configuration", profile=self.profile):
                self._session = boto3.session.Session(profile_name=self.profile, region_name=self.region)
        return self._session

    @property
    def region_name(self) -> str:
        """--region, else the profile's / environment's region, else us-east-1."""
        if self.region:
            return self.region
        if "cloudformation" in self._clients:
            return self._clients["cloudformation"].meta.region_name
        return self.boto_session.region_name or DEFAULT_REGION

    @property
    def partition(self) -> str:
        from strata.model.naming import partition_of

        return partition_of(self.region_name)[0]

    def account_id(self) -> str:
        """The caller's account (one STS call): also the first check that credentials work."""
        if self._account is None:
            with aws_errors("reading the AWS account (sts get-caller-identity)", profile=self.profile):
                self._account = str(self.client("sts").get_caller_identity()["Account"])
        return self._account
