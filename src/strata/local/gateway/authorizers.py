"""Authorizers of the local API Gateway: Lambda (TOKEN, REQUEST) and JWT, with API Gateway's semantics.

Read from the deployed API: ``specs_from_openapi`` reads the OpenAPI ``securityDefinitions`` (REST, Swagger 2.0) or
``components.securitySchemes`` (HTTP API, OpenAPI 3) with ``x-amazon-apigateway-authorizer``, which is what the SAM
translator writes for ``Auth: Authorizers:`` of ``AWS::Serverless::Api`` and ``AWS::Serverless::HttpApi``;
``specs_from_resources`` reads explicit ``AWS::ApiGateway::Authorizer`` / ``AWS::ApiGatewayV2::Authorizer`` resources.
Both take documents whose intrinsics are already resolved.

``Authorizers.check(spec, request) -> AuthOutcome`` decides one request, as API Gateway does:
- identity sources: every one must be present and non-empty, or the answer is 401 without invoking; a TOKEN
  authorizer's token must also match its ``identityValidationExpression`` (whole match), or 401 without invoking;
- the authorizer function gets API Gateway's input event (TOKEN; REQUEST payload 1.0, REST or HTTP API; HTTP API
  payload 2.0); its answer is an IAM policy (``principalId``, ``policyDocument``, ``context``) evaluated against the
  request's method ARN / route ARN (``*`` and ``?`` wildcards; an explicit Deny wins -> 403; no Allow -> 403), or,
  for an HTTP API authorizer with simple responses, ``{"isAuthorized": bool, "context": {...}}``;
- answers are cached per authorizer and identity source values for the TTL (a Deny too: the cached policy is
  evaluated against each request's ARN, so a policy naming one method denies the others, as on AWS);
- a function error, a timeout or a malformed answer is 500 (REST ``{"message": null}``, HTTP API
  ``{"message":"Internal Server Error"}``); a REST authorizer that fails with the message ``Unauthorized`` is 401.
- JWT authorizers: ``jwt_auth.verify`` against keys from ``jwks.JwksSource``.
``AWS_IAM`` (SigV4), API keys and Cognito user pool authorizers are not enforced locally: the gateway lets such
requests in and says so once per API (``addresses.warnings``), never pretending to have checked them.

What the integration sees in ``requestContext.authorizer`` (``AuthOutcome.context``) depends on the integration's
payload version: 1.0 (REST, or HTTP API 1.0) ``{"principalId", "integrationLatency", **context}`` for a Lambda
authorizer and ``{"claims", "scopes"}`` for JWT; 2.0 ``{"lambda": context}`` or ``{"jwt": {"claims", "scopes"}}``.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from strata.local.gateway import jwt_auth
from strata.local.gateway.jwks import JwksSource

log = logging.getLogger(__name__)

ApiKind = Literal["REST", "HTTP"]
AuthorizerKind = Literal["TOKEN", "REQUEST", "JWT"]

REST_DEFAULT_TTL = 300      # authorizerResultTtlInSeconds when absent (REST)
HTTP_DEFAULT_TTL = 0        # AuthorizerResultTtlInSeconds when absent (HTTP API)
CACHE_LIMIT = 10_000        # cached answers per API listener

UNAUTHORIZED = json.dumps({"message": "Unauthorized"})
FORBIDDEN = json.dumps({"message": "Forbidden"})
REST_EXPLICIT_DENY = json.dumps({"Message": "User is not authorized to access this resource with an explicit deny"})
REST_NOT_ALLOWED = json.dumps({"Message": "User is not authorized to access this resource"})
REST_ERROR = json.dumps({"message": None})
HTTP_ERROR = json.dumps({"message": "Internal Server Error"})

_FUNCTION_IN_URI = re.compile(r"/functions/(.+)/invocations$")


@dataclass(frozen=True)
class AuthorizerSpec:
    """One authorizer as deployed. ``identity_sources`` as written (``method.request.header.Authorization`` REST,
    ``$request.header.Authorization`` HTTP API); ``payload_version`` is what the authorizer function receives."""
    name: str
    kind: AuthorizerKind
    api_kind: ApiKind
    function_arn: str = ""
    identity_sources: tuple[str, ...] = ()
    ttl_seconds: int = 0
    payload_version: str = "1.0"
    simple_responses: bool = False
    validation_regex: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: tuple[str, ...] = ()


@dataclass
class AuthRequest:
    """What an authorizer may look at. ``arn`` is the method ARN (REST, HTTP API payload 1.0) or route ARN (2.0):
    ``arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}/{path}``. ``payload_version`` is the
    integration's (it decides the shape of ``AuthOutcome.context``). ``request_context``: the integration event's
    ``requestContext`` when the gateway has built it (then the authorizer sees the same one)."""
    method: str
    path: str
    resource: str                       # REST resource (/pets/{id}) or HTTP API route key (GET /pets/{id})
    headers: dict[str, str]
    multi_value_headers: dict[str, list[str]]
    query: dict[str, str]
    multi_value_query: dict[str, list[str]]
    path_params: dict[str, str]
    stage: str
    stage_variables: dict[str, str]
    source_ip: str
    request_id: str
    arn: str
    api_kind: ApiKind
    payload_version: str = "1.0"
    api_id: str = ""
    account_id: str = "123456789012"
    raw_query: str = ""
    authorization_scopes: tuple[str, ...] = ()      # the route's, for JWT authorizers
    request_context: dict[str, Any] | None = None

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None


@dataclass(frozen=True)
class AuthOutcome:
    """200 allowed, 401, 403, 500. ``message``: the gateway's response body; ``headers``: extra response headers
    (JWT's ``www-authenticate``, REST's ``x-amzn-ErrorType``); ``error``: why, for the access log."""
    status: int
    context: dict[str, Any] = field(default_factory=dict)
    message: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    cached: bool = False

    @property
    def allowed(self) -> bool:
        return self.status == 200


class InvokeAnswer(Protocol):
    """What the gateway's invoke path returns (``strata.local.runtime.api.InvokeResult`` fits)."""
    payload: bytes
    function_error: str | None


