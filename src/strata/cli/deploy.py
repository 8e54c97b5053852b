"""``strata deploy``: resolve the settings (``strata.deploy.settings``), run the target's orchestrator
(``strata.deploy``), render the result. ``strata plan`` shares the options below."""
from __future__ import annotations

import sys

import click

from strata.cli.ops_options import ops_deploy_options
from strata.cli.options import (
    aws_deploy_options,
    echo_json,
    output_option,
    parameter_overrides_option,
    python_options,
    region_option,
    template_option,
)

stack_name_option = click.option("--stack-name", default=None,
                                 help="Stack name (default: samconfig.toml, else the template folder's name).")
account_option = click.option("--account-id", default="123456789012", show_default=True,
                              help="Account id for ARNs and pseudo parameters.")
strict_option = click.option("--strict", is_flag=True,
                             help="Fail when the template has resource types or properties (DurableConfig, VpcConfig, "
                             "...) the local engine does not emulate.")
layer_source_option = click.option(
    "--layer-source", "layer_sources", multiple=True, metavar="ARN=PATH|pip:REQ",
    help="Local target: build a layer published outside this state home (e.g. a public layer ARN) from a folder, a "
         ".zip or a pip requirement. Repeatable; samconfig.toml: strata_layer_sources. Powertools for Python's "
         "public layers default to their PyPI package.")


@click.command(help="Build, transform, plan and deploy the template to the local Lambda service.")
@template_option
@stack_name_option
@parameter_overrides_option
@region_option
@account_option
@click.option("--no-execute", "--no-execute-changeset", "no_execute", is_flag=True,
              help="Show the plan and stop: nothing is changed.")
@strict_option
@layer_source_option
@python_options
@click.option("--disable-rollback", is_flag=True, help="On failure keep what was done instead of rolling back.")
@click.option("--wait", is_flag=True, help="If another deploy of the stack is running, wait for it.")
@ops_deploy_options
@output_option
@click.option("--target", type=click.Choice(["local", "aws"]), default="local", show_default=True,
              help="local: the embedded engine; aws: S3 + a CloudFormation change set.")
@aws_deploy_options
def deploy(template_file: str, output: str, **flags: object) -> None:
    from strata.deploy import deploy as run
    from strata.deploy.settings import resolve_deploy

    settings = resolve_deploy(template_file=template_file, build_progress=sys.stderr.isatty(), **flags)  # type: ignore[arg-type]
    text = output == "text"
    say = click.echo if text else _quiet
    result = run(settings, out=say, progress=(lambda line: click.echo(line, err=True)) if settings.target == "aws"
                 else say, warn=(lambda line: click.echo(line, err=True)) if text else _quiet,
                 confirm=_ask)
    if not text:
        echo_json(result.to_json())
        if result.failure is not None:
            raise click.exceptions.Exit(1)
    elif result.failure is not None:
        raise result.failure


def _ask(question: str) -> bool:
    """``--confirm-changeset``'s question, asked on stdin (default no, as SAM's; no input: no)."""
    try:
        return click.confirm(question, default=False, err=True)
    except click.Abort:
        return False


def _quiet(_line: str) -> None:
    """Output that ``--output json`` leaves out (stdout carries the JSON document only)."""
