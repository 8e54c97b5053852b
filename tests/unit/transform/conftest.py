"""Fixtures for transform tests: real SAM projects copied into temp folders, with their own state home."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from strata.transform.pipeline import transform

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.fixture
def layered_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of examples/layered-app; STRATA_HOME points into the temp folder."""
    target = tmp_path / "layered-app"
    shutil.copytree(EXAMPLES / "layered-app", target)
    monkeypatch.setenv("STRATA_HOME", str(tmp_path / "home"))
    return target



def versions(template: Path, home: Path | None = None, **kwargs) -> dict[str, str | None]:
    """Function logical id -> Version logical id after a full transform."""
    result = transform(template, home=home, **kwargs)
    return {fid: info.version_id for fid, info in result.functions.items()}


def write_project(root: Path, template: str, files: dict[str, str] | None = None) -> Path:
    """Write ``template.yaml`` and source files under ``root``; return the template path."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in (files or {"src/app.py": "def handler(event, context):\n    return event\n"}).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    path = root / "template.yaml"
    path.write_text(template)
    return path


@pytest.fixture(name="versions")
def versions_fixture():
    """``versions(template, home=None, **kwargs)``: function logical id -> Version logical id."""
    return versions


@pytest.fixture(name="write_project")
def write_project_fixture():
    """``write_project(root, template_text, files=None)``: write a SAM project, return its template path."""
    return write_project
