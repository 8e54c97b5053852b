"""Alias history and rollback pins, in the engine's state database (tables ``stack_alias_moves``, ``stack_alias_pins``).

Why: "roll back to the version the alias served before" needs a record of what it served; a rollback must survive
the next deploy (the alias stays pinned until ``strata deploy --force``); and "does that old version still hold what
was deployed?" needs what it was deployed with. So every alias move the engine makes (deploy, traffic shift, stack
rollback, ``strata rollback``) is one row, carrying the *expected content* of the version it moved to (code sha256
and the version-locked settings, as ``strata.verify.settings`` compares them), copied from the first move to that
version so a later move (e.g. a stack rollback, when the function already holds newer code) never re-derives it.

Writes happen inside the caller's transaction; nothing here calls Lambda.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from strata.local.engine.model import DeployedResource
from strata.model.naming import function_and_qualifier
from strata.model.routing import AliasRouting

ALIAS = "AWS::Lambda::Alias"
FUNCTION = "AWS::Lambda::Function"
VERSION = "AWS::Lambda::Version"

SCHEMA = """
CREATE TABLE IF NOT EXISTS stack_alias_moves (
  id INTEGER PRIMARY KEY AUTOINCREMENT, stack TEXT NOT NULL, logical_id TEXT NOT NULL, function_name TEXT NOT NULL,
  alias TEXT NOT NULL, from_version TEXT, to_version TEXT NOT NULL, routing TEXT NOT NULL, cause TEXT NOT NULL,
  deploy_id INTEGER, at REAL NOT NULL, expected TEXT);
CREATE INDEX IF NOT EXISTS stack_alias_moves_by_alias ON stack_alias_moves (function_name, alias, id);
CREATE TABLE IF NOT EXISTS stack_alias_pins (
  stack TEXT NOT NULL, logical_id TEXT NOT NULL, function_name TEXT NOT NULL, alias TEXT NOT NULL,
  version TEXT NOT NULL, move_id INTEGER, at REAL NOT NULL, PRIMARY KEY (stack, logical_id));
