"""``strata.events.catalog``: each generated event has the keys of AWS's documented example for its source, and the
values a real delivery computes (md5OfBody, URL-encoded S3 key, base64 Kinesis data, matched path parameters)."""
from __future__ import annotations

import base64
import hashlib
import json
import random
from datetime import UTC, datetime
from urllib.parse import unquote_plus

import pytest

from strata.events.catalog import SERVICES, Fresh, UnknownEvent, generate

# The keys of the examples in AWS's documentation (Lambda developer guide per event source; API Gateway developer
# guide for payload formats 1.0 and 2.0; Cognito developer guide for user pool triggers).
DOCUMENTED = {
    ("apigateway", "aws-proxy"): {
        "": {"resource", "path", "httpMethod", "headers", "multiValueHeaders", "queryStringParameters",
             "multiValueQueryStringParameters", "pathParameters", "stageVariables", "requestContext", "body",
             "isBase64Encoded"},
        "requestContext": {"accountId", "apiId", "domainName", "domainPrefix", "extendedRequestId", "httpMethod",
                           "identity", "path", "protocol", "requestId", "requestTime", "requestTimeEpoch",
                           "resourceId", "resourcePath", "stage"}},
    ("apigateway", "authorizer"): {"": {"type", "authorizationToken", "methodArn"}},
    ("apigateway", "http-api-proxy"): {
        "": {"version", "routeKey", "rawPath", "rawQueryString", "headers", "requestContext", "body",
             "isBase64Encoded"},
        "requestContext": {"accountId", "apiId", "domainName", "domainPrefix", "http", "requestId", "routeKey",
                           "stage", "time", "timeEpoch"},
        "requestContext.http": {"method", "path", "protocol", "sourceIp", "userAgent"}},
    ("sqs", "receive-message"): {
        "Records.0": {"messageId", "receiptHandle", "body", "attributes", "messageAttributes", "md5OfBody",
                      "eventSource", "eventSourceARN", "awsRegion"},
        "Records.0.attributes": {"ApproximateReceiveCount", "SentTimestamp", "SenderId",
                                 "ApproximateFirstReceiveTimestamp"}},
    ("sns", "notification"): {
        "Records.0": {"EventVersion", "EventSubscriptionArn", "EventSource", "Sns"},
        "Records.0.Sns": {"SignatureVersion", "Timestamp", "Signature", "SigningCertUrl", "MessageId", "Message",
                          "MessageAttributes", "Type", "UnsubscribeUrl", "TopicArn", "Subject"}},
    ("s3", "put"): {
        "Records.0": {"eventVersion", "eventSource", "awsRegion", "eventTime", "eventName", "userIdentity",
                      "requestParameters", "responseElements", "s3"},
        "Records.0.s3": {"s3SchemaVersion", "configurationId", "bucket", "object"},
        "Records.0.s3.bucket": {"name", "ownerIdentity", "arn"},
        "Records.0.s3.object": {"key", "size", "eTag", "sequencer"}},
    ("s3", "delete"): {"Records.0.s3.object": {"key", "sequencer"}},
    ("cloudwatch", "scheduled-event"): {
        "": {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}},
    ("eventbridge", "scheduled-event"): {
        "": {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}},
    ("eventbridge", "event"): {
        "": {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}},
    ("dynamodb", "update"): {
        "Records.1": {"eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb",
                      "eventSourceARN"},
        "Records.1.dynamodb": {"ApproximateCreationDateTime", "Keys", "NewImage", "OldImage", "SequenceNumber",
                               "SizeBytes", "StreamViewType"}},
    ("kinesis", "get-records"): {
        "Records.0": {"kinesis", "eventSource", "eventVersion", "eventID", "eventName", "invokeIdentityArn",
                      "awsRegion", "eventSourceARN"},
        "Records.0.kinesis": {"kinesisSchemaVersion", "partitionKey", "sequenceNumber", "data",
                              "approximateArrivalTimestamp"}},
    ("cognito", "pre-signup"): {
        "": {"version", "region", "userPoolId", "userName", "callerContext", "triggerSource", "request", "response"},
        "request": {"userAttributes", "validationData"},
        "response": {"autoConfirmUser", "autoVerifyEmail", "autoVerifyPhone"}},
    ("cognito", "post-confirmation"): {
        "": {"version", "region", "userPoolId", "userName", "callerContext", "triggerSource", "request", "response"},
        "request.userAttributes": {"sub", "cognito:user_status", "email_verified", "email"}},
    ("cognito", "pre-token-generation"): {
        "": {"version", "region", "userPoolId", "userName", "callerContext", "triggerSource", "request", "response"},
        "request": {"userAttributes", "groupConfiguration"}},
}


def _at(value, path: str):
    for part in filter(None, path.split(".")):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def _fresh(seed: int = 1) -> Fresh:
    return Fresh(now=lambda: datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC), rng=random.Random(seed))


