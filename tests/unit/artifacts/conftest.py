"""Fixtures for the build tests."""
from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture(autouse=True)
def pip_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """pip sees only what a test's requirements file names: no config files, no index or find-links variables."""
    import os

    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX", "STRATA_BUILD_ON_HOST"):
        monkeypatch.delenv(name, raising=False)