"""

# causes of a move
DEPLOY, SHIFT, SHIFT_ROLLBACK, STACK_ROLLBACK, ROLLBACK = (
    "deploy", "shift", "shift-rollback", "stack-rollback", "rollback")


@dataclass(frozen=True)
class AliasMove:
    """One alias move: from which primary version to which, with what routing, and why."""

    stack: str
    logical_id: str
    function_name: str
    alias: str
    from_version: str | None
    to_version: str
    routing: dict[str, float] = field(default_factory=dict)
    cause: str = DEPLOY
    deploy_id: int | None = None
    at: float = 0.0
    expected: dict[str, Any] | None = None     # {"code_sha256": ..., "settings": {...}} of to_version
    id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"Id": self.id, "Stack": self.stack, "LogicalResourceId": self.logical_id,
                "FunctionName": self.function_name, "Alias": self.alias, "FromVersion": self.from_version,
                "ToVersion": self.to_version, "Routing": self.routing, "Cause": self.cause, "At": self.at}


@dataclass(frozen=True)
class Pin:
    """An alias held at ``version`` by ``strata rollback``: deploys leave it there until ``--force``."""

    stack: str
    logical_id: str
    function_name: str
    alias: str
    version: str
    at: float

    @property
    def reason(self) -> str:
        return f"pinned by rollback to version {self.version} (strata deploy --force moves it forward)"


def _exists(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE name = 'stack_alias_pins'").fetchone() is not None


class AliasHistory:
    """Reads and writes the two tables over the engine's connection (``StackState.db``). The tables are created by
    the first write, so a plan (which only reads) never changes the database."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self._ready = _exists(db)

    def _write(self) -> sqlite3.Connection:
        if not self._ready:
            for statement in SCHEMA.split(";"):      # inside the caller's transaction (executescript would commit)
                if statement.strip():
                    self.db.execute(statement)
            self._ready = True
        return self.db

    # ---- moves ----------------------------------------------------------------------------------------------------
    def add(self, move: AliasMove) -> int:
        expected = move.expected
        if expected is None:
            expected = self.expected_for(move.function_name, move.to_version)
        cur = self._write().execute(
            "INSERT INTO stack_alias_moves (stack, logical_id, function_name, alias, from_version, to_version, "
            "routing, cause, deploy_id, at, expected) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (move.stack, move.logical_id, move.function_name, move.alias, move.from_version, move.to_version,
             json.dumps(move.routing, sort_keys=True), move.cause, move.deploy_id, move.at,
             json.dumps(expected, sort_keys=True) if expected is not None else None))
        assert cur.lastrowid is not None   # set by every INSERT
        return cur.lastrowid

    def moves(self, function_name: str, alias: str) -> list[AliasMove]:
        """Oldest first."""
        if not self._ready:
            return []
        rows = self.db.execute(
            f"SELECT {_MOVE_COLUMNS} FROM stack_alias_moves WHERE function_name = ? AND alias = ? ORDER BY id",
            (function_name, alias)).fetchall()
        return [_move(r) for r in rows]

    def last(self, function_name: str, alias: str) -> AliasMove | None:
        """The latest move (by the index: every alias step asks, and a ``strata dev`` session adds one per save)."""
        if not self._ready:
            return None
        row = self.db.execute(
            f"SELECT {_MOVE_COLUMNS} FROM stack_alias_moves WHERE function_name = ? AND alias = ? "
            "ORDER BY id DESC LIMIT 1", (function_name, alias)).fetchone()
        return _move(row) if row else None

    def expected_for(self, function_name: str, version: str) -> dict[str, Any] | None:
        """What ``version`` was deployed with, from the first move that recorded it (None: never recorded)."""
        if not self._ready:
            return None
        row = self.db.execute(
            "SELECT expected FROM stack_alias_moves WHERE function_name = ? AND to_version = ? "
            "AND expected IS NOT NULL ORDER BY id LIMIT 1", (function_name, version)).fetchone()
        return json.loads(row[0]) if row else None

    # ---- pins -----------------------------------------------------------------------------------------------------
    def pin(self, pin: Pin, move_id: int | None) -> None:
        self._write().execute("INSERT OR REPLACE INTO stack_alias_pins VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (pin.stack, pin.logical_id, pin.function_name, pin.alias, pin.version, move_id, pin.at))

    def pins(self, stack: str) -> dict[str, Pin]:
        """By alias logical id."""
        if not self._ready:
            return {}
        rows = self.db.execute("SELECT stack, logical_id, function_name, alias, version, at FROM stack_alias_pins "
                               "WHERE stack = ? ORDER BY logical_id", (stack,)).fetchall()
        return {r[1]: Pin(*r) for r in rows}

    def forget_stack(self, stack: str) -> None:
        """The stack was deleted: its functions (and their version numbers) are gone, so is their history."""
        if self._ready:
            self.db.execute("DELETE FROM stack_alias_moves WHERE stack = ?", (stack,))
            self.db.execute("DELETE FROM stack_alias_pins WHERE stack = ?", (stack,))

    def unpin(self, stack: str, logical_id: str | None = None) -> None:
        if not self._ready:
            return
        if logical_id is None:
            self.db.execute("DELETE FROM stack_alias_pins WHERE stack = ?", (stack,))
        else:
            self.db.execute("DELETE FROM stack_alias_pins WHERE stack = ? AND logical_id = ?", (stack, logical_id))


def expected_from_state(resources: dict[str, DeployedResource], function_name: str,
                        version: str) -> dict[str, Any] | None:
    """What ``version`` of ``function_name`` holds according to the stack's records: the Version resource's
    CodeSha256 and the Function's settings as deployed (right for a version the engine has just published)."""
    from strata.verify.settings import SETTINGS

    fn = next((r for r in resources.values() if r.type == FUNCTION and r.physical_id == function_name), None)
    ver = next((r for r in resources.values() if r.type == VERSION
                and function_and_qualifier(r.physical_id) == (function_name, version)), None)
    if fn is None or ver is None:
        return None
    settings = {s.name: s.from_template(fn.properties.get(s.prop)) for s in SETTINGS}
    return {"code_sha256": ver.properties.get("CodeSha256"), "settings": settings}


def record_alias_step(history: AliasHistory, stack: str,
                      resources: Callable[[str], dict[str, DeployedResource]],
                      after: DeployedResource | None, *, cause: str, deploy_id: int | None, at: float) -> None:
    """Record the move an alias create/update/restore made (inside the caller's transaction), compared with the
    last recorded move of that alias (a traffic shift records its own steps); no-op when nothing moved.
    ``resources(function_name)``: the stack's records of that function, read only when the move needs them."""
    if after is None or after.type != ALIAS:
        return
    target = AliasRouting.from_template(after.properties)
    new = target.primary
    if not new:
        return
    routing = {v: w for v, w in target.weights if w}    # a zero weight sends no traffic: not a move
    function_name, alias = function_and_qualifier(after.physical_id)
    last = history.last(function_name, alias)
    if last is not None and (last.to_version, last.routing) == (new, routing):
        return
    expected = history.expected_for(function_name, new) or expected_from_state(resources(function_name),
                                                                              function_name, new)
    history.add(AliasMove(stack, after.logical_id, function_name, alias, last.to_version if last else None, new,
                          routing, cause, deploy_id, at, expected))


_MOVE_COLUMNS = ("id, stack, logical_id, function_name, alias, from_version, to_version, routing, cause, deploy_id, "
                 "at, expected")


def _move(r: tuple) -> AliasMove:
    return AliasMove(r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7]), r[8], r[9], r[10],
                     json.loads(r[11]) if r[11] else None, r[0])