def test_every_event_in_the_catalog_is_checked_against_a_documented_example():
    assert {(s, e) for s, events in SERVICES.items() for e in events} == set(DOCUMENTED)


@pytest.mark.parametrize(("service", "name"), sorted(DOCUMENTED))
def test_event_keys_match_the_documented_example(service, name):
    made = generate(service, name, fresh=_fresh())
    json.dumps(made)                                    # plain JSON
    for path, keys in DOCUMENTED[(service, name)].items():
        assert set(_at(made, path)) == keys, path


def test_http_api_optional_members_appear_when_given():
    made = generate("apigateway", "http-api-proxy", {"route-key": "GET /items/{id}", "path": "/items/7",
                                                     "query": "a=1&a=2", "cookies": "c=1; d=2", "method": "get"})
    assert made["pathParameters"] == {"id": "7"} and made["queryStringParameters"] == {"a": "1,2"}
    assert made["cookies"] == ["c=1", "d=2"] and made["rawQueryString"] == "a=1&a=2"
    assert made["requestContext"]["http"]["method"] == "GET" and made["routeKey"] == "GET /items/{id}"


def test_rest_proxy_matches_path_parameters_and_query_and_encodes_a_body_on_request():
    made = generate("apigateway", "aws-proxy", {"path": "users/42/files/a/b.txt",
                                                "resource": "/users/{id}/files/{proxy+}", "query": "x=1&x=2",
                                                "body": "hello", "base64": "true", "stage": "dev"})
    assert made["path"] == "/users/42/files/a/b.txt"
    assert made["pathParameters"] == {"id": "42", "proxy": "a/b.txt"}
    assert made["queryStringParameters"] == {"x": "2"} and made["multiValueQueryStringParameters"] == {"x": ["1", "2"]}
    assert made["isBase64Encoded"] is True and base64.b64decode(made["body"]) == b"hello"
    assert made["requestContext"]["path"] == "/dev/users/42/files/a/b.txt"
    plain = generate("apigateway", "aws-proxy")
    assert plain["isBase64Encoded"] is False and json.loads(plain["body"]) == {"test": "body"}
    assert plain["pathParameters"] == {"proxy": "path/to/resource"}


def test_computed_values_are_what_the_service_computes():
    sqs = generate("sqs", "receive-message", {"body": "héllo", "queue-name": "jobs", "region": "eu-west-1"})
    record = sqs["Records"][0]
    assert record["md5OfBody"] == hashlib.md5("héllo".encode()).hexdigest()  # noqa: S324
    assert record["eventSourceARN"] == "arn:aws:sqs:eu-west-1:123456789012:jobs"
    s3 = generate("s3", "put", {"key": "my photos/a+b é.jpg", "region": "cn-north-1"})["Records"][0]
    assert s3["s3"]["object"]["key"] == "my+photos/a%2Bb+%C3%A9.jpg"
    assert unquote_plus(s3["s3"]["object"]["key"]) == "my photos/a+b é.jpg"
    assert s3["s3"]["bucket"]["arn"] == "arn:aws-cn:s3:::example-bucket"
    kinesis = generate("kinesis", "get-records", {"data": "payload"})["Records"][0]
    assert base64.b64decode(kinesis["kinesis"]["data"]) == b"payload"
    rule = generate("cloudwatch", "scheduled-event", {"rule": "nightly"})
    assert rule["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/nightly"]
    assert rule["detail-type"] == "Scheduled Event" and rule["source"] == "aws.events"
    token = generate("apigateway", "authorizer", {"restApiId": "abc", "method": "get", "resource": "/items"})
    assert token["methodArn"] == "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/items"


def test_ids_and_times_are_fresh_unless_injected():
    first, second = generate("sqs", "receive-message"), generate("sqs", "receive-message")
    assert first["Records"][0]["messageId"] != second["Records"][0]["messageId"]
    assert generate("sqs", "receive-message", fresh=_fresh(7)) == generate("sqs", "receive-message", fresh=_fresh(7))
    made = generate("sns", "notification", fresh=_fresh())
    assert made["Records"][0]["Sns"]["Timestamp"] == "2026-01-02T03:04:05.678Z"


@pytest.mark.parametrize(("service", "name", "values", "message"), [
    ("nope", None, {}, "no service 'nope' (services: apigateway,"),
    ("sqs", "nope", {}, "no event 'nope' for sqs (events: receive-message)"),
    ("sqs", "receive-message", {"queue": "x"}, "has no field --queue (fields: --body, --queue-name,"),
    ("eventbridge", "event", {"detail": "not json"}, "--detail must be a JSON object"),
])
def test_unknown_names_list_the_valid_ones(service, name, values, message):
    with pytest.raises(UnknownEvent) as info:
        generate(service, name or "x", values)
    assert message in str(info.value)
