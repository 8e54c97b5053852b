"""examples/node-app through the real ``strata`` executable: two builds of the same sources give identical zips; a
lock-file change, a change of the layer's node_modules, or an esbuild option change gives a new version to exactly
the functions concerned (their Version logical ids, from ``strata transform``). Offline: the dependencies are
tarballs in the example's vendor/ and tests/data/npm; esbuild is the pinned one in the suite's user cache (CI
installs it ahead: ``python -m strata.artifacts.esbuild``)."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from deploy_helpers import ROOT, strata

from strata.artifacts.esbuild import ensure_esbuild
from strata.errors import BuildError

EXAMPLE = ROOT / "examples" / "node-app"
NPM_DATA = ROOT / "tests" / "data" / "npm"
FUNCTIONS = ("HelloFunction", "TypedFunction")


@pytest.fixture(scope="module", autouse=True)
def _esbuild() -> None:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    try:
        ensure_esbuild()
    except BuildError as exc:
        pytest.skip(f"the pinned esbuild is not in the user cache and could not be installed: {exc.message}")


def _copy(dest: Path) -> Path:
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns(".strata", "node_modules"))
    return dest


def _artifacts(app: Path, home: Path) -> dict[str, str]:
    """Resource -> artifact sha256 of ``strata build --json``-less output: the table's SHA256 column (12 hex)."""
    out = strata(app, home, "build").stdout
    rows = {}
    for line in out.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 3 and re.fullmatch(r"[0-9a-f]{12}", parts[2]):
            rows[parts[0]] = parts[2]
    return rows


def _versions(app: Path, home: Path) -> dict[str, str]:
    """Function -> its Version logical id (the fingerprint's first 10 hex) in the transformed template."""
    document = json.loads(strata(app, home, "transform").stdout)
    found = {}
    for logical_id, resource in document["Resources"].items():
        if resource["Type"] == "AWS::Lambda::Version":
            found[resource["Properties"]["FunctionName"]["Ref"]] = logical_id
    return found


