"""``strata delete``: delete a stack's resources from the local Lambda service (Retain keeps them), or with
``--target aws`` the CloudFormation stack (``strata.aws.delete``), as ``sam delete`` does."""
from __future__ import annotations

import click

from strata.cli.options import aws_connection_options, echo_json, output_option, region_option, template_option


@click.command(help="Delete a stack and its resources (resources with DeletionPolicy Retain are kept).")
@template_option
@click.option("--stack-name", default=None,
              help="Stack name (default: samconfig.toml, else the template folder's name).")
@click.option("--wait", is_flag=True, help="If a deploy of the stack is running, wait for it.")
@click.option("--target", type=click.Choice(["local", "aws"]), default="local", show_default=True,
              help="local: the embedded engine; aws: the CloudFormation stack.")
@click.option("--no-prompts", is_flag=True, help="Accepted for sam delete's scripts: strata never asks.")
@region_option
@aws_connection_options
@output_option
def delete(template_file: str, stack_name: str | None, wait: bool, output: str, target: str = "local",
           no_prompts: bool = False, region: str | None = None, profile: str | None = None,
           endpoint_url: str | None = None, config_file: str | None = None, config_env: str = "default") -> None:
    from strata.deploy.settings import resolve_stack

    stack = resolve_stack(template_file=template_file, stack_name=stack_name, target=target, region=region,
                          profile=profile, endpoint_url=endpoint_url, config_file=config_file, config_env=config_env)
    if target == "aws":
        from strata.aws.delete import delete_stack

        found = delete_stack(stack.session().client("cloudformation"), stack.name,
                             progress=(lambda line: click.echo(line, err=True)) if output == "text" else None)
        if output == "json":
            echo_json(found)
        elif found["Status"] == "NOT_FOUND":
            click.echo(f"Stack {stack.name} does not exist: nothing to delete.")
        else:
            click.echo(f"Stack {stack.name} deleted.")
        return
    from strata.local.deploy import delete_local

    result = delete_local(stack.home, stack.name, wait=wait, progress=click.echo if output == "text" else None)
    if output == "json":
        echo_json(result)
    else:
        from strata.model.listing import names_or_count

        kept = f" (kept: {names_or_count(result['Retained'], 'resource')})" if result["Retained"] else ""
        click.echo(f"Stack {stack.name} deleted{kept}.")
