"""A Lambda authorizer for API Gateway (TOKEN, REQUEST payload 1.0, and HTTP API payload 2.0 simple responses).

Tokens: ``allow-<user>`` is allowed (the user goes into the context), ``deny`` is denied by policy, ``unauthorized``
fails with "Unauthorized" (API Gateway answers 401), anything else is denied.
"""
import os


def _count():
    path = os.environ.get("COUNT_FILE")
    if path:
        with open(path, "a") as out:
            out.write("called\n")


def _policy(effect, event, context):
    # allow every method of this API and stage: API Gateway caches the policy per token, for all routes
    api_stage = "/".join(event["methodArn"].split("/")[:2])
    return {
        "principalId": context.get("user", "anonymous"),
        "policyDocument": {"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": effect, "Resource": api_stage + "/*"}]},
        "context": context,
    }


def _decide(token):
    if token.startswith("allow-"):
        return True, {"user": token[len("allow-"):], "plan": "free", "verified": True}
    if token == "unauthorized":
        raise Exception("Unauthorized")
    return False, {}


def handler(event, context):
    _count()
    if event.get("version") == "2.0":
        token = event["headers"].get("authorization", "").removeprefix("Bearer ")
        allowed, ctx = _decide(token)
        return {"isAuthorized": allowed, "context": ctx}
    if event["type"] == "TOKEN":
        allowed, ctx = _decide(event["authorizationToken"].removeprefix("Bearer "))
        return _policy("Allow" if allowed else "Deny", event, ctx)
    headers = {k.lower(): v for k, v in event["headers"].items()}
    tenant = event["queryStringParameters"].get("tenant", "")
    allowed, ctx = _decide(headers.get("x-user", ""))
    if allowed:
        ctx["tenant"] = tenant
    return _policy("Allow" if allowed and tenant != "blocked" else "Deny", event, ctx)
