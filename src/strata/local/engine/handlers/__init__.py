"""Resource handlers, one module per type, in a plain dict registry that fails loudly on a miss.

The registry names each handler as ``module:Class`` and imports it on first use, so a plan that changes nothing
imports no handler. Types missing from ``HANDLERS`` are not emulated: ``is_emulated`` says so and the
``not_emulated`` handler records them."""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from strata.errors import StrataError

if TYPE_CHECKING:
    from strata.local.engine.handlers.base import Handler

HANDLERS: dict[str, str] = {
    "AWS::Lambda::Function": "function:FunctionHandler",
    "AWS::Lambda::Version": "version:VersionHandler",
    "AWS::Lambda::Alias": "alias:AliasHandler",
    "AWS::Lambda::LayerVersion": "layer_version:LayerVersionHandler",
    "AWS::Lambda::Permission": "permission:PermissionHandler",
    "AWS::Lambda::EventInvokeConfig": "event_invoke_config:EventInvokeConfigHandler",
    "AWS::Lambda::Url": "url:UrlHandler",
    "AWS::IAM::Role": "iam_role:RoleHandler",
    # recorded; the traffic shifter (strata.local.shift) plays CodeDeploy's part for aliases under their UpdatePolicy
    "AWS::CodeDeploy::Application": "codedeploy:ApplicationHandler",
    "AWS::CodeDeploy::DeploymentGroup": "codedeploy:DeploymentGroupHandler",
    "AWS::CodeDeploy::DeploymentConfig": "codedeploy:DeploymentConfigHandler",
}
NOT_EMULATED = "not_emulated:NotEmulatedHandler"
_loaded: dict[str, Handler] = {}


def is_emulated(type_name: str) -> bool:
    return type_name in HANDLERS


def _load(target: str) -> Handler:
    handler = _loaded.get(target)
    if handler is None:
        module_name, cls = target.split(":")
        module = importlib.import_module(f"strata.local.engine.handlers.{module_name}")
        handler = _loaded[target] = getattr(module, cls)()
    return handler


def handler_for(type_name: str, *, emulated: bool = True) -> Handler:
    """The handler of an emulated type (a miss is an error), or the recorder for one kept as not emulated."""
    if not emulated:
        return _load(NOT_EMULATED)
    try:
        target = HANDLERS[type_name]
    except KeyError:
        raise StrataError(f"no handler for resource type {type_name}",
                          hint=f"emulated types: {', '.join(sorted(HANDLERS))}") from None
    return _load(target)
