"""``strata prune``: delete function versions beyond the newest N that nothing routes to or pins (and, with
``--include-layers``, layer versions nothing uses any more); prints what goes and the bytes freed."""
from __future__ import annotations

from pathlib import Path

import click

from strata.cli.options import echo_json
from strata.cli.ops_options import deployed_stack_options


@click.command(help="Delete old function (and layer) versions that no alias, pin or template needs.")
@click.option("--keep", type=click.IntRange(min=0), default=3, show_default=True,
              help="Newest versions to keep per function (whatever else protects them).")
@click.option("--include-layers", is_flag=True, help="Also delete the stack's layer versions nothing uses.")
@click.option("--dry-run", is_flag=True, help="Only show what would be deleted and the bytes it would free.")
@deployed_stack_options
def prune(keep: int, include_layers: bool, dry_run: bool, template_file: str, stack_name: str | None, target: str,
          region: str | None, account_id: str, profile: str | None, endpoint_url: str | None,
          config_file: str | None, config_env: str, output: str) -> None:
    from strata.transform.pipeline import default_stack_name

    if target == "aws":
        from strata.aws.options import stack_session
        from strata.ops.prune import prune_aws

        name, session = stack_session(template_file=template_file, stack_name=stack_name, region=region,
                                      profile=profile, endpoint_url=endpoint_url, config_file=config_file,
                                      config_env=config_env)
        report = prune_aws(session, name, keep=keep, include_layers=include_layers, dry_run=dry_run)
    else:
        from strata.ops.prune import prune_local
        from strata.paths import state_home

        name = stack_name or default_stack_name(Path(template_file))
        report = prune_local(state_home(template_file), name, keep=keep, include_layers=include_layers,
                             dry_run=dry_run, region=region or "us-east-1", account_id=account_id)
    if output == "json":
        echo_json(report.to_dict())
    else:
        click.echo(report.text())
    if report.failures:
        raise click.exceptions.Exit(1)
