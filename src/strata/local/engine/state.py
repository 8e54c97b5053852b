"""Stack state in the shared SQLite database (``strata.paths.database_path``), in tables prefixed ``stack_``.

Tables: stacks, resources (physical ids, resolved properties as deployed, attributes, dependencies), orphans (old
physical resources of replaced resources awaiting cleanup), deploys (history) and deploy_documents (each deploy's
desired template and pre-deploy snapshot, so an interrupted deploy can be completed or rolled back), journal (intent
before each Lambda call), events, fingerprints (each function's version fingerprint inputs as last deployed),
revisions (each stack's, moved by triggers: the key of the decoded copies). Every step is one transaction; nothing
here calls Lambda.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from json.encoder import encode_basestring_ascii as _quoted  # a str as _dumps writes it
from pathlib import Path
from typing import Any

from strata.local import state_file
from strata.local.engine.layer_owners import LAYER, LayerOwners
from strata.local.engine.model import DeployedResource
from strata.paths import database_path
from strata.transform.why import FunctionFingerprint

SCHEMA = """
CREATE TABLE IF NOT EXISTS stack_stacks (
  name TEXT PRIMARY KEY, status TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL,
  last_deploy_id INTEGER, template TEXT, parameters TEXT, outputs TEXT);
CREATE TABLE IF NOT EXISTS stack_resources (
  stack TEXT NOT NULL, logical_id TEXT NOT NULL, type TEXT NOT NULL, physical_id TEXT NOT NULL,
  properties TEXT NOT NULL, attributes TEXT NOT NULL, depends_on TEXT NOT NULL,
  deletion_policy TEXT NOT NULL, update_replace_policy TEXT NOT NULL, emulated INTEGER NOT NULL,
  dirty INTEGER NOT NULL DEFAULT 0, updated_at REAL NOT NULL, PRIMARY KEY (stack, logical_id));
CREATE TABLE IF NOT EXISTS stack_orphans (
  stack TEXT NOT NULL, logical_id TEXT NOT NULL, physical_id TEXT NOT NULL, record TEXT NOT NULL,
  deploy_id INTEGER NOT NULL, retain INTEGER NOT NULL, PRIMARY KEY (stack, logical_id, physical_id));
CREATE TABLE IF NOT EXISTS stack_deploys (
  id INTEGER PRIMARY KEY AUTOINCREMENT, stack TEXT NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL,
  started_at REAL NOT NULL, finished_at REAL, request TEXT NOT NULL, snapshot TEXT NOT NULL, error TEXT);
CREATE INDEX IF NOT EXISTS stack_deploys_by_stack ON stack_deploys (stack, id);
CREATE TABLE IF NOT EXISTS stack_deploy_documents (
  deploy_id INTEGER PRIMARY KEY, request TEXT NOT NULL, snapshot TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stack_journal (
  deploy_id INTEGER NOT NULL, seq INTEGER NOT NULL, logical_id TEXT NOT NULL, action TEXT NOT NULL,
  intent TEXT NOT NULL, done INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (deploy_id, seq));
CREATE TABLE IF NOT EXISTS stack_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT, stack TEXT NOT NULL, deploy_id INTEGER, at REAL NOT NULL,
  logical_id TEXT NOT NULL, type TEXT NOT NULL, physical_id TEXT, status TEXT NOT NULL, reason TEXT);
CREATE INDEX IF NOT EXISTS stack_events_by_stack ON stack_events (stack, id);
CREATE INDEX IF NOT EXISTS stack_resources_by_physical ON stack_resources (stack, physical_id);
CREATE TABLE IF NOT EXISTS stack_fingerprints (
  stack TEXT NOT NULL, function_id TEXT NOT NULL, fingerprint TEXT NOT NULL, inputs TEXT NOT NULL,
  PRIMARY KEY (stack, function_id));
