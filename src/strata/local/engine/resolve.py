"""Intrinsics over the stack template with deployed resource attributes: the stack's evaluation context
(``strata.template.context.context_for``) with a ``resolve_resource`` hook over what the engine deployed. A resource
that is being created or replaced is not known yet: references to it stay ``Unresolved`` (plan shows them as "known
after apply"); apply resolves each resource after everything it depends on is done, so by then they are known.

Reads only; changes nothing."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from strata.errors import StrataError
from strata.template.context import context_for
from strata.template.intrinsics import Unresolved, contains_unresolved, evaluate
from strata.template.parameters import secret_values


class StackResolver:
    """Evaluates template values for one stack; ``known`` maps logical id -> attributes (``Ref`` included)."""

    def __init__(self, template: dict[str, Any], parameters: Mapping[str, Any], *, region: str, account_id: str,
                 stack_name: str) -> None:
        self.known: dict[str, dict[str, Any]] = {}
        self.emulated: dict[str, bool] = {}
        self.secrets = secret_values(template, parameters)   # NoEcho values: masked in every reason and event
        self.ctx = context_for(template, parameters, region=region, account_id=account_id, stack_name=stack_name,
                               resolve_resource=self._resource)

    def condition(self, name: str | None) -> bool:
        if name is None:
            return True
        if name not in self.ctx.conditions:
            raise StrataError(f"unknown condition {name!r}")
        value = self.ctx.conditions[name]
        if isinstance(value, Unresolved):
            raise StrataError(f"condition {name} cannot be decided locally ({value.expression})")
        return bool(value)

    def set_known(self, logical_id: str, attributes: dict[str, Any], emulated: bool = True) -> None:
        self.known[logical_id] = attributes
        self.emulated[logical_id] = emulated

    def set_pending(self, logical_id: str) -> None:
        self.known.pop(logical_id, None)

    def resolve(self, value: Any, path: tuple = ()) -> Any:
        return evaluate(value, self.ctx, path)

    def _resource(self, name: str, attribute: str | None) -> Any:
        attrs = self.known.get(name)
        if attrs is None:
            expression = {"Ref": name} if attribute is None else {"Fn::GetAtt": [name, attribute]}
            return Unresolved(expression, frozenset((name,)))
        if attribute is None:
            return attrs["Ref"]
        if attribute in attrs:
            return attrs[attribute]
        if not self.emulated.get(name, True):
            from strata.local.engine.handlers.not_emulated import synthetic_attribute

            return synthetic_attribute(str(attrs["Ref"]), attribute)
        known = ", ".join(sorted(k for k in attrs if k != "Ref")) or "none"
        raise StrataError(f"Fn::GetAtt {name}.{attribute}: {name} has no attribute {attribute} (it has: {known})")


__all__ = ["StackResolver", "Unresolved", "contains_unresolved"]
