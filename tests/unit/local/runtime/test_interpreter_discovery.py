"""Discovery of the Python a runtime names: PATH, pyenv, uv, asdf and the user's own paths, each candidate probed
and taken only when it really is that version; a substitution only when the user named it.

The machine running the tests has Python 3.11 (the suite's own). A fake tree whose ``python3.12`` is a symlink to
the real 3.11 binary must be refused wherever it sits; the same symlink named ``python3.11`` is found."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from strata.local.runtime import interpreter
from strata.model.python import PythonSettingError, PythonSettings, from_flags, resolve_python

REAL = os.path.realpath(sys.executable)
HERE = "%d.%d" % sys.version_info[:2]
OTHER = "3.%d" % (sys.version_info[1] + 1)         # a version the fake trees claim but do not have


@pytest.fixture
def nowhere(tmp_path, monkeypatch):
    """Discovery looks only in empty folders under ``tmp_path`` (PATH, pyenv, uv, asdf, HOME)."""
    roots = {name: tmp_path / name for name in ("bin", "pyenv", "uv", "asdf", "home", "xdg")}
    for folder in roots.values():
        folder.mkdir()
    monkeypatch.setenv("PATH", str(roots["bin"]))
    monkeypatch.setenv("PYENV_ROOT", str(roots["pyenv"]))
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", str(roots["uv"]))
    monkeypatch.setenv("ASDF_DATA_DIR", str(roots["asdf"]))
    monkeypatch.setenv("HOME", str(roots["home"]))
    monkeypatch.setenv("XDG_DATA_HOME", str(roots["xdg"]))
    monkeypatch.delenv("STRATA_PYTHON", raising=False)
    monkeypatch.delenv("STRATA_ALLOW_PYTHON_SUBSTITUTE", raising=False)
    interpreter.use(PythonSettings())
    yield roots
    interpreter.use(PythonSettings())


def _link(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(REAL)
    return path


def _choose(runtime: str, home: Path, settings: PythonSettings | None = None) -> interpreter.Choice:
    return interpreter.choose(runtime, home, settings or PythonSettings())


@pytest.mark.parametrize("tree, relative", [
    ("bin", "python{v}"),
    ("pyenv", "versions/{v}.7/bin/python"),
    ("uv", "cpython-{v}.9-linux-x86_64-gnu/bin/python3"),
    ("asdf", "installs/python/{v}.2/bin/python"),
])
def test_each_place_is_searched_and_the_real_binary_kept(nowhere, tmp_path, tree, relative):
    link = _link(nowhere[tree] / relative.format(v=HERE))
    found = _choose(f"python{HERE}", tmp_path / "state")
    assert found.interpreter is not None
    assert found.interpreter.path == REAL and found.interpreter.version == sys.version_info[:2]
    assert str(link) in found.interpreter.note and not found.interpreter.substituted


@pytest.mark.parametrize("tree, relative", [
    ("bin", "python{v}"),
    ("pyenv", "versions/{v}.1/bin/python"),
    ("uv", "cpython-{v}.0-linux-x86_64-gnu/bin/python3"),
    ("asdf", "installs/python/{v}.0/bin/python"),
])
def test_a_binary_of_another_version_is_never_taken(nowhere, tmp_path, tree, relative):
    link = _link(nowhere[tree] / relative.format(v=OTHER))
    found = _choose(f"python{OTHER}", tmp_path / "state")
    assert found.interpreter is None
    assert f"no Python {OTHER} found" in found.problem
    assert f"{link} is Python {HERE}" in found.problem        # the refused candidate is said, with its real version
    assert f"pyenv install {OTHER}" in found.hint and f"--python {OTHER}=" in found.hint
    assert f"--allow-python-substitute {OTHER}={HERE}" in found.hint


def test_pyenv_newest_patch_first_and_uv_xdg_default(nowhere, tmp_path, monkeypatch):
    _link(nowhere["pyenv"] / f"versions/{HERE}.2/bin/python")
    _link(nowhere["pyenv"] / f"versions/{HERE}.10/bin/python")
    assert f"{HERE}.10/bin/python" in _choose(f"python{HERE}", tmp_path / "s").interpreter.note
    monkeypatch.delenv("UV_PYTHON_INSTALL_DIR")
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "none"))
    link = _link(nowhere["xdg"] / f"uv/python/cpython-{HERE}.3-linux-x86_64-gnu/bin/python3")
    assert str(link) in _choose(f"python{HERE}", tmp_path / "s").interpreter.note


def test_the_users_path_must_be_that_version(nowhere, tmp_path):
    fake = _link(tmp_path / "opt" / f"python{OTHER}")
    found = _choose(f"python{OTHER}", tmp_path / "s", from_flags([f"{OTHER}={fake}"]))
    assert found.interpreter is None and found.user_error
    assert found.problem == f"--python {OTHER}={fake}: {fake} is Python {HERE}, not Python {OTHER}"
    good = _choose(f"python{HERE}", tmp_path / "s", from_flags([f"{HERE}={fake}"]))
    assert good.interpreter.path == REAL and f"from --python ({fake} -> {REAL})" in good.interpreter.note
    gone = _choose(f"python{HERE}", tmp_path / "s", from_flags([f"{HERE}={tmp_path}/missing/python"]))
    assert gone.interpreter is None and "does not run" in gone.problem


def test_substitution_only_when_named_and_only_when_missing(nowhere, tmp_path):
    _link(nowhere["bin"] / f"python{HERE}")
    settings = from_flags(substitutes=[f"{OTHER}={HERE}"])
    found = _choose(f"python{OTHER}", tmp_path / "s", settings)
    assert found.interpreter.substituted and found.interpreter.wanted == (3, sys.version_info[1] + 1)
    assert (f"Python {HERE} substituted for python{OTHER}, allowed by --allow-python-substitute {OTHER}={HERE}"
            in found.interpreter.note)
    # the real version present: it wins over the substitution
    here_subst = from_flags(substitutes=[f"{HERE}=3.2"])
    assert not _choose(f"python{HERE}", tmp_path / "s", here_subst).interpreter.substituted


def test_not_python_and_missing_at_invoke(nowhere, tmp_path):
    assert _choose("nodejs20.x", tmp_path / "s").interpreter is None
    with pytest.raises(interpreter.PythonUnavailable) as info:
        interpreter.resolve(f"python{OTHER}", tmp_path / "s")
    assert f"runtime python{OTHER} cannot run here: no Python {OTHER} found" in info.value.message
    assert f"--allow-python-substitute {OTHER}=" in info.value.message


def test_recorded_settings_and_environment_then_flags(nowhere, tmp_path, monkeypatch):
    home = tmp_path / "state"
    _link(nowhere["bin"] / f"python{HERE}")
    interpreter.record(home, from_flags(substitutes=[f"{OTHER}={HERE}"]))
    assert interpreter.resolve(f"python{OTHER}", home).substituted
    interpreter.record(home, PythonSettings())
    monkeypatch.setenv("STRATA_ALLOW_PYTHON_SUBSTITUTE", f"{OTHER}={HERE}")
    assert "STRATA_ALLOW_PYTHON_SUBSTITUTE" in interpreter.resolve(f"python{OTHER}", home).note
    monkeypatch.delenv("STRATA_ALLOW_PYTHON_SUBSTITUTE")
    interpreter.use(from_flags(substitutes=[f"{OTHER}={HERE}"]))
    assert "--allow-python-substitute" in interpreter.resolve(f"python{OTHER}", home).note


def test_settings_merge_and_parse(tmp_path):
    sam = {"python": ["3.12=bin/py312"], "allow_python_substitute": "3.13=3.11 3.14=3.11"}
    settings = resolve_python(["3.12=/flag/python"], [], sam, tmp_path, environ={"STRATA_PYTHON": "3.10=/env/py"})
    assert settings.paths["3.12"].value == "/flag/python" and settings.paths["3.12"].source == "--python"
    assert settings.paths["3.10"].value == "/env/py"
    assert settings.substitutes["3.14"].value == "3.11"
    only_file = resolve_python([], [], sam, tmp_path, environ={})
    assert only_file.paths["3.12"].value == str(tmp_path / "bin/py312")
    for bad in (["3.12"], ["python3.12=/x"], ["3=/x"]):
        with pytest.raises(PythonSettingError):
            from_flags(bad)
    with pytest.raises(PythonSettingError):
        from_flags(substitutes=["3.12=latest"])
