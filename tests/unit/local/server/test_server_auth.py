"""SigV4: signed requests pass, anything else gets AWS's 403s; the clock may be off by at most 5 minutes."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials as BotoCredentials
from botocore.exceptions import ClientError
from server_fakes import start_server

from strata.local.server.auth import Credentials, SignedRequest, Verifier
from strata.local.server.errors import (
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnrecognizedClientException,
)

KEY = Credentials("AKIDSTRATATEST", "s3cret/key+value")


def _signed(method="POST", path="/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction"
            "%3Af/invocations", query="Qualifier=%24LATEST", body=b'{"a":1}', secret=KEY.secret_access_key,
            key=KEY.access_key_id, extra=None):
    url = f"http://127.0.0.1:3001{path}" + (f"?{query}" if query else "")
    request = AWSRequest(method=method, url=url, data=body, headers={"X-Amz-Invocation-Type": "Event", **(extra or {})})
    SigV4Auth(BotoCredentials(key, secret), "lambda", "us-east-1").add_auth(request)
    headers = {k.lower(): v for k, v in request.headers.items()}
    headers["host"] = "127.0.0.1:3001"
    return SignedRequest(method, path, query, headers, body)


def _check(request: SignedRequest, verifier: Verifier | None = None) -> None:
    verifier = verifier or Verifier(KEY, "us-east-1")
    verifier.verify(request, verifier.precheck(request.headers))


def test_a_botocore_signed_request_verifies():
    _check(_signed())
    _check(_signed(method="GET", path="/2015-03-31/functions", query="MaxItems=5&FunctionVersion=ALL", body=b""))


@pytest.mark.parametrize("tamper", [
    lambda r: SignedRequest(r.method, r.raw_path, r.raw_query, r.headers, b'{"a":2}'),
    lambda r: SignedRequest(r.method, r.raw_path, "Qualifier=1", r.headers, r.body),
    lambda r: SignedRequest("PUT", r.raw_path, r.raw_query, r.headers, r.body),
    lambda r: SignedRequest(r.method, r.raw_path.replace("function%3Af", "function%3Ag"), r.raw_query, r.headers,
                            r.body),
    lambda r: SignedRequest(r.method, r.raw_path, r.raw_query, {**r.headers, "x-amz-invocation-type": "DryRun"},
                            r.body),
])
def test_any_change_to_a_signed_part_is_refused(tamper):
    with pytest.raises(InvalidSignatureException, match="The request signature we calculated does not match"):
        _check(tamper(_signed()))


def test_wrong_secret_unknown_key_and_missing_header():
    with pytest.raises(InvalidSignatureException) as info:
        _check(_signed(secret="wrong"))
    assert info.value.status == 403 and info.value.to_body() == {"message": info.value.message}
    with pytest.raises(UnrecognizedClientException, match=r"^The security token included in the request is "
                                                          r"invalid\.$"):
        _check(_signed(key="AKIDOTHER"))
    unsigned = _signed()
    del unsigned.headers["authorization"]
    with pytest.raises(MissingAuthenticationTokenException, match="^Missing Authentication Token$"):
        _check(unsigned)
    broken = _signed()
    broken.headers["authorization"] = ("AWS4-HMAC-SHA256 "
                                       "Credential=AKIDSTRATATEST/20240101/us-east-1/lambda/aws4_request")
    with pytest.raises(IncompleteSignatureException, match="requires 'Signature' parameter"):
        _check(broken)


@pytest.mark.parametrize("offset, text", [
    (timedelta(minutes=6), "Signature expired: "), (timedelta(minutes=-6), "Signature not yet current: "),
])
def test_clock_skew_over_five_minutes_is_refused(offset, text):
    request = _signed()
    skewed = Verifier(KEY, "us-east-1", clock=lambda: datetime.now(UTC) + offset)
    with pytest.raises(InvalidSignatureException, match=text):
        _check(request, skewed)
    _check(request, Verifier(KEY, "us-east-1", clock=lambda: datetime.now(UTC) + offset / 2))  # 3 minutes is fine


def test_declared_payload_hash_must_match_the_body():
    request = _signed(extra={"X-Amz-Content-SHA256": "0" * 64})
    with pytest.raises(InvalidSignatureException):
        _check(request)


@pytest.fixture(scope="module")
def signed_server(spec):
    s = start_server(spec, verifier=Verifier(KEY, "eu-west-1"))
    yield s
    s.stop()


def _client(url, key=KEY.access_key_id, secret=KEY.secret_access_key, unsigned=False):
    config = Config(retries={"max_attempts": 1}, **({"signature_version": UNSIGNED} if unsigned else {}))
    return boto3.client("lambda", endpoint_url=url, region_name="eu-west-1", aws_access_key_id=key,
                        aws_secret_access_key=secret, config=config)


def test_over_http_signed_clients_pass_and_others_get_403(signed_server):
    ok = _client(signed_server.url)
    assert ok.invoke(FunctionName="echo", Payload=b'{"x": 1}')["Payload"].read() == b'{"x": 1}'
    assert ok.get_account_settings()["AccountUsage"]["FunctionCount"] == 0
    for client, code in [(_client(signed_server.url, secret="nope"), "InvalidSignatureException"),
                         (_client(signed_server.url, key="AKIDNOPE"), "UnrecognizedClientException"),
                         (_client(signed_server.url, unsigned=True), "MissingAuthenticationTokenException")]:
        with pytest.raises(ClientError) as info:
            client.invoke(FunctionName="echo", Payload=b"{}")
        assert info.value.response["Error"]["Code"] == code
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert info.value.response["ResponseMetadata"]["RequestId"]
    assert [op for op, _ in signed_server.fake.calls] == ["Invoke", "GetAccountSettings"]  # refused ones never ran
