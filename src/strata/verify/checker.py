"""Compare what each function serves with what was deployed: $LATEST, every alias, every version an alias routes to.

Contract: only reads (GetFunctionConfiguration, GetAlias). The same code runs for every target; the target only
decides which reader it gets. Content is what counts: an alias serving another version number whose code and
settings equal the deployed ones is a note, not a failure; any difference in code sha256, a layer version ARN or a
version-locked setting is a finding.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strata.model.lambda_errors import unless_not_found
from strata.model.naming import sha256_hex_of
from strata.model.routing import AliasRouting
from strata.verify.model import ExpectedAlias, ExpectedFunction, Finding, VerifyReport
from strata.verify.reader import LambdaReader
from strata.verify.settings import differences, live_settings

# why the target cannot run a function of this $LATEST configuration (None: it can); each target brings its own
CanRun = Callable[[dict[str, Any]], "str | None"]
RUNNABLE = "runnable"       # the Finding.setting of a function the target cannot run


def check(reader: LambdaReader, functions: list[ExpectedFunction], report: VerifyReport,
          can_run: CanRun | None = None) -> VerifyReport:
    """Add every finding for ``functions`` to ``report`` (and return it); ``can_run``: the target's answer to "can
    it run this function?" (its runtime, its interpreter), a finding when it cannot."""
    for function in functions:
        _check_function(reader, function, report, can_run)
    return report


def short_sha(code_sha256: str | None) -> str:
    """Lambda's base64 CodeSha256 -> first 12 hex digits (what ``strata build`` and the S3 keys show)."""
    if not code_sha256:
        return "(none)"
    try:
        return sha256_hex_of(code_sha256)[:12]
    except ValueError:
        return code_sha256[:12]


def content_findings(function: ExpectedFunction, configuration: dict[str, Any], subject: str,
                     phrase: str, *, version: str | None = None) -> list[Finding]:
    """Findings for one FunctionConfiguration; ``phrase`` starts each message ("$LATEST has", ...). ``version``: the
    number of the version ``configuration`` is (None for $LATEST): its description is compared with the one the
    stack published it with, $LATEST's with the function's."""
    found: list[Finding] = []
    expected_settings = function.settings_of(version)
    own = version is not None and version in function.version_descriptions
    live_code = configuration.get("CodeSha256")
    if function.code_sha256 and live_code != function.code_sha256:
        found.append(Finding(function.logical_id, function.name, subject, "CodeSha256",
                             f"{phrase} code sha256 {short_sha(live_code)}; the deployed code has sha256 "
                             f"{short_sha(function.code_sha256)}", live_code, function.code_sha256))
    live = live_settings(configuration)
    for name, expected in expected_settings.items():
        if live[name] == expected:
            continue
        verb = "uses" if name == "Layers" else "has"
        for served, deployed in differences(name, live[name], expected):
            said = f"the stack published it with {deployed}" if own and name == "Description" \
                else f"the deployed configuration {verb} {deployed}"
            found.append(Finding(function.logical_id, function.name, subject, name, f"{phrase} {served}; {said}",
                                 live[name], expected))
    return found


def _check_function(reader: LambdaReader, function: ExpectedFunction, report: VerifyReport,
                    can_run: CanRun | None = None) -> None:
    latest = unless_not_found(reader.get_function_configuration, FunctionName=function.name)
    if latest is None:
        report.findings.append(Finding(function.logical_id, function.name, "$LATEST", "missing",
                                       f"function {function.name} does not exist; the stack deployed it"))
        return
    report.findings.extend(content_findings(function, latest, "$LATEST", "$LATEST has"))
    cannot = can_run(latest) if can_run is not None else None
    if cannot is not None:
        report.findings.append(Finding(function.logical_id, function.name, "$LATEST", RUNNABLE,
                                       f"the {report.target} target cannot run it: {cannot}",
                                       latest.get("Runtime") or latest.get("PackageType")))
    seen: dict[str, dict[str, Any] | None] = {}
    routed: set[str] = set()
    checked = ["$LATEST"]
    for alias in function.aliases:
        routes = _check_alias(reader, function, alias, report, seen)
        routed.update(routes)
        checked.append(f"alias {alias.name} -> {', '.join(routes) or '?'}")
    for number in function.versions:
        if number in routed:
            continue
        configuration = _version(reader, function, number, seen)
        checked.append(f"version {number}")
        if configuration is None:
            report.findings.append(Finding(function.logical_id, function.name, f"version {number}", "missing",
                                           f"version {number}, which the stack published, no longer exists"))
            continue
        report.findings.extend(content_findings(function, configuration, f"version {number}",
                                                f"version {number} has", version=number))
    if function.unchecked:
        report.notes.append(f"{function.logical_id}: not checked (unknown until deploy): "
                            f"{', '.join(function.unchecked)}")
    report.checked.append(f"{function.logical_id} ({function.name}): {'; '.join(checked)}")


def _check_alias(reader: LambdaReader, function: ExpectedFunction, alias: ExpectedAlias, report: VerifyReport,
                 seen: dict[str, dict[str, Any] | None]) -> list[str]:
    subject = f"alias {alias.name}"
    live = unless_not_found(reader.get_alias, FunctionName=function.name, Name=alias.name)
    if live is None:
        report.findings.append(Finding(function.logical_id, function.name, subject, "missing",
                                       f"alias {alias.name} does not exist; the stack deployed it"
                                       + (f" serving version {alias.version}" if alias.version else "")))
        return []
    served = AliasRouting.from_api(live)
    primary = served.primary
    if served.weights != alias.routing.weights:
        deployed = AliasRouting(alias.version or primary, alias.routing.weights)
        report.findings.append(Finding(
            function.logical_id, function.name, subject, "RoutingConfig",
            f"alias {alias.name} routes {served.words()}; the deployed configuration routes {deployed.words()}",
            served.weight_map(), alias.routing.weight_map()))
    routes = served.versions()
    for number in routes:
        phrase = f"alias {alias.name} serves version {number} with"
        if number == "$LATEST":
            report.notes.append(f"{function.logical_id}: alias {alias.name} serves $LATEST (checked as $LATEST)")
            continue
        configuration = _version(reader, function, number, seen)
        if configuration is None:
            report.findings.append(Finding(function.logical_id, function.name, subject, "missing",
                                           f"alias {alias.name} routes to version {number}, which does not exist"))
            continue
        content = content_findings(function, configuration, subject, phrase, version=number)
        deployed_number = alias.version if number == primary else number
        if number == primary and alias.version and primary != alias.version:
            if content:
                report.findings.append(Finding(
                    function.logical_id, function.name, subject, "FunctionVersion",
                    f"alias {alias.name} serves version {primary}; the stack deployed version {alias.version}",
                    primary, alias.version))
            else:
                report.notes.append(f"{function.logical_id}: alias {alias.name} serves version {primary}, not the "
                                    f"stack's version {deployed_number}, with the deployed code and configuration")
        report.findings.extend(content)
    return routes


def _version(reader: LambdaReader, function: ExpectedFunction, number: str,
             seen: dict[str, dict[str, Any] | None]) -> dict[str, Any] | None:
    if number not in seen:
        seen[number] = unless_not_found(reader.get_function_configuration, FunctionName=function.name,
                                        Qualifier=number)
    return seen[number]


__all__ = ["check", "content_findings", "short_sha"]
