"""``strata validate``: run ``strata.transform.validate`` on the template (with cfn-lint unless ``--no-lint``) and
report every problem it finds (text, or ``--output json``); exit 1 when there are any. cfn-lint's warnings are shown
(on stderr in text) and never change the exit status."""
from __future__ import annotations

import click

from strata.cli.options import echo_json, output_option, parameter_overrides_option, region_option, template_option
from strata.errors import Location, Problem, TemplateError
from strata.template.parameters import parse_parameter_overrides
from strata.transform.validate import run_validation


def _problem_json(problem: Problem) -> dict:
    location = problem.location or Location("")
    return {"file": location.file or None, "line": location.line, "column": location.column,
            "logical_id": location.logical_id, "message": problem.message}


@click.command()
@template_option
@parameter_overrides_option
@region_option
@click.option("--no-lint", is_flag=True, help="Skip cfn-lint (the resource schemas: property names, types, ranges).")
@output_option
@click.pass_context
def validate(ctx: click.Context, template_file: str, parameter_overrides: tuple[str, ...], region: str | None,
             no_lint: bool, output: str) -> None:
    """Check a template: syntax, tags, structure, parameter values and conditions, and cfn-lint's rules; report
    every problem."""
    overrides = parse_parameter_overrides(parameter_overrides)
    result = run_validation(template_file, overrides, region, lint=not no_lint)
    if output == "json":
        found = {"valid": result.valid, "problems": [_problem_json(p) for p in result.problems]}
        if result.warnings:
            found["warnings"] = [_problem_json(p) for p in result.warnings]
        echo_json(found)
        ctx.exit(0 if result.valid else 1)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if not result.valid:
        raise TemplateError(result.problems)
    assert result.template is not None
    data = result.template.data
    resources = len(data.get("Resources") or {})
    parameters = len(data.get("Parameters") or {})
    click.echo(f"{template_file} is valid ({_count(resources, 'resource')}, {_count(parameters, 'parameter')})")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