"""
INDEXES = "CREATE INDEX IF NOT EXISTS stack_resources_by_physical ON stack_resources (stack, physical_id)"
# A deploy's request and snapshot (megabytes at 500 functions) live beside its record, not in it: SQLite writes a whole
# row again on any update, and a deploy's status moves three times. Records made before hold them in their own row.
DOCUMENTS = """CREATE TABLE IF NOT EXISTS stack_deploy_documents (
  deploy_id INTEGER PRIMARY KEY, request TEXT NOT NULL, snapshot TEXT NOT NULL)"""
_DEPLOY_COLUMNS = ("d.id, d.stack, d.kind, d.status, d.started_at, d.finished_at, COALESCE(doc.request, d.request), "
                   "COALESCE(doc.snapshot, d.snapshot), d.error FROM stack_deploys d LEFT JOIN stack_deploy_documents "
                   "doc ON doc.deploy_id = d.id")

# A per-stack revision of its resources and of its record, moved by triggers on every write to them (from any
# connection, process or strata version): the key of the decoded copies below. SQLite's ``data_version`` moves on any
# commit to the file (the Lambda service's included), so a deploy's own Lambda calls would throw the copies away.
# ``token`` is random, so a revision never names two contents (a database file replaced by another cannot match);
# ``prev`` is the token it replaced, so a connection can tell that its own write was the only change since it read.
RESOURCES, RECORD, FINGERPRINTS = "resources", "record", "fingerprints"


def _revise(part: str, stack: str, when: str = "1") -> str:
    """A trigger's statements moving ``stack``'s revision of ``part`` (no conflict clause: inside a trigger, the
    outer statement's one would apply)."""
    return (f"UPDATE stack_revisions SET prev = token, token = randomblob(16) WHERE stack = {stack} AND part = "
            f"'{part}' AND {when}; INSERT INTO stack_revisions SELECT {stack}, '{part}', randomblob(16), NULL WHERE "
            f"{when} AND NOT EXISTS (SELECT 1 FROM stack_revisions WHERE stack = {stack} AND part = '{part}');")


def _revised_by(table: str, column: str, part: str, *, on_delete: bool = True) -> str:
    """The triggers that move ``part``'s revision of the stack named in ``table.column`` on every insert, update
    (of both stacks, when a row moves between them) and delete."""
    new, old = f"NEW.{column}", f"OLD.{column}"
    made = (f"CREATE TRIGGER IF NOT EXISTS {table}_revise_insert AFTER INSERT ON {table} BEGIN\n"
            f"  {_revise(part, new)} END;\n"
            f"CREATE TRIGGER IF NOT EXISTS {table}_revise_update AFTER UPDATE ON {table} BEGIN\n"
            f"  {_revise(part, new)} {_revise(part, old, f'{old} IS NOT {new}')} END;\n")
    if on_delete:
        made += (f"CREATE TRIGGER IF NOT EXISTS {table}_revise_delete AFTER DELETE ON {table} BEGIN\n"
                 f"  {_revise(part, old)} END;\n")
    return made


REVISIONS_MADE = "stack_fingerprints_revise_delete"     # made last: its presence says the rest is there
REVISIONS = f"""
CREATE TABLE IF NOT EXISTS stack_revisions (
  stack TEXT NOT NULL, part TEXT NOT NULL, token BLOB NOT NULL, prev BLOB, PRIMARY KEY (stack, part));
{_revised_by("stack_resources", "stack", RESOURCES)}{_revised_by("stack_stacks", "name", RECORD)}\
{_revised_by("stack_fingerprints", "stack", FINGERPRINTS, on_delete=False)}\
INSERT OR IGNORE INTO stack_revisions SELECT DISTINCT stack, '{RESOURCES}', randomblob(16), NULL FROM stack_resources;
INSERT OR IGNORE INTO stack_revisions SELECT name, '{RECORD}', randomblob(16), NULL FROM stack_stacks;
INSERT OR IGNORE INTO stack_revisions SELECT DISTINCT stack, '{FINGERPRINTS}', randomblob(16), NULL
  FROM stack_fingerprints;
CREATE TRIGGER IF NOT EXISTS {REVISIONS_MADE} AFTER DELETE ON stack_fingerprints BEGIN
  {_revise(FINGERPRINTS, "OLD.stack")} END;
"""

# Deploy statuses: in progress ones are what recovery looks for.
IN_PROGRESS = "IN_PROGRESS"
CLEANUP = "CLEANUP_IN_PROGRESS"
ROLLBACK = "ROLLBACK_IN_PROGRESS"
UNFINISHED = (IN_PROGRESS, CLEANUP, ROLLBACK)
# Finished deploys per stack whose request and snapshot are kept (for `strata events` readers and diagnosis).
KEEP_DOCUMENTS = 10


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _dumps_with(value: dict[str, Any], key: str, text: str) -> str:
    """``_dumps(value)`` where ``value[key]`` is already encoded as ``text``."""
    mark = f"\0strata {key} {id(value)}\0"
    encoded, quoted = _dumps({**value, key: mark}), json.dumps(mark)
    if encoded.count(quoted) != 1:        # never in practice (the mark has NULs); then plainly
        return _dumps(value)
    return encoded.replace(quoted, text)


@dataclass(frozen=True)
class DeployRecord:
    id: int
    stack: str
    kind: str                    # "deploy" or "delete"
    status: str
    started_at: float
    finished_at: float | None
    request: dict[str, Any]      # desired template, parameters, function infos, options
    snapshot: dict[str, Any]     # resources and orphans before the deploy (rollback target)
    error: str | None


@dataclass(frozen=True)
class StackRecord:
    name: str
    status: str
    created_at: float
    updated_at: float
    last_deploy_id: int | None
    template: dict[str, Any] | None
    parameters: dict[str, Any]
    outputs: dict[str, Any]


def resource_to_json(res: DeployedResource) -> dict[str, Any]:
    return {"logical_id": res.logical_id, "type": res.type, "physical_id": res.physical_id,
            "properties": res.properties, "attributes": res.attributes, "depends_on": list(res.depends_on),
            "deletion_policy": res.deletion_policy, "update_replace_policy": res.update_replace_policy,
            "emulated": res.emulated}


def resource_from_json(data: dict[str, Any]) -> DeployedResource:
    return DeployedResource(data["logical_id"], data["type"], data["physical_id"], data["properties"],
                            data["attributes"], tuple(data.get("depends_on", ())),
                            data.get("deletion_policy", "Delete"), data.get("update_replace_policy", "Delete"),
                            bool(data.get("emulated", True)), bool(data.get("dirty", False)))


class StackState:
    """The engine's view of the database. One connection; ``transaction()`` is one atomic step."""

    def __init__(self, home: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = database_path(Path(home))
        self.clock = clock
        self.db = state_file.connect(self.path, timeout=60)   # damage, read-only, full disk: a StorageError
        with state_file.guarded(self.path):
            self.db.execute("PRAGMA busy_timeout = 60000")
            if self.db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                self.db.execute("PRAGMA journal_mode = WAL")
            # WAL + NORMAL: a commit survives the process being killed (what the journal guards against), not a
            # power cut; it saves an fsync per step.
            self.db.execute("PRAGMA synchronous = NORMAL")
            made = {row[0] for row in self.db.execute(
                "SELECT name FROM sqlite_master WHERE name IN ('stack_fingerprints', 'stack_resources_by_physical', "
                "'stack_deploy_documents', ?)", (REVISIONS_MADE,))}
            if "stack_fingerprints" not in made:
                self.db.executescript(SCHEMA)
            if "stack_resources_by_physical" not in made:
                self.db.execute(INDEXES)      # added after the first release: made on the first open of an older file
            if "stack_deploy_documents" not in made:
                self.db.execute(DOCUMENTS)
            if REVISIONS_MADE not in made:     # the same: the revisions, seeded for the stacks there
                self.db.executescript("BEGIN IMMEDIATE;" + REVISIONS + "COMMIT;")
        # stack -> (its resources' revision when read, its resources): a deploy reads a stack's resources several
        # times (plan, snapshot, apply, cleanup) and decoding 2,500 of them costs ~60 ms each time; any write to them
        # moves the revision, this connection's own writes update the entry (and its revision), a rollback drops it.
        # What this connection read or committed is also shared with the other StackStates of this process
        # (``_SHARED``): the preflight, the artifact check, the gateway's endpoints and verify all read the stack.
        self._decoded: dict[str, _Decoded] = {}
        self._records: dict[str, tuple[bytes, StackRecord]] = {}     # the same, for the stacks' records
        self._written: set[str] = set()        # stacks whose entry this transaction changed: shared at its commit
        self._dumped: tuple[dict[str, Any], str] | None = None      # the last template stored, and its text

    def close(self) -> None:
        self.db.close()

    def _forget(self, stack: str | None = None) -> None:
        """Drop the decoded resources of ``stack`` (None: of every stack): its rows are being written."""
        if stack is None:
            self._decoded.clear()
            self._records.clear()
            self._written.clear()
        else:
            self._decoded.pop(stack, None)
            self._records.pop(stack, None)
            self._written.discard(stack)

    def _revision(self, stack: str, part: str) -> bytes | None:
        """The current revision of ``stack``'s ``part`` (None: never written since the revisions were made)."""
        row = self.db.execute("SELECT token FROM stack_revisions WHERE stack = ? AND part = ?",
                              (stack, part)).fetchone()
        return row[0] if row else None

    def _wrote(self, stack: str) -> _Decoded | None:
        """After this connection wrote one row of ``stack``'s resources: the decoded entry to update in step with it,
        its revision moved to the write's, or None (and the entry dropped) when something else changed them too."""
        cached = self._decoded.get(stack)
        if cached is None:
            return None
        row = self.db.execute("SELECT token, prev FROM stack_revisions WHERE stack = ? AND part = ?",
                              (stack, RESOURCES)).fetchone()
        if row is None or row[1] != cached.revision:
            self._forget(stack)
            return None
        cached.revision = row[0]
        self._written.add(stack)
        return cached

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic step; a storage failure in it (full disk, read-only, damage) rolls it back and is raised as a
        ``StorageError`` naming the database."""
        with state_file.guarded(self.path):
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self._forget()           # what was read inside the transaction may never have been committed
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
            for stack in self._written:       # what this connection now holds is what is committed: share it
                cached = self._decoded.get(stack)
                if cached is not None:
                    _SHARED.put((str(self.path), stack), cached.revision, cached.copy())
            self._written.clear()

    # ---- stacks ---------------------------------------------------------------------------------------------
    def stack(self, name: str) -> StackRecord | None:
        """The stack's record (the same frozen record while nothing wrote it: decoding a big stack's template is
        ~50 ms, and a deploy asks several times)."""
        revision = self._revision(name, RECORD)
        if revision is not None:
            cached = self._records.get(name)
            if cached is not None and cached[0] == revision:
                return cached[1]
            shared = _SHARED_RECORDS.get((str(self.path), name), revision)
            if shared is not None:
                self._records[name] = (revision, shared)
                return shared
        row = self.db.execute(    # the record and its revision in one statement: one snapshot of the file
            "SELECT name, status, created_at, updated_at, last_deploy_id, template, parameters, outputs, (SELECT "
            "token FROM stack_revisions WHERE stack = ? AND part = ?) FROM stack_stacks WHERE name = ?",
            (name, RECORD, name)).fetchone()
        record = _stack(row) if row else None
        if record is not None and row[8] is not None:
            self._records[name] = (row[8], record)
            _SHARED_RECORDS.put((str(self.path), name), row[8], record)
        return record

    def stack_names(self) -> list[str]:
        """The stacks' names (without decoding their templates: ~50 ms each at 500 functions)."""
        return [row[0] for row in self.db.execute("SELECT name FROM stack_stacks ORDER BY name")]

    def stacks(self) -> list[StackRecord]:
        rows = self.db.execute("SELECT name, status, created_at, updated_at, last_deploy_id, template, parameters, "
                               "outputs FROM stack_stacks ORDER BY name").fetchall()
        return [_stack(r) for r in rows]

    def put_stack(self, name: str, status: str, *, deploy_id: int | None = None, template: dict | None = None,
                  parameters: dict | None = None, outputs: dict | None = None) -> None:
        now = self.clock()
        self._records.pop(name, None)
        text = self._template_text(template) if template is not None else None
        if not self.db.execute("SELECT 1 FROM stack_stacks WHERE name = ?", (name,)).fetchone():
            self.db.execute("INSERT INTO stack_stacks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (name, status, now, now, deploy_id, text, _dumps(parameters or {}), _dumps(outputs or {})))
            return
        self.db.execute(
            "UPDATE stack_stacks SET status = ?, updated_at = ?, last_deploy_id = COALESCE(?, last_deploy_id), "
            "template = COALESCE(?, template), parameters = COALESCE(?, parameters), outputs = COALESCE(?, outputs) "
            "WHERE name = ?",
            (status, now, deploy_id, text,
             _dumps(parameters) if parameters is not None else None,
             _dumps(outputs) if outputs is not None else None, name))

    def drop_stack(self, name: str) -> None:
        self._forget(name)
        for table in ("stack_stacks",):
            self.db.execute(f"DELETE FROM {table} WHERE name = ?", (name,))
        for table in ("stack_resources", "stack_orphans", "stack_fingerprints"):
            self.db.execute(f"DELETE FROM {table} WHERE stack = ?", (name,))

    # ---- resources --------------------------------------------------------------------------------------------
    def resources(self, stack: str) -> dict[str, DeployedResource]:
        """The stack's resources in creation order (a new dict each call; the records are frozen)."""
        revision = self._revision(stack, RESOURCES)
        if revision is not None:
            cached = self._decoded.get(stack)
            if cached is not None and cached.revision == revision:
                return dict(cached.items)
            shared = _SHARED.get((str(self.path), stack), revision)
            if shared is not None:
                self._decoded[stack] = shared.copy()
                return dict(shared.items)
        rows = self.db.execute(   # the rows and their revision in one statement: one snapshot of the file
            f"SELECT {_RESOURCE_COLUMNS}, (SELECT token FROM stack_revisions WHERE stack = ? AND part = ?) "
            "FROM stack_resources WHERE stack = ? ORDER BY rowid", (stack, RESOURCES, stack)).fetchall()
        found = {r[0]: _resource(*r[:-1]) for r in rows}
        if rows and rows[0][-1] is not None:
            entry = _Decoded(rows[0][-1], found, {r[0]: (r[3], r[4], r[5]) for r in rows})
            self._decoded[stack] = entry
            _SHARED.put((str(self.path), stack), entry.revision, entry.copy())
        else:
            self._forget(stack)
        return dict(found)

    def function_resources(self, stack: str, function_name: str, function_arn: str) -> dict[str, DeployedResource]:
        """``resources`` narrowed to one function's records: the function (physical id = its name) and what is named
        by its ARN ``function_arn`` + ``:qualifier`` (versions, aliases). An alias move reads these, not the whole
        stack; by the (stack, physical id) index, so each read costs the same at 2,500 resources as at 25."""
        prefix = function_arn + ":"
        rows = self.db.execute(
            f"SELECT {_RESOURCE_COLUMNS} FROM stack_resources WHERE stack = ? AND (physical_id = ? OR "
            "(physical_id >= ? AND physical_id < ?)) ORDER BY rowid",
            (stack, function_name, prefix, function_arn + ";")).fetchall()     # ";" sorts right after ":"
        return {r[0]: _resource(*r) for r in rows}

    def put_resource(self, stack: str, res: DeployedResource) -> None:
        if res.type == LAYER:      # who created each layer version (prune deletes only its own stack's)
            LayerOwners(self.db).record(stack, res.physical_id)
        properties, attributes, depends_on = _dumps(res.properties), _dumps(res.attributes), _dumps(
            list(res.depends_on))
        self.db.execute(
            "INSERT INTO stack_resources VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (stack, logical_id) "
            "DO UPDATE SET type = excluded.type, physical_id = excluded.physical_id, properties = excluded.properties,"
            " attributes = excluded.attributes, depends_on = excluded.depends_on, "
            "deletion_policy = excluded.deletion_policy, update_replace_policy = excluded.update_replace_policy, "
            "emulated = excluded.emulated, dirty = excluded.dirty, updated_at = excluded.updated_at",
            (stack, res.logical_id, res.type, res.physical_id, properties, attributes, depends_on,
             res.deletion_policy, res.update_replace_policy, int(res.emulated), int(res.dirty), self.clock()))
        cached = self._wrote(stack)
        if cached is not None:     # kept in step with the row, as a read would decode it (an update keeps its place)
            cached.items[res.logical_id] = _resource(res.logical_id, res.type, res.physical_id, properties, attributes,
                                                  depends_on, res.deletion_policy, res.update_replace_policy,
                                                  res.emulated, res.dirty)
            cached.texts[res.logical_id] = (properties, attributes, depends_on)

    def mark_dirty(self, stack: str, logical_id: str) -> None:
        found = self.db.execute("UPDATE stack_resources SET dirty = 1 WHERE stack = ? AND logical_id = ?",
                                (stack, logical_id)).rowcount
        cached = self._wrote(stack) if found else self._decoded.get(stack)
        if cached is not None and logical_id in cached.items:
            cached.items[logical_id] = replace(cached.items[logical_id], dirty=True)

    def drop_resource(self, stack: str, logical_id: str) -> None:
        found = self.db.execute("DELETE FROM stack_resources WHERE stack = ? AND logical_id = ?",
                                (stack, logical_id)).rowcount
        cached = self._wrote(stack) if found else self._decoded.get(stack)
        if cached is not None:
            cached.items.pop(logical_id, None)
            cached.texts.pop(logical_id, None)

    # ---- orphans (old physical resources of replacements, deleted at cleanup) --------------------------------
    def orphans(self, stack: str) -> list[tuple[DeployedResource, bool]]:
        rows = self.db.execute("SELECT record, retain FROM stack_orphans WHERE stack = ? ORDER BY rowid",
                               (stack,)).fetchall()
        return [(resource_from_json(json.loads(r[0])), bool(r[1])) for r in rows]

    def put_orphan(self, stack: str, res: DeployedResource, deploy_id: int, retain: bool) -> None:
        self.db.execute("INSERT OR REPLACE INTO stack_orphans VALUES (?, ?, ?, ?, ?, ?)",
                        (stack, res.logical_id, res.physical_id, _dumps(resource_to_json(res)), deploy_id,
                         int(retain)))

    def drop_orphan(self, stack: str, logical_id: str, physical_id: str) -> None:
        self.db.execute("DELETE FROM stack_orphans WHERE stack = ? AND logical_id = ? AND physical_id = ?",
                        (stack, logical_id, physical_id))

    # ---- deploys and journal ----------------------------------------------------------------------------------
    def start_deploy(self, stack: str, kind: str, request: dict[str, Any], snapshot: dict[str, Any]) -> int:
        cur = self.db.execute(
            "INSERT INTO stack_deploys (stack, kind, status, started_at, request, snapshot) "
            "VALUES (?, ?, ?, ?, '', '')",
            (stack, kind, IN_PROGRESS, self.clock()))
        assert cur.lastrowid is not None   # set by every INSERT
        self.db.execute("INSERT INTO stack_deploy_documents VALUES (?, ?, ?)",
                        (cur.lastrowid, self._request_text(request), self._snapshot_text(stack, snapshot)))
        return cur.lastrowid

    def _template_text(self, template: dict[str, Any]) -> str:
        """``template`` as stored: a deploy stores its template twice (with its request, then as the stack's), and
        the JSON of 500 functions' template takes ~20 ms to write. A template is not changed once a request holds it,
        so the same object has the same text."""
        if self._dumped is None or self._dumped[0] is not template:
            self._dumped = (template, _dumps(template))
        return self._dumped[1]

    def _request_text(self, request: dict[str, Any]) -> str:
        """``_dumps(request)``, its template's text made once (``_template_text``)."""
        template = request.get("template")
        if not isinstance(template, dict):
            return _dumps(request)
        return _dumps_with(request, "template", self._template_text(template))

    def _snapshot_text(self, stack: str, snapshot: dict[str, Any]) -> str:
        """``_dumps(snapshot)``; its resources (2,500 of them at 500 functions, ~30 ms to encode) written from their
        stored columns when they are this connection's decoded copy of the stack as it stands."""
        cached = self._decoded.get(stack)
        if cached is None or cached.revision != self._revision(stack, RESOURCES):
            return _dumps(snapshot)
        text = cached.resources_text(snapshot.get("resources"))
        return _dumps(snapshot) if text is None else _dumps_with(snapshot, "resources", text)

    def set_deploy_status(self, deploy_id: int, status: str, *, error: str | None = None,
                          finished: bool = False) -> None:
        self.db.execute("UPDATE stack_deploys SET status = ?, error = COALESCE(?, error), finished_at = ? "
                        "WHERE id = ?", (status, error, self.clock() if finished else None, deploy_id))
        if finished and status not in UNFINISHED:
            self._forget_old_documents(deploy_id)

    def _forget_old_documents(self, deploy_id: int) -> None:
        """Drop the request and snapshot of this stack's finished deploys older than the last ``KEEP_DOCUMENTS``:
        only an unfinished deploy's are read back (to complete or roll it back), and at 500 functions each pair is
        megabytes, which every deploy of a ``strata dev`` session would otherwise add to the database for good.
        The records themselves (kind, status, times, error) stay."""
        old = ("SELECT id FROM stack_deploys WHERE stack = (SELECT stack FROM stack_deploys WHERE id = ?) "
               f"AND status NOT IN ({', '.join('?' * len(UNFINISHED))}) ORDER BY id DESC LIMIT -1 OFFSET ?")
        args = (deploy_id, *UNFINISHED, KEEP_DOCUMENTS)
        self.db.execute(f"DELETE FROM stack_deploy_documents WHERE deploy_id IN ({old})", args)
        self.db.execute(f"UPDATE stack_deploys SET request = '', snapshot = '' WHERE id IN ({old}) "
                        "AND (request != '' OR snapshot != '')", args)     # records made before the documents table

    def deploy(self, deploy_id: int) -> DeployRecord | None:
        row = self.db.execute(f"SELECT {_DEPLOY_COLUMNS} WHERE d.id = ?", (deploy_id,)).fetchone()
        return _deploy(row) if row else None

    def unfinished_deploy(self, stack: str) -> DeployRecord | None:
        row = self.db.execute(f"SELECT {_DEPLOY_COLUMNS} WHERE d.stack = ? AND d.status IN (?, ?, ?) "
                              "ORDER BY d.id DESC LIMIT 1", (stack, *UNFINISHED)).fetchone()
        return _deploy(row) if row else None

    def has_unfinished_deploy(self, stack: str) -> bool:
        return self.db.execute("SELECT 1 FROM stack_deploys WHERE stack = ? AND status IN (?, ?, ?) LIMIT 1",
                               (stack, *UNFINISHED)).fetchone() is not None

    def deploys(self, stack: str) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT id, kind, status, started_at, finished_at, error FROM stack_deploys "
                               "WHERE stack = ? ORDER BY id", (stack,)).fetchall()
        return [{"Id": r[0], "Kind": r[1], "Status": r[2], "StartedAt": r[3], "FinishedAt": r[4], "Error": r[5]}
                for r in rows]

    def add_intent(self, deploy_id: int, logical_id: str, action: str, intent: dict[str, Any]) -> int:
        row = self.db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM stack_journal WHERE deploy_id = ?",
                              (deploy_id,)).fetchone()
        seq = int(row[0])
        self.db.execute("INSERT INTO stack_journal VALUES (?, ?, ?, ?, ?, 0)",
                        (deploy_id, seq, logical_id, action, _dumps(intent)))
        return seq

    def finish_intent(self, deploy_id: int, seq: int) -> None:
        self.db.execute("UPDATE stack_journal SET done = 1 WHERE deploy_id = ? AND seq = ?", (deploy_id, seq))

    def open_intents(self, deploy_id: int) -> list[tuple[int, str, str, dict[str, Any]]]:
        rows = self.db.execute("SELECT seq, logical_id, action, intent FROM stack_journal "
                               "WHERE deploy_id = ? AND done = 0 ORDER BY seq", (deploy_id,)).fetchall()
        return [(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    # ---- events and fingerprints -------------------------------------------------------------------------------
    def add_event(self, stack: str, deploy_id: int | None, logical_id: str, type_: str, physical_id: str | None,
                  status: str, reason: str | None = None) -> None:
        self.db.execute("INSERT INTO stack_events (stack, deploy_id, at, logical_id, type, physical_id, status, "
                        "reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (stack, deploy_id, self.clock(), logical_id, type_, physical_id, status, reason))

    def events(self, stack: str, limit: int | None = None) -> list[dict[str, Any]]:
        sql = ("SELECT id, deploy_id, at, logical_id, type, physical_id, status, reason FROM stack_events "
               "WHERE stack = ? ORDER BY id DESC")
        rows = self.db.execute(sql + (f" LIMIT {int(limit)}" if limit else ""), (stack,)).fetchall()
        return [{"EventId": r[0], "DeployId": r[1], "Timestamp": r[2], "LogicalResourceId": r[3],
                 "ResourceType": r[4], "PhysicalResourceId": r[5], "ResourceStatus": r[6], "ResourceStatusReason": r[7]}
                for r in rows]

    def fingerprints(self, stack: str) -> dict[str, FunctionFingerprint]:
        """Each function's fingerprint inputs as last deployed. The ``inputs`` column holds the stored form of
        ``strata.transform.why``; rows written before it hold the list of inputs alone, read the same way."""
        revision = self._revision(stack, FINGERPRINTS)
        key = (str(self.path), stack)
        if revision is not None:
            shared = _SHARED_FINGERPRINTS.get(key, revision)
            if shared is not None:
                return dict(shared)
        rows = self.db.execute(   # the rows and their revision in one statement: one snapshot of the file
            "SELECT function_id, fingerprint, inputs, (SELECT token FROM stack_revisions WHERE stack = ? AND part = ?) "
            "FROM stack_fingerprints WHERE stack = ?", (stack, FINGERPRINTS, stack)).fetchall()
        out = {}
        for function_id, fingerprint, text, _revision in rows:
            data = json.loads(text)
            out[function_id] = FunctionFingerprint.from_json(
                data if isinstance(data, dict) else {"fingerprint": fingerprint, "inputs": data})
        if rows and rows[0][3] is not None:
            _SHARED_FINGERPRINTS.put(key, rows[0][3], dict(out))
        return out

    def put_fingerprint(self, stack: str, function_id: str, record: FunctionFingerprint) -> None:
        self.db.execute("INSERT OR REPLACE INTO stack_fingerprints VALUES (?, ?, ?, ?)",
                        (stack, function_id, record.fingerprint, json.dumps(record.to_json(), separators=(",", ":"))))

    def drop_fingerprint(self, stack: str, function_id: str) -> None:
        self.db.execute("DELETE FROM stack_fingerprints WHERE stack = ? AND function_id = ?", (stack, function_id))


    # ---- revision ---------------------------------------------------------------------------------------------
    def revision(self, stack: str) -> str:
        """A digest of everything a plan of ``stack`` is computed from: the stack record, its resources (dirty flags
        included), pending-cleanup orphans, recorded fingerprints, rollback pins, and its latest deploy, rollback or
        prune record. Equal revisions mean the state has not changed in between (timestamps and events aside)."""
        record = self.stack(stack)
        latest = self.db.execute("SELECT id, status FROM stack_deploys WHERE stack = ? ORDER BY id DESC LIMIT 1",
                                 (stack,)).fetchone()
        pins: list[Any] = []
        if self.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'stack_alias_pins'").fetchone():
            pins = self.db.execute("SELECT logical_id, function_name, alias, version FROM stack_alias_pins "
                                   "WHERE stack = ? ORDER BY logical_id", (stack,)).fetchall()
        basis = {
            "stack": None if record is None else [record.status, record.template, record.parameters, record.outputs],
            "resources": [resource_to_json(r) | {"dirty": r.dirty} for r in self.resources(stack).values()],
            "orphans": [[resource_to_json(r), retain] for r, retain in self.orphans(stack)],
            "fingerprints": self.fingerprints(stack),
            "pins": [list(p) for p in pins],
            "latest": list(latest) if latest else None,
        }
        return hashlib.sha256(_dumps(basis).encode()).hexdigest()


@dataclass
class _Decoded:
    """A stack's decoded resources as of ``revision`` (``stack_revisions``), and each one's JSON columns as stored
    (properties, attributes, depends_on: a deploy's snapshot is written from them, not encoded again)."""

    revision: bytes
    items: dict[str, DeployedResource]
    texts: dict[str, tuple[str, str, str]]

    def copy(self) -> _Decoded:
        return _Decoded(self.revision, dict(self.items), dict(self.texts))

    def resources_text(self, resources: Any) -> str | None:
        """``_dumps(resources)`` for a list of ``resource_to_json`` of these records in this order (the same
        objects: the check is by identity, so it is cheap), from the stored columns; None for any other list."""
        if not isinstance(resources, list) or len(resources) != len(self.items):
            return None
        parts = []
        for item, (logical_id, res) in zip(resources, self.items.items()):
            if not isinstance(item, dict) or item.get("properties") is not res.properties or \
                    item.get("attributes") is not res.attributes or item.get("logical_id") != logical_id or \
                    item != resource_to_json(res):
                return None
            properties, attributes, depends_on = self.texts[logical_id]
            parts.append(f'{{"attributes":{attributes},"deletion_policy":{_quoted(res.deletion_policy)},'
                         f'"depends_on":{depends_on},"emulated":{"true" if res.emulated else "false"},'
                         f'"logical_id":{_quoted(logical_id)},"physical_id":{_quoted(res.physical_id)},'
                         f'"properties":{properties},"type":{_quoted(res.type)},'
                         f'"update_replace_policy":{_quoted(res.update_replace_policy)}}}')
        return "[" + ",".join(parts) + "]"


class _SharedCopies:
    """Decoded copies shared by the StackStates of this process, keyed by (database path, stack) and served only at
    the revision they were read at: the last few stacks (a server or a test run reads many homes)."""

    SIZE = 8

    def __init__(self) -> None:
        self._items: OrderedDict[tuple[str, str], tuple[bytes, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str], revision: bytes) -> Any:
        with self._lock:
            found = self._items.get(key)
            if found is None or found[0] != revision:
                return None
            self._items.move_to_end(key)
            return found[1]

    def put(self, key: tuple[str, str], revision: bytes, value: Any) -> None:
        with self._lock:
            self._items[key] = (revision, value)
            self._items.move_to_end(key)
            while len(self._items) > self.SIZE:
                self._items.popitem(last=False)


_SHARED = _SharedCopies()            # _Decoded: never handed out, only copied (a StackState updates its own)
_SHARED_RECORDS = _SharedCopies()    # stack records: frozen
_SHARED_FINGERPRINTS = _SharedCopies()   # function id -> FunctionFingerprint (frozen): copied too


_RESOURCE_COLUMNS = ("logical_id, type, physical_id, properties, attributes, depends_on, deletion_policy, "
                     "update_replace_policy, emulated, dirty")


def _resource(logical_id: str, type_: str, physical_id: str, properties: str, attributes: str, depends_on: str,
              deletion_policy: str, update_replace_policy: str, emulated: Any, dirty: Any) -> DeployedResource:
    """A ``stack_resources`` row (its JSON columns as stored) as the record every read returns."""
    return DeployedResource(logical_id, type_, physical_id, json.loads(properties), json.loads(attributes),
                            tuple(json.loads(depends_on)), deletion_policy, update_replace_policy, bool(emulated),
                            bool(dirty))


def _stack(row: tuple) -> StackRecord:
    return StackRecord(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]) if row[5] else None,
                       json.loads(row[6] or "{}"), json.loads(row[7] or "{}"))


def _deploy(row: tuple) -> DeployRecord:
    """A deploy record; an old finished deploy's request and snapshot are forgotten (``_forget_old_documents``):
    empty."""
    return DeployRecord(row[0], row[1], row[2], row[3], row[4], row[5], json.loads(row[6] or "{}"),
                        json.loads(row[7] or "{}"), row[8])
