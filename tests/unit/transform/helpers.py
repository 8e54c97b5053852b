"""Small helpers to write SAM projects and read Version ids out of a transform."""
from __future__ import annotations

from pathlib import Path

from strata.transform.pipeline import transform


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
