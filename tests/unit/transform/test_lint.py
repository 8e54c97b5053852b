"""cfn-lint through ``strata.transform.lint``: findings with their rule, level and path, placed by strata's marks;
errors are validate's problems, warnings apart; a lint that cannot run is a problem, not a silent pass."""
from __future__ import annotations

from pathlib import Path

import pytest

from strata.transform import lint
from strata.transform.lint import LintFinding, LintJob, as_strata_reads, lint_findings
from strata.transform.validate import run_validation

CASES = (Path(__file__).resolve().parents[2] / "data" / "lint-cases" / "template.yaml").read_text()  # issue 20's


def test_findings_name_rule_level_and_path() -> None:
    from strata.template.load import load_template_text

    findings = lint_findings(load_template_text(CASES).data, "eu-west-1")
    assert [(f.rule, f.level, f.path) for f in findings] == [
        ("E3002", "error", ("Resources", "Queue", "Properties", "VisibilityTimeoutt")),
        ("E3034", "error", ("Resources", "Queue", "Properties", "MessageRetentionPeriod")),
        ("E3034", "error", ("Resources", "Fn", "Properties", "MemorySize")),
    ]
    assert "Did you mean 'VisibilityTimeout'?" in findings[0].message


def test_a_region_cfn_lint_does_not_know_falls_back() -> None:
    assert [f.rule for f in lint_findings({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}, "xx-nowhere-1")] == []


def test_a_sam_template_without_transform_is_linted_as_sam() -> None:
    data = {"Resources": {"Fn": {"Type": "AWS::Serverless::Function"}}}
    assert as_strata_reads(data) == {"Transform": "AWS::Serverless-2016-10-31", **data}
    plain = {"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}
    assert as_strata_reads(plain) is plain


def test_every_dropped_rule_says_why() -> None:
    assert all(reason.strip() for reason in lint.DROPPED_RULES.values())


def test_validation_places_lint_errors_and_keeps_warnings_apart(tmp_path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "template.yaml").write_text(CASES)
    result = run_validation(str(tmp_path / "template.yaml"), {}, lint=True)
    assert [(p.location.line, p.location.column, p.location.logical_id, p.message.split()[0])
            for p in result.problems if p.location] == [(6, 7, "Queue", "E3002"), (7, 7, "Queue", "E3034"),
                                                        (14, 7, "Fn", "E3034")]
    assert result.warnings == []
    (tmp_path / "plain.yaml").write_text("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n"
                                         "    Properties: {QueueName: !Sub q}\n")
    result = run_validation(str(tmp_path / "plain.yaml"), {}, lint=True)
    assert result.valid and [w.message.split()[0] for w in result.warnings] == ["W1020"]
    assert not run_validation(str(tmp_path / "template.yaml"), {}, lint=False).problems


def test_a_lint_that_cannot_run_is_a_problem(tmp_path, monkeypatch) -> None:
    (tmp_path / "t.yaml").write_text("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n")
    monkeypatch.setattr(LintJob, "result", lambda self: ([], "ModuleNotFoundError: No module named 'cfnlint'"))
    result = run_validation(str(tmp_path / "t.yaml"), {}, lint=True)
    assert [p.message for p in result.problems] == [
        "cfn-lint could not run: ModuleNotFoundError: No module named 'cfnlint'"]


def test_findings_round_trip_through_the_child_protocol() -> None:
    finding = LintFinding("W1020", "warning", "not needed", ("Resources", "Q", "Properties", 0))
    assert LintFinding.from_json(finding.to_json()) == finding


def test_where_cfn_lint_is_loaded_the_job_runs_in_process(monkeypatch) -> None:
    lint.warm()
    monkeypatch.setattr(lint.subprocess, "Popen", lambda *a, **k: pytest.fail("a child was started"))
    job = LintJob({"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"DelaySeconds": 9999}}}},
                  "us-east-1")
    findings, failure = job.result()
    assert failure is None and [f.rule for f in findings] == ["E3034"]
