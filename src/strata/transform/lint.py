"""cfn-lint's findings on a template, each placed at the template's file:line:column through strata's own marks.

Contract: reads the loaded template only, offline (cfn-lint validates against the resource schemas in its wheel) and
changes nothing. cfn-lint checks SAM resources against SAM's schemas with ``Globals`` merged, and plain CloudFormation
resources against the provider schemas, as ``sam validate --lint`` does; it is given the template as strata loaded it
(short tags in their long form), and each finding's path (``Resources/Queue/Properties/VisibilityTimeoutt``) is
placed by ``Template.locate``, so findings read like every other strata problem.

Cost: cfn-lint imports in ~0.6 s and loads its rules in ~0.4 s (decoding their JSON data), ~75% of what ``sam
validate --lint`` takes. ``start_lint`` runs it in a child interpreter while ``strata validate`` runs its own checks,
so the two overlap; where cfn-lint is already loaded (``strata daemon`` loads it once, ``warm``) it runs in process
with its rules loaded. ``lint_findings`` is the in-process call. ``cfnlint`` is imported only inside
``lint_findings``: ``plan`` and ``deploy`` never load it (a test checks).

Levels follow cfn-lint's: an ``E`` rule is an error (validate exits 1), a ``W`` rule a warning (shown, exit 0);
informational rules are not run (cfn-lint's default).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from strata.errors import Problem

# cfn-lint rules strata does not run, each with the reason. Empty today: every finding cfn-lint makes on a template
# strata deploys is one AWS would make too (the local target records what it does not emulate and `plan` says so).
DROPPED_RULES: dict[str, str] = {}
# the region cfn-lint checks against when strata's is one cfn-lint does not know (a new or private region)
_FALLBACK_REGION = "us-east-1"


@dataclass(frozen=True)
class LintFinding:
    """One cfn-lint finding: its rule id (E3002), level ("error" or "warning"), message and path in the template."""

    rule: str
    level: str
    message: str
    path: tuple[str | int, ...]

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "level": self.level, "message": self.message, "path": list(self.path)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LintFinding:
        return cls(str(data["rule"]), str(data["level"]), str(data["message"]), tuple(data["path"]))


_runners: dict[str, Any] = {}     # region -> cfn-lint Runner, its rules loaded once per process


def lint_findings(data: dict[str, Any], region: str) -> list[LintFinding]:
    """Run cfn-lint's error and warning rules on ``data`` (a loaded template) for ``region``."""
    from cfnlint.config import ConfigMixIn
    from cfnlint.helpers import REGIONS
    from cfnlint.runner import Runner

    region = region if region in REGIONS else _FALLBACK_REGION
    runner = _runners.get(region)
    if runner is None:
        runner = _runners[region] = Runner(ConfigMixIn([], regions=[region], ignore_checks=sorted(DROPPED_RULES)))
    findings = []
    for match in runner.validate_template(as_strata_reads(data)):
        rule = str(match.rule.id)
        level = "error" if rule.startswith("E") else "warning" if rule.startswith("W") else "info"
        if level == "info":
            continue
        path = tuple(p if isinstance(p, int) else str(p) for p in getattr(match, "path", None) or ())
        findings.append(LintFinding(rule, level, str(match.message), path))
    return findings


# what ``warm`` lints once: the resource types most templates use, so their schemas are loaded too
_WARM_TEMPLATE: dict[str, Any] = {"Transform": "AWS::Serverless-2016-10-31", "Resources": {
    "Fn": {"Type": "AWS::Serverless::Function",
           "Properties": {"CodeUri": "src/", "Handler": "app.handler", "Runtime": "python3.12"}},
    "Layer": {"Type": "AWS::Serverless::LayerVersion", "Properties": {"ContentUri": "layer/"}},
    "Api": {"Type": "AWS::Serverless::Api", "Properties": {"StageName": "prod"}},
    "Plain": {"Type": "AWS::Lambda::Function",
              "Properties": {"Handler": "a.h", "Runtime": "python3.12", "Role": "arn:aws:iam::123456789012:role/r",
                             "Code": {"ZipFile": "x"}}},
    "Queue": {"Type": "AWS::SQS::Queue"}, "Topic": {"Type": "AWS::SNS::Topic"}, "Bucket": {"Type": "AWS::S3::Bucket"},
}}


def warm(region: str = _FALLBACK_REGION) -> None:
    """Import cfn-lint, load its rules for ``region`` and the schemas of common types (``strata daemon`` calls it
    once, so every validate it forks lints in process, warm)."""
    lint_findings(_WARM_TEMPLATE, region)


def as_strata_reads(data: dict[str, Any]) -> dict[str, Any]:
    """The template as strata deploys it: one with ``AWS::Serverless::`` resources and no ``Transform`` is SAM
    (``strata.transform.sam.is_sam_template``), so cfn-lint is told so rather than refusing the SAM types (E3038)."""
    from strata.transform.sam import SAM_TRANSFORM, is_sam_template

    if "Transform" in data or not is_sam_template(data):
        return data
    return {"Transform": SAM_TRANSFORM, **data}


class LintJob:
    """cfn-lint running in a child interpreter (or in this one when cfn-lint is already loaded here, as in a warm
    process); ``result`` waits for it."""

    def __init__(self, data: dict[str, Any], region: str) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        if "cfnlint" in sys.modules:           # warm: its imports and rules are paid for, the child would pay again
            self._findings: list[LintFinding] | None = lint_findings(data, region)
            return
        self._findings = None
        source = str(Path(__file__).resolve().parents[2])       # the folder that holds the strata package
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (source, os.environ.get("PYTHONPATH")) if p))
        self._payload = json.dumps({"template": data, "region": region}, default=str).encode()
        self._process = subprocess.Popen([sys.executable, "-m", "strata.transform.lint"], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)

    def result(self) -> tuple[list[LintFinding], str | None]:
        """The findings, or an empty list and why cfn-lint could not run."""
        if self._process is None:
            return list(self._findings or ()), None
        out, err = self._process.communicate(self._payload)
        if self._process.returncode != 0:
            lines = err.decode(errors="replace").strip().splitlines()
            return [], lines[-1] if lines else f"exit status {self._process.returncode}"
        return [LintFinding.from_json(item) for item in json.loads(out)], None


def start_lint(data: dict[str, Any], region: str) -> LintJob:
    """Start cfn-lint on ``data`` in a child interpreter, so the caller's own checks run meanwhile."""
    return LintJob(data, region)


def as_problem(finding: LintFinding, template: Any) -> Problem:
    """The finding as a strata problem at the template's file:line:column, the rule id and cfn-lint named."""
    return Problem(f"{finding.rule} {finding.message} (cfn-lint)", template.locate(finding.path))


def _child() -> None:
    """``python -m strata.transform.lint``: a JSON request on stdin, the findings as JSON on stdout."""
    request = json.load(sys.stdin.buffer)
    findings = lint_findings(request["template"], request["region"])
    sys.stdout.write(json.dumps([f.to_json() for f in findings]))


if __name__ == "__main__":
    _child()