# invoke(function ARN as deployed (alias/version qualified or not), event JSON) -> the function's answer
Invoke = Callable[[str, bytes], Awaitable[InvokeAnswer]]


# ---------------------------------------------------------------------------------------------------- reading specs

def function_from_uri(uri: Any) -> str:
    """``arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function ARN}/invocations`` -> function ARN."""
    if not isinstance(uri, str):
        raise ValueError(f"authorizer URI is not resolved to a string: {uri!r}")
    found = _FUNCTION_IN_URI.search(uri)
    return found.group(1) if found else uri


def _sources(raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    items = raw if isinstance(raw, list) else str(raw).split(",")
    return tuple(s.strip() for s in items if str(s).strip())


def specs_from_openapi(doc: Mapping[str, Any], api_kind: ApiKind) -> dict[str, AuthorizerSpec]:
    """Authorizers of an API's OpenAPI document, by security scheme name (the name routes use in ``security``)."""
    schemes = doc.get("securityDefinitions") or (doc.get("components") or {}).get("securitySchemes") or {}
    out: dict[str, AuthorizerSpec] = {}
    for name, scheme in schemes.items():
        ext = scheme.get("x-amazon-apigateway-authorizer") if isinstance(scheme, dict) else None
        if not isinstance(ext, dict):
            continue
        kind = str(ext.get("type", "")).upper()
        if kind == "JWT":
            jwt_conf = ext.get("jwtConfiguration") or {}
            out[name] = AuthorizerSpec(
                name=name, kind="JWT", api_kind=api_kind,
                identity_sources=_sources(ext.get("identitySource")) or ("$request.header.Authorization",),
                jwt_issuer=jwt_conf.get("issuer"), jwt_audience=tuple(jwt_conf.get("audience") or ()))
        elif kind in ("TOKEN", "REQUEST"):
            sources = _sources(ext.get("identitySource"))
            if kind == "TOKEN" and not sources and scheme.get("in") == "header" and scheme.get("name"):
                sources = (f"method.request.header.{scheme['name']}",)
            default_ttl = REST_DEFAULT_TTL if api_kind == "REST" else HTTP_DEFAULT_TTL
            ttl = ext.get("authorizerResultTtlInSeconds", default_ttl)
            out[name] = AuthorizerSpec(
                name=name, kind="TOKEN" if kind == "TOKEN" else "REQUEST", api_kind=api_kind,
                function_arn=function_from_uri(ext.get("authorizerUri")), identity_sources=sources,
                ttl_seconds=int(ttl), payload_version=str(ext.get("authorizerPayloadFormatVersion", "1.0")),
                simple_responses=bool(ext.get("enableSimpleResponses", False)),
                validation_regex=ext.get("identityValidationExpression"))
    return out


def specs_from_resources(resources: Mapping[str, Mapping[str, Any]]) -> dict[str, AuthorizerSpec]:
    """``AWS::ApiGateway::Authorizer`` and ``AWS::ApiGatewayV2::Authorizer`` resources, by logical id (what a
    method's ``AuthorizerId: !Ref X`` names). Cognito user pool authorizers are left out (not enforced locally)."""
    out: dict[str, AuthorizerSpec] = {}
    for logical_id, resource in resources.items():
        props = resource.get("Properties") or {}
        rtype = resource.get("Type")
        name = str(props.get("Name") or logical_id)
        if rtype == "AWS::ApiGateway::Authorizer":
            kind = str(props.get("Type", "")).upper()
            if kind not in ("TOKEN", "REQUEST"):
                continue
            out[logical_id] = AuthorizerSpec(
                name=name, kind="TOKEN" if kind == "TOKEN" else "REQUEST", api_kind="REST",
                function_arn=function_from_uri(props.get("AuthorizerUri")),
                identity_sources=_sources(props.get("IdentitySource")),
                ttl_seconds=int(props.get("AuthorizerResultTtlInSeconds", REST_DEFAULT_TTL)),
                validation_regex=props.get("IdentityValidationExpression"))
        elif rtype == "AWS::ApiGatewayV2::Authorizer":
            kind = str(props.get("AuthorizerType", "")).upper()
            if kind == "JWT":
                conf = props.get("JwtConfiguration") or {}
                out[logical_id] = AuthorizerSpec(
                    name=name, kind="JWT", api_kind="HTTP",
                    identity_sources=_sources(props.get("IdentitySource")) or ("$request.header.Authorization",),
                    jwt_issuer=conf.get("Issuer"), jwt_audience=tuple(conf.get("Audience") or ()))
            elif kind == "REQUEST":
                out[logical_id] = AuthorizerSpec(
                    name=name, kind="REQUEST", api_kind="HTTP",
                    function_arn=function_from_uri(props.get("AuthorizerUri")),
                    identity_sources=_sources(props.get("IdentitySource")),
                    ttl_seconds=int(props.get("AuthorizerResultTtlInSeconds", HTTP_DEFAULT_TTL)),
                    payload_version=str(props.get("AuthorizerPayloadFormatVersion", "1.0")),
                    simple_responses=bool(props.get("EnableSimpleResponses", False)))
    return out


# ------------------------------------------------------------------------------------------------- identity sources

def identity_values(spec: AuthorizerSpec, request: AuthRequest) -> list[str] | None:
    """The values of ``spec``'s identity sources in ``request``, in order; None when one is missing or empty."""
    values: list[str] = []
    for source in spec.identity_sources:
        value = _identity_value(source, request)
        if not value:
            return None
        values.append(value)
    return values


def _identity_value(source: str, request: AuthRequest) -> str | None:
    src = source[1:] if source.startswith("$") else source
    for prefix in ("method.request.header.", "request.header."):
        if src.startswith(prefix):
            return request.header(src[len(prefix):])
    for prefix in ("method.request.querystring.", "request.querystring."):
        if src.startswith(prefix):
            return request.query.get(src[len(prefix):])
    if src.startswith("stageVariables."):
        return request.stage_variables.get(src[len("stageVariables."):])
    if src.startswith("context."):
        return _context_variable(src[len("context."):], request)
    return None


def _context_variable(name: str, request: AuthRequest) -> str | None:
    known: dict[str, Any] = {"requestId": request.request_id, "stage": request.stage, "httpMethod": request.method,
             "routeKey": request.resource, "resourcePath": request.resource, "path": request.path,
             "apiId": request.api_id, "accountId": request.account_id, "identity.sourceIp": request.source_ip}
    value = known.get(name)
    if value is None and request.request_context is not None:
        found: Any = request.request_context
        for part in name.split("."):
            found = found.get(part) if isinstance(found, dict) else None
        value = found if isinstance(found, str | int | float) else None
    return None if value is None else str(value)


# --------------------------------------------------------------------------------------------------------- payloads

def authorizer_event(spec: AuthorizerSpec, request: AuthRequest, values: Sequence[str]) -> dict[str, Any]:
    """The event API Gateway sends the authorizer function (developer guide: "Input to an API Gateway Lambda
    authorizer"; "Working with AWS Lambda authorizers for HTTP APIs")."""
    if spec.kind == "TOKEN":
        return {"type": "TOKEN", "authorizationToken": values[0], "methodArn": request.arn}
    if spec.api_kind == "HTTP" and spec.payload_version == "2.0":
        return _event_v2(request, values)
    event: dict[str, Any] = {"type": "REQUEST", "methodArn": request.arn}
    if spec.api_kind == "HTTP":
        joined = ",".join(values)
        event = {"version": "1.0", "type": "REQUEST", "methodArn": request.arn, "identitySource": joined,
                 "authorizationToken": joined}
    event.update({
        "resource": request.resource if spec.api_kind == "REST" else _route_path(request.resource),
        "path": request.path,
        "httpMethod": request.method,
        "headers": dict(request.headers),
        "multiValueHeaders": {k: list(v) for k, v in request.multi_value_headers.items()},
        "queryStringParameters": dict(request.query),
        "multiValueQueryStringParameters": {k: list(v) for k, v in request.multi_value_query.items()},
        "pathParameters": dict(request.path_params),
        "stageVariables": dict(request.stage_variables),
        "requestContext": request.request_context if request.request_context is not None else _context_v1(request),
    })
    return event


def _route_path(route_key: str) -> str:
    return route_key.split(" ", 1)[1] if " " in route_key else route_key


def _context_v1(request: AuthRequest) -> dict[str, Any]:
    resource = request.resource if request.api_kind == "REST" else _route_path(request.resource)
    return {"path": request.path, "accountId": request.account_id, "resourceId": "", "stage": request.stage,
            "requestId": request.request_id, "identity": {"sourceIp": request.source_ip,
                                                          "userAgent": request.header("user-agent")},
            "resourcePath": resource, "httpMethod": request.method, "apiId": request.api_id}


def _event_v2(request: AuthRequest, values: Sequence[str]) -> dict[str, Any]:
    headers = {k.lower(): ",".join(v) for k, v in request.multi_value_headers.items()} or \
        {k.lower(): v for k, v in request.headers.items()}
    cookie = headers.pop("cookie", None)
    event: dict[str, Any] = {
        "version": "2.0", "type": "REQUEST", "routeArn": request.arn, "identitySource": list(values),
        "routeKey": request.resource, "rawPath": request.path, "rawQueryString": request.raw_query,
    }
    if cookie:
        event["cookies"] = [c.strip() for c in cookie.split(";") if c.strip()]
    event["headers"] = headers
    query = {k: ",".join(v) for k, v in request.multi_value_query.items()} or dict(request.query)
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = request.request_context if request.request_context is not None else {
        "accountId": request.account_id, "apiId": request.api_id,
        "http": {"method": request.method, "path": request.path, "protocol": "HTTP/1.1",
                 "sourceIp": request.source_ip, "userAgent": headers.get("user-agent", "")},
        "requestId": request.request_id, "routeKey": request.resource, "stage": request.stage}
    if request.path_params:
        event["pathParameters"] = dict(request.path_params)
    if request.stage_variables:
        event["stageVariables"] = dict(request.stage_variables)
    return event


# ------------------------------------------------------------------------------------------------ IAM policy match

def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.DOTALL)


