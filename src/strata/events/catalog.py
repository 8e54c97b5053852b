"""Every event ``strata generate-event`` makes: service -> event -> fields with defaults -> a builder.

Each builder writes the shape of AWS's documented example for that event source (Lambda developer guide: "Using AWS
Lambda with other services"; API Gateway developer guide: the proxy integration input formats 1.0 and 2.0; Cognito
developer guide: the user pool Lambda trigger sources), with what a real delivery computes computed here: fresh
request/message ids and timestamps, ``md5OfBody`` of the SQS body, the S3 object key URL-encoded as S3 sends it
(spaces as ``+``), Kinesis data base64-encoded, ``pathParameters`` matched from the API resource template, ARNs of the
region's partition. Service, event and field names follow ``sam local generate-event`` where the meaning is the same
(``apigateway aws-proxy --path --method --body``, ``sqs receive-message --queue-name``, ``s3 put --bucket --key``);
events SAM CLI does not generate (HTTP API payload 2.0 as ``apigateway http-api-proxy``, Cognito user pool triggers,
``eventbridge``) use the same spelling.
"""
from __future__ import annotations

import base64
import hashlib
import json
import random
import re
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qs, quote_plus

from strata.model.naming import partition_of

Values = Mapping[str, str]


class UnknownEvent(LookupError):
    """A service, event or field that is not in the catalog; the message names the valid ones."""


@dataclass(frozen=True)
class Field:
    name: str            # as typed after --, e.g. "queue-name"
    default: str         # "" with ``derived`` set: computed from other fields
    help: str
    derived: str = ""    # how an empty default is filled (shown in the listing)


@dataclass(frozen=True)
class EventSpec:
    service: str
    name: str
    help: str
    fields: tuple[Field, ...]
    build: Callable[[Values, Fresh], dict]

    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


