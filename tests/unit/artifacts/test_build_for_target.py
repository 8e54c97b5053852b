"""Dependencies are built for the function's runtime and architecture, not for the interpreter running strata:
compiled wheels carry the target's tags, pure sdists are built, and what cannot work on Lambda is a build error that
names the package and the runtime. Offline: real wheels from tests/data/wheels (SOURCE.md), the rest made here."""
from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest
from build_helpers import far_future, make_sdist, make_wheel, wheel_tags_in_zip, write_tree, zip_names

from strata.artifacts.builder import build_targets
from strata.artifacts.deps import deps_key
from strata.artifacts.python_target import PythonTarget, host_machine, is_pure
from strata.artifacts.targets import BuildTarget
from strata.errors import BuildError

WHEELS = Path(__file__).resolve().parents[2] / "data" / "wheels"
HOST_RUNTIME = "python%d.%d" % sys.version_info[:2]


def _fn(tmp_path: Path, requirements: str, name: str = "fn") -> Path:
    files = {"app.py": "def handler(e, c):\n    return 1\n", "requirements.txt": requirements}
    return write_tree(tmp_path / name, files)


def _offline(*links: Path, extra: str = "") -> str:
    return "--no-index\n" + "".join(f"--find-links {link}\n" for link in links) + extra


def _build(source: Path, home: Path, runtime: str, arch: str = "x86_64", **kwargs):
    target = BuildTarget("Fn", "CodeUri", source, "function", runtime, None, (), arch)
    (built,) = build_targets([target], home, clock=far_future, **kwargs)
    return built


@pytest.mark.parametrize(("runtime", "arch", "tag", "so_suffix"), [
    ("python3.12", "x86_64", "cp312-cp312-manylinux_2_17_x86_64", "cpython-312-x86_64-linux-gnu.so"),
    ("python3.11", "arm64", "cp311-cp311-manylinux_2_17_aarch64", "cpython-311-aarch64-linux-gnu.so"),
])
def test_a_compiled_dependency_is_built_for_the_runtime_and_architecture(tmp_path, home, runtime, arch, tag,
                                                                         so_suffix):
    fn = _fn(tmp_path, _offline(WHEELS, extra="charset-normalizer==3.4.2\n"))
    built = _build(fn, home, runtime, arch)
    tags = wheel_tags_in_zip(built.artifact.path)
    assert tag in tags["charset_normalizer-3.4.2.dist-info"]
    libraries = [n for n in zip_names(built.artifact.path) if n.endswith(".so")]
    assert libraries and all(n.endswith(so_suffix) for n in libraries), libraries


def test_two_builds_of_the_same_inputs_are_the_same_bytes_and_the_target_is_in_the_key(tmp_path):
    fn = _fn(tmp_path, _offline(WHEELS, extra="charset-normalizer==3.4.2\n"))
    first = _build(fn, tmp_path / "home-a", "python3.12")
    second = _build(fn, tmp_path / "home-b", "python3.12")
    assert first.artifact.sha256 == second.artifact.sha256

    sha = b"\x01" * 32
    keys = {deps_key(sha, "python3.12", "x86_64"), deps_key(sha, "python3.12", "arm64"),
            deps_key(sha, "python3.11", "x86_64"), deps_key(sha, "python3.11", "arm64")}
    assert len(keys) == 4
    assert deps_key(sha, "python3.12") == deps_key(sha, "python3.12", "x86_64")   # Lambda's default architecture


def test_the_key_does_not_depend_on_the_interpreter_running_strata(monkeypatch):
    sha = b"\x02" * 32
    before = deps_key(sha, "python3.12", "arm64")
    monkeypatch.setattr(sys.implementation, "cache_tag", "cpython-399")
    monkeypatch.setattr("sysconfig.get_platform", lambda: "macosx-14.0-arm64")
    assert deps_key(sha, "python3.12", "arm64") == before


def test_changing_the_architecture_changes_the_zip(tmp_path, home):
    fn = _fn(tmp_path, _offline(WHEELS, extra="charset-normalizer==3.4.2\n"))
    x86 = _build(fn, home, "python3.11", "x86_64")
    arm = _build(fn, home, "python3.11", "arm64")
    assert x86.artifact.sha256 != arm.artifact.sha256
    assert "cp311-cp311-manylinux_2_17_x86_64" in wheel_tags_in_zip(x86.artifact.path)[
        "charset_normalizer-3.4.2.dist-info"]


