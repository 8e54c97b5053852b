"""strata rollback and strata prune through the real CLI on the layered example app (own STRATA_HOME)."""
from __future__ import annotations

import json

from deploy_helpers import change_layer, copy_app, describe, service_snapshot, strata


def test_rollback_pin_force_and_prune_through_the_cli(tmp_path):
    app, home = copy_app(tmp_path / "demo"), tmp_path / "home"
    strata(app, home, "deploy")
    change_layer(app, 2)
    strata(app, home, "deploy")

    out = strata(app, home, "rollback", "HelloFunction").stdout
    assert "Rolled back alias live of HelloFunction" in out and "version 2 -> 1" in out
    assert "pinned" in out and "MISMATCH" not in out
    served = json.loads(strata(app, home, "invoke", "HelloFunction:live", "--stack-name", "demo").stdout)
    assert served["function_version"] == "1" and served["layer_revision"] == 1

    change_layer(app, 3)
    pinned = strata(app, home, "deploy").stdout
    assert "pinned by rollback to version 1 (strata deploy --force moves it forward)" in pinned
    assert describe(app, home)["Functions"]["HelloFunction"]["Aliases"][0]["FunctionVersion"] == "1"
    assert "pinned" in strata(app, home, "verify").stdout

    strata(app, home, "deploy", "--force")
    hello = describe(app, home)["Functions"]["HelloFunction"]
    assert hello["Aliases"][0]["FunctionVersion"] == "3"

    dry = json.loads(strata(app, home, "prune", "--keep", "1", "--include-layers", "--dry-run",
                            "--output", "json").stdout)
    doomed = sorted((i["Kind"], i["Name"], i["Version"]) for i in dry["Deleted"])
    assert doomed == [("function", hello["FunctionName"], "1"), ("function", hello["FunctionName"], "2"),
                      ("layer", "shared-dev", "1"), ("layer", "shared-dev", "2")]
    assert dry["BytesFreed"] > 0
    real = strata(app, home, "prune", "--keep", "1", "--include-layers").stdout
    assert "Freed" in real and f"({dry['BytesFreed']} bytes)" in real
    service = service_snapshot(home)
    assert sorted(service["functions"][hello["FunctionName"]]["versions"]) == ["$LATEST", "3"]
    assert service["layers"]["shared-dev"] == [3]
    strata(app, home, "verify")                                  # exit 0: the pruned stack still verifies
    refused = strata(app, home, "rollback", "HelloFunction", check=False)
    assert refused.returncode == 1 and "no earlier version" in refused.stderr


def test_automatic_prune_after_deploy_from_samconfig(tmp_path):
    app, home = copy_app(tmp_path / "demo"), tmp_path / "home"
    (app / "samconfig.toml").write_text('version = 0.1\n[default.deploy.parameters]\nstrata_prune_keep = 1\n')
    strata(app, home, "deploy")
    change_layer(app, 2)
    out = strata(app, home, "deploy").stdout
    assert "Automatic prune (samconfig.toml strata_prune_keep)" in out
    hello = describe(app, home)["Functions"]["HelloFunction"]["FunctionName"]
    assert sorted(service_snapshot(home)["functions"][hello]["versions"]) == ["$LATEST", "2"]
    strata(app, home, "verify")