@dataclass
class Fresh:
    """Where the per-event fresh values come from: the clock and the random source (tests inject both)."""

    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    rng: random.Random | None = None        # None: the system's randomness

    def uuid(self) -> str:
        if self.rng is None:
            return str(uuid.uuid4())
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def hex(self, length: int) -> str:
        if self.rng is None:
            return secrets.token_hex((length + 1) // 2)[:length]
        return f"{self.rng.getrandbits(length * 4):0{length}x}"

    def token(self, length: int) -> str:
        """Opaque base64-looking text (receipt handles, signatures)."""
        raw = bytes.fromhex(self.hex(length * 2))
        return base64.b64encode(raw).decode()[:length]

    def epoch_ms(self) -> int:
        return int(self.now().timestamp() * 1000)

    def iso(self) -> str:
        """``2019-09-03T19:37:27.192Z``, as S3, SNS and EventBridge write times."""
        moment = self.now().astimezone(UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

    def clf(self) -> str:
        """``12/Mar/2020:19:03:58 +0000``, API Gateway's ``requestTime``."""
        return self.now().astimezone(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


SERVICE_HELP: dict[str, str] = {}
SERVICES: dict[str, dict[str, EventSpec]] = {}


def event(service: str, name: str, help: str, *fields: Field) -> Callable[[Callable[[Values, Fresh], dict]],
                                                                           Callable[[Values, Fresh], dict]]:
    """Register a builder under ``service`` / ``name`` (a plain dict that fails loudly on a duplicate)."""
    def register(build: Callable[[Values, Fresh], dict]) -> Callable[[Values, Fresh], dict]:
        events = SERVICES.setdefault(service, {})
        if name in events:
            raise ValueError(f"event {service} {name} registered twice")
        events[name] = EventSpec(service, name, help, fields, build)
        return build
    return register


def generate(service: str, name: str, values: Mapping[str, str] | None = None, fresh: Fresh | None = None) -> dict:
    """The event ``service`` / ``name`` with ``values`` for some of its fields (the rest take their defaults)."""
    spec = lookup(service, name)
    given = dict(values or {})
    unknown = sorted(set(given) - set(spec.field_names()))
    if unknown:
        raise UnknownEvent(f"{service} {name} has no field {', '.join('--' + u for u in unknown)} "
                           f"(fields: {', '.join('--' + f for f in spec.field_names())})")
    filled = {f.name: given.get(f.name, f.default) for f in spec.fields}
    if "region" in filled and not filled.get("partition"):
        filled["partition"] = partition_of(filled["region"])[0]
    return spec.build(filled, fresh or Fresh())


def lookup(service: str, name: str | None = None) -> EventSpec:
    events = SERVICES.get(service)
    if events is None:
        raise UnknownEvent(f"no service {service!r} (services: {', '.join(sorted(SERVICES))})")
    if name is None or name not in events:
        what = f"no event {name!r} for {service}" if name is not None else f"{service} needs an event"
        raise UnknownEvent(f"{what} (events: {', '.join(sorted(events))})")
    return events[name]


# ---- common fields ---------------------------------------------------------------------------------------------------
REGION = Field("region", "us-east-1", "AWS region")
ACCOUNT = Field("account-id", "123456789012", "AWS account id")
PARTITION = Field("partition", "", "ARN partition", derived="from the region: aws, aws-cn, aws-us-gov")
WHERE = (REGION, ACCOUNT, PARTITION)


def _arn(v: Values, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
    return (f"arn:{v['partition']}:{service}:{v['region'] if region else ''}:{v['account-id'] if account else ''}:"
            f"{resource}")


def _dns_suffix(region: str) -> str:
    return f"{region}.{partition_of(region)[1]}"


def _body(v: Values) -> tuple[str | None, bool]:
    """(the body as the event carries it, isBase64Encoded)."""
    text = v["body"]
    if _true(v.get("base64", "false")):
        return base64.b64encode(text.encode()).decode(), True
    return (text if text != "" else None), False


def _true(text: str) -> bool:
    return text.strip().lower() in ("1", "true", "yes", "on")


def _headers(v: Values, host: str) -> dict[str, str]:
    headers = {"Accept": "*/*", "Host": host, "User-Agent": "strata-generate-event",
               "X-Forwarded-For": "127.0.0.1", "X-Forwarded-Port": "443", "X-Forwarded-Proto": "https"}
    if v["body"]:
        headers["Content-Type"] = "application/json"
    return headers


def _path_parameters(resource: str, path: str) -> dict[str, str] | None:
    """``{"id": "42"}`` for resource ``/users/{id}`` and path ``/users/42``; ``{proxy+}`` takes the rest."""
    names = re.findall(r"{([^}+]+)\+?}", resource)
    if not names:
        return None
    pattern = "^" + re.sub(r"\\{([^}+]+)\\\+\\}", r"(?P<\1>.+)",
                           re.sub(r"\\{([^}+]+)\\}", r"(?P<\1>[^/]+)", re.escape(resource))) + "$"
    found = re.match(pattern, path)
    return dict(found.groupdict()) if found else {n: "" for n in names}


def _query(text: str) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    """(last value per name, every value per name) of a query string, as API Gateway's 1.0 payload has them."""
    multi = parse_qs(text, keep_blank_values=True)
    if not multi:
        return None, None
    return {k: vs[-1] for k, vs in multi.items()}, multi


def _slash(path: str) -> str:
    return path if path.startswith("/") else "/" + path


# ---- API Gateway -----------------------------------------------------------------------------------------------------
SERVICE_HELP["apigateway"] = "Amazon API Gateway: REST API proxy (payload 1.0), HTTP API (2.0), authorizers"
BODY = Field("body", '{"test":"body"}', "request body")
BASE64 = Field("base64", "false", "true: the body base64-encoded (isBase64Encoded, as for binary media types)")


@event("apigateway", "aws-proxy", "REST API Lambda proxy integration request (payload format 1.0)",
       Field("path", "/path/to/resource", "request path"), Field("method", "POST", "HTTP method"), BODY,
       Field("resource", "/{proxy+}", "the API resource the path matched"), Field("stage", "prod", "stage name"),
       Field("query", "", "query string, e.g. a=1&b=2"), Field("api-id", "1234567890", "REST API id"), BASE64, *WHERE)
def _aws_proxy(v: Values, fresh: Fresh) -> dict:
    path = _slash(v["path"])
    host = f"{v['api-id']}.execute-api.{_dns_suffix(v['region'])}"
    headers = _headers(v, host)
    query, multi_query = _query(v["query"])
    body, encoded = _body(v)
    method = v["method"].upper()
    return {
        "resource": v["resource"], "path": path, "httpMethod": method,
        "headers": headers, "multiValueHeaders": {k: [x] for k, x in headers.items()},
        "queryStringParameters": query, "multiValueQueryStringParameters": multi_query,
        "pathParameters": _path_parameters(v["resource"], path), "stageVariables": None,
        "requestContext": {
            "accountId": v["account-id"], "apiId": v["api-id"], "domainName": host, "domainPrefix": v["api-id"],
            "extendedRequestId": fresh.token(16), "httpMethod": method,
            "identity": {"accessKey": None, "accountId": None, "caller": None, "cognitoAuthenticationProvider": None,
                         "cognitoAuthenticationType": None, "cognitoIdentityId": None, "cognitoIdentityPoolId": None,
                         "principalOrgId": None, "sourceIp": "127.0.0.1", "user": None,
                         "userAgent": "strata-generate-event", "userArn": None},
            "path": f"/{v['stage']}{path}", "protocol": "HTTP/1.1", "requestId": fresh.uuid(),
            "requestTime": fresh.clf(), "requestTimeEpoch": fresh.epoch_ms(), "resourceId": fresh.hex(6),
            "resourcePath": v["resource"], "stage": v["stage"]},
        "body": body, "isBase64Encoded": encoded,
    }


@event("apigateway", "authorizer", "REST API TOKEN Lambda authorizer request",
       Field("token", "incoming-client-token", "the Authorization header's value"),
       Field("stage", "prod", "stage name"), Field("method", "POST", "HTTP method"),
       Field("resource", "{proxy+}", "resource path of the method"), Field("restApiId", "example", "REST API id"),
       *WHERE)
def _authorizer(v: Values, fresh: Fresh) -> dict:
    method_arn = _arn(v, "execute-api", f"{v['restApiId']}/{v['stage']}/{v['method'].upper()}/"
                                        f"{v['resource'].lstrip('/')}")
    return {"type": "TOKEN", "authorizationToken": v["token"], "methodArn": method_arn}


@event("apigateway", "http-api-proxy", "HTTP API Lambda proxy integration request (payload format 2.0)",
       Field("path", "/path/to/resource", "request path"), Field("method", "POST", "HTTP method"), BODY,
       Field("route-key", "$default", "the route that matched, e.g. 'GET /items/{id}'"),
       Field("stage", "$default", "stage name"), Field("query", "", "query string, e.g. a=1&b=2"),
       Field("cookies", "", "cookies, ';'-separated (name=value; other=value)"),
       Field("api-id", "api-id", "HTTP API id"), BASE64, *WHERE)
def _http_api(v: Values, fresh: Fresh) -> dict:
    path = _slash(v["path"])
    host = f"{v['api-id']}.execute-api.{_dns_suffix(v['region'])}"
    headers = {k.lower(): x for k, x in _headers(v, host).items()}
    multi_query = _query(v["query"])[1]
    body, encoded = _body(v)
    route = v["route-key"]
    template = route.split(" ", 1)[1] if " " in route else ""
    cookies = [c.strip() for c in v["cookies"].split(";") if c.strip()]
    out: dict = {"version": "2.0", "routeKey": route, "rawPath": path, "rawQueryString": v["query"]}
    if cookies:
        out["cookies"] = cookies
    out["headers"] = headers
    if multi_query:
        out["queryStringParameters"] = {k: ",".join(vs) for k, vs in multi_query.items()}
    params = _path_parameters(template, path) if template else None
    out["requestContext"] = {
        "accountId": v["account-id"], "apiId": v["api-id"], "domainName": host, "domainPrefix": v["api-id"],
        "http": {"method": v["method"].upper(), "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                 "userAgent": "strata-generate-event"},
        "requestId": fresh.token(16), "routeKey": route, "stage": v["stage"], "time": fresh.clf(),
        "timeEpoch": fresh.epoch_ms()}
    if body is not None:
        out["body"] = body
    if params:
        out["pathParameters"] = params
    out["isBase64Encoded"] = encoded
    return out


# ---- SQS -------------------------------------------------------------------------------------------------------------
SERVICE_HELP["sqs"] = "Amazon SQS: a batch of messages received by the event source mapping"


@event("sqs", "receive-message", "SQS message delivered to a function (one record)",
       Field("body", "Hello from SQS!", "message body"), Field("queue-name", "MyQueue", "queue name"), *WHERE)
def _sqs(v: Values, fresh: Fresh) -> dict:
    sent = fresh.epoch_ms()
    return {"Records": [{
        "messageId": fresh.uuid(), "receiptHandle": "AQEB" + fresh.token(120), "body": v["body"],
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(sent), "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                       "ApproximateFirstReceiveTimestamp": str(sent + 2)},
        "messageAttributes": {}, "md5OfBody": hashlib.md5(v["body"].encode()).hexdigest(),  # noqa: S324 - SQS's digest
        "eventSource": "aws:sqs", "eventSourceARN": _arn(v, "sqs", v["queue-name"]), "awsRegion": v["region"],
    }]}


# ---- SNS -------------------------------------------------------------------------------------------------------------
SERVICE_HELP["sns"] = "Amazon SNS: a topic notification"


@event("sns", "notification", "SNS topic notification (one record)",
       Field("message", "example message", "message"), Field("subject", "example subject", "subject"),
       Field("topic", "ExampleTopic", "topic name"), *WHERE)
def _sns(v: Values, fresh: Fresh) -> dict:
    topic = _arn(v, "sns", v["topic"])
    host = f"https://sns.{_dns_suffix(v['region'])}"
    subscription = f"{topic}:{fresh.uuid()}"
    return {"Records": [{
        "EventVersion": "1.0", "EventSubscriptionArn": subscription, "EventSource": "aws:sns",
        "Sns": {"SignatureVersion": "1", "Timestamp": fresh.iso(), "Signature": fresh.token(88),
                "SigningCertUrl": f"{host}/SimpleNotificationService-{fresh.hex(32)}.pem",
                "MessageId": fresh.uuid(), "Message": v["message"], "MessageAttributes": {}, "Type": "Notification",
                "UnsubscribeUrl": f"{host}/?Action=Unsubscribe&SubscriptionArn={subscription}",
                "TopicArn": topic, "Subject": v["subject"] or None},
    }]}


# ---- S3 --------------------------------------------------------------------------------------------------------------
SERVICE_HELP["s3"] = "Amazon S3: object created / removed notifications"
S3_FIELDS = (Field("bucket", "example-bucket", "bucket name"),
             Field("key", "test/key", "object key (URL-encoded in the event, as S3 sends it)"), *WHERE[::2])


def _s3(v: Values, fresh: Fresh, name: str, obj: dict) -> dict:
    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": v["region"], "eventTime": fresh.iso(),
        "eventName": name, "userIdentity": {"principalId": "EXAMPLE"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": fresh.hex(16).upper(), "x-amz-id-2": fresh.token(76)},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "testConfigRule",
               "bucket": {"name": v["bucket"], "ownerIdentity": {"principalId": "EXAMPLE"},
                          "arn": _arn(v, "s3", v["bucket"], region=False, account=False)},
               "object": {"key": quote_plus(v["key"], safe="/"), **obj}},
    }]}


@event("s3", "put", "S3 object created (ObjectCreated:Put)", *S3_FIELDS[:2],
       Field("size", "1024", "object size in bytes"), *S3_FIELDS[2:])
def _s3_put(v: Values, fresh: Fresh) -> dict:
    return _s3(v, fresh, "ObjectCreated:Put", {"size": int(v["size"]), "eTag": fresh.hex(32),
                                                "sequencer": fresh.hex(18).upper()})


@event("s3", "delete", "S3 object removed (ObjectRemoved:Delete)", *S3_FIELDS)
def _s3_delete(v: Values, fresh: Fresh) -> dict:
    return _s3(v, fresh, "ObjectRemoved:Delete", {"sequencer": fresh.hex(18).upper()})


# ---- EventBridge / CloudWatch Events ---------------------------------------------------------------------------------
SERVICE_HELP["cloudwatch"] = "Amazon CloudWatch Events: a scheduled rule firing (SAM CLI's name)"
SERVICE_HELP["eventbridge"] = "Amazon EventBridge: a scheduled rule firing, or any event on a bus"
RULE = Field("rule", "ExampleRule", "rule name")


def _eventbridge(v: Values, fresh: Fresh, source: str, detail_type: str, detail: object, resources: list) -> dict:
    return {"version": "0", "id": fresh.uuid(), "detail-type": detail_type, "source": source,
            "account": v["account-id"], "time": fresh.iso()[:19] + "Z", "region": v["region"],
            "resources": resources, "detail": detail}


def _scheduled(v: Values, fresh: Fresh) -> dict:
    return _eventbridge(v, fresh, "aws.events", "Scheduled Event", {}, [_arn(v, "events", f"rule/{v['rule']}")])


event("cloudwatch", "scheduled-event", "Scheduled rule event (EventBridge schedule)", RULE, *WHERE)(_scheduled)
event("eventbridge", "scheduled-event", "Scheduled rule event (the same as cloudwatch scheduled-event)", RULE,
      *WHERE)(_scheduled)


@event("eventbridge", "event", "An event on a bus, with your source, detail-type and detail",
       Field("source", "com.example.app", "event source"), Field("detail-type", "ExampleEvent", "detail type"),
       Field("detail", '{"key": "value"}', "detail (a JSON object)"), *WHERE)
def _bus_event(v: Values, fresh: Fresh) -> dict:
    try:
        detail = json.loads(v["detail"])
    except ValueError:
        detail = None
    if not isinstance(detail, dict):
        raise UnknownEvent(f"--detail must be a JSON object, not {v['detail']!r}")
    return _eventbridge(v, fresh, v["source"], v["detail-type"], detail, [])


# ---- DynamoDB Streams ------------------------------------------------------------------------------------------------
SERVICE_HELP["dynamodb"] = "Amazon DynamoDB Streams: item changes"


@event("dynamodb", "update", "DynamoDB stream records: an INSERT, a MODIFY and a REMOVE of one item",
       Field("table", "ExampleTableWithStream", "table name"), Field("key", "101", "the item's Id (a number)"),
       Field("message", "New item!", "the item's Message attribute"), *WHERE)
def _dynamodb(v: Values, fresh: Fresh) -> dict:
    keys = {"Id": {"N": v["key"]}}
    new = {"Message": {"S": v["message"]}, "Id": {"N": v["key"]}}
    changed = {"Message": {"S": "This item has changed"}, "Id": {"N": v["key"]}}
    stream = _arn(v, "dynamodb", f"table/{v['table']}/stream/2015-06-27T00:48:05.899")
    base = int(fresh.now().timestamp())
    records = []
    for n, (name, images) in enumerate((("INSERT", {"NewImage": new}),
                                        ("MODIFY", {"OldImage": new, "NewImage": changed}),
                                        ("REMOVE", {"OldImage": changed}))):
        records.append({
            "eventID": fresh.hex(32), "eventName": name, "eventVersion": "1.1", "eventSource": "aws:dynamodb",
            "awsRegion": v["region"],
            "dynamodb": {"ApproximateCreationDateTime": base, "Keys": keys, **images,
                         "SequenceNumber": str(111 * (n + 1)), "SizeBytes": (26, 59, 38)[n],
                         "StreamViewType": "NEW_AND_OLD_IMAGES"},
            "eventSourceARN": stream})
    return {"Records": records}


# ---- Kinesis ---------------------------------------------------------------------------------------------------------
SERVICE_HELP["kinesis"] = "Amazon Kinesis Data Streams: records read by the event source mapping"


@event("kinesis", "get-records", "Kinesis stream record (one; data base64-encoded, as Kinesis delivers it)",
       Field("data", "Hello, this is a test 123.", "record data (plain text: it is base64-encoded)"),
       Field("partition-key", "partitionKey-03", "partition key"),
       Field("sequence", "49545115243490985018280067714973144582180062593244200961", "sequence number"),
       Field("stream", "example-stream", "stream name"), *WHERE)
def _kinesis(v: Values, fresh: Fresh) -> dict:
    return {"Records": [{
        "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": v["partition-key"],
                    "sequenceNumber": v["sequence"], "data": base64.b64encode(v["data"].encode()).decode(),
                    "approximateArrivalTimestamp": round(fresh.now().timestamp(), 3)},
        "eventSource": "aws:kinesis", "eventVersion": "1.0",
        "eventID": f"shardId-000000000006:{v['sequence']}", "eventName": "aws:kinesis:record",
        "invokeIdentityArn": _arn(v, "iam", "role/lambda-role", region=False),
        "awsRegion": v["region"], "eventSourceARN": _arn(v, "kinesis", f"stream/{v['stream']}"),
    }]}


# ---- Cognito user pool triggers --------------------------------------------------------------------------------------
SERVICE_HELP["cognito"] = "Amazon Cognito user pool Lambda triggers"
COGNITO_FIELDS = (Field("username", "testuser", "user name"), Field("email", "testuser@example.com", "email"),
                  Field("user-pool-id", "", "user pool id", derived="<region>_EXAMPLE"),
                  Field("client-id", "1example23456789", "app client id"), REGION)


def _cognito(v: Values, trigger: str, request: dict, response: dict) -> dict:
    return {"version": "1", "region": v["region"], "userPoolId": v["user-pool-id"] or f"{v['region']}_EXAMPLE",
            "userName": v["username"],
            "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": v["client-id"]},
            "triggerSource": trigger, "request": request, "response": response}


