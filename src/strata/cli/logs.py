"""``strata logs NAME[:QUALIFIER] [--tail]``: print the stored invocation logs of a function.

No qualifier: every version that has logs ($LATEST first); ``:N`` or ``:$LATEST``: that version; ``:ALIAS``: the
versions the alias routes to. ``--tail`` keeps printing new log text until interrupted. ``--target aws``: CloudWatch Logs (``strata.aws.logs``),
from ``--since`` ago; ``--stack-name`` then names a CloudFormation stack.
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
@click.option("--target", "where", type=click.Choice(["local", "aws"]), default="local", show_default=True,
              help="local: the stored invocation logs; aws: CloudWatch Logs (FilterLogEvents).")
@click.option("--since", default="10m", show_default=True, help="aws target: how far back to start (30s, 10m, 2h, 1d).")
@click.option("--region", default=None, help="aws target: region.")
@click.option("--profile", default=None, help="aws target: named profile.")
@click.option("--endpoint-url", default=None, help="aws target: send the calls to this endpoint.")
def logs(target: str, tail: bool, stack_name: str | None, where: str = "local", since: str = "10m",
         region: str | None = None, profile: str | None = None, endpoint_url: str | None = None) -> int:
    if where == "aws":
        return logs_aws(target, tail, stack_name, since, region, profile, endpoint_url)
    from strata.paths import state_home
    from strata.local.runtime.logs import LogStore

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
    from strata.local.lambda_service.names import LATEST, is_version_number, parse_function_name

    ref = parse_function_name(target, namespaced=True)
    if ref.qualifier is None:
        return ref.name, None
    if ref.qualifier == LATEST or is_version_number(ref.qualifier):
        return ref.name, [ref.qualifier]
    from strata.local.lambda_service.service import LambdaService

    alias = LambdaService(home).get_alias(function_name=ref.name, name=ref.qualifier)
    extra = list((alias.routing_config.additional_version_weights or {}) if alias.routing_config else {})
    return ref.name, [alias.function_version, *extra]


def _require_function(home, name: str) -> None:
    from strata.local.lambda_service.service import LambdaService

    LambdaService(home).get_function_configuration(function_name=name)


def logs_aws(target: str, tail: bool, stack_name: str | None, since: str, region: str | None, profile: str | None,
             endpoint_url: str | None, *, session=None, rounds: int | None = None,
             sleep=time.sleep, now=time.time) -> int:
    """CloudWatch Logs of ``target`` (NAME[:QUALIFIER], or LOGICAL_ID[:QUALIFIER] with ``--stack-name``)."""
    from strata.aws.logs import AwsLogs, parse_since, physical_function, versions_of
    from strata.aws.session import AwsSession

    start_ms = int((now() - parse_since(since)) * 1000)
    session = session or AwsSession(region, profile, endpoint_url)
    name, _, qualifier = target.partition(":")
    if stack_name:
        name = physical_function(session, stack_name, name)
    reader = AwsLogs(session, name, versions_of(session, name, qualifier or None))

    def emit(event) -> None:
        click.echo(event.message if event.message.endswith("\n") else event.message + "\n", nl=False)

    events = reader.fetch(start_ms)
    if not events and not tail:
        click.echo(f"no logs for {name} in the last {since}", err=True)
    for event in events:
        emit(event)
    if tail:
        reader.follow(max(start_ms, reader.last), emit, rounds=rounds, sleep=sleep)
    return 0
