"""The content-addressed artifact store: ``<home>/artifacts/<sha[:2]>/<sha>.zip``.

An artifact's name is the sha256 of its bytes, so the same bytes are stored once, whoever built or uploaded them
(``strata build``, CreateFunction's ZipFile, PublishLayerVersion). Writes are atomic (temp file + rename), so a crash
never leaves a truncated artifact under a valid name. Nothing stops another process from deleting or overwriting a
stored file, so ``check`` re-hashes one against its name (``strata verify``), and ``quarantine`` moves a damaged one
aside (into ``.corrupt/``), so the next build writes the right bytes under its name again. The store does not judge
what a zip holds: every door that brings one in (the builder for a prebuilt zip, the Lambda service for an upload)
passes it through ``archive_check`` first; strata's own writer makes the rest.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from strata.model.naming import artifact_file_name, code_sha256_of
from strata.paths import artifacts_dir


@dataclass(frozen=True)
class Artifact:
    """A stored zip: ``sha256`` (hex) is its identity; ``code_sha256`` is Lambda's base64 form of the same digest."""

    sha256: str
    size: int
    path: Path

    @property
    def code_sha256(self) -> str:
        return code_sha256_of(self.sha256)


@dataclass(frozen=True)
class ArtifactCheck:
    """What ``ArtifactStore.check`` found at ``path``: ``actual`` is the sha256 of its bytes (None: no such file)."""

    sha256: str
    path: Path
    actual: str | None

    @property
    def ok(self) -> bool:
        return self.actual == self.sha256

    @property
    def problem(self) -> str:
        """What is wrong, in words ("" when nothing is)."""
        if self.actual is None:
            return "is missing"
        if self.actual != self.sha256:
            return f"does not match its digest (its bytes hash to {self.actual[:12]}, its name says {self.sha256[:12]})"
        return ""


class ArtifactStore:
    """Content-addressed zips under ``<home>/artifacts``."""

    def __init__(self, home: Path) -> None:
        self.home = Path(home)
        self.root = artifacts_dir(self.home)

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / artifact_file_name(sha256)

    def has(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def get(self, sha256: str) -> Artifact | None:
        path = self.path_for(sha256)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return None
        return Artifact(sha256, size, path)

    def put_bytes(self, data: bytes) -> Artifact:
        """Store ``data`` (idempotent) and return its artifact."""
        sha = hashlib.sha256(data).hexdigest()
        existing = self.get(sha)
        if existing is not None:
            return existing
        path = self.path_for(sha)
        _write_atomically(path, lambda out: out.write(data))
        return Artifact(sha, len(data), path)

    def put_file(self, source: Path, sha256: str | None = None) -> Artifact:
        """Move-or-copy a finished zip into the store. ``source`` is consumed when it lives in the store's folder
        tree (a temp file written by the builder); otherwise it is copied. ``sha256`` skips re-hashing when known."""
        source = Path(source)
        if sha256 is None:
            sha256 = _hash_file(source)
        existing = self.get(sha256)
        if existing is not None:
            if _inside(source, self.root):
                _unlink_quietly(str(source))
            return existing
        path = self.path_for(sha256)
        path.parent.mkdir(parents=True, exist_ok=True)
        if _inside(source, self.root):
            os.replace(source, path)
        else:
            def copy(out: BinaryIO) -> None:
                with open(source, "rb") as src:
                    while chunk := src.read(1 << 20):
                        out.write(chunk)

            _write_atomically(path, copy)
        return Artifact(sha256, path.stat().st_size, path)

    def check(self, sha256: str) -> ArtifactCheck:
        """Is the artifact named ``sha256`` there, and do its bytes hash to that name? (Streams: bounded memory.)"""
        path = self.path_for(sha256)
        try:
            actual = _hash_file(path)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return ArtifactCheck(sha256, path, None)
        return ArtifactCheck(sha256, path, actual)

    def quarantine(self, sha256: str) -> Path | None:
        """Move a damaged artifact out of its name (to ``.corrupt/``) so a build stores it again; where it went
        (None when there was nothing to move)."""
        import time

        path = self.path_for(sha256)
        aside = self.root / ".corrupt" / f"{sha256}-{time.time_ns()}.zip"
        aside.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(path, aside)
        except FileNotFoundError:
            return None
        return aside

    def temp_path(self) -> Path:
        """A fresh temp file path inside the store (same file system, so ``put_file`` can rename it in)."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = _mkstemp(dir=self.root, prefix=".build-", suffix=".zip")
        os.close(fd)
        return Path(tmp)


def _write_atomically(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write ``path`` through a temp file in its folder, fsync, then rename: readers never see a partial artifact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        _unlink_quietly(tmp)
        raise


def _mkstemp(**kwargs):
    """``tempfile.mkstemp``, imported on first write: a no-op build writes nothing and should not pay for it."""
    import tempfile

    return tempfile.mkstemp(**kwargs)


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _inside(path: Path, root: Path) -> bool:
    try:
        Path(path).resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