def _relock(folder: Path, package: str, tarball: str) -> None:
    shutil.copy(NPM_DATA / tarball, folder.parents[1] / "vendor" / tarball)
    manifest = json.loads((folder / "package.json").read_text())
    manifest["dependencies"][package] = f"file:../../vendor/{tarball}"
    (folder / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
    subprocess.run(["npm", "install", "--package-lock-only", "--offline", "--no-audit", "--no-fund"], cwd=folder,
                   check=True, capture_output=True)


def _zip(home: Path, short: str) -> zipfile.ZipFile:
    (path,) = (home / "artifacts").glob(f"*/{short}*.zip")
    return zipfile.ZipFile(path)


def test_two_builds_of_the_example_give_identical_zips(tmp_path: Path) -> None:
    first = _artifacts(_copy(tmp_path / "one"), tmp_path / "home-one")
    second = _artifacts(_copy(tmp_path / "two"), tmp_path / "home-two")
    assert set(first) == {"SharedLayer", *FUNCTIONS} and first == second
    home = tmp_path / "home-one"
    hello = _zip(home, first["HelloFunction"]).namelist()
    assert "node_modules/tiny-pad/index.js" in hello and not any("tiny-devtool" in n for n in hello)
    assert _zip(home, first["TypedFunction"]).namelist() == ["app.js", "app.js.map"]
    assert "nodejs/node_modules/tiny-greeting/index.js" in _zip(home, first["SharedLayer"]).namelist()
    assert strata(tmp_path / "one", home, "build").stdout.count("cached") == 3


def test_a_lock_change_publishes_exactly_the_functions_that_use_it(tmp_path: Path) -> None:
    app, home = _copy(tmp_path / "app"), tmp_path / "home"
    before = _versions(app, home)
    _relock(app / "src" / "hello", "tiny-pad", "tiny-pad-1.1.0.tgz")
    after = _versions(app, home)
    assert after["HelloFunction"] != before["HelloFunction"] and after["TypedFunction"] == before["TypedFunction"]
    _relock(app / "layers" / "shared", "tiny-greeting", "tiny-greeting-1.1.0.tgz")
    layer = _versions(app, home)
    assert layer["HelloFunction"] != after["HelloFunction"] and layer["TypedFunction"] == before["TypedFunction"]


@pytest.mark.parametrize("edit", [("Minify: true", "Minify: false"), ("Format: cjs", "Format: esm"),
                                  ("Sourcemap: true", "Sourcemap: true\n        External:\n          - tiny-pad")])
def test_an_esbuild_option_change_is_a_new_version(tmp_path: Path, edit: tuple[str, str]) -> None:
    app, home = _copy(tmp_path / "app"), tmp_path / "home"
    before = _versions(app, home)
    template = app / "template.yaml"
    template.write_text(template.read_text().replace(*edit))
    after = _versions(app, home)
    assert after["TypedFunction"] != before["TypedFunction"] and after["HelloFunction"] == before["HelloFunction"]


def test_a_native_addon_fails_the_build_naming_the_package(tmp_path: Path) -> None:
    app, home = _copy(tmp_path / "app"), tmp_path / "home"
    _relock(app / "src" / "hello", "tiny-native", "tiny-native-1.0.0.tgz")
    proc = strata(app, home, "build", check=False)
    assert proc.returncode == 1
    assert "HelloFunction" in proc.stderr and "tiny-native is a native addon" in proc.stderr


def test_explain_names_the_lock_beside_the_code_and_what_the_zip_leaves_out(tmp_path: Path) -> None:
    app, home = _copy(tmp_path / "app"), tmp_path / "home"
    before = strata(app, home, "transform", "--explain").stdout
    _relock(app / "src" / "hello", "tiny-pad", "tiny-pad-1.1.0.tgz")
    after = strata(app, home, "transform", "--explain").stdout
    locks = [re.findall(r"HelloFunction .*?Code +sha256:[0-9a-f]{12}, package-lock.json ([0-9a-f]{12})", text,
                        re.S)[0] for text in (before, after)]
    assert locks[0] != locks[1]
    assert "node_modules (npm's production install replaces it); .npmrc" in after
    assert "every source file: the zip holds esbuild's output" in after


def _node_major() -> str:
    node = shutil.which("node")
    if node is None:
        return ""
    return subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip().lstrip("v").split(".")[0]


@pytest.mark.skipif(_node_major() != "20", reason="the example's functions are nodejs20.x: needs node 20 on PATH")
def test_the_example_deploys_and_its_alias_serves_the_new_lock_after_a_deploy(tmp_path: Path) -> None:
    app, home = _copy(tmp_path / "nodeapp"), tmp_path / "home"
    strata(app, home, "deploy")
    (tmp_path / "event.json").write_text('{"name": "ada"}')
    event = str(tmp_path / "event.json")
    hello = json.loads(strata(app, home, "invoke", "HelloFunction:live", "--event", event).stdout)
    typed = json.loads(strata(app, home, "invoke", "TypedFunction:live", "--event", event).stdout)
    assert hello == {"message": "Hello, ada!", "padded": "       ada", "pad": "1.0.0"}
    assert typed == {"message": "Hello from TypeScript, ada!", "padded": "           ada", "pad": "1.0.0"}
    _relock(app / "src" / "hello", "tiny-pad", "tiny-pad-1.1.0.tgz")
    plan = strata(app, home, "plan").stdout
    assert re.search(r"publish a new version of HelloFunction because Code changed \(sha256:[0-9a-f]{12}, "
                     r"package-lock.json [0-9a-f]{12} -> sha256:[0-9a-f]{12}, package-lock.json [0-9a-f]{12}\)", plan)
    assert "new version of TypedFunction" not in plan
    strata(app, home, "deploy")
    assert json.loads(strata(app, home, "invoke", "HelloFunction:live").stdout)["pad"] == "1.1.0"
    assert json.loads(strata(app, home, "invoke", "TypedFunction:live").stdout)["pad"] == "1.0.0"
