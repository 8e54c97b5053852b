"""``strata plan``: what ``strata deploy`` would change, and why (each new version with the inputs that changed).
Changes nothing (it builds artifacts, as ``strata transform`` does)."""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from strata.cli.deploy import account_option, layer_source_option, stack_name_option, strict_option
from strata.cli.options import (
    config_options,
    echo_json,
    env_vars_option,
    output_option,
    parameter_overrides_option,
    python_options,
    region_option,
    template_option,
)

if TYPE_CHECKING:
    from strata.local.env_vars import EnvVarsFile


@click.command(help="Show what deploy would create, update, replace or delete, and why.")
@template_option
@stack_name_option
@parameter_overrides_option
@region_option
@account_option
@strict_option
@layer_source_option
@python_options
@click.option("--force", is_flag=True, help="Plan as `strata deploy --force` (rollback-pinned aliases move forward).")
@config_options
@env_vars_option
@output_option
def plan(template_file: str, output: str, env_vars: EnvVarsFile | None, **flags: object) -> None:
    from strata.deploy.settings import resolve_deploy
    from strata.local.deploy import plan_local
    from strata.local.engine.render import plan_text

    found = plan_local(resolve_deploy(template_file=template_file, build_progress=sys.stderr.isatty(),
                                      **flags), env_vars)  # type: ignore[arg-type]
    if output == "json":
        echo_json(found.to_dict())
    else:
        click.echo(plan_text(found))
