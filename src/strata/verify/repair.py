"""``verify --repair``: make every function serve what was deployed again, then let the caller verify again.

Per function with findings:
1. $LATEST differs from the deployed configuration: put back only the settings that differ (an update call that
   changes nothing would count as a change for the next publish) and the deployed code, if the code differs;
2. an alias serves other content: point it at the stack's version when that version holds the deployed content;
   otherwise publish a version from the (restored) $LATEST with the CodeSha256 precondition, so Lambda refuses to
   publish bytes other than the deployed ones, and point the alias at it, with the deployed routing.
Settings that cannot be changed in place (Architectures, PackageType) are reported, not touched. A repair that
would leave the mismatch as it is (Lambda returning an existing version that differs) is reported as not repaired,
never as done.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from strata.errors import StrataError
from strata.model.lambda_errors import is_not_found
from strata.model.routing import AliasRouting
from strata.verify.checker import RUNNABLE, content_findings
from strata.verify.model import ExpectedFunction, Finding, VerifyReport
from strata.verify.reader import LambdaRepairer
from strata.verify.settings import BY_NAME


class RepairError(StrataError):
    """A repair step was refused by Lambda."""


def repair(client: LambdaRepairer, functions: list[ExpectedFunction], report: VerifyReport, *,
           sleep: Callable[[float], None] = time.sleep) -> tuple[list[str], list[str]]:
    """Fix what ``report`` found; return (what was done, what could not be repaired), one line per action."""
    done: list[str] = []
    refused: list[str] = []
    by_function: dict[str, list[Finding]] = {}
    for finding in report.findings:
        by_function.setdefault(finding.function, []).append(finding)
    for function in functions:
        findings = by_function.get(function.logical_id)
        if findings:
            done += _repair_function(client, function, findings, sleep, refused)
    return done, refused


def _repair_function(client: LambdaRepairer, function: ExpectedFunction, findings: list[Finding],
                     sleep: Callable[[float], None], refused: list[str]) -> list[str]:
    done: list[str] = []
    for finding in (f for f in findings if f.setting == RUNNABLE):
        refused.append(f"{function.logical_id}: {finding.message} (a deploy refuses it too; the fix is in the "
                       "template or this machine, not in the deployed state)")
    findings = [f for f in findings if f.setting != RUNNABLE]
    latest = [f for f in findings if f.subject == "$LATEST"]
    if any(f.setting == "missing" for f in latest):
        return [f"{function.logical_id}: function {function.name} is missing; deploy the stack again to create it"]
    if latest:
        done += _restore_latest(client, function, latest, sleep)
    for finding in findings:
        if finding.subject.startswith("version ") and finding.setting == "missing":
            done.append(f"{function.logical_id}: {finding.subject} cannot be recreated (Lambda never reuses a version "
                        "number); remove its Version resource from the stack or deploy a change that publishes anew")
    aliases = sorted({f.subject.split(" ", 1)[1] for f in findings if f.subject.startswith("alias ")})
    for alias in (a for a in function.aliases if a.name in aliases):
        target = _deployed_version(client, function, alias.version)
        if target is None:
            published = client.publish_version(FunctionName=function.name,
                                               **({"CodeSha256": function.code_sha256} if function.code_sha256 else {}))
            target = str(published["Version"])
            still = content_findings(function, published, "", f"version {target} has", version=target)
            if still:
                # nothing changed in $LATEST since that version was published, so Lambda returned it as it is,
                # and a published version never changes: pointing the alias at it repairs nothing
                refused.append(f"{function.logical_id}: alias {alias.name}: Lambda returned the existing version "
                               f"{target} ({still[0].message.split(';')[0]}); a published version cannot change, "
                               "and publishing again returns it while $LATEST is unchanged: deploy a change to "
                               "publish a new version")
                continue
            done.append(f"{function.logical_id}: published version {target} from the deployed $LATEST")
        client.update_alias(FunctionName=function.name, Name=alias.name,
                            **AliasRouting(target, alias.routing.weights).to_api())
        done.append(f"{function.logical_id}: alias {alias.name} now serves version {target}"
                    + (f" with routing {alias.routing.weight_map()}" if alias.routing.weights else ""))
    return done


def _restore_latest(client: LambdaRepairer, function: ExpectedFunction, findings: list[Finding],
                    sleep: Callable[[float], None]) -> list[str]:
    done: list[str] = []
    names = {f.setting for f in findings}
    if "CodeSha256" in names:
        if not function.code_location:
            done.append(f"{function.logical_id}: $LATEST code differs and the deployed code location is unknown; "
                        "deploy again to restore it")
        else:
            client.update_function_code(FunctionName=function.name, **function.code_location)
            _wait_updated(client, function.name, sleep)
            done.append(f"{function.logical_id}: restored $LATEST code from s3://{function.code_location['S3Bucket']}/"
                        f"{function.code_location['S3Key']}")
    arguments: dict[str, Any] = {}
    for name in sorted(names - {"CodeSha256"}):
        setting = BY_NAME.get(name)
        if setting is None or setting.update is None:
            done.append(f"{function.logical_id}: $LATEST {name} cannot be changed in place; deploy again to replace it")
            continue
        arguments.update(setting.update(function.settings[name]))
    if arguments:
        client.update_function_configuration(FunctionName=function.name, **arguments)
        _wait_updated(client, function.name, sleep)
        done.append(f"{function.logical_id}: restored $LATEST {', '.join(sorted(arguments))}")
    return done


def _deployed_version(client: LambdaRepairer, function: ExpectedFunction, number: str | None) -> str | None:
    """``number`` when that version still exists and holds the deployed content, else None."""
    if not number or number == "$LATEST":
        return None
    try:
        configuration = client.get_function_configuration(FunctionName=function.name, Qualifier=number)
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise
    return number if not content_findings(function, configuration, "", "", version=number) else None


def _wait_updated(client: LambdaRepairer, name: str, sleep: Callable[[float], None], timeout: float = 300.0) -> None:
    """Lambda applies updates asynchronously on AWS: wait for LastUpdateStatus to leave InProgress."""
    waited = 0.0
    while True:
        configuration = client.get_function_configuration(FunctionName=name)
        status = configuration.get("LastUpdateStatus")
        if status in (None, "Successful"):
            return
        if status == "Failed":
            raise RepairError(f"Lambda could not update {name}: {configuration.get('LastUpdateStatusReason')}")
        if waited >= timeout:
            raise RepairError(f"{name} is still updating after {timeout:.0f} s", hint="run verify --repair again later")
        sleep(1.0)
        waited += 1.0
