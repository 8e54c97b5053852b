"""``strata prune``: delete function versions beyond the newest N that nothing routes to or pins (and, with
``--include-layers``, layer versions nothing uses any more); prints what goes and the bytes freed."""
from __future__ import annotations

import click

from strata.cli.ops_options import deployed_stack_options
from strata.cli.options import echo_json


@click.command(help="Delete old function (and layer) versions that no alias, pin or template needs.")
@click.option("--keep", type=click.IntRange(min=0), default=3, show_default=True,
              help="Newest versions to keep per function (whatever else protects them).")
@click.option("--include-layers", is_flag=True, help="Also delete the stack's layer versions nothing uses.")
@click.option("--dry-run", is_flag=True, help="Only show what would be deleted and the bytes it would free.")
@deployed_stack_options
def prune(keep: int, include_layers: bool, dry_run: bool, output: str, **where: object) -> None:
    from strata.deploy.settings import resolve_stack
    from strata.deploy.stack import prune_stack

    report = prune_stack(resolve_stack(**where), keep=keep, include_layers=include_layers,  # type: ignore[arg-type]
                         dry_run=dry_run)
    if output == "json":
        echo_json(report.to_dict())
    else:
        click.echo(report.text())
    if report.failures:
        raise click.exceptions.Exit(1)
