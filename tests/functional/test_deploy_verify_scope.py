"""A deploy verifies what it changed: the functions whose code, configuration, versions or aliases it touched."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

STRATA = str(Path(sys.executable).parent / "strata")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "layered-app"


def test_deploy_verifies_the_functions_it_changed(tmp_path: Path) -> None:
    app = tmp_path / "app"
    shutil.copytree(EXAMPLE, app)
    env = {**os.environ, "STRATA_HOME": str(tmp_path / "home"), "STRATA_NO_DAEMON": "1"}

    def deploy() -> str:
        done = subprocess.run([STRATA, "deploy"], cwd=app, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "Verified: HelloFunction, PlainFunction serve what was deployed." in deploy()
    (app / "src/plain/app.py").write_text("def handler(event, context):\n    return 'v2'\n")
    assert "Verified: PlainFunction serves what was deployed." in deploy()
    assert "Verified" not in deploy()  # nothing changed: nothing to verify, and the no-op path stays cheap
