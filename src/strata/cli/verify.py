"""``strata verify``: does every function of the stack serve what was deployed ($LATEST, each alias and the versions
it routes to: code sha256, layer version ARNs, version-locked settings)? Exit 1 when anything differs;
``--repair`` puts it back and verifies again."""
from __future__ import annotations

import click

from strata.cli.options import aws_connection_options, echo_json, output_option, region_option, template_option


@click.command(help="Check that every function serves what was deployed; --repair fixes what differs.")
@template_option
@click.option("--stack-name", default=None,
              help="Stack name (default: samconfig.toml, else the template folder's name).")
@click.option("--target", type=click.Choice(["local", "aws"]), default="local", show_default=True,
              help="Where the stack is deployed.")
@click.option("--repair", is_flag=True,
              help="Restore $LATEST, point aliases at versions holding the deployed content and rebuild damaged "
                   "stored artifacts from the template, then verify again.")
@region_option
@click.option("--account-id", default="123456789012", show_default=True, help="Account id (local target).")
@aws_connection_options
@output_option
def verify(repair: bool, output: str, **where: object) -> None:
    from strata.deploy.settings import resolve_stack
    from strata.deploy.stack import verify_stack

    report = verify_stack(resolve_stack(**where), repair=repair)  # type: ignore[arg-type]
    if output == "json":
        echo_json(report.to_json())
    else:
        click.echo(report.text())
    if not report.ok:
        raise click.exceptions.Exit(1)
