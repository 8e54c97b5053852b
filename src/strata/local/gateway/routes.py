"""The route tables of the deployed stacks: read from the engine's state (the resolved properties of RestApi, Stage,
ApiGatewayV2 Api/Route/Integration/Stage and Lambda Url resources), never from the template, so what is served is
what was deployed: an integration names the alias or version ARN the stack wired, and a weighted alias splits HTTP
traffic as it splits Invoke.

Routes come from the OpenAPI ``Body`` (SAM writes ``Api``/``HttpApi`` events there, ``DefinitionUri`` is inlined at
packaging) with ``x-amazon-apigateway-integration``, and from explicit ApiGatewayV2 Route/Integration resources.
``match`` picks a request's route as API Gateway does: the most specific path (literal segments before ``{param}``
before ``{greedy+}``), an exact method before ``ANY``, then an HTTP API's ``$default``."""
from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from strata.local.engine.model import DeployedResource
from strata.local.gateway.model import (
    HTTP_TIMEOUT_MS,
    REST_TIMEOUT_MS,
    URL_TIMEOUT_MS,
    Api,
    Cors,
    Integration,
    Route,
)

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
_ANY = "x-amazon-apigateway-any-method"
_URI_ARN = re.compile(r"functions/(arn:[^/]+)/invocations")
_EXECUTE_API = "https://{api_id}.execute-api.{region}.amazonaws.com/"


def load(home: Path) -> list[Api]:
    """Every API stage and function URL of every stack deployed in ``home``."""
    from strata.local.engine.state import StackState, database_path

    if not database_path(Path(home)).exists():
        return []
    state = StackState(Path(home))
    try:
        apis: list[Api] = []
        for name in state.stack_names():
            apis += apis_of_stack(name, state.resources(name))
        return apis
    finally:
        state.close()


def signature(home: Path) -> tuple:
    """What changes when a deploy changes what the gateway serves: each stack's status and latest deploy or
    rollback (cheap: one query, no resource read)."""
    from strata.local.engine.state import StackState, database_path

    if not database_path(Path(home)).exists():
        return ()
    state = StackState(Path(home))
    try:
        rows = state.db.execute("SELECT name, status, updated_at, last_deploy_id FROM stack_stacks "
                                "ORDER BY name").fetchall()
        return tuple(tuple(row) for row in rows)
    finally:
        state.close()


def apis_of_stack(stack: str, resources: dict[str, DeployedResource], region: str = "us-east-1") -> list[Api]:
    by_type: dict[str, list[DeployedResource]] = {}
    for res in resources.values():
        by_type.setdefault(res.type, []).append(res)
    apis: list[Api] = []
    for res in by_type.get("AWS::ApiGateway::RestApi", []):
        apis += _rest_apis(stack, res, by_type, region)
    for res in by_type.get("AWS::ApiGatewayV2::Api", []):
        if str(res.properties.get("ProtocolType", "HTTP")).upper() == "HTTP":
            apis += _http_apis(stack, res, by_type, region)
    for res in by_type.get("AWS::Lambda::Url", []):
        apis.append(_function_url(stack, res))
    return apis


# -- REST APIs ------------------------------------------------------------------------------------------------------

