"""The code digests the service records, read straight from its tables (their schema is ``store``'s) on a connection
to the one state database, without starting the service.

Why: which stored zips a stack needs (``strata.local.verify_artifacts``) is checked by ``strata verify`` and before
every local deploy, and a deploy that changes nothing must stay cheap: importing the service costs more than the
check. Reads only; deleted layer versions are included (a function version that uses one still runs it).
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

CHUNK = 500      # names to a query (SQLite's limit on parameters is 32,766)


@dataclass(frozen=True)
class VersionDigest:
    """One version (``$LATEST`` or a number) of a function: the sha256 (hex) of its zip and its layer ARNs."""

    function_name: str
    version: str
    sha256: str
    layers: tuple[str, ...]


def function_digests(db: sqlite3.Connection, names: Iterable[str]) -> list[VersionDigest]:
    """Every version of the functions ``names``, in name and version order (a few hundred names to a query: a stack
    of 500 functions is read before each of its deploys)."""
    out: list[VersionDigest] = []
    wanted = sorted(set(names))
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start:start + CHUNK]
        try:
            rows = db.execute(
                "SELECT function_name, version, code_sha256_hex, config FROM lambda_versions "
                f"WHERE function_name IN ({', '.join('?' * len(chunk))}) ORDER BY function_name, number",
                chunk).fetchall()
        except sqlite3.OperationalError:      # no such table: the service never ran in this home
            return []
        for name, version, sha256, config in rows:
            layers = (json.loads(config) or {}).get("Layers") or []
            out.append(VersionDigest(name, str(version), str(sha256),
                                     tuple(str(x.get("Arn")) if isinstance(x, dict) else str(x) for x in layers)))
    return out


def layer_digest(db: sqlite3.Connection, name: str, version: int) -> str | None:
    """The sha256 (hex) of layer version ``name:version``'s zip (None when the service has no record of it)."""
    try:
        row = db.execute("SELECT code_sha256_hex FROM lambda_layer_versions WHERE name = ? AND version = ?",
                         (name, int(version))).fetchone()
    except sqlite3.OperationalError:
        return None
    return str(row[0]) if row else None
