"""``strata logs NAME[:QUALIFIER] [--tail]``: print the stored invocation logs of a function.

No qualifier: every version that has logs ($LATEST first); ``:N`` or ``:$LATEST``: that version; ``:ALIAS``: the
versions the alias routes to. ``--tail`` keeps printing new log text until interrupted.
"""
from __future__ import annotations

import time

import click

from strata.cli.targets import resolve_target, stack_name_option

POLL_SECONDS = 0.5


@click.command(help="Show a function's invocation logs (NAME, NAME:VERSION or NAME:ALIAS).")
@click.argument("target")
@click.option("--tail", is_flag=True, help="Keep printing new log text until interrupted (Ctrl-C).")
@stack_name_option
def logs(target: str, tail: bool, stack_name: str | None) -> int:
    from strata.paths import state_home
    from strata.runtime.logs import LogStore

    home = state_home()
    target = resolve_target(home, target, stack_name)
    name, versions = _versions(home, target)
    store = LogStore(home)
    offsets: dict[str, int] = {}
    chosen = versions if versions is not None else store.versions(name)
    if not chosen and not tail:
        _require_function(home, name)
        click.echo(f"no logs yet for {name}", err=True)
        return 0
    for version in chosen:
        text, offsets[version] = store.read_from(name, version, 0)
        if len(chosen) > 1 and text:
            click.echo(f"== {name}:{version} ==", err=True)
        click.echo(text, nl=False)
    if tail:
        follow(store, name, versions, offsets)
    return 0


def follow(store, name: str, versions: list[str] | None, offsets: dict[str, int], *,
           interval: float = POLL_SECONDS, rounds: int | None = None) -> None:
    """Poll for new text (and, unqualified, new versions); ``rounds`` bounds the loop for tests."""
    done = 0
    while rounds is None or done < rounds:
        for version in versions if versions is not None else store.versions(name):
            text, offsets[version] = store.read_from(name, version, offsets.get(version, 0))
            if text:
                click.echo(text, nl=False)
        done += 1
        time.sleep(interval)


def _versions(home, target: str) -> tuple[str, list[str] | None]:
    """(function name, versions to show or None for all); an alias is resolved through the service."""
    from strata.lambda_.names import LATEST, is_version_number, parse_function_name

    ref = parse_function_name(target, namespaced=True)
    if ref.qualifier is None:
        return ref.name, None
    if ref.qualifier == LATEST or is_version_number(ref.qualifier):
        return ref.name, [ref.qualifier]
    from strata.lambda_.service import LambdaService

    alias = LambdaService(home).get_alias(function_name=ref.name, name=ref.qualifier)
    extra = list((alias.routing_config.additional_version_weights or {}) if alias.routing_config else {})
    return ref.name, [alias.function_version, *extra]


def _require_function(home, name: str) -> None:
    from strata.lambda_.service import LambdaService

    LambdaService(home).get_function_configuration(function_name=name)
