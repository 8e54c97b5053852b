"""strata's own pytest plugin (``strata.testing``, the ``strata_stack`` fixture) for strata's tests, and a user cache
of the suite's own.

Installed, strata registers it as the pytest entry point ``strata``. An install made before that entry point existed
(an editable install is not rebuilt when pyproject.toml changes) does not, so it is loaded here then: once, never
twice (pluggy refuses one module under two names).

The tests never write to the user's own cache (``~/.cache/strata``): the user-level cache
(``strata.paths.user_cache_dir``: the runtime SDK and bootstrap folders workers import from) is one folder per user
under the temp folder, shared by every xdist worker and kept between runs, as a user's is: the first cold start of a
run copies boto3 at most once, whichever worker gets there first (``strata.local.runtime.sdk`` installs atomically).
Set ``STRATA_CACHE_DIR`` yourself to use another."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("STRATA_CACHE_DIR", str(Path(tempfile.gettempdir()) / f"strata-tests-cache-{os.getuid()}"))


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("strata"):
        import strata.testing

        config.pluginmanager.register(strata.testing, "strata")
