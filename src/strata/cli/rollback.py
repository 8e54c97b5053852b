"""``strata rollback FUNCTION``: point an alias back at the version it served before (or ``--to-version N``), after
checking that version still holds what it was deployed with; local: pinned until ``strata deploy --force``."""
from __future__ import annotations

from pathlib import Path

import click

from strata.cli.options import echo_json
from strata.cli.ops_options import deployed_stack_options


@click.command(help="Move an alias back to its previous version (or --to-version N), checked and verified.")
@click.argument("function")
@click.option("--alias", default="live", show_default=True, help="The alias to move.")
@click.option("--to-version", default=None, help="Version number to move to (default: the one served before).")
@deployed_stack_options
def rollback(function: str, alias: str, to_version: str | None, template_file: str, stack_name: str | None,
             target: str, region: str | None, account_id: str, profile: str | None, endpoint_url: str | None,
             config_file: str | None, config_env: str, output: str) -> None:
    from strata.transform.pipeline import default_stack_name

    if to_version is not None and not to_version.isdigit():
        raise click.BadParameter("a version number (1, 2, ...)", param_hint="--to-version")
    if target == "aws":
        from strata.aws.options import stack_session
        from strata.ops.rollback import rollback_aws

        name, session = stack_session(template_file=template_file, stack_name=stack_name, region=region,
                                      profile=profile, endpoint_url=endpoint_url, config_file=config_file,
                                      config_env=config_env)
        report = rollback_aws(session, name, function, alias=alias, to_version=to_version)
    else:
        from strata.ops.rollback import rollback_local
        from strata.paths import state_home

        name = stack_name or default_stack_name(Path(template_file))
        report = rollback_local(state_home(template_file), name, function, alias=alias, to_version=to_version,
                                region=region or "us-east-1", account_id=account_id)
    if output == "json":
        echo_json(report.to_dict())
    else:
        click.echo(report.text())
        if report.verify is not None:
            from strata.cli.verify import render

            click.echo(render(report.verify))
    if report.verify is not None and not report.verify.ok:
        raise click.exceptions.Exit(1)
