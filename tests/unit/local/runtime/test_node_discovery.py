"""Discovery of the ``node`` a ``nodejsN.x`` runtime names: PATH, nvm, volta, fnm, asdf and the user's own path, each
candidate probed (its real binary and version) and taken only when it is that major; another major only as a
substitution the user named. The candidates here are fake ``node`` scripts that answer the probe with a version."""
from __future__ import annotations

from pathlib import Path

import pytest

from strata.local.runtime import interpreter, nodejs
from strata.model.python import PythonSettingError, PythonSettings, from_flags, resolve_python


@pytest.fixture
def nowhere(tmp_path, monkeypatch):
    """Discovery looks only in empty folders under ``tmp_path``."""
    roots = {name: tmp_path / name for name in ("bin", "nvm", "volta", "fnm", "asdf", "home", "xdg")}
    for folder in roots.values():
        folder.mkdir()
    monkeypatch.setenv("PATH", str(roots["bin"]))
    monkeypatch.setenv("NVM_DIR", str(roots["nvm"]))
    monkeypatch.setenv("VOLTA_HOME", str(roots["volta"]))
    monkeypatch.setenv("FNM_DIR", str(roots["fnm"]))
    monkeypatch.setenv("ASDF_DATA_DIR", str(roots["asdf"]))
    monkeypatch.setenv("HOME", str(roots["home"]))
    monkeypatch.setenv("XDG_DATA_HOME", str(roots["xdg"]))
    for name in ("STRATA_NODE", "STRATA_ALLOW_NODE_SUBSTITUTE"):
        monkeypatch.delenv(name, raising=False)
    interpreter.use(PythonSettings())
    yield roots
    interpreter.use(PythonSettings())


def fake_node(path: Path, version: str) -> Path:
    """A ``node`` that answers the probe (``-e``) with its own path and ``version``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'#!/bin/sh\necho "$0"\necho "{version}"\n')
    path.chmod(0o755)
    return path


def choose(runtime: str, home: Path, settings: PythonSettings | None = None) -> interpreter.Choice:
    return interpreter.choose(runtime, home, settings or PythonSettings())


@pytest.mark.parametrize("tree, relative, version", [
    ("bin", "node", "18.0.1"),
    ("nvm", "versions/node/v18.19.1/bin/node", "18.19.1"),
    ("volta", "tools/image/node/18.20.0/bin/node", "18.20.0"),
    ("fnm", "node-versions/v18.17.0/installation/bin/node", "18.17.0"),
    ("asdf", "installs/nodejs/18.16.0/bin/node", "18.16.0"),
])
def test_each_place_is_searched(nowhere, tmp_path, tree, relative, version):
    node = fake_node(nowhere[tree] / relative, version)
    found = choose("nodejs18.x", tmp_path / "state")
    assert found.interpreter is not None and found.interpreter.path == str(node)
    assert found.interpreter.version[0] == 18 and not found.interpreter.substituted


def test_another_major_on_path_is_skipped_and_nvm_newest_wins(nowhere, tmp_path):
    fake_node(nowhere["bin"] / "node", "20.11.0")
    fake_node(nowhere["nvm"] / "versions/node/v18.9.0/bin/node", "18.9.0")
    newest = fake_node(nowhere["nvm"] / "versions/node/v18.19.1/bin/node", "18.19.1")
    found = choose("nodejs18.x", tmp_path / "s")
    assert found.interpreter.path == str(newest) and found.interpreter.version == (18, 19)
    assert any("is Node.js 20.11.0" in tried for tried in found.tried)
    assert "Node.js 18.19.1 from nvm" in found.interpreter.note
    assert choose("nodejs20.x", tmp_path / "s").interpreter.path == str(nowhere["bin"] / "node")


def test_missing_major_is_never_silently_another(nowhere, tmp_path):
    fake_node(nowhere["bin"] / "node", "20.11.0")
    found = choose("nodejs22.x", tmp_path / "s")
    assert found.interpreter is None and "no Node.js 22 found" in found.problem
    assert "nvm install 22" in found.hint and "--allow-node-substitute 22=20" in found.hint
    with pytest.raises(interpreter.PythonUnavailable, match="runtime nodejs22.x cannot run here: no Node.js 22"):
        interpreter.resolve("nodejs22.x", tmp_path / "s")


def test_substitution_only_when_named(nowhere, tmp_path):
    fake_node(nowhere["bin"] / "node", "20.11.0")
    found = choose("nodejs22.x", tmp_path / "s", from_flags(node_substitutes=["22=20"]))
    assert found.interpreter.substituted and found.interpreter.version[0] == 20
    assert "Node.js 20 substituted for nodejs22.x, allowed by --allow-node-substitute 22=20" in found.interpreter.note
    missing = choose("nodejs22.x", tmp_path / "s", from_flags(node_substitutes=["22=18"]))
    assert missing.interpreter is None and "the allowed substitute Node.js 18 is not found either" in missing.problem


def test_the_users_path_is_the_only_candidate(nowhere, tmp_path):
    fake_node(nowhere["bin"] / "node", "20.11.0")
    mine = fake_node(tmp_path / "mine" / "node", "20.1.0")
    found = choose("nodejs20.x", tmp_path / "s", from_flags(node_paths=[f"20={mine}"]))
    assert found.interpreter.path == str(mine) and "from --node" in found.interpreter.note
    wrong = choose("nodejs18.x", tmp_path / "s", from_flags(node_paths=[f"18={mine}"]))
    assert wrong.interpreter is None and wrong.user_error
    assert f"--node 18={mine}: {mine} is Node.js 20.1.0, not Node.js 18" in wrong.problem


def test_settings_from_environment_samconfig_and_flags(nowhere, tmp_path, monkeypatch):
    monkeypatch.setenv("STRATA_NODE", "20=/env/node")
    monkeypatch.setenv("STRATA_ALLOW_NODE_SUBSTITUTE", "18=20")
    settings = resolve_python(samconfig={"node": ["22=rel/node"], "allow_node_substitute": "22=20"},
                              template_dir=tmp_path, node_paths=["20=/flag/node"])
    assert settings.paths["20"].value == "/flag/node" and settings.paths["20"].source == "--node"
    assert settings.paths["22"].value == str(tmp_path / "rel/node")
    assert settings.substitutes["18"].source == "STRATA_ALLOW_NODE_SUBSTITUTE"
    assert settings.substitutes["22"].value == "20"
    for bad in (["20"], ["v20=/x"], ["3.12=/x"]):
        with pytest.raises(PythonSettingError):
            from_flags(node_paths=bad)
    with pytest.raises(PythonSettingError, match="cannot substitute for itself"):
        from_flags(node_substitutes=["20=20"])


def test_worker_command_has_lambdas_memory_flags():
    command = nodejs.command("/usr/bin/node", 1024)
    assert command[:5] == ("/usr/bin/node", "--expose-gc", "--max-http-header-size", "81920",
                           "--max-semi-space-size=51")
    assert command[5] == "--max-old-space-size=922" and command[6].endswith("node/worker.js")
