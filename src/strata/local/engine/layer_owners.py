"""Which stack created each layer version, in the engine's state database (table ``stack_layer_owners``).

Why: a layer name belongs to the account, not to a stack, so two stacks can publish versions of one name, and a
stack's delete can retain its layer versions (DeletionPolicy Retain). ``strata prune --include-layers`` of one stack
must delete only versions that stack created and still holds: never another stack's, never one a delete retained.
So every layer version a stack records (``StackState.put_resource``) is owned by that stack from then on (the first
stack to record it keeps it), and a stack's delete marks what it owned as retained.

Migration (one step, on the first write; a plan or prune that only reads derives the same rows without writing): a
home from before this table gets the owners its state still shows: the ``CREATE_COMPLETE`` / ``CREATE_FAILED``
events of LayerVersion resources (the engine writes one with the physical id whenever it creates or adopts one), and
each stack's LayerVersion resources and pending cleanups; versions of stacks that no longer exist are retained.
Writes happen inside the caller's transaction; nothing here calls Lambda.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from strata.model.naming import LayerVersionRef

LAYER = "AWS::Lambda::LayerVersion"

SCHEMA = """CREATE TABLE IF NOT EXISTS stack_layer_owners (
  layer TEXT NOT NULL, version INTEGER NOT NULL, stack TEXT NOT NULL, retained INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (layer, version))"""

# (stack, layer version ARN, order) of every layer version the state shows a stack created, oldest first
_KNOWN = """
SELECT stack, physical_id, id FROM stack_events
  WHERE type = :layer AND status IN ('CREATE_COMPLETE', 'CREATE_FAILED') AND physical_id IS NOT NULL
UNION ALL SELECT stack, physical_id, 1e18 FROM stack_resources WHERE type = :layer
UNION ALL SELECT stack, physical_id, 2e18 FROM stack_orphans WHERE json_extract(record, '$.type') = :layer
ORDER BY 3"""


@dataclass(frozen=True)
class LayerOwner:
    stack: str
    retained: bool           # the stack was deleted and its delete kept this version

    def reason(self, stack: str) -> str | None:
        """Why prune of ``stack`` must keep a version with this owner (None: it is ``stack``'s to prune)."""
        if self.stack != stack:
            return f"created by stack {self.stack}, not {stack}"
        if self.retained:
            return f"kept by the delete of an earlier stack {stack}"
        return None


NO_OWNER = "no record of the stack that created it"


def _exists(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE name = 'stack_layer_owners'").fetchone() is not None


class LayerOwners:
    """Reads and writes ``stack_layer_owners`` over the engine's connection (``StackState.db``)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self._ready = _exists(db)

    def _write(self) -> sqlite3.Connection:
        """The table, created and filled from what the state shows on first use (in the caller's transaction)."""
        if not self._ready:
            self.db.execute(SCHEMA)
            for (layer, version), owner in self._derived().items():
                self.db.execute("INSERT OR IGNORE INTO stack_layer_owners VALUES (?, ?, ?, ?)",
                                (layer, version, owner.stack, int(owner.retained)))
            self._ready = True
        return self.db

    def record(self, stack: str, arn: str) -> None:
        """``stack`` holds layer version ``arn``: it owns it, unless another stack recorded it first."""
        key = _key(arn)
        if key is not None:
            self._write().execute("INSERT OR IGNORE INTO stack_layer_owners VALUES (?, ?, ?, 0)", (*key, stack))

    def retain_stack(self, stack: str) -> None:
        """``stack`` was deleted: the versions it owned that still exist were retained; no later stack of the same
        name owns them."""
        self._write().execute("UPDATE stack_layer_owners SET retained = 1 WHERE stack = ?", (stack,))

    def owners(self, layers: Iterable[str]) -> dict[tuple[str, int], LayerOwner]:
        """(layer, version) -> its owner, for every recorded version of the layer names ``layers``."""
        names = set(layers)
        if not self._ready:
            return {k: v for k, v in self._derived().items() if k[0] in names}
        out: dict[tuple[str, int], LayerOwner] = {}
        for name in sorted(names):
            for version, stack, retained in self.db.execute(
                    "SELECT version, stack, retained FROM stack_layer_owners WHERE layer = ?", (name,)):
                out[(name, int(version))] = LayerOwner(stack, bool(retained))
        return out

    def _derived(self) -> dict[tuple[str, int], LayerOwner]:
        """The owners the rest of the state shows (the migration's rows)."""
        alive = {row[0] for row in self.db.execute("SELECT name FROM stack_stacks")}
        out: dict[tuple[str, int], LayerOwner] = {}
        for stack, arn, _ in self.db.execute(_KNOWN, {"layer": LAYER}):
            key = _key(arn)
            if key is not None and key not in out:
                out[key] = LayerOwner(stack, stack not in alive)
        return out


def _key(arn: str) -> tuple[str, int] | None:
    try:
        ref = LayerVersionRef.parse(str(arn))
    except ValueError:
        return None
    return ref.name, ref.version
