"""``strata stacks``: the stacks deployed to this state home."""
from __future__ import annotations

import time

import click

from strata.cli.options import echo_json, output_option, template_option


@click.command(help="List the stacks deployed locally.")
@template_option
@output_option
def stacks(template_file: str, output: str) -> None:
    from strata.local.engine.describe import stacks as read
    from strata.paths import state_home

    found = read(state_home(template_file))
    if output == "json":
        echo_json(found)
        return
    if not found:
        click.echo("No stacks.")
        return
    width = max(len(s["StackName"]) for s in found)
    for s in found:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(s["LastUpdated"]))
        click.echo(f"{s['StackName']:<{width}}  {s['StackStatus']:<26} {s['Resources']:>4} resources  {when}")
