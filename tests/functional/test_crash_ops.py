"""``strata rollback`` / ``strata prune`` killed with SIGKILL at a journal point (``STRATA_CRASH_AT=<point>:<n>``: the
process ``os._exit``s there, as SIGKILL), then any command that opens the stack: the alias as ``strata invoke
NAME:live`` serves it, the stack's alias record, the rollback pin and the alias history agree."""
from __future__ import annotations

import json
import shutil

import pytest
from deploy_helpers import change_layer, copy_app, describe, env_for, service_snapshot, strata


@pytest.fixture(scope="module")
def released_twice(tmp_path_factory):
    """The layered app deployed twice (alias live -> version 2)."""
    base = tmp_path_factory.mktemp("crash-ops")
    app, home = copy_app(base / "work" / "demo"), base / "work" / "home"
    strata(app, home, "deploy")
    change_layer(app, 2)
    strata(app, home, "deploy")
    return base / "work"


def _fresh(released_twice, tmp_path):
    shutil.copytree(released_twice, tmp_path / "w", symlinks=True)
    return tmp_path / "w" / "demo", tmp_path / "w" / "home"


def agreement(app, home) -> dict:
    """What the service serves for HelloFunction:live and what the stack state says about that alias."""
    from strata.local.engine.history import AliasHistory
    from strata.local.engine.state import StackState

    served = json.loads(strata(app, home, "invoke", "HelloFunction:live", "--stack-name", "demo").stdout)
    info = describe(app, home)
    name = info["Functions"]["HelloFunction"]["FunctionName"]
    state = StackState(home)
    try:
        history = AliasHistory(state.db)
        pins = {p.alias: p.version for p in history.pins("demo").values()}
        moves = history.moves(name, "live")
        return {"served": served["function_version"], "recorded": info["Functions"]["HelloFunction"]["Aliases"][0][
                "FunctionVersion"], "pin": pins.get("live"), "last_move": moves[-1].to_version,
                "rollbacks": [(m.from_version, m.to_version) for m in moves if m.cause == "rollback"],
                "interrupted": info["Interrupted"]}
    finally:
        state.close()


# (journal point, the command run next): each point of `strata rollback`, each followed by a command that opens the
# stack; killed before the intent nothing moved (the rollback is dropped), after it the rollback is completed
CASES = [("before-intent", "verify"), ("after-intent", "deploy"), ("after-call", "verify"), ("after-call", "deploy"),
         ("after-call", "rollback"), ("after-done", "verify")]


@pytest.mark.parametrize("point,follow_up", CASES)
def test_sigkill_in_rollback_then_any_command(released_twice, tmp_path, point, follow_up):
    app, home = _fresh(released_twice, tmp_path)
    crashed = strata(app, home, "rollback", "HelloFunction", check=False,
                     env=env_for(home, STRATA_CRASH_AT=f"{point}:1"))
    assert crashed.returncode == 137, f"{point} was not reached:\n{crashed.stdout}\n{crashed.stderr}"
    out = strata(app, home, *([follow_up, "HelloFunction"] if follow_up == "rollback" else [follow_up])).stdout
    rolled_back = point != "before-intent" or follow_up == "rollback"
    if follow_up == "rollback" and point != "before-intent":
        assert "Completed the interrupted rollback of alias live" in out and "version 2 -> 1" in out
    seen = agreement(app, home)
    version = "1" if rolled_back else "2"
    assert seen == {"served": version, "recorded": version, "pin": version if rolled_back else None,
                    "last_move": version, "rollbacks": [("2", "1")] if rolled_back else [], "interrupted": False}
    strata(app, home, "verify")


@pytest.mark.parametrize("point", ["after-intent", "after-call"])
def test_sigkill_in_prune_then_any_command(released_twice, tmp_path, point):
    app, home = _fresh(released_twice, tmp_path)
    hello = describe(app, home)["Functions"]["HelloFunction"]["FunctionName"]
    crashed = strata(app, home, "prune", "--keep", "1", "--include-layers", check=False,
                     env=env_for(home, STRATA_CRASH_AT=f"{point}:1"))
    assert crashed.returncode == 137, f"{point} was not reached:\n{crashed.stdout}\n{crashed.stderr}"
    out = strata(app, home, "verify").stdout          # completes the interrupted prune, then verifies
    assert "Completed the interrupted prune of stack demo" in out
    assert describe(app, home)["Interrupted"] is False
    assert sorted(service_snapshot(home)["functions"][hello]["versions"]) == ["$LATEST", "2"]
    strata(app, home, "prune", "--keep", "1", "--include-layers")
    assert service_snapshot(home)["layers"]["shared-dev"] == [2]
    seen = agreement(app, home)
    assert (seen["served"], seen["recorded"], seen["pin"], seen["interrupted"]) == ("2", "2", None, False)
    assert "No changes" in strata(app, home, "deploy").stdout
