"""Validation of a template: load it, resolve parameters and conditions, run every check, collect all problems.

Contract: reads the template (and stats the code paths it names), builds and changes nothing. ``strata validate``
refuses what ``strata plan`` refuses before plan reads any state: it runs the same functions, with stand-in
artifacts instead of a build. Load (syntax, tags, structure, size bounds, alias expansion) and ``build_context``
(parameters, CloudFormation's quotas, conditions) come first; then ``CHECKS``: each gets the loaded template and
its context and returns problems. A new check is one more entry. Then cfn-lint's findings (``strata.transform.lint``,
started in a child interpreter before the checks so both run at once): its errors are problems, its warnings are
``warnings``; ``lint=False`` (``--no-lint``) skips it.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from strata.errors import BuildError, Problem, TemplateError
from strata.model.deploy import DEFAULT_REGION
from strata.template import Template, load_template
from strata.template.context import context_for
from strata.template.intrinsics import Context, evaluate
from strata.template.parameters import build_context
from strata.template.stack import stack_problems

Check = Callable[[Template, Context], list[Problem]]

# what the post-pass is given for each local code location: any digest will do, none is read
_STAND_IN_SHA256 = "0" * 64
_STAND_IN_CODE_SHA256 = "A" * 43 + "="


def plan_rules(template: Template, context: Context) -> list[Problem]:
    """Everything ``plan`` checks before it reads state, in its order: code paths (``find_build_targets``), the SAM
    transform and the versions post-pass (``pipeline.stack_output``, the functions ``transform`` calls), the stack
    template's shape and reference cycles (``template.stack``, which the engine's parse calls), and the evaluation of
    every kept resource's properties and every kept output's value (as the planner resolves them)."""
    from strata.artifacts import find_build_targets
    from strata.transform.package import package_paths
    from strata.transform.pipeline import stack_output
    from strata.transform.versions import CodeArtifact, placeholder_key

    base = template.path.parent if template.path else Path.cwd()
    try:
        targets = find_build_targets(template.data, base, locate=template.locate, template_file=template.path)
    except BuildError as exc:
        return [Problem(exc.message, exc.location)]
    stand_in = CodeArtifact(_STAND_IN_SHA256, _STAND_IN_CODE_SHA256)
    artifacts = {placeholder_key(t.logical_id, t.property): stand_in for t in targets}
    account_id, stack_name = str(context.pseudo.get("AWS::AccountId")), str(context.pseudo.get("AWS::StackName"))
    try:   # both targets' rules: a nested stack's local template is refused by `plan` on the local target only
        packaged = package_paths(template.data, base, locate=template.locate, refuse_nested=False)
    except BuildError as exc:
        return [Problem(exc.message, exc.location)]
    output, _ = stack_output(template, context, targets, artifacts, home=None, region=context.region,
                             account_id=account_id, stack_name=stack_name, locate=template.locate, packaged=packaged)
    stack = output.template
    # the context the engine's resolver builds: over the stack template as deployed (Version ids renamed)
    stack_context = context_for(stack, context.parameters, region=context.region, account_id=account_id,
                                stack_name=stack_name, locate=template.locate)
    problems = stack_problems(stack, stack_context.conditions, template.locate)
    if problems:
        return problems
    for section, key in (("Resources", "Properties"), ("Outputs", "Value")):
        entries = stack.get(section)
        for name, body in (entries.items() if isinstance(entries, dict) else ()):
            if not isinstance(body, dict) or stack_context.conditions.get(str(body.get("Condition"))) is False:
                continue
            try:
                evaluate(body.get(key), stack_context, (section, name, key))
            except TemplateError as exc:
                problems += exc.problems
    return problems


CHECKS: list[Check] = [plan_rules]


@dataclass
class Validation:
    """The outcome: the template and context when they could be built, and every problem found."""

    template: Template | None = None
    context: Context | None = None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)      # cfn-lint's W findings: shown, never fatal

    @property
    def valid(self) -> bool:
        return not self.problems


def run_validation(template_file: str, overrides: Mapping[str, str], region: str | None = None,
                   checks: list[Check] | None = None, lint: bool = False) -> Validation:
    """Load, build the context, run the checks (and cfn-lint when ``lint``); stops early only when a later stage has
    nothing to work on."""
    result = Validation()
    try:
        result.template = load_template(template_file)
        result.context = build_context(result.template, overrides, region=region or DEFAULT_REGION)
    except TemplateError as exc:
        result.problems += exc.problems
        return result
    job = None
    if lint:
        from strata.transform.lint import start_lint

        job = start_lint(result.template.data, result.context.region)
    for check in CHECKS if checks is None else checks:
        try:
            result.problems += check(result.template, result.context)
        except TemplateError as exc:
            result.problems += exc.problems
    if job is not None:
        _add_lint(result, job)
    return result


def _add_lint(result: Validation, job: Any) -> None:
    """cfn-lint's errors among the problems, its warnings apart; a lint that could not run is a problem."""
    from strata.transform.lint import as_problem

    findings, failure = job.result()
    if failure is not None:
        result.problems.append(Problem(f"cfn-lint could not run: {failure}",
                                       result.template.locate(()) if result.template else None))
    for finding in findings:
        (result.problems if finding.level == "error" else result.warnings).append(as_problem(finding, result.template))
