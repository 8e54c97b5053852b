"""Python dependencies from ``requirements.txt``, built for the function's runtime and architecture, cached.

The install lands in ``<home>/cache/deps/<key>``. What goes into the key, and why: the requirements' bytes (their
sha256), the target (``PythonTarget.key_parts``: Python version, ABI, architecture, the runtime's glibc: a change of
``Runtime`` or ``Architectures`` is another install, hence other zip bytes and a new version) and pip's index
settings from the environment (``PIP_INDEX_URL`` ... may change which files pip picks). Never the interpreter running
strata: pip resolves for the target (``strata.artifacts.wheels``). A finished install is renamed into place, so a
folder under its key is always complete and never changes afterwards; the builder merges it into the zip (function
code wins on a path clash). This is the one place the build stage may use the network (pip's index), and only on a
cache miss. Caveat: the key covers the requirements text, not files it points to (a local wheel rebuilt under the
same name is not noticed; change the requirements or delete the cache folder), nor pip's config files.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from strata.artifacts.python_target import PythonTarget
from strata.paths import cache_dir, move_into_place

FORMAT = "2"   # 2: keyed by the target (runtime + architecture), no longer by strata's interpreter
INDEX_VARIABLES = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX")


def deps_key(requirements_sha256: bytes, runtime: str | None, architecture: str | None = None) -> str:
    """The cache key of an install: what pip produces for these requirements on this runtime and architecture."""
    target = PythonTarget.of(runtime, architecture)
    parts = [FORMAT, requirements_sha256.hex(), *target.key_parts(),
             *(f"{name}={os.environ.get(name, '')}" for name in INDEX_VARIABLES)]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def deps_dir(home: Path, key: str) -> Path:
    return cache_dir(home) / "deps" / key


def ensure_deps(home: Path, key: str, requirements: Path, *, what: str, runtime: str | None = None,
                architecture: str | None = None) -> Path:
    """The folder holding the install for ``key``, running pip for the target first when it is not cached yet."""
    final = deps_dir(home, key)
    if final.is_dir():
        return final
    import shutil
    import tempfile

    from strata.artifacts.wheels import install_for_target

    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=".tmp-"))
    try:
        install_for_target(requirements, tmp / "site", PythonTarget.of(runtime, architecture), tmp / "work",
                           what=what)
        move_into_place(tmp / "site", final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final
