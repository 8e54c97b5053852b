"""Fixtures for transform tests: real SAM projects copied into temp folders, with their own state home."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.fixture
def layered_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of examples/layered-app; STRATA_HOME points into the temp folder."""
    target = tmp_path / "layered-app"
    shutil.copytree(EXAMPLES / "layered-app", target)
    monkeypatch.setenv("STRATA_HOME", str(tmp_path / "home"))
    return target