def test_no_wheel_for_the_target_names_the_package_runtime_and_architecture(tmp_path, home):
    fn = _fn(tmp_path, _offline(WHEELS, extra="charset-normalizer==3.4.2\n"))
    with pytest.raises(BuildError) as info:
        _build(fn, home, "python3.12", "arm64")          # the wheelhouse has cp312 for x86_64 only
    message = info.value.message
    assert "charset-normalizer==3.4.2" in message and "python3.12 arm64" in message


def test_a_requirement_needing_a_newer_python_is_a_build_error_naming_both(tmp_path, home):
    wheels = tmp_path / "wheels"
    make_wheel(wheels, "newpy", "2.0", requires_python=">=3.13")
    fn = _fn(tmp_path, _offline(wheels, extra="newpy==2.0\n"))
    with pytest.raises(BuildError) as info:
        _build(fn, home, "python3.12")
    message = info.value.message
    assert "newpy" in message and ">=3.13" in message and "python3.12" in message
    assert "newpy" in (info.value.hint or "") and "python3.12" in (info.value.hint or "")


def test_requires_python_from_an_index_is_said_plainly_too(tmp_path, home):
    """An index announces Requires-Python (data-requires-python), so pip sets the versions aside before download."""
    wheels = tmp_path / "files"
    wheel = make_wheel(wheels, "newpy", "3.1", requires_python=">=3.10")
    page = tmp_path / "simple" / "newpy" / "index.html"
    page.parent.mkdir(parents=True)
    page.write_text(f'<html><body><a href="{wheel.as_uri()}" data-requires-python="&gt;=3.10">{wheel.name}</a>'
                    "</body></html>\n")
    fn = _fn(tmp_path, f"--index-url {(tmp_path / 'simple').as_uri()}\nnewpy\n")
    with pytest.raises(BuildError) as info:
        _build(fn, home, "python3.9", "arm64")
    message = info.value.message
    assert "newpy" in message and "python3.9" in message and ">=3.10" in message


def test_a_pure_sdist_is_built_into_a_wheel(tmp_path, home):
    sdists = tmp_path / "sdists"
    make_sdist(sdists, "tinysrc", "1.0")
    fn = _fn(tmp_path, _offline(sdists, extra="tinysrc==1.0\n"))
    built = _build(fn, home, "python3.12", "arm64")
    assert wheel_tags_in_zip(built.artifact.path)["tinysrc-1.0.dist-info"] == ["py3-none-any"]
    with zipfile.ZipFile(built.artifact.path) as zf:
        assert zf.read("tinysrc/__init__.py") == b"FROM_SDIST = 1\n"


def test_an_sdist_with_native_code_is_refused_with_the_opt_in_named(tmp_path, home):
    sdists = tmp_path / "sdists"
    make_sdist(sdists, "speedy", "1.0", native=True)
    fn = _fn(tmp_path, _offline(sdists, extra="speedy==1.0\n"))
    with pytest.raises(BuildError) as info:
        _build(fn, home, "python3.12", "arm64")
    assert "speedy==1.0" in info.value.message and "python3.12 arm64" in info.value.message
    assert "native code" in info.value.message and "STRATA_BUILD_ON_HOST=1" in (info.value.hint or "")


def test_the_opt_in_is_honest_when_this_machine_does_not_match_the_target(tmp_path, home, monkeypatch):
    monkeypatch.setenv("STRATA_BUILD_ON_HOST", "1")
    sdists = tmp_path / "sdists"
    make_sdist(sdists, "speedy", "1.0", native=True)
    fn = _fn(tmp_path, _offline(sdists, extra="speedy==1.0\n"))
    other = "arm64" if host_machine() == "x86_64" else "x86_64"
    with pytest.raises(BuildError) as info:
        _build(fn, home, HOST_RUNTIME, other)
    assert "STRATA_BUILD_ON_HOST is set" in info.value.message and f"{HOST_RUNTIME} {other}" in info.value.message


@pytest.mark.skipif(not sys.platform.startswith("linux") or host_machine() not in ("x86_64", "aarch64"),
                    reason="builds for the host: Linux x86_64 or aarch64 only")
def test_the_opt_in_builds_native_code_on_a_matching_machine(tmp_path, home, monkeypatch):
    monkeypatch.setenv("STRATA_BUILD_ON_HOST", "1")
    sdists = tmp_path / "sdists"
    make_sdist(sdists, "speedy", "1.0", native=True)
    fn = _fn(tmp_path, _offline(sdists, extra="speedy==1.0\n"))
    arch = "arm64" if host_machine() == "aarch64" else "x86_64"
    built = _build(fn, home, HOST_RUNTIME, arch)
    abi = "cp%d%d" % sys.version_info[:2]
    assert wheel_tags_in_zip(built.artifact.path)["speedy-1.0.dist-info"] == [f"{abi}-{abi}-linux_{host_machine()}"]