def _rest_apis(stack: str, res: DeployedResource, by_type: dict[str, list[DeployedResource]],
               region: str) -> list[Api]:
    props = res.properties
    api_id = str(res.ref)
    body = props.get("Body") if isinstance(props.get("Body"), dict) else None
    warnings: list[str] = []
    routes = list(_openapi_routes(body, "REST", warnings)) if body else []
    routes += _rest_resource_routes(api_id, by_type, warnings)
    binary = [str(t).replace("~1", "/") for t in props.get("BinaryMediaTypes") or []]
    if body:
        binary += [str(t).replace("~1", "/") for t in body.get("x-amazon-apigateway-binary-media-types") or []]
    stages = [(str(s.properties.get("StageName")), s.properties.get("Variables"))
              for s in by_type.get("AWS::ApiGateway::Stage", []) if str(s.properties.get("RestApiId")) == api_id]
    if not stages:
        stages = [(str(d.properties["StageName"]), d.properties.get("StageDescription", {}).get("Variables")
                   if isinstance(d.properties.get("StageDescription"), dict) else None)
                  for d in by_type.get("AWS::ApiGateway::Deployment", [])
                  if str(d.properties.get("RestApiId")) == api_id and d.properties.get("StageName")]
    if not stages:
        stages = [("Prod", None)]
    authorizers = tuple(a for a in by_type.get("AWS::ApiGateway::Authorizer", [])
                        if str(a.properties.get("RestApiId")) == api_id)
    compiled = tuple(_compiled(r) for r in routes)
    return [Api(key=f"{stack}/{res.logical_id}/{stage}", kind="REST", stack=stack, logical_id=res.logical_id,
                api_id=api_id, stage=stage, routes=compiled,
                stage_variables={str(k): str(v) for k, v in variables.items()} if isinstance(variables, dict)
                else None,
                binary_media_types=tuple(dict.fromkeys(binary)), cors=None, document=body,
                authorizer_resources=authorizers,
                deployed_url=_EXECUTE_API.format(api_id=api_id, region=region) + f"{stage}/",
                warnings=tuple(warnings))
            for stage, variables in stages]


def _rest_resource_routes(api_id: str, by_type: dict[str, list[DeployedResource]],
                          warnings: list[str]) -> list[Route]:
    """Routes of explicit ``AWS::ApiGateway::Resource``/``Method`` resources (templates without a Body)."""
    resources = {str(r.ref): r for r in by_type.get("AWS::ApiGateway::Resource", [])
                 if str(r.properties.get("RestApiId")) == api_id}

    def path_of(resource_id: str, depth: int = 0) -> str:
        node = resources.get(resource_id)
        if node is None or depth > 64:
            return ""                      # the root resource (GetAtt RestApi.RootResourceId)
        return f"{path_of(str(node.properties.get('ParentId')), depth + 1)}/{node.properties.get('PathPart')}"

    routes = []
    for method in by_type.get("AWS::ApiGateway::Method", []):
        props = method.properties
        if str(props.get("RestApiId")) != api_id:
            continue
        path = path_of(str(props.get("ResourceId"))) or "/"
        integration = props.get("Integration") or {}
        auth_type = str(props.get("AuthorizationType") or "NONE").upper()
        routes.append(_route(str(props.get("HttpMethod", "ANY")), path, {
            "type": integration.get("Type"), "uri": integration.get("Uri"),
            "timeoutInMillis": integration.get("TimeoutInMillis")}, "REST", warnings,
            authorizer=str(props["AuthorizerId"]) if props.get("AuthorizerId") else None,
            scopes=tuple(props.get("AuthorizationScopes") or ()), iam=auth_type == "AWS_IAM",
            api_key=bool(props.get("ApiKeyRequired"))))
    return routes


# -- HTTP APIs ------------------------------------------------------------------------------------------------------

