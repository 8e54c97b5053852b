"""A deploy killed with SIGKILL at any moment ends, after the next ``strata deploy``, in the same state as an
uninterrupted deploy: stack resources, versions (numbers included), aliases and layers as the service reports them.

Kill points come from the journal (``STRATA_CRASH_AT=<point>:<n>``: the process ``os._exit``s there, as SIGKILL)
across a create, an update (layer content changed: new layer version, function update, publish, alias move) and a
replace (FunctionName set: new function, version, alias; the old ones deleted), plus kills at random moments."""
from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import time

import pytest
from deploy_helpers import STRATA, change_layer, copy_app, edit_template, env_for, stack_view, strata


def apply_step(app, step: int) -> None:
    """Make the app what deploy ``step`` deploys (steps are cumulative)."""
    if step >= 2:
        change_layer(app, 2)
    if step >= 3:
        edit_template(app, "      CodeUri: src/hello\n",
                      "      CodeUri: src/hello\n      FunctionName: hello-renamed\n")


# (step, point, n): 21 kill points across create (1), update (2) and replace (3)
POINTS = [
    (1, "after-intent", 1), (1, "after-call", 3), (1, "after-intent", 5), (1, "after-done", 6),
    (1, "before-complete", 1),
    (2, "after-intent", 1), (2, "after-call", 1), (2, "mid-call", 1), (2, "after-call", 2), (2, "after-call", 3),
    (2, "after-done", 3), (2, "before-cleanup", 1), (2, "after-call", 4),
    (3, "after-intent", 1), (3, "after-call", 1), (3, "after-call", 2), (3, "after-call", 3),
    (3, "before-cleanup", 1), (3, "after-intent", 5), (3, "after-call", 5), (3, "after-done", 4),
]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """Per step: (app, home) with the previous steps deployed, and the view after deploying the step."""
    base = tmp_path_factory.mktemp("crash")
    app, home = copy_app(base / "work" / "crashapp"), base / "work" / "home"
    out = {}
    for step in (1, 2, 3):
        apply_step(app, step)
        before = base / f"before-{step}"
        shutil.copytree(base / "work", before, symlinks=True)
        strata(app, home, "deploy")
        out[step] = (before, stack_view(app, home))
    return out


def _fresh(prepared, step, dest):
    before, expected = prepared[step]
    shutil.copytree(before, dest, symlinks=True)
    return dest / "crashapp", dest / "home", expected


@pytest.mark.parametrize("step,point,nth", POINTS)
def test_sigkill_at_a_journal_point_then_redeploy(prepared, tmp_path, step, point, nth):
    app, home, expected = _fresh(prepared, step, tmp_path / "w")
    crashed = strata(app, home, "deploy", check=False, env=env_for(home, STRATA_CRASH_AT=f"{point}:{nth}"))
    assert crashed.returncode == 137, f"{point}:{nth} was not reached:\n{crashed.stdout}\n{crashed.stderr}"
    strata(app, home, "deploy")
    assert stack_view(app, home) == expected


@pytest.mark.parametrize("seed", range(3))
def test_sigkill_at_a_random_moment_then_redeploy(prepared, tmp_path, seed):
    rng = random.Random(seed)
    step = 1 + seed % 3
    app, home, expected = _fresh(prepared, step, tmp_path / "w")
    strata(app, home, "plan")             # build and translate first, so the kill lands in the deploy itself
    proc = subprocess.Popen([STRATA, "deploy"], cwd=app, env=env_for(home), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    time.sleep(rng.uniform(0.25, 0.6))
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    strata(app, home, "deploy")
    assert stack_view(app, home) == expected
