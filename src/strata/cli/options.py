"""Options shared by several verbs, spelled as SAM CLI spells them (what they mean is resolved in
``strata.deploy.settings``, not here)."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

template_option = click.option(
    "-t", "--template-file", "--template", "template_file", default="template.yaml", show_default=True,
    type=click.Path(dir_okay=False), help="The SAM or CloudFormation template.")
parameter_overrides_option = click.option(
    "--parameter-overrides", "parameter_overrides", multiple=True,
    help="Parameter values as Key=Value (SAM syntax; quote values with spaces). Repeatable.")
region_option = click.option(
    "--region", default=None, help="Region for pseudo parameters and ARNs (default us-east-1).")
output_option = click.option(
    "--output", "output", type=click.Choice(["text", "json"]), default="text", show_default=True,
    help="text for people, json for scripts.")


def echo_json(value: Any) -> None:
    """Print ``value`` as JSON on stdout (the only thing a ``--output json`` command prints there)."""
    click.echo(json.dumps(value, indent=2, sort_keys=True, default=str))


def apply_options(options: list[Callable[[F], F]]) -> Callable[[F], F]:
    """One decorator for a list of click options, in the order listed."""
    def decorate(function: F) -> F:
        for option in reversed(options):
            function = option(function)
        return function
    return decorate


# --- where settings come from: samconfig.toml (both targets), and the AWS connection ---------------------------------
CONFIG = [
    click.option("--config-file", default=None, help="SAM config file (default: samconfig.toml beside the template)."),
    click.option("--config-env", default="default", show_default=True,
                 help="Environment section of the SAM config file."),
]
CONNECTION = [
    click.option("--profile", default=None, help="AWS named profile (aws target)."),
    click.option("--endpoint-url", default=None,
                 help="Send every AWS call to this endpoint (moto, LocalStack; aws target)."),
    *CONFIG,
]
AWS_DEPLOY = [
    click.option("--s3-bucket", default=None, help="Bucket for code artifacts (aws target)."),
    click.option("--s3-prefix", default=None, help="Key prefix (folder) for the artifacts in the bucket (aws target)."),
    click.option("--capabilities", multiple=True,
                 help="CloudFormation capabilities, e.g. CAPABILITY_IAM (default), CAPABILITY_NAMED_IAM (aws target)."),
    click.option("--tags", multiple=True, help="Stack tags as Key=Value pairs (aws target)."),
    click.option("--no-verify", is_flag=True, help="Skip verifying the deployed functions at the end."),
]

config_options = apply_options(CONFIG)
aws_connection_options = apply_options(CONNECTION)
aws_deploy_options = apply_options(CONNECTION + AWS_DEPLOY)