def _http_apis(stack: str, res: DeployedResource, by_type: dict[str, list[DeployedResource]],
               region: str) -> list[Api]:
    props = res.properties
    api_id = str(res.ref)
    body = props.get("Body") if isinstance(props.get("Body"), dict) else None
    warnings: list[str] = []
    routes = list(_openapi_routes(body, "HTTP", warnings)) if body else []
    integrations = {str(i.ref): i for i in by_type.get("AWS::ApiGatewayV2::Integration", [])
                    if str(i.properties.get("ApiId")) == api_id}
    for route in by_type.get("AWS::ApiGatewayV2::Route", []):
        rp = route.properties
        if str(rp.get("ApiId")) != api_id:
            continue
        target = str(rp.get("Target") or "")
        integration = integrations.get(target.removeprefix("integrations/"))
        ip = integration.properties if integration else {}
        key = str(rp.get("RouteKey", "$default"))
        method, _, path = key.partition(" ") if key != "$default" else ("ANY", "", "$default")
        auth_type = str(rp.get("AuthorizationType") or "NONE").upper()
        routes.append(_route(method, path, {
            "type": ip.get("IntegrationType"), "uri": ip.get("IntegrationUri"),
            "payloadFormatVersion": ip.get("PayloadFormatVersion"), "timeoutInMillis": ip.get("TimeoutInMillis")},
            "HTTP", warnings, authorizer=str(rp["AuthorizerId"]) if rp.get("AuthorizerId") else None,
            scopes=tuple(rp.get("AuthorizationScopes") or ()), iam=auth_type == "AWS_IAM"))
    if props.get("Target"):            # quick create: one integration for every request
        routes.append(_route("ANY", str(props.get("RouteKey") or "$default").partition(" ")[2] or "$default",
                             {"type": "AWS_PROXY", "uri": props["Target"], "payloadFormatVersion": "2.0"},
                             "HTTP", warnings))
    cors = _cors(props.get("CorsConfiguration")) or (_cors_openapi(body.get("x-amazon-apigateway-cors"))
                                                     if body else None)
    stages = [(str(s.properties.get("StageName")), s.properties.get("StageVariables"))
              for s in by_type.get("AWS::ApiGatewayV2::Stage", []) if str(s.properties.get("ApiId")) == api_id]
    if not stages:
        stages = [("$default", None)]
    authorizers = tuple(a for a in by_type.get("AWS::ApiGatewayV2::Authorizer", [])
                        if str(a.properties.get("ApiId")) == api_id)
    compiled = tuple(_compiled(r) for r in routes)
    base = _EXECUTE_API.format(api_id=api_id, region=region)
    return [Api(key=f"{stack}/{res.logical_id}/{stage}", kind="HTTP", stack=stack, logical_id=res.logical_id,
                api_id=api_id, stage=stage, routes=compiled,
                stage_variables={str(k): str(v) for k, v in variables.items()} if isinstance(variables, dict)
                else None, cors=cors, document=body, authorizer_resources=authorizers,
                deployed_url=base if stage == "$default" else f"{base}{stage}/", warnings=tuple(warnings))
            for stage, variables in stages]


# -- function URLs --------------------------------------------------------------------------------------------------

def _function_url(stack: str, res: DeployedResource) -> Api:
    props = res.properties
    target = str(props.get("TargetFunctionArn"))
    if props.get("Qualifier") and not target.endswith(f":{props['Qualifier']}"):
        target = f"{target}:{props['Qualifier']}"
    warnings = []
    iam = str(props.get("AuthType", "NONE")).upper() == "AWS_IAM"
    if iam:
        warnings.append(f"function URL {stack}/{res.logical_id}: AuthType AWS_IAM is not enforced locally "
                        "(every request is let in)")
    if str(props.get("InvokeMode", "BUFFERED")).upper() == "RESPONSE_STREAM":
        warnings.append(f"function URL {stack}/{res.logical_id}: InvokeMode RESPONSE_STREAM answers buffered locally")
    route = Route("ANY", "$default", Integration(target, "2.0", URL_TIMEOUT_MS), iam=iam)
    url = res.attributes.get("FunctionUrl")
    url_id = str(url).split("//", 1)[-1].split(".", 1)[0] if url else res.logical_id
    return Api(key=f"{stack}/{res.logical_id}/$default", kind="URL", stack=stack, logical_id=res.logical_id,
               api_id=url_id, stage="$default", routes=(_compiled(route),), cors=_cors(props.get("Cors")),
               deployed_url=str(url) if url else None, warnings=tuple(warnings))


# -- OpenAPI --------------------------------------------------------------------------------------------------------

