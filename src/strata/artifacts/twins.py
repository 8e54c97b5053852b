"""Host-built twins: what the local target runs when this machine cannot import a function's target dependencies.

A ``python3.11`` ``arm64`` function's zip holds aarch64 ``.so`` files; an x86_64 machine cannot load them. Its twin is
the same source and the same ``requirements.txt`` built for the same Python version on this machine's architecture
(``builder.build_targets`` with the target's architecture swapped: the same caches). Identity stays with the target
artifact: the version's CodeSha256, the fingerprint and what ``--target aws`` uploads are the target zip's; only the
local runtime unpacks the twin instead (``local_code``, read when an invoke snapshot is made). The pairing lives in
``<home>/cache/twins/<target sha256>`` (the twin's sha256): a cache, rebuilt by the next deploy when deleted.
``deploy`` prints one line per function (or layer) that runs a twin, or that cannot run here and gets none.
"""
from __future__ import annotations

import dataclasses
import os
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from strata.artifacts.python_target import PythonTarget, host_glibc, host_machine
from strata.errors import BuildError
from strata.paths import cache_dir

if TYPE_CHECKING:
    from strata.artifacts.builder import BuiltArtifact
    from strata.artifacts.store import ArtifactStore
    from strata.artifacts.targets import BuildTarget

REQUIREMENTS = "requirements.txt"


def twin_file(home: Path, sha256: str) -> Path:
    return cache_dir(Path(home)) / "twins" / sha256


def local_code(store: ArtifactStore, sha256: str) -> tuple[str, Path]:
    """(sha256, zip path) the local runtime unpacks for the stored artifact ``sha256``: its twin when one was built
    and is still stored, else the artifact itself."""
    try:
        twin = twin_file(store.home, sha256).read_text(encoding="ascii").strip()
    except (OSError, ValueError):
        twin = ""
    if len(twin) == 64 and store.has(twin):
        return twin, store.path_for(twin)
    return sha256, store.path_for(sha256)


def ensure_twins(built: Iterable[BuiltArtifact], home: Path) -> list[str]:
    """Build (or find) the twin of every built function or layer whose dependencies hold native code this machine
    cannot run; one line for each such target, saying what the local target runs instead, or why nothing can run."""
    lines: list[str] = []
    for item in built:
        target = item.target
        if not _has_requirements(target):
            continue
        python = PythonTarget.of(_runtime(target), target.architecture)
        if python.host_runs_natively() or not native_dependencies(item.artifact.path):
            continue
        lines.append(_twin_line(item, python, home))
    return lines


def native_dependencies(zip_path: Path) -> list[str]:
    """The installed distributions in a zip that are not pure Python (their WHEEL says ``Root-Is-Purelib: false``)."""
    found = []
    try:
        with zipfile.ZipFile(zip_path) as zf:
            for name in zf.namelist():
                if name.endswith(".dist-info/WHEEL") and name.count("/") <= 2 and \
                        b"root-is-purelib: false" in zf.read(name).lower():
                    found.append(name.split("/")[-2].split("-")[0])
    except (OSError, zipfile.BadZipFile):
        return []
    return sorted(found)


def _twin_line(item: BuiltArtifact, python: PythonTarget, home: Path) -> str:
    from strata.artifacts.builder import build_targets

    target = item.target
    names = ", ".join(native_dependencies(item.artifact.path))
    here = f"{sys.platform} {host_machine()}" + (f" (glibc {'.'.join(map(str, host_glibc() or ()))})"
                                                 if host_glibc() else "")
    head = f"{target.logical_id}: native code in its {python.label} dependencies ({names}) cannot run on this {here} " \
           "machine"
    machine = host_machine()
    if not sys.platform.startswith("linux") or machine not in ("x86_64", "aarch64") or machine == python.machine:
        return f"{head}; no twin can be built here (it needs Linux on x86_64 or aarch64 with a glibc of at least " \
               f"{python.glibc[0]}.{python.glibc[1]}): invoking it locally will fail to import them"
    host_arch = "arm64" if machine == "aarch64" else "x86_64"
    twin_target = dataclasses.replace(target, architecture=host_arch)
    try:
        (twin,) = build_targets([twin_target], home, warn=lambda _note: None)
    except BuildError as exc:
        return f"{head}; building a {python.runtime} {host_arch} twin for the local target failed: {exc.message}"
    path = twin_file(home, item.artifact.sha256)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(twin.artifact.sha256, encoding="ascii")
    os.replace(tmp, path)
    return f"{head}: locally it runs a twin built for {python.runtime} {host_arch} (sha256 " \
           f"{twin.artifact.sha256[:12]}); its version and --target aws keep the {python.architecture} zip (sha256 " \
           f"{item.artifact.sha256[:12]})"


def _has_requirements(target: BuildTarget) -> bool:
    if target.is_zip_file:
        return False
    if target.kind == "layer":
        python = (target.build_method or "").lower().startswith("python")
    else:
        python = target.runtime is None or target.runtime.startswith("python")
    return python and os.path.isfile(os.path.join(target.source, REQUIREMENTS))


def _runtime(target: BuildTarget) -> str | None:
    return target.build_method if target.kind == "layer" else target.runtime
