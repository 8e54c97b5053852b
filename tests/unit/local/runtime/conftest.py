"""Fixtures for runtime tests (helpers live in ``runtime_lab``)."""
from __future__ import annotations

from pathlib import Path

import pytest
from runtime_lab import Lab

from strata.local.runtime.pool import WorkerPool


@pytest.fixture
def lab(tmp_path: Path):
    pool = WorkerPool(tmp_path / "home", event_retry_delays=())
    try:
        yield Lab(tmp_path / "home", pool)
    finally:
        pool.close()
