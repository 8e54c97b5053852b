"""Python dependencies from ``requirements.txt``: ``pip install --target`` once per requirements content, cached.

The install lands in ``<home>/cache/deps/<key>``, where key = sha256 of (requirements bytes' sha256, runtime,
interpreter tag, platform). A finished install is renamed into place, so a folder under its key is always complete
and never changes afterwards; the builder merges it into the zip (function code wins on a path clash).
pip runs with the interpreter running strata (``sys.executable``), from the requirements' folder so relative paths
in the file work. This is the one place the build stage may use the network (pip's index), and only on a cache miss.
Caveat: the key covers the requirements text, not files it points to (a local wheel rebuilt under the same name
is not noticed; change the requirements or delete the cache folder).
"""
from __future__ import annotations

import hashlib
import os
import sys
import sysconfig
from pathlib import Path

from strata.errors import BuildError
from strata.paths import cache_dir

FORMAT = "1"
TAIL_LINES = 15


def deps_key(requirements_sha256: bytes, runtime: str | None) -> str:
    """The cache key of an install: what pip would produce for these requirements on this interpreter."""
    parts = [FORMAT, requirements_sha256.hex(), runtime or "", sys.implementation.cache_tag or "",
             sysconfig.get_platform()]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def deps_dir(home: Path, key: str) -> Path:
    return cache_dir(home) / "deps" / key


def ensure_deps(home: Path, key: str, requirements: Path, *, what: str) -> Path:
    """The folder holding the install for ``key``, running pip first when it is not cached yet."""
    final = deps_dir(home, key)
    if final.is_dir():
        return final
    import shutil
    import subprocess
    import tempfile

    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=".tmp-"))
    cmd = [sys.executable, "-m", "pip", "install", "--target", str(tmp), "-r", str(requirements),
           "--no-compile", "--disable-pip-version-check", "--no-input", "--no-warn-script-location"]
    try:
        proc = subprocess.run(cmd, cwd=requirements.parent, capture_output=True, text=True,
                              env={**os.environ, "PIP_NO_INPUT": "1"})
        if proc.returncode != 0:
            lines = (proc.stdout + proc.stderr).strip().splitlines()[-TAIL_LINES:]
            raise BuildError(f"{what}: pip could not install {requirements}:\n    " + "\n    ".join(lines),
                             hint="fix requirements.txt (pip's last lines are above), or install offline with "
                                  "--no-index and --find-links in the file")
        try:
            os.rename(tmp, final)
        except OSError:
            if not final.is_dir():  # lost a race to another build: theirs is as good as ours
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final
