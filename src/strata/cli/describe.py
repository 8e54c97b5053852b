"""``strata describe``: a stack's resources and physical ids, each function's versions and aliases, outputs."""
from __future__ import annotations

from typing import TYPE_CHECKING

import click

from strata.cli.options import echo_json, env_vars_option, output_option, template_option

if TYPE_CHECKING:
    from strata.local.env_vars import EnvVarsFile


@click.command(help="Show a deployed stack: resources, versions, aliases and outputs.")
@template_option
@click.option("--stack-name", default=None,
              help="Stack name (default: samconfig.toml, else the template folder's name).")
@env_vars_option
@output_option
def describe(template_file: str, stack_name: str | None, output: str, env_vars: EnvVarsFile | None) -> None:
    from strata.deploy.settings import resolve_stack
    from strata.local.engine.describe import describe as read
    from strata.local.engine.render import describe_text

    stack = resolve_stack(template_file=template_file, stack_name=stack_name)
    info = read(stack.home, stack.name)
    if env_vars is not None:          # shown as local overrides, values masked; nothing about the stack changes
        from strata.local.env_vars import for_home

        info["LocalOverrides"] = for_home(env_vars, stack.home).view()
    from strata.local.gateway.addresses import endpoints, endpoints_text, localize_outputs

    found = endpoints(stack.home, stack.name, record=False)
    if found:
        info["LocalEndpoints"] = {f"{e.api.logical_id}/{e.api.stage}": e.url for e in found}
    if output == "json":
        echo_json(info)
    else:
        shown = {**info, "Outputs": localize_outputs(info.get("Outputs") or {}, found)}
        click.echo("\n".join(t for t in (describe_text(shown), endpoints_text(found)) if t))
