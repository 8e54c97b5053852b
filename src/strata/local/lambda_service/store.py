"""The Lambda service's tables in strata's one SQLite database.

Every service operation is one transaction (WAL, ``busy_timeout``), writes start with ``BEGIN IMMEDIATE``: several
processes (the CLI, ``strata serve``, the stack engine) can share the file safely. A long-lived service (``strata
serve``) opens a fresh connection per transaction, so a state file replaced or damaged under it is noticed at once;
a short-lived one (the stack engine's, for one deploy) keeps one connection per thread (``keep_open``): opening and
closing one per call was a fifth of a 50-function layer edit.
A version's configuration is kept as the JSON of its ``FunctionConfiguration`` shape; everything the service queries
on (generation, numbers, digests, deletion marks) has its own column.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from strata.local import state_file
from strata.local.lambda_service.convert import from_wire, to_wire
from strata.local.lambda_service.shapes import FunctionConfiguration

BUSY_TIMEOUT_MS = 30000

SCHEMA = """
CREATE TABLE IF NOT EXISTS lambda_functions (
    name TEXT PRIMARY KEY,
    generation INTEGER NOT NULL,          -- bumped by Create/UpdateFunctionCode/UpdateFunctionConfiguration only
    last_version INTEGER NOT NULL,        -- highest version number ever handed out (never reused)
    tags TEXT NOT NULL,
    reserved_concurrency INTEGER,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS lambda_versions (
    function_name TEXT NOT NULL REFERENCES lambda_functions(name) ON DELETE CASCADE,
    version TEXT NOT NULL,                -- '$LATEST' or the number as text
    number INTEGER NOT NULL,              -- 0 for $LATEST
    generation INTEGER NOT NULL,          -- the function generation this snapshot was cut from
    code_sha256_hex TEXT NOT NULL,
    unzipped_size INTEGER NOT NULL,
    config TEXT NOT NULL,
    PRIMARY KEY (function_name, version)
);
CREATE TABLE IF NOT EXISTS lambda_aliases (
    function_name TEXT NOT NULL REFERENCES lambda_functions(name) ON DELETE CASCADE,
    name TEXT NOT NULL,
    function_version TEXT NOT NULL,
    description TEXT NOT NULL,
    weights TEXT,
    revision_id TEXT NOT NULL,
    PRIMARY KEY (function_name, name)
);
CREATE TABLE IF NOT EXISTS lambda_layers (
    name TEXT PRIMARY KEY,
    last_version INTEGER NOT NULL         -- never reset, even when every version is deleted
);
CREATE TABLE IF NOT EXISTS lambda_layer_versions (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    description TEXT NOT NULL,
    created_date TEXT NOT NULL,
    compatible_runtimes TEXT NOT NULL,
    compatible_architectures TEXT NOT NULL,
    license_info TEXT,
    code_sha256_hex TEXT NOT NULL,
    code_size INTEGER NOT NULL,
    unzipped_size INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,   -- deleted versions stay readable for functions already using them
    PRIMARY KEY (name, version)
);
"""


@dataclass
class FunctionRow:
    name: str
    generation: int
    last_version: int
    tags: dict[str, str]
    reserved_concurrency: int | None
    created: str


@dataclass
class VersionRow:
    function_name: str
    version: str
    number: int
    generation: int
    code_sha256_hex: str
    unzipped_size: int
    config: FunctionConfiguration


@dataclass
class AliasRow:
    function_name: str
    name: str
    function_version: str
    description: str
    weights: dict[str, float] | None
    revision_id: str


@dataclass
class LayerVersionRow:
    name: str
    version: int
    description: str
    created_date: str
    compatible_runtimes: list[str]
    compatible_architectures: list[str]
    license_info: str | None
    code_sha256_hex: str
    code_size: int
    unzipped_size: int
    deleted: bool = field(default=False)


class Database:
    """Transactions on ``path`` (a connection each, or one kept per thread with ``keep_open``); creates the tables
    on first use."""

    def __init__(self, path: Path, *, keep_open: bool = False) -> None:
        self.path = Path(path)
        self.keep_open = keep_open
        self._kept = threading.local()
        self._open: list[sqlite3.Connection] = []
        self._open_lock = threading.Lock()
        conn = self._connect()   # created whole and private, or a StorageError naming the damage (state_file)
        with state_file.guarded(self.path):
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("BEGIN IMMEDIATE")
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute("COMMIT")
            finally:
                conn.close()

    def _connect(self) -> sqlite3.Connection:
        conn = state_file.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000)
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys=ON")
        # WAL + NORMAL, as the engine's state (``engine.state``): a commit survives the process being killed, not a
        # power cut; it saves an fsync per call (a layer edit with 50 users is ~250 calls)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.row_factory = sqlite3.Row
        return conn

    def _connection(self) -> tuple[sqlite3.Connection, bool]:
        """The connection for this transaction, and whether it is closed after it."""
        if not self.keep_open:
            return self._connect(), True
        conn = getattr(self._kept, "conn", None)
        if conn is not None and conn.in_transaction:   # a transaction inside another: its own connection
            return self._connect(), True
        if conn is None:
            conn = self._kept.conn = self._connect()
            with self._open_lock:
                self._open.append(conn)
        return conn, False

    def close(self) -> None:
        """Close the kept connections (a no-op without ``keep_open``)."""
        with self._open_lock:
            kept, self._open = self._open, []
        for conn in kept:
            conn.close()
        self._kept = threading.local()

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Tx]:
        with state_file.guarded(self.path):   # opening reads the file's header: a damaged file fails here, named
            conn, close = self._connection()
        try:
            with state_file.guarded(self.path):   # full disk, read-only, damage: rolled back, a StorageError
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    yield Tx(conn)
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
        finally:
            if close:
                conn.close()


class Tx:
    """Queries inside one transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    # ---- functions ----------------------------------------------------------------------------------------------
    def get_function(self, name: str) -> FunctionRow | None:
        row = self.conn.execute("SELECT * FROM lambda_functions WHERE name = ?", (name,)).fetchone()
        if row is None:
            return None
        return FunctionRow(row["name"], row["generation"], row["last_version"], json.loads(row["tags"]),
                           row["reserved_concurrency"], row["created"])

    def put_function(self, fn: FunctionRow) -> None:
        self.conn.execute(
            "INSERT INTO lambda_functions (name, generation, last_version, tags, reserved_concurrency, created) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET generation = excluded.generation, "
            "last_version = excluded.last_version, tags = excluded.tags, "
            "reserved_concurrency = excluded.reserved_concurrency",
            (fn.name, fn.generation, fn.last_version, json.dumps(fn.tags, sort_keys=True), fn.reserved_concurrency,
             fn.created))

    def delete_function(self, name: str) -> None:
        self.conn.execute("DELETE FROM lambda_functions WHERE name = ?", (name,))

    def function_names(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT name FROM lambda_functions ORDER BY name")]

    # ---- versions -----------------------------------------------------------------------------------------------
    def get_version(self, function_name: str, version: str) -> VersionRow | None:
        row = self.conn.execute("SELECT * FROM lambda_versions WHERE function_name = ? AND version = ?",
                                (function_name, version)).fetchone()
        return _version(row) if row is not None else None

    def put_version(self, v: VersionRow) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO lambda_versions (function_name, version, number, generation, code_sha256_hex, "
            "unzipped_size, config) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (v.function_name, v.version, v.number, v.generation, v.code_sha256_hex, v.unzipped_size,
             json.dumps(to_wire(v.config), sort_keys=True)))

    def delete_version(self, function_name: str, version: str) -> None:
        self.conn.execute("DELETE FROM lambda_versions WHERE function_name = ? AND version = ?",
                          (function_name, version))

    def versions(self, function_name: str) -> list[VersionRow]:
        """``$LATEST`` first, then published versions ascending."""
        rows = self.conn.execute("SELECT * FROM lambda_versions WHERE function_name = ? ORDER BY number",
                                 (function_name,))
        return [_version(r) for r in rows]

    def highest_version(self, function_name: str) -> VersionRow | None:
        row = self.conn.execute("SELECT * FROM lambda_versions WHERE function_name = ? AND number > 0 "
                                "ORDER BY number DESC LIMIT 1", (function_name,)).fetchone()
        return _version(row) if row is not None else None

    def total_code_size(self) -> int:
        row = self.conn.execute("SELECT config FROM lambda_versions").fetchall()
        return sum(json.loads(r[0]).get("CodeSize", 0) for r in row)

    # ---- aliases ------------------------------------------------------------------------------------------------
    def get_alias(self, function_name: str, name: str) -> AliasRow | None:
        row = self.conn.execute("SELECT * FROM lambda_aliases WHERE function_name = ? AND name = ?",
                                (function_name, name)).fetchone()
        return _alias(row) if row is not None else None

    def put_alias(self, a: AliasRow) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO lambda_aliases (function_name, name, function_version, description, weights, "
            "revision_id) VALUES (?, ?, ?, ?, ?, ?)",
            (a.function_name, a.name, a.function_version, a.description,
             None if a.weights is None else json.dumps(a.weights, sort_keys=True), a.revision_id))

    def delete_alias(self, function_name: str, name: str) -> None:
        self.conn.execute("DELETE FROM lambda_aliases WHERE function_name = ? AND name = ?", (function_name, name))

    def aliases(self, function_name: str) -> list[AliasRow]:
        rows = self.conn.execute("SELECT * FROM lambda_aliases WHERE function_name = ? ORDER BY name",
                                 (function_name,))
        return [_alias(r) for r in rows]

    # ---- layers -------------------------------------------------------------------------------------------------
    def next_layer_version(self, name: str) -> int:
        self.conn.execute("INSERT INTO lambda_layers (name, last_version) VALUES (?, 1) "
                          "ON CONFLICT(name) DO UPDATE SET last_version = last_version + 1", (name,))
        return self.conn.execute("SELECT last_version FROM lambda_layers WHERE name = ?", (name,)).fetchone()[0]

    def put_layer_version(self, lv: LayerVersionRow) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO lambda_layer_versions (name, version, description, created_date, "
            "compatible_runtimes, compatible_architectures, license_info, code_sha256_hex, code_size, "
            "unzipped_size, deleted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (lv.name, lv.version, lv.description, lv.created_date, json.dumps(lv.compatible_runtimes),
             json.dumps(lv.compatible_architectures), lv.license_info, lv.code_sha256_hex, lv.code_size,
             lv.unzipped_size, int(lv.deleted)))

    def get_layer_version(self, name: str, version: int) -> LayerVersionRow | None:
        """Also returns deleted versions (functions that use them keep working); callers check ``deleted``."""
        row = self.conn.execute("SELECT * FROM lambda_layer_versions WHERE name = ? AND version = ?",
                                (name, version)).fetchone()
        return _layer_version(row) if row is not None else None

    def mark_layer_version_deleted(self, name: str, version: int) -> None:
        self.conn.execute("UPDATE lambda_layer_versions SET deleted = 1 WHERE name = ? AND version = ?",
                          (name, version))

    def layer_versions(self, name: str) -> list[LayerVersionRow]:
        """Live versions of one layer, newest first."""
        rows = self.conn.execute("SELECT * FROM lambda_layer_versions WHERE name = ? AND deleted = 0 "
                                 "ORDER BY version DESC", (name,))
        return [_layer_version(r) for r in rows]

    def layer_names(self) -> list[str]:
        rows = self.conn.execute("SELECT DISTINCT name FROM lambda_layer_versions WHERE deleted = 0 ORDER BY name")
        return [r[0] for r in rows]


def _version(row: sqlite3.Row) -> VersionRow:
    return VersionRow(row["function_name"], row["version"], row["number"], row["generation"],
                      row["code_sha256_hex"], row["unzipped_size"],
                      from_wire(FunctionConfiguration, json.loads(row["config"])))


def _alias(row: sqlite3.Row) -> AliasRow:
    weights = json.loads(row["weights"]) if row["weights"] is not None else None
    return AliasRow(row["function_name"], row["name"], row["function_version"], row["description"], weights,
                    row["revision_id"])


def _layer_version(row: sqlite3.Row) -> LayerVersionRow:
    return LayerVersionRow(row["name"], row["version"], row["description"], row["created_date"],
                           json.loads(row["compatible_runtimes"]), json.loads(row["compatible_architectures"]),
                           row["license_info"], row["code_sha256_hex"], row["code_size"], row["unzipped_size"],
                           bool(row["deleted"]))
