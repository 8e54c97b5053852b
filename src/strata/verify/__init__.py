"""verify: read live state back and check that every function serves what was deployed.

Contract: ``verify_stack`` only reads, unless ``repair=True``; then it fixes what it found (``strata.verify.repair``)
and verifies again, returning the second report with the repairs listed. It takes a ``DeployedStack`` (what the stack
deployed, from either target) and a Lambda reader (boto3's client, or the local service's boto3-style adapter), so
the same checker runs on AWS and on the local engine.

For the local target: ``strata.local.verify.verify_local(home, stack_name, repair=...)``;
for AWS: ``strata.aws.verify.verify_aws(session, stack_name, repair=...)``.
"""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Collection

from strata.template.parameters import mask, secret_values
from strata.verify.checker import CanRun, check
from strata.verify.expected import expected_functions
from strata.verify.model import DeployedStack, ExpectedFunction, Finding, StackResource, VerifyReport
from strata.verify.reader import LambdaReader, LambdaRepairer


def verify_stack(stack: DeployedStack, reader: LambdaReader | LambdaRepairer, *, target: str,
                 repair: bool = False, sleep: Callable[[float], None] = time.sleep,
                 only: Collection[str] | None = None, can_run: CanRun | None = None) -> VerifyReport:
    """Check every function of ``stack`` (or the logical ids in ``only``); with ``repair``, fix the findings and
    check again. ``can_run``: the target's "can it run this function?" (``checker.CanRun``)."""
    functions = expected_functions(stack, only)
    if only is not None:
        functions = [f for f in functions if f.logical_id in only]
    report = check(reader, functions, VerifyReport(stack=stack.name, target=target), can_run)
    if not repair or report.ok:
        return _masked(report, stack)
    from strata.verify.repair import repair as run_repair

    done, refused = run_repair(reader, functions, report, sleep=sleep)  # type: ignore[arg-type]
    again = check(reader, functions, VerifyReport(stack=stack.name, target=target), can_run)
    again.repairs = done
    again.unrepaired = refused
    return _masked(again, stack)


def _masked(report: VerifyReport, stack: DeployedStack) -> VerifyReport:
    """The report with the stack's NoEcho values masked in every finding (a drifted environment variable shows
    ``****`` for the deployed secret, as CloudFormation would)."""
    secrets = secret_values(stack.template, stack.parameters)
    if secrets and (report.findings or report.unrepaired):
        report.findings = [dataclasses.replace(f, message=mask(f.message, secrets), live=mask(f.live, secrets),
                                               expected=mask(f.expected, secrets)) for f in report.findings]
        report.unrepaired = [mask(line, secrets) for line in report.unrepaired]
    return report


__all__ = ["DeployedStack", "ExpectedFunction", "Finding", "StackResource", "VerifyReport", "verify_stack"]
