"""``strata validate``: run ``strata.transform.validate`` on the template and report every problem it finds
(text, or ``--output json``); exit 1 when there are any."""
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
@output_option
@click.pass_context
def validate(ctx: click.Context, template_file: str, parameter_overrides: tuple[str, ...], region: str | None,
             output: str) -> None:
    """Check a template: syntax, tags, structure, parameter values and conditions; report every problem."""
    overrides = parse_parameter_overrides(parameter_overrides)
    result = run_validation(template_file, overrides, region)
    if output == "json":
        echo_json({"valid": result.valid, "problems": [_problem_json(p) for p in result.problems]})
        ctx.exit(0 if result.valid else 1)
    if not result.valid:
        raise TemplateError(result.problems)
    assert result.template is not None
    data = result.template.data
    resources = len(data.get("Resources") or {})
    parameters = len(data.get("Parameters") or {})
    click.echo(f"{template_file} is valid ({_count(resources, 'resource')}, {_count(parameters, 'parameter')})")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
