"""Validation of a template: load it, resolve parameters and conditions, run every check, collect all problems.

Contract: reads the template, changes nothing. Checks are the functions in ``CHECKS``; each gets the loaded template and
its context and returns problems. A new check (aws-sam-translator's own validation, say) is one more entry.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from strata.errors import Problem, TemplateError
from strata.model.deploy import DEFAULT_REGION
from strata.template import Template, load_template
from strata.template.intrinsics import Context
from strata.template.parameters import build_context

Check = Callable[[Template, Context], list[Problem]]

# Extra checks after loading and parameters, in order. Append here; each returns problems (empty when fine).
def sam_rules(template: Template, context: Context) -> list[Problem]:
    """aws-sam-translator's own validation (only for templates that declare the SAM transform)."""
    from strata.artifacts import find_build_targets
    from strata.errors import BuildError
    from strata.transform import sam
    from strata.transform.pipeline import translator_parameter_values, with_placeholders

    if not sam.is_sam_template(template.data):
        return []
    base = template.path.parent if template.path else Path.cwd()
    try:
        targets = find_build_targets(template.data, base)
    except BuildError as exc:
        return [Problem(exc.message, exc.location)]
    try:  # local code folders stand in as placeholders, exactly as the transform passes them to the translator
        sam.translate(with_placeholders(template.data, targets), translator_parameter_values(template, context),
                      region=context.region,
                      partition=str(context.pseudo.get("AWS::Partition", "aws")), locate=template.locate)
    except TemplateError as exc:
        return list(exc.problems)
    return []


CHECKS: list[Check] = [sam_rules]


@dataclass
class Validation:
    """The outcome: the template and context when they could be built, and every problem found."""

    template: Template | None = None
    context: Context | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems


def run_validation(template_file: str, overrides: Mapping[str, str], region: str | None = None,
                   checks: list[Check] | None = None) -> Validation:
    """Load, build the context, run the checks; stops early only when a later stage has nothing to work on."""
    result = Validation()
    try:
        result.template = load_template(template_file)
        result.context = build_context(result.template, overrides, region=region or DEFAULT_REGION)
    except TemplateError as exc:
        result.problems += exc.problems
        return result
    for check in CHECKS if checks is None else checks:
        try:
            result.problems += check(result.template, result.context)
        except TemplateError as exc:
            result.problems += exc.problems
    return result
