"""``strata delete``: delete a stack's resources from the local Lambda service (Retain keeps them)."""
from __future__ import annotations

import click

from strata.cli.options import echo_json, output_option, template_option


@click.command(help="Delete a stack and its resources (resources with DeletionPolicy Retain are kept).")
@template_option
@click.option("--stack-name", default=None,
              help="Stack name (default: samconfig.toml, else the template folder's name).")
@click.option("--wait", is_flag=True, help="If a deploy of the stack is running, wait for it.")
@output_option
def delete(template_file: str, stack_name: str | None, wait: bool, output: str) -> None:
    from strata.deploy.settings import resolve_stack
    from strata.local.deploy import delete_local

    stack = resolve_stack(template_file=template_file, stack_name=stack_name)
    result = delete_local(stack.home, stack.name, wait=wait, progress=click.echo if output == "text" else None)
    if output == "json":
        echo_json(result)
    else:
        kept = f" (kept: {', '.join(result['Retained'])})" if result["Retained"] else ""
        click.echo(f"Stack {stack.name} deleted{kept}.")
