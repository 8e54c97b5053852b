"""A function with a compiled dependency, through the real ``strata`` executable: its zip holds the wheels of its
``Runtime`` and ``Architectures``; changing either is a new zip and a new version, and ``plan`` says why; an arm64
function on an x86_64 machine runs locally on a host-built twin, said in ``deploy``'s output, while its version keeps
the arm64 zip's CodeSha256. Offline: pip reads only tests/data/wheels (see its SOURCE.md)."""
from __future__ import annotations

import json
import os
import sys
import zipfile
from pathlib import Path

import pytest
from deploy_helpers import env_for, strata

WHEELS = Path(__file__).resolve().parents[1] / "data" / "wheels"
HANDLER = """\
import os

import charset_normalizer.md


def handler(event, context):
    return {"md": os.path.basename(charset_normalizer.md.__file__)}
"""
TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn
      Handler: app.handler
      Runtime: {runtime}
      Architectures: [{arch}]
      AutoPublishAlias: live
"""

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.uname().machine != "x86_64" or sys.version_info[:2] != (3, 11),
    reason="the wheelhouse holds cp311 x86_64/aarch64 and cp312 x86_64 wheels: runs on Linux x86_64 with 3.11")


def _app(tmp_path: Path, runtime: str = "python3.11", arch: str = "x86_64") -> Path:
    app = tmp_path / "targetapp"
    (app / "fn").mkdir(parents=True)
    (app / "fn" / "app.py").write_text(HANDLER)
    (app / "fn" / "requirements.txt").write_text(f"--no-index\n--find-links {WHEELS}\ncharset-normalizer==3.4.2\n")
    (app / "template.yaml").write_text(TEMPLATE.format(runtime=runtime, arch=arch))
    return app


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in env_for(home).items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    return env


def _retarget(app: Path, runtime: str, arch: str) -> None:
    (app / "template.yaml").write_text(TEMPLATE.format(runtime=runtime, arch=arch))


def _built(app: Path, home: Path) -> dict:
    (row,) = json.loads(strata(app, home, "build", "--output", "json", env=_env(home)).stdout)
    return row


def _tags(zip_path: str) -> list[str]:
    with zipfile.ZipFile(zip_path) as zf:
        text = zf.read("charset_normalizer-3.4.2.dist-info/WHEEL").decode()
    return [line[5:].strip() for line in text.splitlines() if line.startswith("Tag:")]


def _live_code_sha(app: Path, home: Path) -> str:
    from strata.local.lambda_service.service import LambdaService
    from strata.local.lambda_service.wire import dispatch

    service = LambdaService(home)
    try:
        (fn,) = dispatch(service, "ListFunctions", {})["Functions"]
        return dispatch(service, "GetFunctionConfiguration", {"FunctionName": fn["FunctionName"],
                                                              "Qualifier": "live"})["CodeSha256"]
    finally:
        service.close()


def test_the_zip_follows_runtime_and_architecture_and_arm64_runs_locally_on_a_twin(tmp_path):
    home = tmp_path / "home"
    app = _app(tmp_path)
    env = _env(home)
    x86 = _built(app, home)
    assert "cp311-cp311-manylinux_2_17_x86_64" in _tags(x86["path"])
    assert _built(app, home)["status"] == "cached" and _built(app, home)["sha256"] == x86["sha256"]
    strata(app, home, "deploy", env=env)
    assert json.loads(strata(app, home, "invoke", "Fn:live", env=env).stdout) == \
        {"md": "md.cpython-311-x86_64-linux-gnu.so"}

    _retarget(app, "python3.11", "arm64")
    plan = strata(app, home, "plan", env=env).stdout
    assert "publish a new version of Fn because" in plan and "Architectures" in plan and "Code changed" in plan
    arm = _built(app, home)
    assert arm["sha256"] != x86["sha256"] and "cp311-cp311-manylinux_2_17_aarch64" in _tags(arm["path"])
    deployed = strata(app, home, "deploy", env=env).stdout
    (line,) = [text for text in deployed.splitlines() if text.startswith("Fn: native code")]
    assert "python3.11 arm64" in line and "twin built for python3.11 x86_64" in line and arm["sha256"][:12] in line
    assert _live_code_sha(app, home) == arm["code_sha256"]      # the version is the arm64 zip
    assert json.loads(strata(app, home, "invoke", "Fn:live", env=env).stdout) == \
        {"md": "md.cpython-311-x86_64-linux-gnu.so"}             # what runs here is the twin

    _retarget(app, "python3.12", "x86_64")
    plan = strata(app, home, "plan", env=env).stdout
    assert "publish a new version of Fn because" in plan and "Runtime changed (python3.11 -> python3.12)" in plan
    assert "Code changed" in plan
    assert "cp312-cp312-manylinux_2_17_x86_64" in _tags(_built(app, home)["path"])


def test_a_runtime_the_wheelhouse_has_no_wheel_for_fails_the_deploy_naming_package_and_target(tmp_path):
    home = tmp_path / "home"
    app = _app(tmp_path, "python3.12", "arm64")
    proc = strata(app, home, "deploy", env=_env(home), check=False)
    assert proc.returncode == 1
    assert "charset-normalizer==3.4.2" in proc.stderr and "python3.12 arm64" in proc.stderr
