"""requirements.txt: installed once with pip (offline, from a hand-made wheel), merged into the zip, cached."""
from __future__ import annotations

import subprocess

import pytest
from build_helpers import far_future, make_wheel, write_tree, zip_names, zip_read

from strata.artifacts.builder import build_targets
from strata.artifacts.targets import BuildTarget
from strata.errors import BuildError


def _requirements(wheel) -> str:
    return f"--no-index\n{wheel}\n"


def test_function_and_python_layer_get_their_dependencies(tmp_path, home, monkeypatch):
    wheel = make_wheel(tmp_path / "wheels")
    fn = write_tree(tmp_path / "fn", {"app.py": "import tinypkg\n", "requirements.txt": _requirements(wheel),
                                      "tinypkg/extra.py": "OWN = 1\n"})
    layer = write_tree(tmp_path / "layer", {"shared.py": "S = 1\n", "requirements.txt": _requirements(wheel)})
    targets = [
        BuildTarget("Fn", "CodeUri", fn, "function", "python3.12", None),
        BuildTarget("Layer", "ContentUri", layer, "layer", "python3.12", "python3.12"),
    ]
    built_fn, built_layer = build_targets(targets, home, clock=far_future)

    names = zip_names(built_fn.artifact.path)
    assert {"app.py", "requirements.txt", "tinypkg/__init__.py", "tinypkg/extra.py"} <= set(names)
    assert any(n.startswith("tinypkg-1.0.dist-info/") for n in names)
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    assert zip_read(built_fn.artifact.path, "tinypkg/__init__.py") == b"VALUE = 1\n"

    layer_names = zip_names(built_layer.artifact.path)
    assert all(n.startswith("python/") for n in layer_names)
    assert {"python/shared.py", "python/tinypkg/__init__.py"} <= set(layer_names)
    assert len(list((home / "cache" / "deps").iterdir())) == 1  # same requirements + runtime: one install

    def no_pip(*args, **kwargs):
        raise AssertionError("pip ran again")

    monkeypatch.setattr(subprocess, "run", no_pip)
    (write_tree(fn, {"app.py": "import tinypkg  # edited\n"}))
    again_fn, again_layer = build_targets(targets, home, clock=far_future)
    assert not again_fn.cached and again_layer.cached
    assert zip_read(again_fn.artifact.path, "tinypkg/__init__.py") == b"VALUE = 1\n"


def test_function_code_wins_over_a_dependency(tmp_path, home):
    wheel = make_wheel(tmp_path / "wheels")
    fn = write_tree(tmp_path / "fn", {"requirements.txt": _requirements(wheel), "tinypkg/__init__.py": "MINE = 1\n"})
    (built,) = build_targets([BuildTarget("Fn", "CodeUri", fn, "function", "python3.11", None)], home)
    assert zip_read(built.artifact.path, "tinypkg/__init__.py") == b"MINE = 1\n"
    assert zip_names(built.artifact.path).count("tinypkg/__init__.py") == 1


def test_pip_failure_is_a_build_error_with_pips_last_lines(tmp_path, home):
    fn = write_tree(tmp_path / "fn", {"app.py": "", "requirements.txt": "--no-index\nsurely-not-a-package-xyz==1\n"})
    with pytest.raises(BuildError) as info:
        build_targets([BuildTarget("Fn", "CodeUri", fn, "function", "python3.12", None)], home)
    message = info.value.message
    assert message.startswith("Fn (CodeUri ") and "pip could not install" in message
    assert "surely-not-a-package-xyz" in message
    assert not any(p.name.startswith(".tmp-") for p in (home / "cache" / "deps").iterdir())


def test_non_python_functions_ignore_requirements(tmp_path, home, monkeypatch):
    fn = write_tree(tmp_path / "fn", {"index.js": "", "requirements.txt": "left-pad\n"})

    def no_pip(*args, **kwargs):
        raise AssertionError("pip ran")

    monkeypatch.setattr(subprocess, "run", no_pip)
    (built,) = build_targets([BuildTarget("Fn", "CodeUri", fn, "function", "nodejs20.x", None)], home)
    assert zip_names(built.artifact.path) == ["index.js", "requirements.txt"]
