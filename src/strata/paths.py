"""Where local state lives: ``.strata/`` beside the template, or ``$STRATA_HOME`` when set.

Layout (every module that writes state asks this module for its folder, never builds paths itself):
    <home>/artifacts/   content-addressed zips (sha256 of the zip bytes)
    <home>/cache/       build stat cache, transform cache
    <home>/state.db     the one SQLite database (Lambda service, stacks, journal)
    <home>/logs/        invocation logs
    <home>/runtime/     unpacked code and layers, one folder per digest
    <home>/locks/       one lock file per stack (deploys and deletes of a stack take turns)

Outside any home, one user-level cache (``user_cache_dir``) holds what depends only on this machine and strata, not
on a project: the runtime folders workers import boto3 and their bootstrap from (``strata.local.runtime.sdk``).

The home is created 0700 (``ensure_home``): the database holds environment variables, logs what handlers print.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

ENV_HOME = "STRATA_HOME"
ENV_CACHE = "STRATA_CACHE_DIR"


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


def locks_dir(home: Path) -> Path:
    return home / "locks"


def user_cache_dir() -> Path:
    """The user-level cache: ``$STRATA_CACHE_DIR``, else ``$XDG_CACHE_HOME/strata``, else ``~/.cache/strata``."""
    env = os.environ.get(ENV_CACHE)
    if env:
        return Path(env).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg and os.path.isabs(os.path.expanduser(xdg)) else Path.home() / ".cache"
    return (base / "strata").resolve()


def ensure_home(home: Path) -> Path:
    """Create the state folder private to its user (0700, whatever the umask) when it does not exist yet; an
    existing folder keeps the mode its owner gave it (the files holding secrets are 0600 on their own)."""
    home = Path(home)
    if not home.is_dir():
        home.parent.mkdir(parents=True, exist_ok=True)
        try:
            home.mkdir(mode=0o700)
        except FileExistsError:
            pass
    return home


def move_into_place(built: Path, final: Path, present: Callable[[], bool] | None = None) -> None:
    """Rename the folder ``built`` (made beside ``final``) onto ``final`` in one step. When another process placed
    it first, the rename fails and, if ``present()`` says theirs is there (by default: ``final`` is a folder), theirs
    is kept: every caller builds the same content under the same name."""
    try:
        os.rename(built, final)
    except OSError:
        if not (present() if present is not None else final.is_dir()):
            raise
