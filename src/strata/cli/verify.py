"""``strata verify``: does every function of the stack serve what was deployed ($LATEST, each alias and the versions
it routes to: code sha256, layer version ARNs, version-locked settings)? Exit 1 when anything differs;
``--repair`` puts it back and verifies again."""
from __future__ import annotations

import click

from strata.aws.options import aws_connection_options
from strata.cli.options import echo_json, output_option, region_option, template_option


@click.command(help="Check that every function serves what was deployed; --repair fixes what differs.")
@template_option
@click.option("--stack-name", default=None, help="Stack name (default: samconfig.toml, else the template folder's name).")
@click.option("--target", type=click.Choice(["local", "aws"]), default="local", show_default=True,
              help="Where the stack is deployed.")
@click.option("--repair", is_flag=True,
              help="Restore $LATEST and point aliases at versions holding the deployed content, then verify again.")
@region_option
@click.option("--account-id", default="123456789012", show_default=True, help="Account id (local target).")
@aws_connection_options
@output_option
def verify(template_file: str, stack_name: str | None, target: str, repair: bool, region: str | None, account_id: str,
           profile: str | None, endpoint_url: str | None, config_file: str | None, config_env: str,
           output: str) -> None:
    from strata.transform.pipeline import default_stack_name
    from pathlib import Path

    if target == "aws":
        from strata.aws.options import stack_session
        from strata.aws.verify import verify_aws

        name, session = stack_session(template_file=template_file, stack_name=stack_name, region=region,
                                      profile=profile, endpoint_url=endpoint_url, config_file=config_file,
                                      config_env=config_env)
        report = verify_aws(session, name, repair=repair)
    else:
        from strata.paths import state_home
        from strata.local.verify import verify_local

        name = stack_name or default_stack_name(Path(template_file))
        report = verify_local(state_home(template_file), name, region=region or "us-east-1", account_id=account_id,
                              repair=repair)
    if output == "json":
        echo_json(report.to_json())
    else:
        click.echo(render(report))
    if not report.ok:
        raise click.exceptions.Exit(1)


def render(report) -> str:
    """The text report: what was checked, what was repaired, each finding, notes, and the verdict."""
    lines = [f"Stack {report.stack} ({report.target}):"]
    lines += [f"  checked {line}" for line in report.checked]
    lines += [f"  repaired: {line}" for line in report.repairs]
    lines += [f"  MISMATCH {finding}" for finding in report.findings]
    lines += [f"  note: {note}" for note in report.notes]
    if report.ok:
        lines.append("OK: every function serves what was deployed.")
    else:
        count = len(report.findings)
        lines.append(f"FAILED: {count} mismatch{'es' if count != 1 else ''}; "
                     "`strata verify --repair` restores what was deployed.")
    return "\n".join(lines)
