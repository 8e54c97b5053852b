"""strata's own pytest plugin (``strata.testing``, the ``strata_stack`` fixture) for strata's tests, a user cache
of the suite's own, and the suite's Python substitution.

Installed, strata registers it as the pytest entry point ``strata``. An install made before that entry point existed
(an editable install is not rebuilt when pyproject.toml changes) does not, so it is loaded here then: once, never
twice (pluggy refuses one module under two names).

The tests never write to the user's own cache (``~/.cache/strata``): the user-level cache
(``strata.paths.user_cache_dir``: the runtime SDK and bootstrap folders workers import from) is one folder per user
under the temp folder, shared by every xdist worker and kept between runs, as a user's is: the first cold start of a
run copies boto3 at most once, whichever worker gets there first (``strata.local.runtime.sdk`` installs atomically).
Set ``STRATA_CACHE_DIR`` yourself to use another.

The apps and functions under test name Python runtimes (3.8 to 3.15) that a test machine may not have. A function
runs on the Python its runtime names when it is installed; when it is not, the suite allows strata's named
substitution to the Python running the tests (``STRATA_ALLOW_PYTHON_SUBSTITUTE``, which every ``strata`` process the
tests start inherits), so results do not depend on which Pythons the machine lacks. Tests of the missing-Python path
clear it (``tests/functional/test_cli_python_runtime.py``). Node.js likewise: ``nodejs18.x``/``20.x``/``22.x`` functions
run on the ``node`` found on PATH when their own major is missing (``STRATA_ALLOW_NODE_SUBSTITUTE``)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("STRATA_CACHE_DIR", str(Path(tempfile.gettempdir()) / f"strata-tests-cache-{os.getuid()}"))
_HERE = "%d.%d" % sys.version_info[:2]
os.environ.setdefault("STRATA_ALLOW_PYTHON_SUBSTITUTE",
                      " ".join(f"3.{minor}={_HERE}" for minor in range(8, 16) if f"3.{minor}" != _HERE))


def _node_major() -> str | None:
    node = shutil.which("node")
    if node is None:
        return None
    try:
        done = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip().lstrip("v").split(".")[0] or None


NODE_HERE = _node_major()
if NODE_HERE is not None and "STRATA_ALLOW_NODE_SUBSTITUTE" not in os.environ:
    os.environ["STRATA_ALLOW_NODE_SUBSTITUTE"] = " ".join(f"{major}={NODE_HERE}" for major in (18, 20, 22)
                                                          if str(major) != NODE_HERE)


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("strata"):
        import strata.testing

        config.pluginmanager.register(strata.testing, "strata")
