"""strata's own pytest plugin (``strata.testing``, the ``strata_stack`` fixture) for strata's tests.

Installed, strata registers it as the pytest entry point ``strata``. An install made before that entry point existed
(an editable install is not rebuilt when pyproject.toml changes) does not, so it is loaded here then: once, never
twice (pluggy refuses one module under two names)."""
from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("strata"):
        import strata.testing

        config.pluginmanager.register(strata.testing, "strata")
