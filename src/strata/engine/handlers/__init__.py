"""Resource handlers, one module per type, in a plain dict registry that fails loudly on a miss.

Types missing from ``HANDLERS`` are not emulated: ``is_emulated`` says so and ``NOT_EMULATED`` records them."""
from __future__ import annotations

from strata.engine.handlers.alias import AliasHandler
from strata.engine.handlers.base import Handler
from strata.engine.handlers.event_invoke_config import EventInvokeConfigHandler
from strata.engine.handlers.function import FunctionHandler
from strata.engine.handlers.iam_role import RoleHandler
from strata.engine.handlers.layer_version import LayerVersionHandler
from strata.engine.handlers.not_emulated import NotEmulatedHandler
from strata.engine.handlers.permission import PermissionHandler
from strata.engine.handlers.url import UrlHandler
from strata.engine.handlers.version import VersionHandler
from strata.errors import StrataError

HANDLERS: dict[str, Handler] = {
    "AWS::Lambda::Function": FunctionHandler(),
    "AWS::Lambda::Version": VersionHandler(),
    "AWS::Lambda::Alias": AliasHandler(),
    "AWS::Lambda::LayerVersion": LayerVersionHandler(),
    "AWS::Lambda::Permission": PermissionHandler(),
    "AWS::Lambda::EventInvokeConfig": EventInvokeConfigHandler(),
    "AWS::Lambda::Url": UrlHandler(),
    "AWS::IAM::Role": RoleHandler(),
}
NOT_EMULATED = NotEmulatedHandler()


def is_emulated(type_name: str) -> bool:
    return type_name in HANDLERS


def handler_for(type_name: str, *, emulated: bool = True) -> Handler:
    """The handler of an emulated type (a miss is an error), or the recorder for one kept as not emulated."""
    if not emulated:
        return NOT_EMULATED
    try:
        return HANDLERS[type_name]
    except KeyError:
        raise StrataError(f"no handler for resource type {type_name}",
                          hint=f"emulated types: {', '.join(sorted(HANDLERS))}") from None
