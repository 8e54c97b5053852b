"""SAM's parameter rules on the local target, through the real ``strata`` executable: a parameter not passed again
keeps the value of the previous deploy (``sam deploy`` sends UsePreviousValue), ``--parameter-overrides`` takes every
form SAM CLI takes (``A=1 B=2`` as separate arguments, JSON, ``file://``), and a NoEcho value appears in no output
of any command and in no state file but the 0600 state database."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from deploy_helpers import strata

APP = Path(__file__).resolve().parents[1] / "data" / "noecho-app"
SECRET = "Sup3rSecretXyz"
OTHER = "Other5ecretAbc"


def _app(tmp_path: Path) -> tuple[Path, Path]:
    app = tmp_path / "noecho"
    shutil.copytree(APP, app)
    return app, tmp_path / "home"


def _answer(app: Path, home: Path) -> dict:
    return json.loads(strata(app, home, "invoke", "Fn:live", "--stack-name", "noecho").stdout)


def test_parameters_not_given_keep_the_previous_deploys_values(tmp_path):
    app, home = _app(tmp_path)
    strata(app, home, "deploy", "--parameter-overrides", f"ApiKey={SECRET}", "Stage=prod")   # unquoted, SAM's way
    assert _answer(app, home) == {"stage": "prod", "keylen": len(SECRET)}
    out = strata(app, home, "plan").stdout             # ApiKey has no Default: the previous value is used
    assert "No changes: stack noecho is up to date." in out
    strata(app, home, "deploy", "--parameter-overrides", '{"ApiKey": "abc"}')      # JSON: Stage stays prod
    assert _answer(app, home) == {"stage": "prod", "keylen": 3}
    (app / "params.json").write_text(json.dumps([{"ParameterKey": "Stage", "ParameterValue": "qa"}]))
    strata(app, home, "deploy", "--parameter-overrides", "file://params.json")
    assert _answer(app, home) == {"stage": "qa", "keylen": 3}
    info = json.loads(strata(app, home, "describe", "--output", "json").stdout)
    assert info["Parameters"] == {"ApiKey": "****", "Stage": "qa"}


def test_invoke_and_logs_default_the_stack_as_deploy_does(tmp_path):
    app, home = _app(tmp_path)
    strata(app, home, "deploy", "--parameter-overrides", f"ApiKey={SECRET}")
    assert json.loads(strata(app, home, "invoke", "Fn:live").stdout) == {"stage": "dev", "keylen": len(SECRET)}
    assert "REPORT RequestId" in strata(app, home, "logs", "Fn:live").stdout


def test_describe_lists_retained_versions(tmp_path):
    app, home = _app(tmp_path)
    strata(app, home, "deploy", "--parameter-overrides", f"ApiKey={SECRET}")
    strata(app, home, "deploy", "--parameter-overrides", "Stage=prod")
    out = strata(app, home, "describe").stdout
    assert "versions 1 (retained), 2" in out
    versions = json.loads(strata(app, home, "describe", "--output", "json").stdout)["Functions"]["Fn"]["Versions"]
    assert [(v["Version"], v.get("Retained", False)) for v in versions] == [("1", True), ("2", False)]


def test_adding_auto_publish_alias_publishes_the_first_version_without_a_false_warning(tmp_path):
    app, home = _app(tmp_path)
    template = app / "template.yaml"
    text = template.read_text()
    template.write_text(text.replace("      AutoPublishAlias: live\n", ""))
    strata(app, home, "deploy", "--parameter-overrides", f"ApiKey={SECRET}")
    template.write_text(text)
    done = strata(app, home, "deploy")
    assert "publish the first version of Fn" in done.stdout
    assert "version exists" not in done.stdout + done.stderr
    assert _answer(app, home) == {"stage": "dev", "keylen": len(SECRET)}


def test_a_no_echo_value_appears_in_no_output_and_no_plain_state_file(tmp_path):
    app, home = _app(tmp_path)
    seen: list[str] = []

    def run(*args: str) -> None:
        done = strata(app, home, *args)
        seen.append(f"$ strata {args[0]}\n{done.stdout}\n{done.stderr}")

    run("validate", "--parameter-overrides", f"ApiKey={SECRET}")
    run("transform", "--explain", "--parameter-overrides", f"ApiKey={SECRET}")
    run("transform", "--explain", "--output", "json", "--parameter-overrides", f"ApiKey={SECRET}")
    run("plan", "--parameter-overrides", f"ApiKey={SECRET}")
    run("deploy", "--parameter-overrides", f"ApiKey={SECRET}")
    run("plan", "--parameter-overrides", f"ApiKey={OTHER}")
    run("plan", "--output", "json", "--parameter-overrides", f"ApiKey={OTHER}")
    run("deploy", "--output", "json", "--parameter-overrides", f"ApiKey={OTHER}")
    run("deploy", "--parameter-overrides", f"ApiKey={SECRET}")
    for args in (("describe",), ("describe", "--output", "json"), ("events",), ("events", "--output", "json"),
                 ("verify",), ("stacks",)):
        run(*args)
    text = "\n".join(seen)
    assert "****" in text
    for secret in (SECRET, OTHER):
        assert secret not in text, text
    for path in [*home.rglob("*"), *app.rglob("*")]:
        if path.is_file() and not path.name.startswith("state.db"):
            data = path.read_bytes()
            assert SECRET.encode() not in data and OTHER.encode() not in data, path
    assert (home / "state.db").stat().st_mode & 0o777 == 0o600
