"""The runtime's SDK folder (boto3 as Lambda bundles it) and the worker's own modules, in the user-level cache:
installed once, offline, atomically, versions recorded; the bootstrap copy imports nothing of strata."""
from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from strata.errors import StrataError
from strata.local.runtime import sdk
from strata.paths import user_cache_dir

RUNTIME = "python%d.%d" % sys.version_info[:2]
VERSION = sys.version_info[:2]


@pytest.fixture(autouse=True)
def fresh_memo(monkeypatch):
    monkeypatch.delenv(sdk.ENV_BOTO3, raising=False)
    monkeypatch.setattr(sdk, "_memo", {})


def test_installed_once_from_this_environment_with_the_versions_recorded(tmp_path):
    installed = sdk.ensure(RUNTIME, sys.executable, VERSION, tmp_path)
    assert installed is not None
    host = {name: importlib.metadata.version(name) for name in sdk.DISTRIBUTIONS}
    assert dict(installed.packages) == host and installed.packages[0][0] == "boto3"
    record = json.loads(sdk.manifest_path(RUNTIME, tmp_path).read_text())
    assert record["runtime"] == RUNTIME and dict(record["packages"]) == host
    assert record["source"].startswith("host ") and record["folder"] == installed.folder.name
    assert installed.manifest == sdk.manifest_path(RUNTIME, tmp_path)
    # packages with their metadata (importlib.metadata works in a handler), no scripts, byte-code for the interpreter
    names = {path.name for path in installed.folder.iterdir()}
    assert {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six.py", "urllib3"} <= names
    assert f"boto3-{host['boto3']}.dist-info" in names and "bin" not in names
    assert (installed.folder / f".compiled-{VERSION[0]}.{VERSION[1]}").exists()
    assert installed.summary() == f"boto3 {host['boto3']}, botocore {host['botocore']}"

    before = installed.folder.stat().st_mtime_ns
    sdk._memo.clear()                                     # another process: reads the manifest, copies nothing
    again = sdk.ensure(RUNTIME, sys.executable, VERSION, tmp_path)
    assert again == installed and installed.folder.stat().st_mtime_ns == before
    assert sorted(p.name for p in (tmp_path / "sdk").iterdir()) == sorted([installed.folder.name, f"{RUNTIME}.json"])


def test_parallel_processes_install_one_folder(tmp_path):
    program = ("import sys; from pathlib import Path; from strata.local.runtime import sdk; "
               "print(sdk.ensure(sys.argv[1], sys.executable, sys.version_info[:2], Path(sys.argv[2])).folder)")
    procs = [subprocess.Popen([sys.executable, "-c", program, RUNTIME, str(tmp_path)], stdout=subprocess.PIPE,
                              text=True) for _ in range(3)]
    folders = {proc.communicate(timeout=120)[0].strip() for proc in procs}
    assert all(proc.returncode == 0 for proc in procs)
    assert len(folders) == 1
    left = sorted(p.name for p in (tmp_path / "sdk").iterdir())
    assert left == sorted([Path(folders.pop()).name, f"{RUNTIME}.json"])      # no temporary folder or file left


def test_a_runtime_keeps_its_recorded_sdk_until_asked_for_another(tmp_path, monkeypatch):
    installed = sdk.ensure(RUNTIME, sys.executable, VERSION, tmp_path)
    assert installed is not None
    record_path = sdk.manifest_path(RUNTIME, tmp_path)
    record = json.loads(record_path.read_text())
    record["packages"][0][1] = "1.0.0-pinned"            # as if recorded from an older boto3 strata ran with
    record_path.write_text(json.dumps(record))
    sdk._memo.clear()
    kept = sdk.ensure(RUNTIME, sys.executable, VERSION, tmp_path)
    assert kept is not None and kept.version("boto3") == "1.0.0-pinned"

    monkeypatch.setenv(sdk.ENV_BOTO3, sdk.HOST)           # copy strata's current boto3 again
    refreshed = sdk.ensure(RUNTIME, sys.executable, VERSION, tmp_path)
    assert refreshed is not None and refreshed.version("boto3") == importlib.metadata.version("boto3")
    assert json.loads(record_path.read_text())["packages"][0] == ["boto3", importlib.metadata.version("boto3")]


def test_a_folder_removed_by_hand_is_installed_again(tmp_path):
    import shutil

    installed = sdk.ensure(RUNTIME, sys.executable, VERSION, tmp_path)
    assert installed is not None
    shutil.rmtree(installed.folder)
    again = sdk.ensure(RUNTIME, sys.executable, VERSION, tmp_path)
    assert again is not None and (again.folder / "boto3" / "__init__.py").is_file()


def test_the_bootstrap_copy_runs_without_strata_importable(tmp_path):
    folder = sdk.bootstrap_folder(tmp_path)
    assert sdk.bootstrap_folder(tmp_path) == folder                   # one folder per content
    probe = (f"import sys; sys.path.insert(0, {str(folder)!r}); import _strata_runtime.worker; del sys.path[0]; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] == 'strata'))")
    done = subprocess.run([sys.executable, "-I", "-S", "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    for name in ("worker.py", "context.py", "loader.py", "protocol.py"):
        copied = (folder / sdk.BOOTSTRAP_PACKAGE / name).read_text()
        assert not re.search(r"^\s*(from|import) strata", copied, re.M)


def test_the_user_cache_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("STRATA_CACHE_DIR", str(tmp_path / "mine"))
    assert user_cache_dir() == (tmp_path / "mine").resolve()
    monkeypatch.delenv("STRATA_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert user_cache_dir() == (tmp_path / "xdg" / "strata").resolve()
    monkeypatch.setenv("XDG_CACHE_HOME", "relative")                  # ignored, as the XDG spec says
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert user_cache_dir() == (tmp_path / "home" / ".cache" / "strata").resolve()


def test_asked_for_a_boto3_version_pip_installs_it_for_the_runtimes_python(tmp_path, monkeypatch):
    real_run = subprocess.run
    seen: list[list[str]] = []

    def fake_pip(command, **kwargs):                   # what pip --target leaves: packages, metadata, scripts
        if command[1:3] != ["-m", "pip"]:
            return real_run(command, **kwargs)
        seen.append(command)
        target = Path(command[command.index("--target") + 1])
        for name, version in (("boto3", "1.2.3"), ("botocore", "1.5.0")):
            (target / name).mkdir(parents=True)
            (target / name / "__init__.py").write_text(f"__version__ = {version!r}\n")
            meta = target / f"{name}-{version}.dist-info"
            meta.mkdir()
            (meta / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        (target / "bin").mkdir()
        (target / "bin" / "jp.py").write_text("")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(sdk.subprocess, "run", fake_pip)
    monkeypatch.setenv(sdk.ENV_BOTO3, "1.2.3")
    installed = sdk.ensure("python3.9", sys.executable, (3, 9), tmp_path)
    assert installed is not None and installed.source == "pip"
    assert installed.packages == (("boto3", "1.2.3"), ("botocore", "1.5.0"))
    assert "boto3==1.2.3" in seen[0] and seen[0][seen[0].index("--python-version") + 1] == "3.9"
    assert not (installed.folder / "bin").exists()
    assert dict(json.loads(sdk.manifest_path("python3.9", tmp_path).read_text())["packages"])["boto3"] == "1.2.3"
    sdk._memo.clear()
    assert sdk.ensure("python3.9", sys.executable, (3, 9), tmp_path) == installed     # installed once
    assert len(seen) == 1

    def failing_pip(command, **kwargs):
        return subprocess.CompletedProcess(command, 1, "", "ERROR: No matching distribution found for boto3==9.9\n")

    monkeypatch.setattr(sdk.subprocess, "run", failing_pip)
    monkeypatch.setenv(sdk.ENV_BOTO3, "9.9")
    with pytest.raises(StrataError) as failed:
        sdk.ensure("python3.9", sys.executable, (3, 9), tmp_path)
    assert "boto3==9.9" in failed.value.message and "No matching distribution" in failed.value.message
    assert sorted(p.name for p in (tmp_path / "sdk").iterdir()) == [installed.folder.name, "python3.9.json"]
