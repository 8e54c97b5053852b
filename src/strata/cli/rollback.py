"""``strata rollback FUNCTION``: point an alias back at the version it served before (or ``--to-version N``), after
checking that version still holds what it was deployed with; local: pinned until ``strata deploy --force``."""
from __future__ import annotations

import click

from strata.cli.ops_options import deployed_stack_options
from strata.cli.options import echo_json


@click.command(help="Move an alias back to its previous version (or --to-version N), checked and verified.")
@click.argument("function")
@click.option("--alias", default="live", show_default=True, help="The alias to move.")
@click.option("--to-version", default=None, help="Version number to move to (default: the one served before).")
@deployed_stack_options
def rollback(function: str, alias: str, to_version: str | None, output: str, **where: object) -> None:
    from strata.deploy.settings import resolve_stack
    from strata.deploy.stack import rollback_stack

    if to_version is not None and not to_version.isdigit():
        raise click.BadParameter("a version number (1, 2, ...)", param_hint="--to-version")
    report = rollback_stack(resolve_stack(**where), function, alias=alias,  # type: ignore[arg-type]
                            to_version=to_version)
    if output == "json":
        echo_json(report.to_dict())
    else:
        click.echo(report.text())
        if report.verify is not None:
            click.echo(report.verify.text())
    if report.verify is not None and not report.verify.ok:
        raise click.exceptions.Exit(1)
