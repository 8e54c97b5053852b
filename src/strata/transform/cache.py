"""The translator cache: aws-sam-translator's output, keyed by everything that can change it.

Key: sha256 over the template bytes, the parameter values given to the translator, region/partition, the translator's
version and strata's placeholder scheme version. Code locations in the cached output are stable placeholders (the
post-pass fills them in from the build), so a change to code or layer *content* alone never runs the translator.
Entries are JSON files written atomically; a corrupt entry is ignored and rewritten. Beside them, one base per
template structure (``base-<key>.json``): the last translation of that structure with what an incremental translation
needs (``strata.transform.incremental``), so a template edit re-translates only the functions it changed.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from strata.paths import cache_dir

# Bump when the placeholder scheme or what the cache stores changes.
SCHEME_VERSION = "1"


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
        return value if isinstance(value, dict) else None

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
