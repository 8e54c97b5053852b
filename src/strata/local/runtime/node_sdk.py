"""The AWS SDK for JavaScript v3 that Lambda's Node.js runtimes bundle (``/var/runtime/node_modules``), as a folder
in strata's user-level cache, or honestly nothing.

Lambda's ``nodejs18.x`` and later ship the ``@aws-sdk/*`` v3 packages beside the runtime, so a handler may
``require('@aws-sdk/client-s3')`` without packaging it. strata has no offline copy to give (the Python runtime's
boto3 is copied from strata's own environment: ``sdk.py``), and installing hundreds of clients behind the user's back
at a cold start would be slow, need the network, and still not be Lambda's exact set. So:
- by default nothing is installed: the cold start's INIT_START line and ``strata deploy``/``plan`` say that the SDK is
  absent and how to get it (package it with the function or a layer, as ``sam build`` users often do anyway, or
  install strata's set);
- ``STRATA_RUNTIME_AWS_SDK_JS=<version>`` (e.g. ``3.600.0``; ``latest`` for npm's newest) installs a pinned set of
  the most used clients (``PACKAGES``, all at that version) with ``npm`` at the next cold start, once, into
  ``<user cache>/sdk/nodejs-aws-sdk-<digest>/node_modules``, recorded in ``sdk/nodejs-aws-sdk.json``. From then on
  every Node.js worker has that folder on ``NODE_PATH`` in the place of ``/var/runtime/node_modules`` (after the
  function's own ``node_modules`` and its layers', as on Lambda), until the variable asks for another version.
Like ``sdk.py``: a folder is filled under a temporary name and renamed into place, never changed afterwards.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from strata.errors import StrataError
from strata.local.runtime.sdk import write_json
from strata.paths import move_into_place, user_cache_dir

ENV = "STRATA_RUNTIME_AWS_SDK_JS"
NAME = "nodejs-aws-sdk"
# The clients handlers use most (and the two helpers most code imports with them), all at one version.
PACKAGES = ("@aws-sdk/client-s3", "@aws-sdk/client-dynamodb", "@aws-sdk/lib-dynamodb", "@aws-sdk/client-lambda",
            "@aws-sdk/client-sqs", "@aws-sdk/client-sns", "@aws-sdk/client-ssm", "@aws-sdk/client-secrets-manager",
            "@aws-sdk/client-eventbridge", "@aws-sdk/client-sts", "@aws-sdk/client-kinesis",
            "@aws-sdk/client-codedeploy", "@aws-sdk/credential-providers")

_lock = threading.Lock()
_memo: dict[tuple[str, str | None], Installed | None] = {}


@dataclass(frozen=True)
class Installed:
    folder: Path                        # the node_modules folder that stands for /var/runtime/node_modules
    version: str                        # the @aws-sdk version installed
    manifest: Path

    def summary(self) -> str:
        return f"AWS SDK for JavaScript v3 {self.version} ({len(PACKAGES)} packages, {self.manifest})"


def manifest_path(root: Path | None = None) -> Path:
    return (root or user_cache_dir()) / "sdk" / f"{NAME}.json"


def ensure(root: Path | None = None) -> Installed | None:
    """The SDK folder recorded in the user cache (installing the version ``STRATA_RUNTIME_AWS_SDK_JS`` asks for, if
    it is not the recorded one); None when there is none."""
    root = root or user_cache_dir()
    wanted = os.environ.get(ENV) or None
    key = (str(root), wanted)
    with _lock:
        hit = _memo.get(key)
        if hit is not None and hit.folder.is_dir():
            return hit
        installed = current(root)
        if wanted is not None and (installed is None or (wanted != "latest" and installed.version != wanted)):
            installed = _install(root, wanted)
        _memo[key] = installed
        return installed


def current(root: Path | None = None) -> Installed | None:
    """What the manifest records, if its folder is still there."""
    path = manifest_path(root)
    try:
        data = json.loads(path.read_text())
        folder = path.parent / str(data["folder"]) / "node_modules"
        version = str(data["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return Installed(folder, version, path) if folder.is_dir() else None


def note(installed: Installed | None) -> str:
    """What INIT_START says of the SDK a Node.js handler gets."""
    if installed is not None:
        return f"SDK: {installed.summary()}"
    return ("SDK: none (Lambda's Node.js runtimes bundle the AWS SDK for JavaScript v3; here it is not installed: "
            f"package @aws-sdk/* with the function or a layer, or set {ENV}=<version> to install strata's set)")


def _install(root: Path, wanted: str) -> Installed:
    npm = shutil.which("npm")
    if npm is None:
        raise StrataError(f"{ENV}={wanted}: installing the AWS SDK for JavaScript needs npm, which is not on PATH",
                          hint=f"install npm (it comes with Node.js), or unset {ENV}")
    sdk_root = root / "sdk"
    sdk_root.mkdir(parents=True, exist_ok=True)
    tmp = sdk_root / f".{NAME}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        (tmp / "package.json").write_text('{"private": true}\n')
        done = subprocess.run([npm, "install", "--no-save", "--omit=dev", "--no-audit", "--no-fund",
                               "--ignore-scripts", "--no-package-lock", *(f"{p}@{wanted}" for p in PACKAGES)],
                              cwd=tmp, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            detail = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
            raise StrataError(f"could not install the AWS SDK for JavaScript {wanted} ({ENV}): {detail}",
                              hint=f"check the version exists and npm can reach its registry; unset {ENV} to keep "
                                   "the recorded SDK (or none)")
        version = _installed_version(tmp / "node_modules") or wanted
        digest = hashlib.sha256(json.dumps([version, PACKAGES]).encode()).hexdigest()[:12]
        folder = sdk_root / f"{NAME}-{digest}"
        move_into_place(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    path = manifest_path(root)
    write_json(path, {"folder": folder.name, "version": version, "packages": list(PACKAGES),
                      "installed": datetime.now(UTC).isoformat(timespec="seconds")})
    return Installed(folder / "node_modules", version, path)


def _installed_version(node_modules: Path) -> str | None:
    try:
        return str(json.loads((node_modules / PACKAGES[0] / "package.json").read_text())["version"])
    except (OSError, ValueError, KeyError):
        return None
