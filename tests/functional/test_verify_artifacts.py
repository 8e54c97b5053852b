"""Verify checks bytes: a stored artifact (content-addressed zip under the state home) deleted or overwritten is a
verify finding naming the file and who uses it; ``verify --repair`` and ``deploy`` write it again from the build when
the build reproduces its digest, and say they cannot (exit 1) when it does not. Unpacked code (``runtime/<sha>/``)
edited or deleted is a finding too; ``--repair`` unpacks it again from the stored zip."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from strata_testkit import run_cli

from strata.cli.main import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
STACK = "demo"


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> Path:
    """examples/layered-app deployed to the local engine as stack ``demo``; returns the template path."""
    target = tmp_path / "layered-app"
    shutil.copytree(EXAMPLES / "layered-app", target)
    monkeypatch.setenv("STRATA_HOME", str(tmp_path / "home"))
    template = target / "template.yaml"
    code, out, err = run_cli(main, ["deploy", "-t", str(template), "--stack-name", STACK], capsys)
    assert code == 0, out + err
    return template


def _artifact(app: Path, capsys, logical_id: str) -> Path:
    """The stored zip the last build made for ``logical_id`` (what the deployed stack uses)."""
    code, out, _ = run_cli(main, ["build", "-t", str(app), "--output", "json"], capsys)
    assert code == 0
    return Path(next(row["path"] for row in json.loads(out) if row["logical_id"] == logical_id))


def _intact(path: Path) -> bool:
    return path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == path.stem


def _cli(capsys, *argv: str) -> tuple[int, str]:
    code, out, err = run_cli(main, list(argv), capsys)
    return code, out + err


def test_overwritten_artifact_is_a_finding_and_repair_rebuilds_it(app, capsys):
    zip_path = _artifact(app, capsys, "PlainFunction")
    zip_path.write_bytes(b"garbage, not a zip")

    code, out = _cli(capsys, "verify", "-t", str(app), "--stack-name", STACK)
    assert code == 1
    assert f"MISMATCH PlainFunction: stored artifact {zip_path} does not match its digest" in out
    assert "it holds the code of PlainFunction ($LATEST, version 1)" in out

    code, out = _cli(capsys, "verify", "-t", str(app), "--stack-name", STACK, "--repair")
    assert code == 0, out
    assert f"repaired: PlainFunction: restored stored artifact {zip_path}" in out
    assert _intact(zip_path)
    assert _cli(capsys, "verify", "-t", str(app), "--stack-name", STACK)[0] == 0


def test_deleted_layer_artifact_is_a_finding_naming_the_layer(app, capsys):
    zip_path = _artifact(app, capsys, "SharedLayer")
    zip_path.unlink()

    code, out = _cli(capsys, "verify", "-t", str(app), "--stack-name", STACK, "--output", "json")
    assert code == 1
    report = json.loads(out)
    [finding] = report["findings"]
    assert finding["setting"] == "artifact" and finding["function"].startswith("SharedLayer")
    assert str(zip_path) in finding["message"] and "is missing" in finding["message"]
    assert f"{finding['function']} (layer version 1)" in finding["message"]
    assert report["artifacts_checked"] == 3

    assert _cli(capsys, "verify", "-t", str(app), "--stack-name", STACK, "--repair")[0] == 0
    assert _intact(zip_path)


@pytest.mark.parametrize("damage", ["delete", "overwrite"])
def test_deploy_restores_a_damaged_artifact_instead_of_saying_no_changes(app, capsys, damage):
    zip_path = _artifact(app, capsys, "HelloFunction")
    if damage == "delete":
        zip_path.unlink()
    else:
        zip_path.write_bytes(b"\0" * 100)

    code, out = _cli(capsys, "deploy", "-t", str(app), "--stack-name", STACK)
    assert code == 0, out
    assert "No changes" not in out
    assert f"HelloFunction: restored stored artifact {zip_path} from the build" in out
    assert "Stack demo: resources up to date; 1 stored artifact(s) restored." in out
    assert _intact(zip_path)
    assert _cli(capsys, "verify", "-t", str(app), "--stack-name", STACK)[0] == 0
    # and now, with the bytes sound, a deploy is a no-op again
    assert "No changes: stack demo is up to date." in _cli(capsys, "deploy", "-t", str(app), "--stack-name", STACK)[1]


def test_repair_refuses_when_the_build_no_longer_produces_the_digest(app, capsys):
    zip_path = _artifact(app, capsys, "PlainFunction")
    zip_path.write_bytes(b"garbage")
    source = app.parent / "src" / "plain" / "app.py"
    source.write_text(source.read_text() + "\n# edited after the deploy\n")

    code, out = _cli(capsys, "verify", "-t", str(app), "--stack-name", STACK, "--repair")
    assert code == 1
    assert "repaired:" not in out
    assert f"note: PlainFunction: cannot restore stored artifact {zip_path}: no build of the template produces" in out
    assert f"MISMATCH PlainFunction: stored artifact {zip_path} does not match its digest" in out
    assert zip_path.read_bytes() == b"garbage"            # left as found: nothing claimed over a mismatch


def test_deploy_fails_clearly_over_an_artifact_the_build_cannot_reproduce(app, capsys):
    zip_path = _artifact(app, capsys, "PlainFunction")
    zip_path.write_bytes(b"garbage")
    source = app.parent / "src" / "plain" / "app.py"
    source.write_text(source.read_text() + "\n# edited after the deploy\n")

    code, out = _cli(capsys, "deploy", "-t", str(app), "--stack-name", STACK)
    assert code == 1
    assert "Stack demo deployed." in out                  # the new code went out: version 2 ...
    assert "1 stored artifact(s) it uses are damaged and the build does not reproduce them" in out
    assert f"stored artifact {zip_path} does not match its digest" in out
    assert "PlainFunction (version 1)" in out             # ... but version 1 still holds the lost bytes
    assert "`strata prune`" in out

    assert _cli(capsys, "prune", "-t", str(app), "--stack-name", STACK, "--keep", "1")[0] == 0
    code, out = _cli(capsys, "deploy", "-t", str(app), "--stack-name", STACK)
    assert code == 0 and "No changes" in out, out
    assert _cli(capsys, "verify", "-t", str(app), "--stack-name", STACK)[0] == 0


def _invoke(capsys) -> dict:
    code, out, err = run_cli(main, ["invoke", "HelloFunction:live", "--stack-name", STACK], capsys)
    assert code == 0, out + err
    return json.loads(out)


def test_edited_unpacked_code_is_a_finding_and_repair_unpacks_it_again(app, capsys):
    assert _invoke(capsys)["message"] == "Hello, world!"          # unpacks HelloFunction's zip
    zip_path = _artifact(app, capsys, "HelloFunction")
    tree = zip_path.parents[2] / "runtime" / zip_path.stem
    handler = tree / "app.py"
    mode = handler.stat().st_mode
    handler.chmod(0o644)
    handler.write_text(handler.read_text().replace("Hello", "Pwned"))
    handler.chmod(mode)

    code, out = _cli(capsys, "verify", "-t", str(app), "--stack-name", STACK)
    assert code == 1
    assert f"MISMATCH HelloFunction: unpacked code {tree} differs from its artifact: app.py: content changed" in out
    assert "it is the code of HelloFunction ($LATEST, version 1)" in out
    assert "and 2 unpacked tree(s)" in out                       # the function's code and its layer

    code, out = _cli(capsys, "verify", "-t", str(app), "--stack-name", STACK, "--repair")
    assert code == 0, out
    assert f"repaired: HelloFunction: unpacked {tree} again from" in out
    assert "Pwned" not in handler.read_text()
    assert _invoke(capsys)["message"] == "Hello, world!"


def test_a_deleted_unpacked_folder_is_a_finding_and_repair_unpacks_it_again(app, capsys):
    _invoke(capsys)
    zip_path = _artifact(app, capsys, "SharedLayer")
    tree = zip_path.parents[2] / "runtime" / zip_path.stem
    shutil.rmtree(tree)

    code, out = _cli(capsys, "verify", "-t", str(app), "--stack-name", STACK)
    assert code == 1 and f"unpacked code {tree} differs from its artifact" in out and "the folder is missing" in out
    assert _cli(capsys, "verify", "-t", str(app), "--stack-name", STACK, "--repair")[0] == 0
    assert (tree / "python").is_dir()