def _listed(raw: Any) -> list[str]:
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list) and all(isinstance(x, str) for x in raw):
        return list(raw)
    raise ValueError(f"expected a string or a list of strings, got {raw!r}")


def policy_effect(policy: Mapping[str, Any], arn: str) -> Literal["Allow", "Deny", "None"]:
    """IAM evaluation of an authorizer's policy for ``execute-api:Invoke`` on ``arn``: an explicit Deny wins, then an
    Allow; neither -> "None" (denied). ValueError for a malformed document."""
    statements = policy.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list):
        raise ValueError("policyDocument has no Statement list")
    allowed = False
    for statement in statements:
        if not isinstance(statement, dict):
            raise ValueError("a policy statement is not an object")
        effect = statement.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise ValueError(f"policy statement Effect {effect!r} is neither Allow nor Deny")
        if "Action" in statement:
            actions_match = any(_glob(a.lower()).fullmatch("execute-api:invoke")
                                for a in _listed(statement["Action"]))
        else:
            actions_match = not any(_glob(a.lower()).fullmatch("execute-api:invoke")
                                    for a in _listed(statement.get("NotAction", [])))
        if "Resource" in statement:
            resources_match = any(_glob(r).fullmatch(arn) for r in _listed(statement["Resource"]))
        else:
            resources_match = not any(_glob(r).fullmatch(arn) for r in _listed(statement.get("NotResource", [])))
        if actions_match and resources_match:
            if effect == "Deny":
                return "Deny"
            allowed = True
    return "Allow" if allowed else "None"


