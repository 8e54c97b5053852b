"""``strata logs`` on the local target: the stored invocation logs of a function (``strata.local.runtime.logs``).

No qualifier: every version that has logs ($LATEST first); ``:N`` or ``:$LATEST``: that version; ``:ALIAS``: the
versions the alias routes to (read from the Lambda service). ``tail`` keeps printing new log text (and, unqualified,
new versions' text) until interrupted. Reads only.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from strata.model.routing import AliasRouting, versions_selected

POLL_SECONDS = 0.5


def show_logs(home: Path, target: str, *, emit: Callable[[str], None], note: Callable[[str], None],
              tail: bool = False) -> None:
    """The log text of ``target`` (a function name or ARN, ``[:QUALIFIER]``) to ``emit``; headers and "no logs" to
    ``note``."""
    from strata.local.runtime.logs import LogStore

    name, versions = _versions(home, target)
    store = LogStore(home)
    offsets: dict[str, int] = {}
    chosen = versions if versions is not None else store.versions(name)
    if not chosen and not tail:
        _require_function(home, name)
        note(f"no logs yet for {name}")
        return
    for version in chosen:
        text, offsets[version] = store.read_from(name, version, 0)
        if len(chosen) > 1 and text:
            note(f"== {name}:{version} ==")
        emit(text)
    if tail:
        follow(store, name, versions, offsets, emit=emit)


def follow(store: Any, name: str, versions: list[str] | None, offsets: dict[str, int], *,
           emit: Callable[[str], None], interval: float = POLL_SECONDS, rounds: int | None = None) -> None:
    """Poll for new text (and, unqualified, new versions); ``rounds`` bounds the loop for tests."""
    done = 0
    while rounds is None or done < rounds:
        for version in versions if versions is not None else store.versions(name):
            text, offsets[version] = store.read_from(name, version, offsets.get(version, 0))
            if text:
                emit(text)
        done += 1
        time.sleep(interval)


def _versions(home: Path, target: str) -> tuple[str, list[str] | None]:
    """(function name, versions to show or None for all); an alias is resolved through the service."""
    from strata.local.lambda_service.names import parse_function_name

    ref = parse_function_name(target, namespaced=True)

    def alias_routing(alias_name: str) -> AliasRouting:
        from strata.local.lambda_service.service import LambdaService

        alias = LambdaService(home).get_alias(function_name=ref.name, name=alias_name)
        weights = alias.routing_config.additional_version_weights if alias.routing_config else None
        return AliasRouting.of(alias.function_version, weights)

    return ref.name, versions_selected(ref.qualifier, alias_routing)


def _require_function(home: Path, name: str) -> None:
    from strata.local.lambda_service.service import LambdaService

    LambdaService(home).get_function_configuration(function_name=name)
