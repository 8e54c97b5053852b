"""Node.js builds: SAM's esbuild command line from BuildProperties, npm's cache key, the notes, the native-addon
refusal, and the builder's layouts (function root, layer ``nodejs/``) on small npm trees from tests/data/npm (tiny
packages written for these tests, packed with ``npm pack``; ``npm ci`` installs them offline)."""
from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from strata.artifacts import esbuild, node_deps
from strata.artifacts.builder import build_targets
from strata.artifacts.targets import BuildTarget
from strata.errors import BuildError

NPM_DATA = Path(__file__).resolve().parents[2] / "data" / "npm"
needs_npm = pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")


def _args(props: dict, folder: Path) -> list[str]:
    return esbuild.esbuild_args(esbuild.normalise_properties(props), folder, "/out", what="Fn")


def test_esbuild_args_follow_sam_defaults_and_flag_shapes(tmp_path: Path) -> None:
    (tmp_path / "app.ts").write_text("export const handler = 1;\n")
    assert _args({"EntryPoints": ["app"]}, tmp_path) == [
        "app.ts", "--bundle", "--platform=node", "--outdir=/out", "--target=es2020", "--format=cjs", "--minify"]
    args = _args({"EntryPoints": ["app.ts"], "Minify": False, "Target": "es2022", "Format": "esm",
                  "Sourcemap": True, "External": ["pg", "aws-sdk"], "Loader": [".png=file"],
                  "MainFields": "module,main", "Banner": "js=// hi", "Platform": "browser"}, tmp_path)
    assert "--minify" not in args and "--target=es2022" in args and "--format=esm" in args
    assert "--sourcemap" in args and "--external:pg" in args and "--external:aws-sdk" in args
    assert "--loader:.png=file" in args and "--main-fields=module,main" in args and "--banner=js=// hi" in args
    assert "--platform=browser" not in args   # SAM sets platform, bundle and outdir itself


def test_esbuild_external_node_modules_marks_every_dependency(tmp_path: Path) -> None:
    (tmp_path / "app.js").write_text("")
    (tmp_path / "package.json").write_text(json.dumps({"dependencies": {"a": "1", "@s/b": "2"}}))
    args = _args({"EntryPoints": ["app.js"], "External": ["./node_modules/*"]}, tmp_path)
    assert "--external:a" in args and "--external:@s/b" in args and "--external:./node_modules/*" not in args


def test_esbuild_entry_points_are_required_and_must_exist(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="EntryPoints"):
        _args({}, tmp_path)
    with pytest.raises(BuildError, match="entry point missing does not exist"):
        _args({"EntryPoints": ["missing"]}, tmp_path)
    (tmp_path / "a.js").write_text("")
    with pytest.raises(BuildError, match="Minify"):
        _args({"EntryPoints": ["a.js"], "Minify": 3}, tmp_path)


def test_npm_key_follows_lock_runtime_architecture_and_npm_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    base = {"package.json": b"p" * 32, "package-lock.json": b"l" * 32}
    key = node_deps.deps_key(base, "nodejs20.x", "x86_64")
    assert key == node_deps.deps_key(dict(base), "nodejs20.x", "x86_64")
    assert key != node_deps.deps_key({**base, "package-lock.json": b"m" * 32}, "nodejs20.x", "x86_64")
    assert key != node_deps.deps_key(base, "nodejs22.x", "x86_64")
    assert key != node_deps.deps_key(base, "nodejs20.x", "arm64")
    monkeypatch.setenv("npm_config_registry", "http://mirror.example/")
    assert key != node_deps.deps_key(base, "nodejs20.x", "x86_64")


def test_notes_without_an_npm_lock_name_other_lock_files(tmp_path: Path) -> None:
    assert node_deps.notes(str(tmp_path), "Fn") == ()
    (tmp_path / "package.json").write_text("{}")
    (tmp_path / "yarn.lock").write_text("")
    (note,) = node_deps.notes(str(tmp_path), "Fn")
    assert "no package-lock.json" in note and "yarn.lock found but not read" in note
    (tmp_path / "package-lock.json").write_text("{}")
    assert node_deps.notes(str(tmp_path), "Fn") == ()


