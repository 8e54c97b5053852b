"""A local ``--env-vars`` overlay as the Lambda service applies it (``strata.local.env_vars`` reads the file and
matches it to functions; this is the resolved value it hands ``LambdaService(env_overrides=...)``). Applied to the
snapshot a worker starts from, never to a stored version."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class EnvOverrides:
    """The overrides the Lambda service applies to the snapshots it freezes, by function name; ``default`` (the
    file's ``Parameters``) for a function of no stack known when the file was matched (made through the API, or
    deployed since)."""

    source: str
    by_name: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    default: Mapping[str, str] = field(default_factory=dict)

    def apply(self, function_name: str, variables: Mapping[str, str]) -> tuple[dict[str, str], tuple[str, ...]]:
        """(the environment with the overrides of ``function_name`` applied, the names overridden). Only declared
        variables are overridden (``variables`` is what the version declares)."""
        mine = self.by_name.get(function_name, self.default)
        if not mine:
            return dict(variables), ()
        names = tuple(sorted(k for k in mine if k in variables))
        return {**variables, **{k: mine[k] for k in names}}, names
