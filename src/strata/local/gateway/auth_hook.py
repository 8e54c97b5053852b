"""Where the gateway's request pipeline meets its authorizers (``strata.local.gateway.authorizers``): which spec
guards a route, read once per API value, and the request an authorizer sees, taken from the integration event the
gateway builds for the route anyway (so the authorizer and the function see the same headers, query and context).

A route whose authorizer has no spec (a Cognito user pool authorizer) is let through, with a warning per API: the
local gateway does not enforce it, and says so rather than pretend."""
from __future__ import annotations

from typing import Any

from strata.local.gateway import payloads
from strata.local.gateway.authorizers import (
    ApiKind,
    AuthorizerSpec,
    AuthRequest,
    specs_from_openapi,
    specs_from_resources,
)
from strata.local.gateway.model import Api, Route


def specs(api: Api) -> dict[str, AuthorizerSpec]:
    """The API's authorizers by the name routes use: security scheme names (OpenAPI) and Authorizer resources'
    physical ids (what ``AuthorizerId: !Ref X`` resolves to)."""
    kind: ApiKind = "REST" if api.kind == "REST" else "HTTP"
    out: dict[str, AuthorizerSpec] = {}
    if api.document:
        out.update(specs_from_openapi(api.document, kind))
    if api.authorizer_resources:
        out.update(specs_from_resources({str(res.ref): {"Type": res.type, "Properties": res.properties}
                                         for res in api.authorizer_resources}))
    return out


def auth_request(api: Api, route: Route, request: payloads.Request, params: dict[str, str],
                 spec: AuthorizerSpec) -> AuthRequest:
    v1 = payloads.event_v1(api, route, request, params)
    if spec.api_kind == "HTTP" and spec.payload_version == "2.0":
        context: dict[str, Any] = payloads.event_v2(api, route, request, params)["requestContext"]
    else:
        context = v1["requestContext"]
    return AuthRequest(
        method=request.method, path=request.path,
        resource=route.path if api.kind == "REST" else route.route_key,
        headers=v1["headers"] or {}, multi_value_headers=v1["multiValueHeaders"] or {},
        query=v1["queryStringParameters"] or {}, multi_value_query=v1["multiValueQueryStringParameters"] or {},
        path_params=dict(params), stage=api.stage, stage_variables=dict(api.stage_variables or {}),
        source_ip=request.source_ip, request_id=request.request_id, arn=method_arn(api, route, request),
        api_kind="REST" if api.kind == "REST" else "HTTP",
        payload_version=route.integration.payload_version if route.integration else "1.0",
        api_id=api.api_id, account_id=payloads.ACCOUNT_ID, raw_query=request.raw_query,
        authorization_scopes=route.scopes, request_context=context)


def method_arn(api: Api, route: Route, request: payloads.Request) -> str:
    """The ARN an authorizer is asked about: ``arn:aws:execute-api:region:account:api/stage/METHOD/path`` (REST:
    the request's method and path; HTTP API: the route key's)."""
    if api.kind == "REST":
        return (f"arn:aws:execute-api:us-east-1:{payloads.ACCOUNT_ID}:{api.api_id}/{api.stage}/{request.method}"
                f"{request.path}")
    return (f"arn:aws:execute-api:us-east-1:{payloads.ACCOUNT_ID}:{api.api_id}/{api.stage}/{route.route_key}"
            .replace(" ", ""))