def _openapi_routes(doc: dict[str, Any], kind: str, warnings: list[str]) -> Iterable[Route]:
    schemes = _security_schemes(doc)
    default_security = doc.get("security")
    for path, item in (doc.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for key, op in item.items():
            if not isinstance(op, dict):
                continue
            if key == _ANY:
                method = "ANY"
            elif key.lower() in _METHODS:
                method = key.upper()
            else:
                continue
            integration = op.get("x-amazon-apigateway-integration")
            route_path = "$default" if path == "$default" or op.get("isDefaultRoute") else path
            security = op.get("security", default_security)
            authorizer, scopes, iam, api_key = _security(security, schemes)
            if method == "OPTIONS" and isinstance(integration, dict) and \
                    str(integration.get("type", "")).lower() == "mock":
                yield Route(method, route_path, None, mock_cors=_mock_cors(integration))
                continue
            yield _route(method, route_path, integration if isinstance(integration, dict) else {}, kind, warnings,
                         authorizer=authorizer, scopes=scopes, iam=iam, api_key=api_key)


def _security_schemes(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    schemes = dict(doc.get("securityDefinitions") or {})
    schemes.update((doc.get("components") or {}).get("securitySchemes") or {})
    return {str(k): v for k, v in schemes.items() if isinstance(v, dict)}


def _security(security: Any, schemes: dict[str, dict[str, Any]]) -> tuple[str | None, tuple[str, ...], bool, bool]:
    """(authorizer name, scopes, AWS_IAM, API key) of an operation's ``security``."""
    authorizer: str | None = None
    scopes: tuple[str, ...] = ()
    iam = api_key = False
    for requirement in security or []:
        if not isinstance(requirement, dict):
            continue
        for name, wanted in requirement.items():
            scheme = schemes.get(str(name), {})
            if scheme.get("x-amazon-apigateway-authorizer") is not None:
                authorizer, scopes = str(name), tuple(str(s) for s in wanted or ())
            elif str(scheme.get("x-amazon-apigateway-authtype", "")).lower() in ("awssigv4", "aws_iam") or \
                    name == "AWS_IAM":
                iam = True
            elif scheme.get("type") == "apiKey":
                api_key = True
    return authorizer, scopes, iam, api_key


def _route(method: str, path: str, integration: dict[str, Any], kind: str, warnings: list[str], *,
           authorizer: str | None = None, scopes: tuple[str, ...] = (), iam: bool = False,
           api_key: bool = False) -> Route:
    method = "ANY" if method.upper() in ("ANY", "*") else method.upper()
    kind_of = str(integration.get("type") or integration.get("Type") or "").lower()
    uri = integration.get("uri")
    arn = _function_arn(uri)
    default_version = "1.0" if kind == "REST" else "2.0"
    version = str(integration.get("payloadFormatVersion") or default_version)
    default_timeout = REST_TIMEOUT_MS if kind == "REST" else HTTP_TIMEOUT_MS
    timeout = _int(integration.get("timeoutInMillis"), default_timeout)
    unsupported = None
    if kind_of not in ("aws_proxy", "") or arn is None:
        unsupported = (f"the {kind_of or 'missing'} integration of {method} {path} is not served locally "
                       "(only Lambda proxy integrations are)")
        warnings.append(unsupported)
    return Route(method, path, Integration(arn, version, timeout) if arn and not unsupported else None,
                 authorizer=authorizer, scopes=scopes, iam=iam, api_key_required=api_key, unsupported=unsupported)


def _function_arn(uri: Any) -> str | None:
    if not isinstance(uri, str):
        return None
    found = _URI_ARN.search(uri)
    if found:
        return found.group(1)
    if uri.startswith("arn:aws") and ":lambda:" in uri and ":function:" in uri:
        return uri
    return None


def _int(value: Any, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except (TypeError, ValueError):
        return default


# -- CORS -----------------------------------------------------------------------------------------------------------

def _cors(config: Any) -> Cors | None:
    """``CorsConfiguration`` (HTTP API) or a function URL's ``Cors``: the same fields."""
    if not isinstance(config, dict):
        return None
    return Cors(allow_origins=tuple(str(v) for v in config.get("AllowOrigins") or ()),
                allow_methods=tuple(str(v).upper() for v in config.get("AllowMethods") or ()),
                allow_headers=tuple(str(v).lower() for v in config.get("AllowHeaders") or ()),
                expose_headers=tuple(str(v) for v in config.get("ExposeHeaders") or ()),
                allow_credentials=bool(config.get("AllowCredentials")),
                max_age=_int(config.get("MaxAge"), 0) if config.get("MaxAge") is not None else None)


def _cors_openapi(config: Any) -> Cors | None:
    """``x-amazon-apigateway-cors`` (what SAM writes for an HttpApi's ``CorsConfiguration``)."""
    if not isinstance(config, dict):
        return None
    return _cors({"AllowOrigins": config.get("allowOrigins"), "AllowMethods": config.get("allowMethods"),
                  "AllowHeaders": config.get("allowHeaders"), "ExposeHeaders": config.get("exposeHeaders"),
                  "AllowCredentials": config.get("allowCredentials"), "MaxAge": config.get("maxAge")})


def _mock_cors(integration: dict[str, Any]) -> Cors:
    """The preflight answer SAM writes for a REST ``Cors``: a mock OPTIONS method whose response parameters hold the
    header values, quoted (``"'*'"``)."""
    params: dict[str, Any] = {}
    for response in (integration.get("responses") or {}).values():
        if isinstance(response, dict):
            params.update(response.get("responseParameters") or {})

    def value(header: str) -> str | None:
        raw = params.get(f"method.response.header.{header}")
        return str(raw).strip("'") if raw is not None else None

    def listed(header: str) -> tuple[str, ...]:
        raw = value(header)
        return tuple(v.strip() for v in raw.split(",") if v.strip()) if raw else ()

    age = value("Access-Control-Max-Age")
    return Cors(allow_origins=listed("Access-Control-Allow-Origin"),
                allow_methods=tuple(m.upper() for m in listed("Access-Control-Allow-Methods")),
                allow_headers=tuple(h.lower() for h in listed("Access-Control-Allow-Headers")),
                allow_credentials=(value("Access-Control-Allow-Credentials") or "").lower() == "true",
                max_age=_int(age, 0) if age else None)


# -- matching -------------------------------------------------------------------------------------------------------

def _compiled(route: Route) -> Route:
    """``route`` with its path's regular expression and rank (per segment: literal 0, ``{param}`` 1, greedy 2)."""
    if route.path == "$default":
        return Route(**{**_fields(route), "pattern": None, "rank": (9,)})
    parts, rank = [], []
    for segment in route.path.strip("/").split("/") if route.path.strip("/") else []:
        if segment.startswith("{") and segment.endswith("+}"):
            parts.append(r"/(.+)")
            rank.append(2)
        elif segment.startswith("{") and segment.endswith("}"):
            parts.append(r"/([^/]+)")
            rank.append(1)
        else:
            parts.append("/" + re.escape(segment))
            rank.append(0)
    regex = "".join(parts) or "/"
    return Route(**{**_fields(route), "pattern": re.compile(f"{regex}/?" if regex != "/" else "/"),
                    "rank": tuple(rank)})


def _fields(route: Route) -> dict[str, Any]:
    return {name: getattr(route, name) for name in route.__dataclass_fields__}


def parameter_names(path: str) -> list[str]:
    return [s[1:-1].removesuffix("+") for s in path.strip("/").split("/") if s.startswith("{") and s.endswith("}")]


class RouteTable:
    """An API's routes, ready to match; memoises (method, path) -> route for the paths clients repeat."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.routes = sorted((r for r in api.routes if r.pattern is not None),
                             key=lambda r: (r.rank, r.method == "ANY"))
        self.default = next((r for r in api.routes if r.path == "$default"), None)
        self.names = {r.path: parameter_names(r.path) for r in self.routes}
        self._cache: dict[tuple[str, str], tuple[Route, dict[str, str]] | None] = {}

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route and its path parameters (decoded) for ``method`` ``path`` (raw, as sent), or None."""
        key = (method, path)
        cached = self._cache.get(key)
        if cached is not None or key in self._cache:
            return cached
        found = self._match(method, path)
        if len(self._cache) < 4096:
            self._cache[key] = found
        return found

    def _match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        best: tuple[Route, re.Match[str]] | None = None
        for route in self.routes:
            if route.method != method and route.method != "ANY":
                continue
            pattern = route.pattern
            assert pattern is not None
            found = pattern.fullmatch(path)
            if found is None:
                continue
            if best is None or (route.rank, route.method == "ANY") < (best[0].rank, best[0].method == "ANY"):
                best = (route, found)
        if best is None:
            if self.default is not None:
                return self.default, {}
            return None
        route, found = best
        values = [unquote(v) for v in found.groups()]
        return route, dict(zip(self.names[route.path], values, strict=False))

    def preflight(self, path: str) -> Route | None:
        """A REST API's mock OPTIONS method on ``path`` (SAM's ``Cors``), if it has one."""
        for route in self.routes:
            if route.method == "OPTIONS" and route.mock_cors is not None and route.pattern is not None and \
                    route.pattern.fullmatch(path):
                return route
        return None
