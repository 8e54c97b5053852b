"""samconfig.toml reaches the local target: its stack_name and parameter_overrides shape what ``strata deploy``
deploys (as they do for ``--target aws``), a ``--parameter-overrides`` flag wins per key, and the verbs that act on
the deployed stack find it by the same name."""
from __future__ import annotations

import json

from deploy_helpers import copy_app, strata

SAMCONFIG = """\
version = 0.1
[default.deploy.parameters]
stack_name = "from-config"
parameter_overrides = "Greeting=Howdy Stage=prod"
"""


def _hello(app, home) -> dict:
    done = strata(app, home, "invoke", "HelloFunction:live", "--stack-name", "from-config")
    return json.loads(done.stdout)


def test_samconfig_parameter_overrides_and_stack_name_reach_the_local_target(tmp_path):
    app, home = copy_app(tmp_path / "demo"), tmp_path / "home"
    (app / "samconfig.toml").write_text(SAMCONFIG)
    out = strata(app, home, "deploy").stdout
    assert "Stack from-config deployed." in out
    answer = _hello(app, home)
    assert (answer["message"], answer["stage"]) == ("Howdy, world!", "prod")
    info = json.loads(strata(app, home, "describe", "--output", "json").stdout)
    assert info["StackName"] == "from-config"

    out = strata(app, home, "deploy", "--parameter-overrides", "Greeting=Hi").stdout
    assert "Stack from-config deployed." in out
    answer = _hello(app, home)
    assert (answer["message"], answer["stage"]) == ("Hi, world!", "prod")      # the flag wins, per key
    assert "OK: every function serves what was deployed." in strata(app, home, "verify").stdout
