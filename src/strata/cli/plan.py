"""``strata plan``: what ``strata deploy`` would change, and why (each new version with the inputs that changed).
Changes nothing (it builds artifacts, as ``strata transform`` does)."""
from __future__ import annotations

import click

from strata.cli.deploy import (account_option, default_stack_name, home_for, run_transform, stack_name_option,
                               strict_option)
from strata.cli.options import echo_json, output_option, parameter_overrides_option, region_option, template_option


@click.command(help="Show what deploy would create, update, replace or delete, and why.")
@template_option
@stack_name_option
@parameter_overrides_option
@region_option
@account_option
@strict_option
@click.option("--force", is_flag=True, help="Plan as `strata deploy --force` (rollback-pinned aliases move forward).")
@output_option
def plan(template_file: str, stack_name: str | None, parameter_overrides: tuple[str, ...], region: str | None,
         account_id: str, strict: bool, force: bool, output: str) -> None:
    from strata.local.engine.api import Engine
    from strata.local.engine.render import plan_text

    region = region or "us-east-1"
    stack_name = stack_name or default_stack_name(template_file)
    home = home_for(template_file)
    result = run_transform(template_file, parameter_overrides, region, account_id, stack_name, home)
    engine = Engine(home, region=region, account_id=account_id)
    try:
        report = engine.deploy(stack_name, result, execute=False, strict=strict, force=force)
    finally:
        engine.close()
    if output == "json":
        echo_json(report.plan.to_dict())
    else:
        click.echo(plan_text(report.plan))