# ------------------------------------------------------------------------------------------------------- the check

@dataclass(frozen=True)
class _Answer:
    """An authorizer function's answer, parsed (what the cache keeps)."""
    principal_id: Any = None
    policy: Mapping[str, Any] | None = None
    is_authorized: bool | None = None
    context: dict[str, Any] = field(default_factory=dict)


class _AuthorizerFailed(Exception):
    """The authorizer failed or answered malformed (500), or said Unauthorized (401 when ``unauthorized``)."""

    def __init__(self, reason: str, *, unauthorized: bool = False) -> None:
        super().__init__(reason)
        self.unauthorized = unauthorized


class Authorizers:
    """Runs authorizers for the gateway. ``invoke`` calls a function as deployed; ``jwks`` gives JWT keys;
    ``clock`` (monotonic seconds) drives the TTL cache, ``wall_clock`` (epoch seconds) the JWT time checks."""

    def __init__(self, invoke: Invoke, jwks: JwksSource | None = None, *,
                 clock: Callable[[], float] = time.monotonic, wall_clock: Callable[[], float] = time.time) -> None:
        self._invoke = invoke
        self._jwks = jwks or JwksSource()
        self._clock = clock
        self._wall_clock = wall_clock
        self._cache: dict[tuple[str, str, tuple[str, ...]], tuple[float, _Answer]] = {}
        self._warned: set[str] = set()

    async def check(self, spec: AuthorizerSpec, request: AuthRequest) -> AuthOutcome:
        if spec.kind == "JWT":
            return await self._check_jwt(spec, request)
        values = identity_values(spec, request)
        if spec.kind == "TOKEN" and (values is None or not values):
            return self._unauthorized(spec, "the token source header is missing")
        if values is None:
            return self._unauthorized(spec, "an identity source is missing")
        if spec.kind == "TOKEN" and spec.validation_regex and not re.fullmatch(spec.validation_regex, values[0]):
            return self._unauthorized(spec, "the token does not match the identity validation expression")
        key = (spec.name, spec.function_arn, tuple(values))
        cached = self._cache.get(key)
        now = self._clock()
        if cached is not None and now < cached[0]:
            return self._decide(spec, request, cached[1], latency_ms=0, cached=True)
        started = self._clock()
        try:
            answer = await self._call(spec, request, values)
        except _AuthorizerFailed as exc:
            if exc.unauthorized:
                return self._unauthorized(spec, str(exc))
            return self._error(spec, str(exc))
        latency_ms = int(round((self._clock() - started) * 1000))
        if spec.ttl_seconds > 0 and spec.identity_sources:
            if len(self._cache) >= CACHE_LIMIT:
                self._evict(now)
            self._cache[key] = (self._clock() + spec.ttl_seconds, answer)
        return self._decide(spec, request, answer, latency_ms=latency_ms, cached=False)

    def _evict(self, now: float) -> None:
        """Drop expired answers; still full, drop the oldest half (many distinct tokens in a load test)."""
        for key in [k for k, (expires, _) in self._cache.items() if expires <= now]:
            del self._cache[key]
        if len(self._cache) >= CACHE_LIMIT:
            for key in list(self._cache)[:CACHE_LIMIT // 2]:
                del self._cache[key]

    def clear_cache(self) -> None:
        """Forget cached answers (a redeploy changed the authorizer function)."""
        self._cache.clear()

    async def _call(self, spec: AuthorizerSpec, request: AuthRequest, values: Sequence[str]) -> _Answer:
        event = authorizer_event(spec, request, values)
        try:
            result = await self._invoke(spec.function_arn, json.dumps(event).encode())
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 (any failure to run the authorizer is API Gateway's 500)
            raise _AuthorizerFailed(f"authorizer {spec.name} could not be invoked: {exc}") from exc
        try:
            body = json.loads(result.payload or b"null")
        except ValueError as exc:
            raise _AuthorizerFailed(f"authorizer {spec.name} answered something other than JSON") from exc
        if result.function_error:
            message = body.get("errorMessage") if isinstance(body, dict) else None
            raise _AuthorizerFailed(f"authorizer {spec.name} failed: {message}",
                                    unauthorized=message == "Unauthorized" and spec.api_kind == "REST")
        if not isinstance(body, dict):
            raise _AuthorizerFailed(f"authorizer {spec.name} answered {type(body).__name__}, not an object")
        return _parse_answer(spec, body)

    def _decide(self, spec: AuthorizerSpec, request: AuthRequest, answer: _Answer, *, latency_ms: int,
                cached: bool) -> AuthOutcome:
        if answer.is_authorized is not None:
            if not answer.is_authorized:
                return AuthOutcome(403, message=FORBIDDEN, error="the authorizer answered isAuthorized: false",
                                   cached=cached)
        else:
            assert answer.policy is not None
            try:
                effect = policy_effect(answer.policy, request.arn)
            except ValueError as exc:
                return self._error(spec, f"authorizer {spec.name} returned a malformed policy: {exc}")
            if effect != "Allow":
                rest = spec.api_kind == "REST"
                body = (REST_EXPLICIT_DENY if effect == "Deny" else REST_NOT_ALLOWED) if rest else FORBIDDEN
                why = "explicit Deny" if effect == "Deny" else "no Allow"
                return AuthOutcome(403, message=body, error=f"the policy of {spec.name}: {why} for {request.arn}",
                                   cached=cached)
        return AuthOutcome(200, context=self._lambda_context(request, answer, latency_ms), cached=cached)

    @staticmethod
    def _lambda_context(request: AuthRequest, answer: _Answer, latency_ms: int) -> dict[str, Any]:
        if request.payload_version == "2.0":
            return {"lambda": dict(answer.context)}
        context: dict[str, Any] = dict(answer.context)
        if answer.principal_id is not None:
            context["principalId"] = answer.principal_id
        context["integrationLatency"] = latency_ms
        return context

    async def _check_jwt(self, spec: AuthorizerSpec, request: AuthRequest) -> AuthOutcome:
        values = identity_values(spec, request)
        if not values:
            return AuthOutcome(401, message=UNAUTHORIZED, error="the JWT identity source is missing")
        if not spec.jwt_issuer:
            return self._error(spec, f"JWT authorizer {spec.name} has no issuer")
        if not self._jwks.configured(spec.jwt_issuer) and spec.jwt_issuer not in self._warned:
            self._warned.add(spec.jwt_issuer)
            log.warning("JWT authorizer %s: no JWKS for issuer %s; its tokens are refused. Pass --jwks %s=PATH",
                        spec.name, spec.jwt_issuer, spec.jwt_issuer)
        verdict = await asyncio.to_thread(
            jwt_auth.verify, values[0], issuer=spec.jwt_issuer, audience=spec.jwt_audience,
            route_scopes=request.authorization_scopes, jwks=self._jwks, now=self._wall_clock)
        headers = {"www-authenticate": verdict.www_authenticate} if verdict.www_authenticate else {}
        if verdict.status == 401:
            return AuthOutcome(401, message=UNAUTHORIZED, headers=headers, error=verdict.reason)
        if verdict.status == 403:
            return AuthOutcome(403, message=FORBIDDEN, headers=headers, error=verdict.reason)
        jwt_context = {"claims": verdict.claims, "scopes": verdict.scopes}
        return AuthOutcome(200, context={"jwt": jwt_context} if request.payload_version == "2.0" else jwt_context)

    @staticmethod
    def _unauthorized(spec: AuthorizerSpec, why: str) -> AuthOutcome:
        return AuthOutcome(401, message=UNAUTHORIZED, error=f"{spec.name}: {why}")

    @staticmethod
    def _error(spec: AuthorizerSpec, why: str) -> AuthOutcome:
        log.warning("%s", why)
        if spec.api_kind == "REST":
            return AuthOutcome(500, message=REST_ERROR, error=why,
                               headers={"x-amzn-ErrorType": "AuthorizerConfigurationException"})
        return AuthOutcome(500, message=HTTP_ERROR, error=why)


def _parse_answer(spec: AuthorizerSpec, body: Mapping[str, Any]) -> _Answer:
    """Check an authorizer's answer has the shape its configuration asks for; _AuthorizerFailed (500) if not."""
    context = body.get("context", {})
    if context is None:
        context = {}
    if not isinstance(context, dict):
        raise _AuthorizerFailed(f"authorizer {spec.name}: context is not an object")
    if spec.api_kind == "REST" or spec.payload_version == "1.0":
        bad = [k for k, v in context.items() if isinstance(v, dict | list)]
        if bad:
            raise _AuthorizerFailed(f"authorizer {spec.name}: context values must be strings, numbers or booleans "
                                    f"({', '.join(bad)} is not)")
    if spec.simple_responses and spec.payload_version == "2.0":
        flag = body.get("isAuthorized")
        if not isinstance(flag, bool):
            raise _AuthorizerFailed(f"authorizer {spec.name}: simple responses are enabled, and isAuthorized is "
                                    f"not a boolean ({flag!r})")
        return _Answer(is_authorized=flag, context=context)
    policy = body.get("policyDocument")
    if not isinstance(policy, dict):
        raise _AuthorizerFailed(f"authorizer {spec.name}: the answer has no policyDocument object")
    principal = body.get("principalId")
    if spec.api_kind == "REST" and (principal is None or principal == ""):
        raise _AuthorizerFailed(f"authorizer {spec.name}: the answer has no principalId")
    return _Answer(principal_id=principal, policy=policy, context=context)


def execute_api_arn(region: str, account: str, api_id: str, stage: str, method: str, path: str) -> str:
    """A method/route ARN as API Gateway writes it: the path without its leading slash (``/`` -> empty)."""
    return f"arn:aws:execute-api:{region}:{account}:{api_id}/{stage}/{method}/{path.lstrip('/')}"

