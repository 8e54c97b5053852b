"""The AWS SDK for JavaScript v3 Lambda bundles with its Node.js runtimes: absent unless asked for, and then installed
once with npm into the user cache and put on NODE_PATH where Lambda has /var/runtime/node_modules. ``npm`` here is a
fake that lays out the packages it is asked for (the tests never reach a registry)."""
from __future__ import annotations

import json
import os
import shutil
import sys

import pytest
from runtime_lab import body

from strata.local.runtime import node_sdk

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="no node on PATH")

FAKE_NPM = """#!{python}
import json, os, sys
packages = [a for a in sys.argv[2:] if not a.startswith("--")]
with open(os.path.join(os.environ["FAKE_NPM_LOG"]), "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\\n")
for spec in packages:
    name, _, version = spec.rpartition("@")
    folder = os.path.join("node_modules", *name.split("/"))
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "package.json"), "w") as fh:
        json.dump({{"name": name, "version": version, "main": "index.js"}}, fh)
    with open(os.path.join(folder, "index.js"), "w") as fh:
        fh.write("exports.from = 'bundled ' + %r;\\n" % version)
"""


@pytest.fixture
def cache(tmp_path, monkeypatch):
    bin_dir = tmp_path / "npm-bin"
    bin_dir.mkdir()
    npm = bin_dir / "npm"
    npm.write_text(FAKE_NPM.format(python=sys.executable))
    npm.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("STRATA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("FAKE_NPM_LOG", str(tmp_path / "npm.log"))
    monkeypatch.delenv(node_sdk.ENV, raising=False)
    return tmp_path


HANDLER = {"app.js": "exports.handler = async () => require('@aws-sdk/client-s3').from;\n"}


def test_absent_unless_asked_and_said(lab, cache):
    snapshot = lab.function(HANDLER, runtime="nodejs20.x")
    error = json.loads(lab.invoke(snapshot).payload)
    assert error["errorType"] == "Error" and "Cannot find module '@aws-sdk/client-s3'" in error["errorMessage"]
    assert "SDK: none (Lambda's Node.js runtimes bundle the AWS SDK for JavaScript v3; here it is not installed" \
        in lab.logs(snapshot)
    assert not (cache / "npm.log").exists()


def test_installed_once_on_request_then_on_node_path(lab, cache, monkeypatch):
    monkeypatch.setenv(node_sdk.ENV, "3.600.0")
    snapshot = lab.function(HANDLER, runtime="nodejs20.x")
    assert body(lab.invoke(snapshot)) == "bundled 3.600.0"
    installed = node_sdk.current()
    assert installed is not None and installed.version == "3.600.0"
    assert f"SDK: AWS SDK for JavaScript v3 3.600.0 ({len(node_sdk.PACKAGES)} packages" in lab.logs(snapshot)
    logged = (cache / "npm.log").read_text().splitlines()
    assert len(logged) == 1 and "@aws-sdk/client-s3@3.600.0" in logged[0] and "--ignore-scripts" in logged[0]
    # recorded: a later worker (no variable set) keeps it; the function's own copy wins over it
    monkeypatch.delenv(node_sdk.ENV)
    own = lab.function({**HANDLER, "node_modules/@aws-sdk/client-s3/index.js": "exports.from = 'packaged';\n"},
                       runtime="nodejs20.x", name="own")
    assert body(lab.invoke(own)) == "packaged"
    again = lab.function(HANDLER, runtime="nodejs20.x", name="again")
    assert body(lab.invoke(again)) == "bundled 3.600.0"
    assert len((cache / "npm.log").read_text().splitlines()) == 1
