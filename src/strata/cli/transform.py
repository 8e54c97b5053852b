"""``strata transform``: build, translate, and print the stack template (or, with ``--explain``, why each function's
Version id is what it is)."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from strata.cli.options import echo_json, output_option, parameter_overrides_option, region_option, template_option
from strata.model.deploy import DEFAULT_REGION

if TYPE_CHECKING:
    from strata.transform.result import TransformResult


@click.command(help="Build, transform SAM to CloudFormation, and give every Version its fingerprint id.")
@template_option
@parameter_overrides_option
@region_option
@click.option("--account-id", default="123456789012", show_default=True, help="Account id for pseudo parameters.")
@click.option("--stack-name", default=None,
              help="Stack name for AWS::StackName (default: the template folder's name).")
@click.option("--format", "fmt", type=click.Choice(["json", "yaml"]), default="json", show_default=True,
              help="Format of the printed template.")
@click.option("--output-template-file", type=click.Path(dir_okay=False), default=None,
              help="Write the template here instead of stdout.")
@click.option("--explain", is_flag=True, help="Show each function's fingerprint inputs and Version id instead.")
@output_option
def transform(template_file: str, parameter_overrides: tuple[str, ...], region: str | None, account_id: str,
              stack_name: str | None, fmt: str, output_template_file: str | None, explain: bool, output: str) -> None:
    from strata.template.parameters import parse_parameter_overrides
    from strata.transform.pipeline import transform as run

    result = run(Path(template_file), parameter_overrides=parse_parameter_overrides(parameter_overrides),
                 region=region or DEFAULT_REGION, account_id=account_id, stack_name=stack_name,
                 progress=sys.stderr.isatty())
    if explain:
        _explain(result, output)
        return
    text = json.dumps(result.template, indent=2) + "\n" if fmt == "json" else _yaml(result.template)
    if output_template_file:
        Path(output_template_file).write_text(text, encoding="utf-8")
        click.echo(f"Wrote {output_template_file}", err=True)
    else:
        click.echo(text, nl=False)


def _yaml(value: object) -> str:
    import yaml

    return yaml.dump(value, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False,
                     default_flow_style=False)


def _excluded(result: TransformResult) -> dict[str, list[str]]:
    """Per function (or layer) logical id: what its code zip leaves out, in words (``strata.artifacts.walk``)."""
    from strata.artifacts.builder import zip_leaves_out
    from strata.artifacts.walk import EXCLUDED_NAMES, EXCLUDED_SUFFIXES

    by_name = ", ".join(sorted(EXCLUDED_NAMES)) + ", *" + ", *".join(EXCLUDED_SUFFIXES)
    excluded: dict[str, list[str]] = {}
    for built in result.artifacts:
        target = built.target
        if target.is_zip_file:
            continue
        excluded[target.logical_id] = [*target.excludes, *zip_leaves_out(target),
                                       f"any file or folder named {by_name}"]
    return excluded


def _explain(result: TransformResult, output: str) -> None:
    functions = [result.functions[k] for k in sorted(result.functions)]
    excluded = _excluded(result)
    if output == "json":
        echo_json([{
            "function": f.function_id, "version": f.version_id, "aliases": list(f.alias_ids),
            "fingerprint": f.fingerprint, "code_sha256": f.code_sha256,
            "inputs": [{"name": i.name, "value": i.display, "digest": i.digest} for i in f.inputs],
            "code_excludes": excluded.get(f.function_id, []),
            "warnings": list(f.warnings)} for f in functions])
        return
    if not functions:
        click.echo("No Lambda functions in this template.")
    for f in functions:
        version = f.version_id or "(no Version: the function has no AutoPublishAlias)"
        click.echo(f"{f.function_id}  ->  {version}")
        aliases = f"   aliases: {', '.join(f.alias_ids)}" if f.alias_ids else ""
        click.echo(f"  fingerprint {f.fingerprint[:16]}{aliases}")
        width = max((len(i.name) for i in f.inputs), default=0)
        for item in f.inputs:
            click.echo(f"    {item.name.ljust(width)}  {item.display}")
        if f.function_id in excluded:
            click.echo(f"  code zip excludes: {'; '.join(excluded[f.function_id])}")
        for warning in f.warnings:
            click.echo(f"  note: {warning}")
    for file in result.files:   # strata.artifacts.packageable: read from disk, keyed by content
        click.echo(f"packaged {file.label}: {file.source} (sha256:{file.sha256[:12]})")
