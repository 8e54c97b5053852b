"""``strata describe``: a stack's resources and physical ids, each function's versions and aliases, outputs."""
from __future__ import annotations

import click

from strata.cli.options import echo_json, output_option, template_option


@click.command(help="Show a deployed stack: resources, versions, aliases and outputs.")
@template_option
@click.option("--stack-name", default=None,
              help="Stack name (default: samconfig.toml, else the template folder's name).")
@output_option
def describe(template_file: str, stack_name: str | None, output: str) -> None:
    from strata.deploy.settings import resolve_stack
    from strata.local.engine.describe import describe as read
    from strata.local.engine.render import describe_text

    stack = resolve_stack(template_file=template_file, stack_name=stack_name)
    info = read(stack.home, stack.name)
    if output == "json":
        echo_json(info)
    else:
        click.echo(describe_text(info))
