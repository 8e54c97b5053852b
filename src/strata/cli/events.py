"""``strata events``: a stack's events, newest first (each resource step of every deploy, with failure reasons)."""
from __future__ import annotations

import time

import click

from strata.cli.options import echo_json, output_option, template_option


@click.command(help="Show a stack's deploy events, newest first.")
@template_option
@click.option("--stack-name", default=None,
              help="Stack name (default: samconfig.toml, else the template folder's name).")
@click.option("--max-items", type=int, default=None, help="Show at most this many events.")
@output_option
def events(template_file: str, stack_name: str | None, max_items: int | None, output: str) -> None:
    from strata.deploy.settings import resolve_stack
    from strata.local.engine.describe import events as read

    stack = resolve_stack(template_file=template_file, stack_name=stack_name)
    found = read(stack.home, stack.name, max_items)
    if output == "json":
        echo_json(found)
        return
    for e in found:
        when = time.strftime("%H:%M:%S", time.localtime(e["Timestamp"]))
        reason = f"  {e['ResourceStatusReason']}" if e["ResourceStatusReason"] else ""
        click.echo(f"{when}  {e['ResourceStatus']:<24} {e['LogicalResourceId']:<28} {e['ResourceType']}{reason}")
