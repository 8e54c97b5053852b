"""``strata logs NAME[:QUALIFIER] [--tail]``: print the stored invocation logs of a function
(``strata.local.logs``), or with ``--target aws`` its CloudWatch Logs from ``--since`` ago (``strata.aws.logs``;
``--stack-name`` then names a CloudFormation stack). Log text goes to stdout, notes to stderr."""
from __future__ import annotations

import click

from strata.cli.targets import default_stack, stack_name_option


def _emit(text: str) -> None:
    click.echo(text, nl=False)


def _note(text: str) -> None:
    click.echo(text, err=True)


@click.command(help="Show a function's invocation logs (NAME, NAME:VERSION or NAME:ALIAS), or the local API "
                    "gateway's access log (`gateway`, or an API's logical id).")
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
        from strata.aws.logs import show_logs as show_aws

        show_aws(target, emit=_emit, note=_note, tail=tail, stack_name=stack_name, since=since, region=region,
                 profile=profile, endpoint_url=endpoint_url, default_stack=default_stack("aws"))
        return 0
    from strata.local.engine.describe import resolve_target
    from strata.local.logs import show_logs
    from strata.paths import state_home

    home = state_home()
    from strata.local.gateway import access_log

    prefix = access_log.api_filter(home, target, stack_name or default_stack())
    if prefix is not None:          # `gateway` or an API's logical id: the gateway's access log
        access_log.show(home, prefix, emit=_emit, note=_note, tail=tail)
        return 0
    show_logs(home, resolve_target(home, target, stack_name, default_stack()), emit=_emit, note=_note, tail=tail)
    return 0
