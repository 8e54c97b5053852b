"""``strata delete``: delete a stack's resources from the local Lambda service (Retain keeps them)."""
from __future__ import annotations

import click

from strata.cli.options import echo_json, output_option, template_option


@click.command(help="Delete a stack and its resources (resources with DeletionPolicy Retain are kept).")
@template_option
@click.option("--stack-name", default=None, help="Stack name (default: the template folder's name).")
@click.option("--wait", is_flag=True, help="If a deploy of the stack is running, wait for it.")
@output_option
def delete(template_file: str, stack_name: str | None, wait: bool, output: str) -> None:
    from strata.cli.deploy import default_stack_name, home_for
    from strata.local.engine.api import Engine
    from strata.local.engine.render import progress_line

    stack_name = stack_name or default_stack_name(template_file)
    engine = Engine(home_for(template_file),
                    progress=(lambda *e: click.echo(progress_line(*e))) if output == "text" else None)
    try:
        result = engine.delete(stack_name, wait=wait)
    finally:
        engine.close()
    if output == "json":
        echo_json(result)
    else:
        kept = f" (kept: {', '.join(result['Retained'])})" if result["Retained"] else ""
        click.echo(f"Stack {stack_name} deleted{kept}.")
