"""botocore exceptions -> StrataErrors that say where, what and what to do (strata.aws.errors, the one place)."""
from __future__ import annotations

import pytest
from botocore import exceptions as bx

from strata.aws import errors as e


def client_error(code: str, message: str = "", status: int = 400, operation: str = "CreateChangeSet") -> bx.ClientError:
    return bx.ClientError({"Error": {"Code": code, "Message": message},
                           "ResponseMetadata": {"HTTPStatusCode": status}}, operation)


@pytest.mark.parametrize("exc, cls, words, hint", [
    (bx.NoCredentialsError(), e.CredentialsError, "no AWS credentials found while deploying", "aws configure"),
    (bx.ProfileNotFound(profile="work"), e.CredentialsError, "AWS profile work not found", "list-profiles"),
    (bx.EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), e.EndpointError, "cannot reach AWS",
     "--endpoint-url"),
    (client_error("ExpiredToken", "The security token included in the request is expired"), e.CredentialsError,
     "AWS rejected the credentials", "aws sso login"),
    (client_error("AccessDenied", "User: u is not authorized to perform: cloudformation:CreateChangeSet", 403),
     e.AccessDeniedError, "access denied while deploying (profile dev): User: u is not authorized", "grant"),
    (client_error("ValidationError", "Stack:arn:aws:cloudformation:us-east-1:1:stack/shop/x is in ROLLBACK_COMPLETE "
                  "state and can not be updated."), e.StackStateError, "ROLLBACK_COMPLETE",
     "aws cloudformation delete-stack --stack-name shop"),
    (client_error("ValidationError", "Stack shop is in UPDATE_IN_PROGRESS state and can not be updated."),
     e.StackStateError, "busy", "wait"),
    (client_error("ValidationError", "Stack with id shop does not exist"), e.StackNotFoundError,
     "stack shop does not exist", "--stack-name"),
    (client_error("InsufficientCapabilitiesException", "Requires capabilities : [CAPABILITY_NAMED_IAM]"),
     e.DeployFailedError, "Requires capabilities", "--capabilities"),
    (client_error("NoSuchBucket", "The specified bucket does not exist", 404), e.BucketNotFoundError,
     "S3 bucket art does not exist", "aws s3 mb s3://art"),
    (client_error("Throttling", "Rate exceeded"), e.AwsError, "throttled", "wait a minute"),
    (client_error("SomethingNew", "odd"), e.AwsError, "deploying failed: SomethingNew: odd", None),
])
def test_translation(exc, cls, words, hint):
    error = e.translate(exc, "deploying", stack="shop", bucket="art", profile="dev" if cls is e.AccessDeniedError
                        else "work")
    assert type(error) is cls
    assert words in error.message
    assert (hint in error.hint) if hint else error.hint is None


def test_head_bucket_404_means_missing_bucket_but_head_object_404_does_not():
    missing = e.translate(client_error("404", "Not Found", 404, "HeadBucket"), "checking S3 bucket art", bucket="art")
    assert isinstance(missing, e.BucketNotFoundError)
    other = e.translate(client_error("404", "Not Found", 404, "HeadObject"), "checking", bucket="art", key="k.zip")
    assert not isinstance(other, e.BucketNotFoundError)


def test_bucket_in_another_region():
    error = e.translate(client_error("301", "Moved Permanently", 301, "HeadBucket"), "checking", bucket="art")
    assert "another region" in error.message and "--region" in error.hint


def test_waiter_error_carries_the_reason():
    exc = bx.WaiterError(name="ChangeSetCreateComplete", reason="Waiter encountered a terminal failure state",
                         last_response={"StatusReason": "Template format error"})
    error = e.translate(exc, "creating change set")
    assert isinstance(error, e.DeployFailedError) and (
        error.message == "creating change set failed: Template format error")


def test_context_manager_translates_and_chains():
    with pytest.raises(e.CredentialsError) as info:
        with e.aws_errors("reading stack shop"):
            raise bx.NoCredentialsError()
    assert isinstance(info.value.__cause__, bx.NoCredentialsError)
    assert info.value.exit_code == 1


def test_strata_errors_pass_through():
    original = e.StackStateError("x")
    assert e.translate(original, "anything") is original


def test_missing_credentials_end_to_end(tmp_path, monkeypatch):
    """A real session with no credentials anywhere: the first AWS call says what to configure."""
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    from strata.aws.session import AwsSession

    with pytest.raises(e.CredentialsError) as info:
        AwsSession("us-east-1").account_id()
    assert "no AWS credentials found while reading the AWS account" in info.value.message
    assert "aws configure" in info.value.hint


def test_large_templates_go_through_s3(stubs):
    from botocore.stub import ANY

    from strata.aws.upload import upload_template

    stubs.s3.add_response("put_object", {"ETag": '"e"'}, {"Bucket": "art", "Key": ANY, "Body": ANY,
                                                          "ContentType": "application/json"})
    url = upload_template(stubs.client("s3"), "{}" * 30_000, "art", "app/", region="eu-west-1", endpoint_url=None)
    assert url.startswith("https://art.s3.eu-west-1.amazonaws.com/app/") and url.endswith(".template")
