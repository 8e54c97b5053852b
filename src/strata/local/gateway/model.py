"""What the gateway serves, as plain values read from the deployed state (``routes.load``): APIs with their stage,
routes, CORS and binary media types, and function URLs (served as an API with one ``$default`` route)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

ApiKind = Literal["REST", "HTTP", "URL"]

REST_TIMEOUT_MS = 29_000      # API Gateway REST integrations: 29 s unless the integration says less
HTTP_TIMEOUT_MS = 30_000      # HTTP APIs: 30 s, settable by TimeoutInMillis
URL_TIMEOUT_MS = 900_000      # function URLs: the function's own timeout (Lambda's 15 min cap)
REQUEST_LIMIT = 10 * 1024 * 1024     # API Gateway's request payload quota
RESPONSE_LIMIT = 6 * 1024 * 1024     # Lambda's synchronous response payload quota


@dataclass(frozen=True)
class Cors:
    """CORS as the gateway applies it (HTTP API ``CorsConfiguration``, function URL ``Cors``, the REST preflight SAM
    writes as a mock OPTIONS method)."""

    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    allow_credentials: bool = False
    max_age: int | None = None


@dataclass(frozen=True)
class Integration:
    """A Lambda proxy integration: the function ARN as deployed (alias or version qualified, or not)."""

    function_arn: str
    payload_version: str = "1.0"
    timeout_ms: int = REST_TIMEOUT_MS

    @property
    def function_name(self) -> str:
        """``name`` or ``name:qualifier`` (what Invoke's FunctionName takes)."""
        parts = self.function_arn.split(":")
        if len(parts) >= 7 and parts[0] == "arn":
            return ":".join(parts[6:8]) if len(parts) > 7 else parts[6]
        return self.function_arn


@dataclass(frozen=True)
class Route:
    """One method on one path (REST resource + method, HTTP API route key). ``integration`` None: a method the
    gateway cannot run locally (a non-proxy integration), answered 500 saying so. ``authorizer`` names the
    authorizer that guards it (OpenAPI ``security`` or Route ``AuthorizerId``), with its scopes."""

    method: str                 # GET, POST, ..., or ANY
    path: str                   # the resource path / route path, "/items/{id}", "/{proxy+}"; "$default"
    integration: Integration | None
    authorizer: str | None = None
    scopes: tuple[str, ...] = ()
    api_key_required: bool = False
    iam: bool = False
    unsupported: str | None = None     # why the integration cannot run locally
    mock_cors: Cors | None = None      # a REST OPTIONS mock method's CORS answer
    pattern: re.Pattern[str] | None = field(default=None, compare=False)
    rank: tuple[int, ...] = field(default=(), compare=False)

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"


@dataclass(frozen=True)
class Api:
    """One served API stage (or function URL): its own local port."""

    key: str                    # stable name: "<stack>/<logical id>/<stage>" (the port registry's key)
    kind: ApiKind
    stack: str
    logical_id: str
    api_id: str                 # the physical id (what execute-api URLs name)
    stage: str
    routes: tuple[Route, ...]
    stage_variables: dict[str, str] | None = None
    binary_media_types: tuple[str, ...] = ()
    cors: Cors | None = None
    document: dict[str, Any] | None = None     # the OpenAPI body (authorizers read their specs from it)
    authorizer_resources: tuple[Any, ...] = ()  # ApiGateway(V2)::Authorizer resources of the API
    deployed_url: str | None = None             # the URL AWS would serve it on (outputs naming it show the local one)
    warnings: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        kind = {"REST": "REST API", "HTTP": "HTTP API", "URL": "function URL"}[self.kind]
        stage = f" stage {self.stage}" if self.kind == "REST" or self.stage != "$default" else ""
        return f"{kind} {self.stack}/{self.logical_id}{stage}"
