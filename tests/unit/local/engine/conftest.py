"""Fixtures for engine tests: a state home per test and an engine on it (helpers live in engine_helpers)."""
from __future__ import annotations

from pathlib import Path

import pytest

from strata.local.engine.api import Engine


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / ".strata"


@pytest.fixture
def engine(home: Path):
    events: list[tuple] = []
    eng = Engine(home, progress=lambda *e: events.append(e))
    eng.events_seen = events  # type: ignore[attr-defined]
    yield eng
    eng.close()
