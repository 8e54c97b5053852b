"""Interrupted deploys: a crash at any journal point, then the next deploy, ends exactly where an uninterrupted
deploy ends (stack state and what the Lambda service holds, version numbers included).

The crash is simulated in-process by raising a BaseException at the point (uncommitted transactions are lost and
the lock released, as when the process dies); ``tests/functional/test_crash_deploy.py`` does it with SIGKILL."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from engine_helpers import handler_code, layer_code, result, service_snapshot, stack_snapshot
from strata_testkit import SimulatedCrash, crash_at

from strata.local.engine.api import Engine
from strata.local.engine.journal import CrashPoints


def template(home: Path, step: int) -> dict:
    """Deploy 1 creates; 2 changes the layer (replace, update, publish, alias move); 3 renames the function
    (replace function, version and alias); 4 removes a function."""
    layer = "a" if step < 2 else "b"
    fn_name = "fn-one" if step < 3 else "fn-two"
    version_id = {1: "VerA", 2: "VerB", 3: "VerC", 4: "VerC"}[step]
    resources = {
        "Shared": {"Type": "AWS::Lambda::LayerVersion",
                   "Properties": {"LayerName": "shared", "Content": layer_code(home, layer)}},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
            "FunctionName": fn_name, "Handler": "app.handler", "Runtime": "python3.12", "Timeout": 3 + step,
            "Role": "arn:aws:iam::123456789012:role/r", "Code": handler_code(home, "x"),
            "Layers": [{"Ref": "Shared"}], "ReservedConcurrentExecutions": 5}},
        version_id: {"Type": "AWS::Lambda::Version", "Properties": {"FunctionName": {"Ref": "Fn"}}},
        "Live": {"Type": "AWS::Lambda::Alias", "Properties": {
            "FunctionName": {"Ref": "Fn"}, "Name": "live", "FunctionVersion": {"Fn::GetAtt": [version_id, "Version"]}}},
    }
    if step < 4:
        resources["Plain"] = {"Type": "AWS::Lambda::Function", "Properties": {
            "FunctionName": "plain", "Handler": "app.handler", "Runtime": "python3.12",
            "Role": "arn:aws:iam::123456789012:role/r", "Code": handler_code(home, "p")}}
    return {"Resources": resources, "Outputs": {"V": {"Value": {"Fn::GetAtt": [version_id, "Version"]}}}}


def _run(home: Path, step: int, crash: CrashPoints | None = None):
    engine = Engine(home, crash=crash or crash_at())
    try:
        return engine.deploy("s", result(template(home, step)))
    finally:
        engine.close()


def _observe(home: Path) -> tuple[dict, dict]:
    engine = Engine(home)
    try:
        return stack_snapshot(engine, "s"), service_snapshot(engine.client)
    finally:
        engine.close()


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """For each step k: a home with steps 1..k-1 applied, the crash points step k passes, and its end state."""
    base = tmp_path_factory.mktemp("recovery")
    out = {}
    for step in (1, 2, 3, 4):
        before = base / f"before-{step}"
        if step == 1:
            before.mkdir()
        else:
            shutil.copytree(base / f"after-{step - 1}", before)
        after = base / f"after-{step}"
        shutil.copytree(before, after)
        counter = crash_at()
        assert _run(after, step, counter).status == "complete"
        out[step] = (before, dict(counter.seen), _observe(after))
    return out


def _cases():
    # (step, point, nth): every point of every step would be ~150 runs; take each point's first, middle and last
    # occurrence, which covers create, update, replace, delete and cleanup paths.
    return [(step, point) for step in (1, 2, 3, 4) for point in
            ("before-intent", "after-intent", "mid-call", "after-call", "after-done", "before-cleanup",
             "before-complete")]


@pytest.mark.parametrize("step,point", _cases())
def test_crash_then_redeploy_ends_like_an_uninterrupted_deploy(prepared, tmp_path, step, point):
    before, seen, expected = prepared[step]
    total = seen.get(point, 0)
    if not total:
        pytest.skip(f"step {step} never reaches {point}")
    for nth in sorted({1, (total + 1) // 2, total}):
        home = tmp_path / f"{point}-{nth}"
        shutil.copytree(before, home)
        with pytest.raises(SimulatedCrash):
            _run(home, step, crash_at(point, nth))
        report = _run(home, step)
        assert report.status in ("complete", "no-changes"), report.error
        assert _observe(home) == expected, f"crash at {point}:{nth} of step {step}"
