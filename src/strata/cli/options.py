"""Options shared by several verbs, spelled as SAM CLI spells them."""
from __future__ import annotations

import json
from typing import Any

import click

template_option = click.option(
    "-t", "--template-file", "--template", "template_file", default="template.yaml", show_default=True,
    type=click.Path(dir_okay=False), help="The SAM or CloudFormation template.")
parameter_overrides_option = click.option(
    "--parameter-overrides", "parameter_overrides", multiple=True,
    help="Parameter values as Key=Value (SAM syntax; quote values with spaces). Repeatable.")
region_option = click.option("--region", default=None, help="Region for pseudo parameters and ARNs (default us-east-1).")
output_option = click.option(
    "--output", "output", type=click.Choice(["text", "json"]), default="text", show_default=True,
    help="text for people, json for scripts.")


def echo_json(value: Any) -> None:
    """Print ``value`` as JSON on stdout (the only thing a ``--output json`` command prints there)."""
    click.echo(json.dumps(value, indent=2, sort_keys=True, default=str))
