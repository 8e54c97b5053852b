"""``strata deploy``: transform (which builds), plan, apply to the local engine; prints the plan with the reason for
every new version, progress per resource, and the outputs. ``strata plan`` shares the options below."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from strata.aws.options import aws_deploy_options
from strata.cli.options import echo_json, output_option, parameter_overrides_option, region_option, template_option
from strata.cli.ops_options import ops_deploy_options, take_ops

stack_name_option = click.option("--stack-name", default=None,
                                 help="Stack name (default: the template folder's name).")
account_option = click.option("--account-id", default="123456789012", show_default=True,
                              help="Account id for ARNs and pseudo parameters.")
strict_option = click.option("--strict", is_flag=True,
                             help="Fail when the template has resource types the local engine does not emulate.")


def default_stack_name(template_file: str) -> str:
    from strata.transform.pipeline import default_stack_name as name_of

    return name_of(Path(template_file))


def home_for(template_file: str) -> Path:
    from strata.paths import state_home

    return state_home(template_file)


def run_transform(template_file: str, parameter_overrides: tuple[str, ...], region: str, account_id: str,
                  stack_name: str, home: Path) -> Any:
    from strata.template.parameters import parse_parameter_overrides
    from strata.transform.pipeline import transform

    return transform(Path(template_file), parameter_overrides=parse_parameter_overrides(parameter_overrides),
                     region=region, account_id=account_id, stack_name=stack_name, home=home,
                     progress=sys.stderr.isatty())


@click.command(help="Build, transform, plan and deploy the template to the local Lambda service.")
@template_option
@stack_name_option
@parameter_overrides_option
@region_option
@account_option
@click.option("--no-execute", "--no-execute-changeset", "no_execute", is_flag=True,
              help="Show the plan and stop: nothing is changed.")
@strict_option
@click.option("--disable-rollback", is_flag=True, help="On failure keep what was done instead of rolling back.")
@click.option("--wait", is_flag=True, help="If another deploy of the stack is running, wait for it.")
@ops_deploy_options
@output_option
# --- aws target (strata.aws owns it; the local path below ignores these options) ---
@click.option("--target", type=click.Choice(["local", "aws"]), default="local", show_default=True,
              help="local: the embedded engine; aws: S3 + a CloudFormation change set.")
@aws_deploy_options
def deploy(template_file: str, stack_name: str | None, parameter_overrides: tuple[str, ...], region: str | None,
           account_id: str, no_execute: bool, strict: bool, disable_rollback: bool, wait: bool, output: str,
           target: str = "local", **aws: Any) -> None:
    ops = take_ops(aws)            # --force, --shift-speed, --error-threshold (strata.cli.ops_options)
    if target == "aws":
        return deploy_aws(template_file, stack_name, parameter_overrides, region, no_execute, output, aws)
    from strata.local.engine.api import Engine
    from strata.local.engine.render import outputs_text, plan_text, progress_line

    region = region or "us-east-1"
    stack_name = stack_name or default_stack_name(template_file)
    home = home_for(template_file)
    result = run_transform(template_file, parameter_overrides, region, account_id, stack_name, home)
    text = output == "text"

    def show_plan(plan: Any) -> None:
        if text:
            click.echo(plan_text(plan))
            if no_execute:
                click.echo("Not executed (--no-execute).")

    def progress(*event: Any) -> None:
        if text:
            click.echo(progress_line(*event))

    from strata.cli.ops_options import shifter_for

    engine = Engine(home, region=region, account_id=account_id, progress=progress,
                    shifter=shifter_for(ops, click.echo if text else None))
    try:
        report = engine.deploy(stack_name, result, execute=not no_execute, strict=strict,
                               disable_rollback=disable_rollback, wait=wait, force=ops.force, on_plan=show_plan)
    finally:
        engine.close()
    if not text:
        echo_json(report.to_dict())
        if report.error is not None:
            raise click.exceptions.Exit(1)
        return
    if report.recovered:
        click.echo(report.recovered[:1].upper() + report.recovered[1:] + ".")
    if report.status in ("no-changes", "not-executed"):
        return
    for failure in report.cleanup_failures:
        click.echo(f"warning: could not clean up {failure} (see `strata events`)", err=True)
    if report.error is not None:
        from strata.errors import StrataError

        verb = "rolled back" if report.status == "rolled-back" else "left as it is (--disable-rollback)" \
            if disable_rollback else "could not be rolled back"
        raise StrataError(f"deploy of stack {stack_name} failed and was {verb}: {report.error.message}",
                          hint="`strata events --stack-name " + stack_name + "` shows every step")
    click.echo(f"Stack {stack_name} deployed.")
    out = outputs_text(report.outputs)
    if out:
        click.echo(out)
    if not aws.get("no_verify"):
        _verify_local(home, stack_name, region, account_id, touched_functions(report.plan, result.template))
    from strata.cli.ops_options import auto_prune

    auto_prune(home, stack_name, result.template, template_file, aws, region=region, account_id=account_id,
               echo=click.echo)


def touched_functions(plan: Any, template: dict[str, Any]) -> set[str]:
    """Logical ids of the functions this deploy changed: the function itself, or one of its Versions or Aliases."""
    resources = template.get("Resources") or {}
    touched: set[str] = set()
    for change in plan.effective:
        if change.type == "AWS::Lambda::Function":
            touched.add(change.logical_id)
        elif change.type in ("AWS::Lambda::Version", "AWS::Lambda::Alias"):
            target = ((resources.get(change.logical_id) or {}).get("Properties") or {}).get("FunctionName")
            if isinstance(target, dict) and isinstance(target.get("Ref"), str):
                touched.add(target["Ref"])
    return touched


def _verify_local(home: Path, stack_name: str, region: str, account_id: str, functions: set[str]) -> None:
    """After a deploy that changed something: do the functions it changed serve what was just deployed, on
    $LATEST, every alias and every routed version? (``--no-verify`` skips it; a no-op deploy skips it too, so that
    path stays cheap; ``strata verify`` checks the whole stack any time.)"""
    from strata.cli.verify import render
    from strata.errors import StrataError
    from strata.local.verify import verify_local

    if not functions:
        return
    report = verify_local(home, stack_name, region=region, account_id=account_id, only=functions)
    if not report.ok:
        click.echo(render(report), err=True)
        raise StrataError(f"stack {stack_name} deployed, but verify found {len(report.findings)} mismatch(es)",
                          hint="`strata verify --repair --stack-name " + stack_name + "` fixes them")
    names = ", ".join(sorted(functions))
    click.echo(f"Verified: {names} serve{'s' if len(functions) == 1 else ''} what was deployed.")


# --- aws target -------------------------------------------------------------------------------------------------------

def deploy_aws(template_file: str, stack_name: str | None, parameter_overrides: tuple[str, ...], region: str | None,
               no_execute: bool, output: str, aws: dict[str, Any]) -> None:
    """``--target aws``: settings from flags and samconfig.toml, then ``strata.aws.deploy.deploy_to_aws``."""
    from strata.aws.deploy import deploy_to_aws
    from strata.aws.options import deploy_config

    config = deploy_config(template_file=template_file, stack_name=stack_name, parameter_overrides=parameter_overrides,
                           region=region, no_execute=no_execute, home=home_for(template_file), **aws)
    text = output == "text"
    result = deploy_to_aws(config, out=click.echo if text else (lambda _line: None),
                           progress=lambda line: click.echo(line, err=True))
    if not text:
        echo_json({"stack": result.stack_name, "outcome": result.outcome, "status": result.status,
                   "outputs": result.outputs, "uploaded": result.uploads.uploaded if result.uploads else [],
                   "changes": [c.__dict__ for c in result.change_set.changes] if result.change_set else [],
                   "versions": [v.__dict__ for v in result.versions],
                   "verify": result.verify.to_json() if result.verify else None})
