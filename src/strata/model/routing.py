"""Alias routing as one value: the version an alias serves, plus the extra versions it sends a share of calls to.

Read at the edge from either shape and rendered back to either, so nothing in the middle handles API-cased dicts:
- Lambda's API (GetAlias / ListAliases / UpdateAlias): ``FunctionVersion`` and
  ``RoutingConfig.AdditionalVersionWeights`` as a map ``{version: weight}``;
- CloudFormation's ``AWS::Lambda::Alias`` properties: ``FunctionVersion`` and
  ``RoutingConfig.AdditionalVersionWeights`` as a list ``[{FunctionVersion, FunctionWeight}]``.
Lambda allows at most one extra version (the local service enforces that rule, as Lambda does); the value itself
holds what it is given, so a template with more still reads, and the target refuses it with Lambda's message.
Weights are kept in version order, so two routings are equal whatever order their source listed them in.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from strata.model.naming import LATEST, is_version_number


@dataclass(frozen=True)
class AliasRouting:
    """``primary``: the version that takes the rest of the traffic (``""`` when none is named);
    ``weights``: (extra version, share of calls in [0, 1]) pairs, sorted by version, one per version (the last
    given wins, as in a map)."""

    primary: str
    weights: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", tuple(sorted({str(v): float(w) for v, w in self.weights}.items())))

    # ---- reading --------------------------------------------------------------------------------------------------
    @classmethod
    def of(cls, primary: Any, weights: Mapping[Any, Any] | Iterable[tuple[Any, Any]] | None = None) -> AliasRouting:
        """From a primary version and a map (or pairs) of extra version -> weight; a later duplicate wins."""
        pairs = weights.items() if isinstance(weights, Mapping) else (weights or ())
        return cls("" if primary is None else str(primary), tuple(pairs))

    @classmethod
    def from_api(cls, alias: Mapping[str, Any]) -> AliasRouting:
        """From Lambda's AliasConfiguration (GetAlias, an item of ListAliases) or UpdateAlias's arguments."""
        return cls.of(alias.get("FunctionVersion"), _weights_of(alias.get("RoutingConfig")))

    @classmethod
    def from_template(cls, props: Mapping[str, Any], *,
                      unknown: Callable[[Any], bool] | None = None) -> AliasRouting:
        """From an ``AWS::Lambda::Alias``'s resolved properties (the API's map form is read too). A version for which
        ``unknown`` says yes (verify: a value not known until deploy) is left out: as primary it reads as ``""``."""
        primary = props.get("FunctionVersion")
        pairs = _weights_of(props.get("RoutingConfig"))
        if unknown is not None:
            primary = None if unknown(primary) else primary
            pairs = [(v, w) for v, w in (pairs.items() if isinstance(pairs, Mapping) else pairs) if not unknown(v)]
        return cls.of(primary, pairs)

    # ---- rendering ------------------------------------------------------------------------------------------------
    def to_api(self) -> dict[str, Any]:
        """CreateAlias / UpdateAlias members; ``RoutingConfig`` always present (an empty map removes routing)."""
        return {"FunctionVersion": self.primary, "RoutingConfig": {"AdditionalVersionWeights": self.weight_map()}}

    def to_template(self) -> dict[str, Any]:
        """``AWS::Lambda::Alias`` properties; ``RoutingConfig`` always present (an empty list: no routing)."""
        return {"FunctionVersion": self.primary, "RoutingConfig": {"AdditionalVersionWeights": [
            {"FunctionVersion": v, "FunctionWeight": w} for v, w in self.weights]}}

    def weight_map(self) -> dict[str, float]:
        """Extra version -> weight (the API's map; also what reports and the alias history record)."""
        return dict(self.weights)

    def versions(self) -> list[str]:
        """Every version the alias sends calls to: the primary first, then the extra ones."""
        return [self.primary, *(v for v, _ in self.weights)]

    def words(self) -> str:
        """``all traffic to version 3`` or ``90% to version 3, 10% to version 4``."""
        if not self.weights:
            return f"all traffic to version {self.primary}"
        extra = ", ".join(f"{w:.0%} to version {v}" for v, w in self.weights)
        return f"{1 - sum(w for _, w in self.weights):.0%} to version {self.primary}, {extra}"


def versions_selected(qualifier: str | None, alias_routing: Callable[[str], AliasRouting]) -> list[str] | None:
    """The versions a qualifier selects (what ``strata logs NAME[:QUALIFIER]`` shows, on either target): None for
    every version when there is none, ``[N]`` or ``["$LATEST"]`` for a version, else what the alias routes to
    (``alias_routing(name)`` reads it from the target)."""
    if qualifier is None:
        return None
    if qualifier == LATEST or is_version_number(qualifier):
        return [qualifier]
    return alias_routing(qualifier).versions()


def _weights_of(config: Any) -> Mapping[Any, Any] | list[tuple[Any, Any]]:
    """``RoutingConfig`` in either shape -> a map or pairs of version -> weight."""
    weights = (config.get("AdditionalVersionWeights") or []) if isinstance(config, Mapping) else []
    if isinstance(weights, Mapping):
        return weights
    return [(w["FunctionVersion"], w["FunctionWeight"]) for w in weights]


__all__ = ["AliasRouting", "versions_selected"]