@event("cognito", "pre-signup", "Pre sign-up trigger (PreSignUp_SignUp)", *COGNITO_FIELDS)
def _pre_signup(v: Values, fresh: Fresh) -> dict:
    return _cognito(v, "PreSignUp_SignUp", {"userAttributes": {"email": v["email"]}, "validationData": None},
                    {"autoConfirmUser": False, "autoVerifyEmail": False, "autoVerifyPhone": False})


@event("cognito", "post-confirmation", "Post confirmation trigger (PostConfirmation_ConfirmSignUp)", *COGNITO_FIELDS)
def _post_confirmation(v: Values, fresh: Fresh) -> dict:
    attributes = {"sub": fresh.uuid(), "cognito:user_status": "CONFIRMED", "email_verified": "true",
                  "email": v["email"]}
    return _cognito(v, "PostConfirmation_ConfirmSignUp", {"userAttributes": attributes}, {})


@event("cognito", "pre-token-generation", "Pre token generation trigger (TokenGeneration_HostedAuth)",
       *COGNITO_FIELDS)
def _pre_token(v: Values, fresh: Fresh) -> dict:
    attributes = {"sub": fresh.uuid(), "cognito:user_status": "CONFIRMED", "email_verified": "true",
                  "email": v["email"]}
    return _cognito(v, "TokenGeneration_HostedAuth",
                    {"userAttributes": attributes, "groupConfiguration": {"groupsToOverride": [],
                                                                          "iamRolesToOverride": [],
                                                                          "preferredRole": None}},
                    {"claimsOverrideDetails": None})
