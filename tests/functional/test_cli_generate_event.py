"""``strata generate-event`` through the real executable: listings, usage errors (exit 2) naming the valid names, and
each generated event piped into ``strata invoke FN --event -`` where a handler reads the fields its source sends."""
from __future__ import annotations

import json
import subprocess

import pytest
from deploy_helpers import STRATA, env_for
from strata_testkit import run_cli, start_serve, stop_serve, zip_bytes

from strata.cli.main import main

ROLE = "arn:aws:iam::123456789012:role/r"
HANDLER = '''\
import base64
import json
from urllib.parse import unquote_plus


def handler(event, context):
    if "Records" in event:
        record = event["Records"][0]
        source = record.get("eventSource") or record.get("EventSource")
        if source == "aws:sqs":
            return {"sqs": record["body"], "queue": record["eventSourceARN"].split(":")[-1]}
        if source == "aws:sns":
            return {"sns": record["Sns"]["Message"], "subject": record["Sns"]["Subject"]}
        if source == "aws:s3":
            return {"s3": unquote_plus(record["s3"]["object"]["key"]), "bucket": record["s3"]["bucket"]["name"],
                    "event": record["eventName"]}
        if source == "aws:kinesis":
            return {"kinesis": base64.b64decode(record["kinesis"]["data"]).decode()}
        if source == "aws:dynamodb":
            return {"dynamodb": [r["eventName"] for r in event["Records"]],
                    "id": record["dynamodb"]["Keys"]["Id"]["N"]}
    if event.get("version") == "2.0":
        return {"http": event["requestContext"]["http"]["method"], "path": event["rawPath"],
                "body": json.loads(event["body"])}
    if "httpMethod" in event:
        return {"rest": event["httpMethod"], "path": event["path"], "id": event["pathParameters"]["id"],
                "body": json.loads(event["body"])}
    if event.get("type") == "TOKEN":
        return {"token": event["authorizationToken"], "arn": event["methodArn"]}
    if "triggerSource" in event:
        return {"cognito": event["triggerSource"], "user": event["userName"],
                "email": event["request"]["userAttributes"]["email"]}
    if "detail-type" in event:
        return {"bus": event["detail-type"], "source": event["source"], "detail": event["detail"]}
    return {"unknown": sorted(event)}
'''


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    from strata.local.lambda_service.service import LambdaService
    from strata.local.lambda_service.shapes import FunctionCode

    home = tmp_path_factory.mktemp("events") / "home"
    with LambdaService(home) as service:
        service.create_function(function_name="reader", role=ROLE, runtime="python3.12", handler="app.handler",
                                code=FunctionCode(zip_file=zip_bytes({"app.py": HANDLER})))
    server = start_serve(home)          # each invoke below goes to its warm worker
    yield home
    stop_serve(server)


def _strata(home, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([STRATA, *args], env=env_for(home), input=stdin, capture_output=True, text=True,
                          timeout=120, cwd=home.parent)


CASES = [
    (("sqs", "receive-message", "--body", "order 7", "--queue-name", "orders"), {"sqs": "order 7", "queue": "orders"}),
    (("sns", "notification", "--message", "hi", "--subject", "greeting"), {"sns": "hi", "subject": "greeting"}),
    (("s3", "put", "--bucket", "photos", "--key", "2024/my cat+dog.jpg"),
     {"s3": "2024/my cat+dog.jpg", "bucket": "photos", "event": "ObjectCreated:Put"}),
    (("s3", "delete", "--key", "old file.txt"), {"s3": "old file.txt", "bucket": "example-bucket",
                                                 "event": "ObjectRemoved:Delete"}),
    (("kinesis", "get-records", "--data", "reading 42"), {"kinesis": "reading 42"}),
    (("dynamodb", "update", "--key", "9"), {"dynamodb": ["INSERT", "MODIFY", "REMOVE"], "id": "9"}),
    (("apigateway", "http-api-proxy", "--method", "put", "--path", "/items/3", "--body", '{"n": 3}'),
     {"http": "PUT", "path": "/items/3", "body": {"n": 3}}),
    (("apigateway", "aws-proxy", "--path", "/users/5", "--resource", "/users/{id}", "--method", "GET",
      "--body", '{"a": 1}'), {"rest": "GET", "path": "/users/5", "id": "5", "body": {"a": 1}}),
    (("apigateway", "authorizer", "--token", "Bearer x"),
     {"token": "Bearer x", "arn": "arn:aws:execute-api:us-east-1:123456789012:example/prod/POST/{proxy+}"}),
    (("cognito", "pre-signup", "--username", "ana", "--email", "ana@example.com"),
     {"cognito": "PreSignUp_SignUp", "user": "ana", "email": "ana@example.com"}),
    (("cognito", "post-confirmation",), {"cognito": "PostConfirmation_ConfirmSignUp", "user": "testuser",
                                         "email": "testuser@example.com"}),
    (("cloudwatch", "scheduled-event", "--rule", "nightly"),
     {"bus": "Scheduled Event", "source": "aws.events", "detail": {}}),
    (("eventbridge", "event", "--source", "shop", "--detail-type", "Sold", "--detail", '{"sku": "A1"}'),
     {"bus": "Sold", "source": "shop", "detail": {"sku": "A1"}}),
]


@pytest.mark.parametrize(("args", "expected"), CASES, ids=[" ".join(c[0][:2]) for c in CASES])
def test_a_generated_event_is_read_by_a_handler_through_invoke(home, args, expected, capsys):
    code, out, err = run_cli(main, ["generate-event", *args, "--output", "json"], capsys)
    assert code == 0, err
    json.loads(out)
    answer = _strata(home, "invoke", "reader", "--event", "-", stdin=out)
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout) == expected


def test_listings(home):
    services = _strata(home, "generate-event")
    assert services.returncode == 0
    for name in ("apigateway", "sqs", "sns", "s3", "cloudwatch", "eventbridge", "dynamodb", "kinesis", "cognito"):
        assert f"  {name} " in services.stdout
    listed = json.loads(_strata(home, "generate-event", "--output", "json").stdout)
    assert listed["apigateway"]["Events"] == ["authorizer", "aws-proxy", "http-api-proxy"]
    sqs = _strata(home, "generate-event", "sqs")
    assert "sqs receive-message:" in sqs.stdout and "--queue-name" in sqs.stdout and "--body" in sqs.stdout
    fields = json.loads(_strata(home, "generate-event", "sqs", "--output", "json").stdout)
    assert [f["Name"] for f in fields[0]["Fields"]][:2] == ["body", "queue-name"]


@pytest.mark.parametrize(("args", "message"), [
    (("nosuch",), "no service 'nosuch' (services: apigateway, cloudwatch, cognito"),
    (("sqs", "send"), "no event 'send' for sqs (events: receive-message)"),
    (("sqs", "receive-message", "--queue", "q"), "sqs receive-message has no field --queue (fields: --body"),
    (("sqs", "receive-message", "--body"), "--body needs a value"),
    (("sqs", "receive-message", "stray"), "unexpected argument 'stray'"),
])
def test_usage_errors_exit_2_naming_the_valid_names(home, args, message):
    proc = _strata(home, "generate-event", *args)
    assert proc.returncode == 2 and proc.stdout == "" and message in proc.stderr