def test_native_addons_are_found_unless_prebuilt_for_the_target(tmp_path: Path) -> None:
    modules = tmp_path / "node_modules"
    (modules / "gyp").mkdir(parents=True)
    (modules / "gyp" / "package.json").write_text('{"name": "gyp"}')
    (modules / "gyp" / "binding.gyp").write_text("{}")
    pre = modules / "@img" / "sharp-linux-x64" / "lib"
    pre.mkdir(parents=True)
    (pre.parent / "package.json").write_text('{"name": "@img/sharp-linux-x64", "os": ["linux"], "cpu": ["x64"]}')
    (pre / "sharp.node").write_bytes(b"\0")
    nested = modules / "outer" / "node_modules" / "inner" / "prebuilds" / "linux-arm64"
    nested.mkdir(parents=True)
    (nested.parents[1] / "package.json").write_text('{"name": "inner"}')
    (nested.parents[1] / "binding.gyp").write_text("{}")
    (nested / "inner.node").write_bytes(b"\0")
    assert node_deps.native_packages(modules, "x86_64") == [("gyp", "gyp/binding.gyp"),
                                                            ("inner", "outer/node_modules/inner/binding.gyp")]
    assert [p for p, _f in node_deps.native_packages(modules, "arm64")] == ["@img/sharp-linux-x64", "gyp"]


def _app(tmp_path: Path, deps: dict[str, str], dev: dict[str, str] | None = None) -> Path:
    app = tmp_path / "fn"
    app.mkdir()
    (app / "app.js").write_text("exports.handler = async () => require('tiny-pad')('x', 3);\n")
    (app / ".npmrc").write_text("//registry.example/:_authToken=secret\n")
    (app / "node_modules" / "stale").mkdir(parents=True)
    (app / "node_modules" / "stale" / "index.js").write_text("dev copy\n")
    manifest = {"name": "fn", "version": "1.0.0", "dependencies": {k: f"file:{NPM_DATA / v}" for k, v in deps.items()}}
    if dev:
        manifest["devDependencies"] = {k: f"file:{NPM_DATA / v}" for k, v in dev.items()}
    (app / "package.json").write_text(json.dumps(manifest))
    subprocess.run(["npm", "install", "--package-lock-only", "--offline", "--no-audit", "--no-fund"], cwd=app,
                   check=True, capture_output=True)
    return app


@needs_npm
def test_a_node_function_zips_production_dependencies_in_place_of_its_node_modules(tmp_path: Path) -> None:
    app = _app(tmp_path, {"tiny-pad": "tiny-pad-1.0.0.tgz"}, {"tiny-devtool": "tiny-devtool-1.0.0.tgz"})
    target = BuildTarget("Fn", "CodeUri", app, "function", "nodejs20.x", None)
    (built,) = build_targets([target], tmp_path / "home", warn=lambda _t: None)
    names = zipfile.ZipFile(built.artifact.path).namelist()
    assert names == ["app.js", "node_modules/tiny-pad/index.js", "node_modules/tiny-pad/package.json",
                     "package-lock.json", "package.json"]   # no dev dependency, no .npmrc, no npm hidden lock
    again = build_targets([target], tmp_path / "home2", warn=lambda _t: None)[0]
    assert again.artifact.sha256 == built.artifact.sha256 and not again.cached


@needs_npm
def test_a_node_layer_goes_under_nodejs(tmp_path: Path) -> None:
    app = _app(tmp_path, {"tiny-greeting": "tiny-greeting-1.0.0.tgz"})
    target = BuildTarget("Layer", "ContentUri", app, "layer", "nodejs20.x", "nodejs20.x")
    (built,) = build_targets([target], tmp_path / "home", warn=lambda _t: None)
    names = zipfile.ZipFile(built.artifact.path).namelist()
    assert "nodejs/node_modules/tiny-greeting/index.js" in names and "nodejs/app.js" in names


@needs_npm
def test_a_native_addon_is_refused_naming_the_package(tmp_path: Path) -> None:
    app = _app(tmp_path, {"tiny-native": "tiny-native-1.0.0.tgz"})
    target = BuildTarget("Fn", "CodeUri", app, "function", "nodejs20.x", None, (), "arm64")
    refused = r"tiny-native is a native addon \(tiny-native/binding.gyp\).*nodejs20.x arm64"
    with pytest.raises(BuildError, match=refused):
        build_targets([target], tmp_path / "home", warn=lambda _t: None)
