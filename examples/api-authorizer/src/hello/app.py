"""Answers with what the authorizer passed on (``requestContext.authorizer``)."""
import json


def handler(event, context):
    authorizer = (event.get("requestContext") or {}).get("authorizer")
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"hello": "world", "authorizer": authorizer}),
    }
