"""Where the gateway's request pipeline meets authorizers (``strata.local.gateway.authorizers``, built separately):
which spec guards a route, the request an authorizer sees, and the default that answers 500 while authorizers are
not there, so a guarded route never passes silently."""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from strata.local.gateway.model import Api, Route

NOT_SUPPORTED = "authorizer not supported yet"


@dataclass(frozen=True)
class Outcome:
    """An authorizer's verdict: 200 allowed (``context`` goes into ``requestContext.authorizer``), 401, 403 or 500."""

    status: int
    context: dict[str, Any] = field(default_factory=dict)
    message: str = ""


class UnsupportedAuthorizers:
    """The stand-in: every guarded route answers 500 saying authorizers are not supported yet."""

    async def check(self, spec: Any, request: Any) -> Outcome:
        return Outcome(500, {}, NOT_SUPPORTED)


def _module() -> Any:
    try:
        return importlib.import_module("strata.local.gateway.authorizers")
    except ImportError:
        return None


def default_authorizers(invoke: Any = None) -> Any:
    """The authorizers' ``Authorizers`` when that module exists, else ``UnsupportedAuthorizers``. ``invoke`` is the
    gateway's ``app.Invoker``: ``await invoke.invoke(function_arn, payload)`` runs a Lambda authorizer."""
    module = _module()
    if module is None or not hasattr(module, "Authorizers"):
        return UnsupportedAuthorizers()
    try:
        return module.Authorizers(invoke=invoke)
    except TypeError:
        return module.Authorizers()


def spec_for(api: Api, route: Route) -> Any:
    """The spec of ``route``'s authorizer (by name, from the API's OpenAPI or Authorizer resources); the name
    itself when the authorizers module cannot say."""
    module = _module()
    if module is None:
        return route.authorizer
    specs: dict[str, Any] = {}
    kind = "REST" if api.kind == "REST" else "HTTP"
    if api.document and hasattr(module, "specs_from_openapi"):
        specs.update(module.specs_from_openapi(api.document, kind))
    if api.authorizer_resources and hasattr(module, "specs_from_resources"):
        specs.update(module.specs_from_resources(api.authorizer_resources))
    return specs.get(str(route.authorizer), route.authorizer)


def auth_request(**fields: Any) -> Any:
    """The authorizers' ``AuthRequest`` of ``fields`` (the request as the authorizer sees it), or the fields."""
    module = _module()
    cls = getattr(module, "AuthRequest", None) if module is not None else None
    if cls is None:
        return fields
    names = getattr(cls, "__dataclass_fields__", None)
    return cls(**({k: v for k, v in fields.items() if k in names} if names else fields))
