"""Helpers for the deploy/crash functional tests: run the real ``strata`` executable with its own STRATA_HOME, copy
the layered example app, and read what the Lambda service holds."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
STRATA = str(Path(sys.executable).parent / "strata")
EXAMPLE = ROOT / "examples" / "layered-app"


def copy_app(dest: Path) -> Path:
    """The layered example app at ``dest`` (the folder name becomes the default stack name)."""
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns(".strata", "__pycache__"))
    return dest


# the suite's own settings (tests/conftest.py), kept; every other STRATA_ variable of the caller is left out
_SUITE = ("STRATA_ALLOW_PYTHON_SUBSTITUTE", "STRATA_PYTHON", "STRATA_ALLOW_NODE_SUBSTITUTE", "STRATA_NODE",
          "STRATA_CACHE_DIR")


def env_for(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRATA_") or k in _SUITE}
    env["STRATA_HOME"] = str(home)
    env.update(extra)
    return env


def strata(app: Path, home: Path, *args: str, check: bool = True, env: dict[str, str] | None = None,
           timeout: float = 120) -> subprocess.CompletedProcess:
    proc = subprocess.run([STRATA, *args], cwd=app, env=env or env_for(home), capture_output=True, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"strata {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def describe(app: Path, home: Path) -> dict[str, Any]:
    return json.loads(strata(app, home, "describe", "--output", "json").stdout)


_VOLATILE = {"LastModified", "RevisionId", "CodeSize", "LastUpdateStatus", "State", "StateReason",
             "LastUpdateStatusReason", "LastUpdateStatusReasonCode", "StateReasonCode", "CreatedDate"}


def service_snapshot(home: Path) -> dict[str, Any]:
    """Functions (every version's configuration, aliases, tags) and layer versions, as the service reports them."""
    from strata.local.lambda_service.service import LambdaService
    from strata.local.lambda_service.wire import dispatch

    service = LambdaService(home)
    try:
        call = lambda op, params: dispatch(service, op, params)  # noqa: E731
        out: dict[str, Any] = {"functions": {}, "layers": {}}
        for fn in call("ListFunctions", {}).get("Functions", []):
            name = fn["FunctionName"]
            versions = call("ListVersionsByFunction", {"FunctionName": name})["Versions"]
            out["functions"][name] = {
                "versions": {v["Version"]: {k: x for k, x in v.items() if k not in _VOLATILE} for v in versions},
                "aliases": {a["Name"]: [a["FunctionVersion"], a.get("RoutingConfig")]
                            for a in call("ListAliases", {"FunctionName": name})["Aliases"]},
                "tags": call("ListTags", {"Resource": fn["FunctionArn"]}).get("Tags", {}),
            }
        for layer in call("ListLayers", {}).get("Layers", []):
            versions = call("ListLayerVersions", {"LayerName": layer["LayerName"]})["LayerVersions"]
            out["layers"][layer["LayerName"]] = sorted(v["Version"] for v in versions)
        return out
    finally:
        service.close()


def stack_view(app: Path, home: Path) -> dict[str, Any]:
    """What must be equal between an interrupted-then-completed deploy and an uninterrupted one."""
    from strata.local.engine.describe import describe as read

    info = json.loads(json.dumps(read(home, app.name), default=str))
    return {"status": info["StackStatus"].replace("CREATE_", "X_").replace("UPDATE_", "X_"),
            "resources": sorted((r["LogicalResourceId"], r["ResourceType"], r["PhysicalResourceId"])
                                for r in info["Resources"]),
            "functions": info["Functions"], "outputs": info["Outputs"], "pending": info["PendingCleanup"],
            "interrupted": info["Interrupted"], "service": service_snapshot(home)}


def change_layer(app: Path, revision: int) -> None:
    path = app / "layers" / "shared" / "python" / "shared_greeting.py"
    text = path.read_text()
    import re

    path.write_text(re.sub(r"LAYER_REVISION = \d+", f"LAYER_REVISION = {revision}", text))


def edit_template(app: Path, old: str, new: str) -> None:
    path = app / "template.yaml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