def test_a_layer_builds_for_its_build_method_and_architecture(tmp_path, home):
    layer = write_tree(tmp_path / "layer", {"requirements.txt": _offline(WHEELS, extra="charset-normalizer==3.4.2\n")})
    target = BuildTarget("Layer", "ContentUri", layer, "layer", "python3.11", "python3.11", (), "arm64")
    (built,) = build_targets([target], home, clock=far_future)
    names = zip_names(built.artifact.path)
    assert any(n.startswith("python/charset_normalizer/") and n.endswith("cpython-311-aarch64-linux-gnu.so")
               for n in names)


def test_a_manifest_strata_does_not_read_is_said_not_ignored_in_silence(tmp_path, home):
    fn = write_tree(tmp_path / "fn", {"app.py": "", "pyproject.toml": "[project]\nname='x'\n", "uv.lock": ""})
    said: list[str] = []
    built = _build(fn, home, "python3.12", warn=said.append)
    assert len(said) == 1 and "pyproject.toml, uv.lock found but not read" in said[0] and "requirements.txt" in said[0]
    assert built.notes == tuple(said)
    with_requirements = write_tree(tmp_path / "fn2", {"app.py": "", "pyproject.toml": "", "requirements.txt": ""})
    said.clear()
    _build(with_requirements, home, "python3.12", warn=said.append)
    assert said == []


def test_python_target_tags():
    al2 = PythonTarget.of("python3.11", "arm64")
    assert al2.glibc == (2, 26) and al2.platforms()[0] == "manylinux_2_26_aarch64"
    assert "manylinux2014_aarch64" in al2.platforms() and not any("x86_64" in p for p in al2.platforms())
    al2023 = PythonTarget.of("python3.12", None)
    assert al2023.architecture == "x86_64" and al2023.glibc == (2, 34) and "manylinux1_x86_64" in al2023.platforms()
    assert al2023.fits("a-1-cp312-cp312-manylinux_2_34_x86_64.whl")
    assert not al2023.fits("a-1-cp312-cp312-manylinux_2_35_x86_64.whl")
    assert not al2023.fits("a-1-cp311-cp311-manylinux_2_17_x86_64.whl")
    assert al2023.fits("a-1-cp38-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")
    assert not al2.fits("a-1-cp311-cp311-manylinux_2_28_aarch64.whl")
    assert is_pure("a-1-py3-none-any.whl") and is_pure("a-1-py2.py3-none-any.whl")
    assert not is_pure("a-1-cp311-cp311-linux_x86_64.whl") and not is_pure("a-1-py3-none-linux_x86_64.whl")


@pytest.mark.skipif(not sys.platform.startswith("linux") or host_machine() != "x86_64",
                    reason="the wheelhouse's twin for a python3.11 arm64 build is cp311 x86_64")
def test_an_arm64_build_gets_a_host_twin_for_the_local_target_only(tmp_path, home):
    from strata.artifacts.store import ArtifactStore
    from strata.artifacts.twins import ensure_twins, local_code

    fn = _fn(tmp_path, _offline(WHEELS, extra="charset-normalizer==3.4.2\n"))
    arm = _build(fn, home, "python3.11", "arm64")
    x86 = _build(fn, home, "python3.11", "x86_64")
    store = ArtifactStore(home)
    assert local_code(store, arm.artifact.sha256)[0] == arm.artifact.sha256     # no twin before a deploy asks

    (line,) = ensure_twins([arm, x86], home)          # x86_64 runs here as it is: no line
    assert line.startswith("Fn: native code in its python3.11 arm64 dependencies (charset_normalizer)")
    assert "twin built for python3.11 x86_64" in line
    assert local_code(store, arm.artifact.sha256) == (x86.artifact.sha256, x86.artifact.path)  # same bytes as x86
    x86.artifact.path.unlink()
    assert local_code(store, arm.artifact.sha256)[0] == arm.artifact.sha256     # a twin gone: the artifact itself


def test_pure_dependencies_need_no_twin(tmp_path, home):
    from strata.artifacts.twins import ensure_twins

    fn = _fn(tmp_path, _offline(tmp_path / "wheels", extra="tinypkg==1.0\n"))
    make_wheel(tmp_path / "wheels")
    other = "arm64" if host_machine() == "x86_64" else "x86_64"
    assert ensure_twins([_build(fn, home, "python3.12", other)], home) == []
