"""Click options of the operations around a deploy: pins (``--force``), traffic shifting (``--shift-speed``,
``--error-threshold``; the shifter itself is built by ``strata.local.deploy``), and where a deployed stack is for the
verbs that act on one (rollback, prune)."""
from __future__ import annotations

import click

from strata.cli.options import apply_options, aws_connection_options, output_option, region_option, template_option

OPTIONS = [
    click.option("--force", is_flag=True,
                 help="Move aliases pinned by `strata rollback` forward to the template's version."),
    click.option("--shift-speed", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
                 help="Traffic shifting (DeploymentPreference, local target): run the schedule F times faster "
                      "(60: a minute takes a second)."),
    click.option("--error-threshold", type=click.FloatRange(0, 100), default=0.0, show_default=True,
                 help="Traffic shifting (local target): roll back when the new version's error rate exceeds this "
                      "percentage (stands in for CloudWatch alarms; 0: any error)."),
]

ops_deploy_options = apply_options(OPTIONS)

# Where a deployed stack is, for the verbs that act on one (rollback, prune): template (for its folder's name and
# samconfig.toml), stack name, target, region/account, AWS connection, output format.
deployed_stack_options = apply_options([
    template_option,
    click.option("--stack-name", default=None,
                 help="Stack name (default: samconfig.toml, else the template folder's name)."),
    click.option("--target", type=click.Choice(["local", "aws"]), default="local", show_default=True,
                 help="Where the stack is deployed."),
    region_option,
    click.option("--account-id", default="123456789012", show_default=True, help="Account id (local target)."),
    aws_connection_options,
    output_option,
])
