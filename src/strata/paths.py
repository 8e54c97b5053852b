"""Where local state lives: ``.strata/`` beside the template, or ``$STRATA_HOME`` when set.

Layout (every module that writes state asks this module for its folder, never builds paths itself):
    <home>/artifacts/   content-addressed zips (sha256 of the zip bytes)
    <home>/cache/       build stat cache, transform cache
    <home>/state.db     the one SQLite database (Lambda service, stacks, journal)
    <home>/logs/        invocation logs
    <home>/runtime/     unpacked code and layers, one folder per digest
"""
from __future__ import annotations

import os
from pathlib import Path

ENV_HOME = "STRATA_HOME"


def state_home(template_path: str | os.PathLike[str] | None = None) -> Path:
    """The state folder: ``$STRATA_HOME``, else ``.strata`` beside the template, else ``./.strata``."""
    env = os.environ.get(ENV_HOME)
    if env:
        return Path(env).expanduser().resolve()
    if template_path is not None:
        return Path(template_path).expanduser().resolve().parent / ".strata"
    return Path.cwd().resolve() / ".strata"


def artifacts_dir(home: Path) -> Path:
    return home / "artifacts"


def cache_dir(home: Path) -> Path:
    return home / "cache"


def database_path(home: Path) -> Path:
    return home / "state.db"


def logs_dir(home: Path) -> Path:
    return home / "logs"


def runtime_dir(home: Path) -> Path:
    return home / "runtime"
