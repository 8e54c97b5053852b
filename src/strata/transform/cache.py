"""The translator cache: aws-sam-translator's output, keyed by everything that can change it.

Key: sha256 over the template bytes, the parameter values given to the translator, region/partition, the translator's
version and strata's placeholder scheme version. Code locations in the cached output are stable placeholders (the
post-pass fills them in from the build), so a change to code or layer *content* alone never runs the translator.
Entries are JSON files written atomically; a corrupt entry is ignored and rewritten. Beside them, one base per
template structure (``base-<key>.json``): the last translation of that structure with what an incremental translation
needs (``strata.transform.incremental``), so a template edit re-translates only the functions it changed.
Bounded: each write keeps the ``KEEP_ENTRIES`` entries and ``KEEP_BASES`` bases used last (a hit counts as a use) and
deletes the rest, so a long ``strata dev`` session on a big template (megabytes per entry) does not fill the disk.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from strata.paths import cache_dir

# Bump when the placeholder scheme or what the cache stores changes.
SCHEME_VERSION = "1"
KEEP_ENTRIES = 16
KEEP_BASES = 4
STALE_TMP_SECONDS = 3600


def cache_key(template_bytes: bytes, parameter_values: dict[str, Any], *, region: str, partition: str,
              translator: str) -> str:
    digest = hashlib.sha256()
    digest.update(template_bytes)
    digest.update(b"\0")
    digest.update(json.dumps({"parameters": parameter_values, "region": region, "partition": partition,
                              "translator": translator, "scheme": SCHEME_VERSION},
                             sort_keys=True, separators=(",", ":"), default=str).encode())
    return digest.hexdigest()


class TranslatorCache:
    """One JSON file per key under ``<home>/cache/transform/``."""

    def __init__(self, home: Path) -> None:
        self.root = cache_dir(Path(home)) / "transform"

    def _path(self, key: str) -> Path:
        return self.root / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            with open(self._path(key), "rb") as fh:
                value = json.loads(fh.read())
        except (FileNotFoundError, ValueError):
            return None
        if not isinstance(value, dict):
            return None
        try:
            os.utime(self._path(key))      # used: the last to be pruned
        except OSError:
            pass
        return value

    def get_base(self, key: str) -> dict[str, Any] | None:
        """The base an incremental translation starts from (``strata.transform.incremental``), by structure key."""
        return self.get(f"base-{key}")

    def put_base(self, key: str, value: dict[str, Any]) -> None:
        self.put(f"base-{key}", value)

    def put(self, key: str, value: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".tmp-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(json.dumps(value, separators=(",", ":")))   # dumps: the C encoder (dump is pure Python)
            os.replace(tmp, self._path(key))
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        self._prune()

    def _prune(self) -> None:
        """Delete all but the most recently used entries and bases (another process may prune at the same time)."""
        entries: list[tuple[float, str]] = []
        bases: list[tuple[float, str]] = []
        try:
            with os.scandir(self.root) as found:
                for item in found:
                    try:
                        used = item.stat().st_mtime
                    except FileNotFoundError:
                        continue
                    if item.name.startswith(".tmp-") and used < time.time() - STALE_TMP_SECONDS:
                        _unlink(item.path)      # a write a crash cut short
                    if not item.name.endswith(".json") or item.name.startswith(".tmp-"):
                        continue
                    (bases if item.name.startswith("base-") else entries).append((used, item.path))
        except FileNotFoundError:
            return
        for group, keep in ((entries, KEEP_ENTRIES), (bases, KEEP_BASES)):
            for _, path in sorted(group, reverse=True)[keep:]:
                _unlink(path)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
