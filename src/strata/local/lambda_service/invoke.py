"""Invoke: resolve what runs (alias routing picks a version per call), check the payload limits, freeze a
``FunctionSnapshot`` and hand it to the runtime (reference sections 7.3, 9).

Resolving costs a connection, a transaction and a JSON configuration decode (about a millisecond, twenty warm
round trips), so the resolution of a name + qualifier is cached per database and reused while the database is
unchanged: SQLite's ``PRAGMA data_version`` on one long-lived connection moves whenever any other connection, in
this process or another, commits to the file (read from the WAL-index header without a query while it stands
still: ``_ResolvedCache``). It is read before resolving, so an answer is never older than the last commit before the
call. Failed look-ups are not cached.
"""
from __future__ import annotations

import dataclasses
import logging
import mmap
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Executor
from typing import TYPE_CHECKING, cast

from strata.local.lambda_service import validation as v
from strata.local.lambda_service.context import Context
from strata.local.lambda_service.lookup import Target, resolve_target
from strata.local.lambda_service.names import parse_layer_version_arn, resolve_function
from strata.local.lambda_service.store import BUSY_TIMEOUT_MS, Database, Tx, VersionRow
from strata.local.runtime.api import FunctionSnapshot, InvokeRequest, InvokeResult, LayerSnapshot, OnDone, Runtime
from strata.model.lambda_defaults import DEFAULTS, LOG_FORMAT, log_group
from strata.model.lambda_errors import RequestEntityTooLargeException
from strata.model.naming import LATEST, FunctionRef

if TYPE_CHECKING:
    import asyncio

    from strata.local.runtime.api import InvocationType, LogType

_monotonic = time.monotonic

INVOCATION_TYPES = ("Event", "RequestResponse", "DryRun")
LOG_TYPES = ("None", "Tail")
INVOKE_NAME_MAX = 170  # recorded for Get/Invoke (reference 3.1)


def check_payload(payload: bytes, invocation_type: str) -> None:
    if invocation_type == "Event" and len(payload) > v.ASYNC_PAYLOAD_MAX:
        raise RequestEntityTooLargeException(
            f"{len(payload)} byte payload is too large for the Event invocation type "
            f"(limit {v.ASYNC_PAYLOAD_MAX} bytes)")
    if len(payload) > v.SYNC_PAYLOAD_MAX:
        raise RequestEntityTooLargeException(
            f"Request must be smaller than {v.SYNC_PAYLOAD_MAX} bytes for the InvokeFunction operation")


def invoke(ctx: Context, runtime: Runtime | None, *, function_name: str, qualifier: str | None = None,
           payload: bytes = b"", invocation_type: str = "RequestResponse", log_type: str = "None",
           client_context: str | None = None, get_runtime: Callable[[], Runtime]) -> InvokeResult:
    """``get_runtime`` supplies the runtime lazily, so DryRun and failed look-ups never start one."""
    plan = _plan(ctx, function_name, qualifier, payload, invocation_type, log_type, client_context)
    if type(plan) is not tuple:
        return cast(InvokeResult, plan)     # answered without running (DryRun)
    snapshot, request, limit = plan
    runner = runtime if runtime is not None else get_runtime()
    return runner.invoke(snapshot, request, concurrency_limit=limit)


async def invoke_async(ctx: Context, runtime: Runtime | None, *, function_name: str, qualifier: str | None = None,
                       payload: bytes = b"", invocation_type: str = "RequestResponse", log_type: str = "None",
                       client_context: str | None = None, get_runtime: Callable[[], Runtime],
                       executor: Executor | None = None) -> InvokeResult:
    """``invoke`` for a caller on an asyncio event loop: the same checks and result. A cached resolution is used
    inline (microseconds); a cache miss resolves in ``executor`` (it reads the database). The runtime's own
    ``invoke_async`` runs the invocation when it has one, else its blocking ``invoke`` runs in ``executor``."""
    args = (ctx, function_name, qualifier, payload, invocation_type, log_type, client_context)
    plan = _plan(*args, cached_only=True)
    if plan is None:
        plan = await _running_loop().run_in_executor(executor, _plan, *args)
    if type(plan) is not tuple:
        return cast(InvokeResult, plan)     # answered without running (DryRun)
    snapshot, request, limit = plan
    runner = runtime if runtime is not None else get_runtime()
    return await runner.invoke_async(snapshot, request, concurrency_limit=limit, executor=executor)


def start_invoke(ctx: Context, runtime: Runtime, function_name: str, qualifier: str | None, payload: bytes,
                 invocation_type: str, log_type: str, client_context: str | None, on_done: OnDone,
                 executor: Executor | None = None) -> bool:
    """``invoke_async``'s hot case started on the loop with a callback: a RequestResponse invocation within the
    payload limit whose resolution is cached, on a warm environment. ``on_done(result, error)`` is called when it
    ends. False for anything else (nothing ran, nothing was counted): ``invoke_async`` then does it, with every
    check and error. ``on_done``'s optional hooks (``started``, ``succeeded``, ``sole``) are the runtime's
    (``Environment.start``).

    Kept apart from ``_plan`` on purpose: the checks it skips can only fail on the paths it refuses."""
    if invocation_type != "RequestResponse" or log_type not in LOG_TYPES or len(payload) > v.SYNC_PAYLOAD_MAX:
        return False
    cache = _caches.get(id(ctx.db))
    if cache is None:
        return False
    resolved = cache.lookup(function_name, qualifier)[1]
    if resolved is None:
        return False
    snapshot = resolved.snapshot if resolved.weight is None else resolved.pick(ctx)
    request = _request(payload, ctx.new_id(), resolved.invoked_arn, invocation_type, log_type, client_context)
    return runtime.start_invoke(snapshot, request, on_done, resolved.reserved_concurrency, executor)


def _running_loop() -> asyncio.AbstractEventLoop:
    """The running loop, importing asyncio only on the paths that need it (a cache miss, a blocking runtime)."""
    import asyncio

    return asyncio.get_running_loop()


def _plan(ctx: Context, function_name: str, qualifier: str | None, payload: bytes, invocation_type: str,
          log_type: str, client_context: str | None, *, cached_only: bool = False
          ) -> tuple[FunctionSnapshot, InvokeRequest, int | None] | InvokeResult | None:
    """Everything before the runtime: checks, resolution (cached), the request. ``(snapshot, request, reserved
    concurrency)`` to run, DryRun's result, or None if ``cached_only`` and resolving would read the database."""
    if invocation_type not in INVOCATION_TYPES or log_type not in LOG_TYPES:
        checks = v.Checks()
        checks.enum(invocation_type, "invocationType", INVOCATION_TYPES)
        checks.enum(log_type, "logType", LOG_TYPES)
        checks.raise_if_any()
    payload = payload or b""
    check_payload(payload, invocation_type)
    cache = _cache_of(ctx.db)
    state, resolved = cache.lookup(function_name, qualifier)
    if resolved is None:
        if cached_only:
            return None
        ref = resolve_function(function_name, qualifier, region=ctx.region, namespaced=True,
                               max_length=INVOKE_NAME_MAX)
        with ctx.db.transaction(write=False) as tx:
            target = resolve_target(tx, ctx, ref, missing_suffix=LATEST)  # unqualified miss ends in :$LATEST (3.3)
            resolved = _resolve(tx, ctx, ref, target)
        cache.put(function_name, qualifier, state, resolved)
    snapshot = resolved.pick(ctx)
    request_id = ctx.new_id()
    if invocation_type == "DryRun":
        return InvokeResult(status_code=204, payload=b"", executed_version=snapshot.version, request_id=request_id)
    request = _request(payload, request_id, resolved.invoked_arn, invocation_type, log_type, client_context)
    return snapshot, request, resolved.reserved_concurrency


_REQUEST_FIELDS = ("payload", "request_id", "invoked_arn", "invocation_type", "log_type", "client_context")
_new = object.__new__
_set = object.__setattr__


def _request(payload: bytes, request_id: str, invoked_arn: str, invocation_type: str, log_type: str,
             client_context: str | None) -> InvokeRequest:
    """``InvokeRequest(...)`` at a third of the cost (one per invoke): a frozen dataclass's ``__init__`` sets each
    field through ``object.__setattr__``; this sets the instance dictionary once (same fields, equality, repr)."""
    request = _new(InvokeRequest)
    _set(request, "__dict__", {"payload": payload, "request_id": request_id, "invoked_arn": invoked_arn,
                               "invocation_type": invocation_type, "log_type": log_type,
                               "client_context": client_context})
    return request


if tuple(f.name for f in dataclasses.fields(InvokeRequest)) != _REQUEST_FIELDS or hasattr(InvokeRequest, "__slots__"):
    def _request(payload: bytes, request_id: str, invoked_arn: str, invocation_type: str,  # noqa: F811
                 log_type: str, client_context: str | None) -> InvokeRequest:
        """The contract changed shape: use its constructor (the types were checked by the callers)."""
        return InvokeRequest(payload, request_id, invoked_arn, cast("InvocationType", invocation_type),
                             cast("LogType", log_type), client_context)


class _Resolved:
    """What a name + qualifier designates, ready to run: the snapshot of the version it points at, and for an alias
    with routing the extra version's weight and snapshot (None if that version is gone)."""

    __slots__ = ("invoked_arn", "reserved_concurrency", "snapshot", "weight", "extra")

    def __init__(self, invoked_arn: str, reserved_concurrency: int | None, snapshot: FunctionSnapshot,
                 weight: float | None = None, extra: FunctionSnapshot | None = None) -> None:
        self.invoked_arn = invoked_arn
        self.reserved_concurrency = reserved_concurrency
        self.snapshot = snapshot
        self.weight = weight
        self.extra = extra

    def pick(self, ctx: Context) -> FunctionSnapshot:
        """An alias with routing sends each call to the extra version with probability = its weight (reference 7.3)."""
        weight = self.weight
        if weight is not None and ctx.rng.random() < weight and self.extra is not None:
            return self.extra
        return self.snapshot


def _resolve(tx: Tx, ctx: Context, ref: FunctionRef, target: Target) -> _Resolved:
    resolved = _Resolved(ctx.function_arn(ref.name, ref.qualifier), target.function.reserved_concurrency,
                         _snapshot(tx, ctx, target.version))
    alias = target.alias
    if alias is not None and alias.weights:
        (extra, weight), = alias.weights.items()
        row = tx.get_version(target.function.name, extra)
        resolved.weight = weight
        resolved.extra = _snapshot(tx, ctx, row) if row is not None else None
    return resolved


class _ResolvedCache:
    """Resolutions of one database, valid for one ``PRAGMA data_version`` value.

    Asking SQLite for ``data_version`` costs a statement and four system calls (about 10 us of a 150 us warm
    ``strata serve`` Invoke). What it reports is read from the WAL-index header at the start of the ``-shm``
    file, whose ``iChange``/``mxFrame``/salts move on every commit (sqlite.org/walformat.html, section 2.2). So
    the header is also read straight from a read-only map of that file: while it is the same bytes as when
    ``data_version`` was last asked, nothing was committed since, and the answer stands without a query. Any
    difference (a commit, a checkpoint, a torn read of a header being written) asks SQLite again. As a safety net
    ``data_version`` is still asked at least every ``RECHECK`` seconds; should it ever have moved while the
    header stayed the same, the map is dropped for good (logged) and every look-up asks SQLite, as before.
    The map is made only while this cache's own connection is open, which keeps SQLite from truncating the file.
    """

    MAX_ENTRIES = 1024
    RECHECK = 1.0
    HEADER = 48                                   # one copy of the WAL-index header

    def __init__(self, db: Database) -> None:
        self._path = db.path
        self._conn: sqlite3.Connection | None = None
        self._cursor: sqlite3.Cursor | None = None
        self._lock = threading.Lock()
        self._state: int | None = None
        self._entries: dict[tuple[str, str | None], _Resolved] = {}
        self._shm: mmap.mmap | None = None        # read-only map of the -shm file, once the connection is open
        self._shm_broken = False
        self._fast: tuple[bytes, int] | None = None   # (header, data_version) as last asked
        self._recheck_at = 0.0

    def data_version(self) -> int | None:
        """The database's change counter now; None if it cannot be read (then nothing is cached)."""
        return self.lookup("", None)[0]

    def get(self, name: str, qualifier: str | None, state: int | None) -> _Resolved | None:
        if state is None or state != self._state:
            return None
        return self._entries.get((name, qualifier))

    def lookup(self, name: str, qualifier: str | None) -> tuple[int | None, _Resolved | None]:
        """``data_version()`` then ``get()``, in one call: the state now, and what was resolved in that state."""
        shm = self._shm
        header = None
        if shm is not None:
            header = shm[:self.HEADER]
            fast = self._fast
            if fast is not None and header == fast[0] and _monotonic() < self._recheck_at:
                state = fast[1]
                if state != self._state:
                    return state, None
                return state, self._entries.get((name, qualifier))
        with self._lock:
            try:
                cursor = self._cursor
                if cursor is None:
                    self._conn = sqlite3.connect(self._path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                                 check_same_thread=False)
                    cursor = self._cursor = self._conn.cursor()
                state = cursor.execute("PRAGMA data_version").fetchone()[0]
            except sqlite3.Error:
                return None, None
            fast = self._fast
            if (shm is not None and fast is not None and state != fast[1]      # shm: a header was read
                    and shm[:self.HEADER] == fast[0]):
                # a commit moved data_version, and a commit rewrites the header before it is visible: a header
                # still as it was means the map does not show what SQLite does
                self._drop_map("data_version moved while the WAL-index header did not")
            elif shm is None and not self._shm_broken:
                self._map()                       # used from the next look-up on (its header read before asking)
            elif header is not None:
                # the header as read before asking: a commit since then changes it, so the next look-up asks again
                self._fast = (header, state)
                self._recheck_at = _monotonic() + self.RECHECK
            if state != self._state:
                return state, None
            return state, self._entries.get((name, qualifier))

    def forget(self) -> None:
        with self._lock:
            self._entries = {}

    def _map(self) -> None:
        """Map the WAL-index header read-only (this cache's connection is open, so SQLite keeps the file whole)."""
        try:
            fd = os.open(f"{self._path}-shm", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return                                # not in WAL mode (yet): keep asking SQLite
        try:
            if os.fstat(fd).st_size >= 136:       # both header copies and the checkpoint info
                self._shm = mmap.mmap(fd, 136, access=mmap.ACCESS_READ)
        except (OSError, ValueError):
            pass
        finally:
            os.close(fd)

    def _drop_map(self, why: str) -> None:
        logging.getLogger("strata.lambda").warning("resolution cache of %s: %s; asking SQLite on every invoke",
                                                   self._path, why)
        self._shm_broken = True
        self._shm = None
        self._fast = None

    def put(self, name: str, qualifier: str | None, state: int | None, resolved: _Resolved) -> None:
        if state is None:
            return
        with self._lock:
            if state != self._state:
                if self._state is not None and state < self._state:
                    return                        # resolved before a newer state was seen: do not go back
                self._entries = {}
                self._state = state
            elif len(self._entries) >= self.MAX_ENTRIES:
                self._entries = {}
            self._entries[(name, qualifier)] = resolved


_caches: dict[int, _ResolvedCache] = {}          # id(Database) -> its cache, dropped with the Database
_caches_lock = threading.Lock()
_inherited: list[_ResolvedCache] = []


def _after_fork_in_child() -> None:
    """A forked child (the CLI daemon forks per command) must not use its parent's SQLite connection, nor close it:
    start with no caches and keep the inherited ones referenced, untouched."""
    global _caches_lock
    _inherited.extend(_caches.values())
    _caches.clear()
    _caches_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _cache_of(db: Database) -> _ResolvedCache:
    cache = _caches.get(id(db))
    if cache is None:
        with _caches_lock:
            cache = _caches.get(id(db))
            if cache is None:
                cache = _caches[id(db)] = _ResolvedCache(db)
                weakref.finalize(db, _caches.pop, id(db), None)   # before the id can be reused
    return cache


def forget_resolutions(db: Database) -> None:
    """Drop ``db``'s cached resolutions (what a snapshot is made of changed outside the database)."""
    cache = _caches.get(id(db))
    if cache is not None:
        cache.forget()


def _snapshot(tx: Tx, ctx: Context, row: VersionRow) -> FunctionSnapshot:
    """What an invoke runs; code and layers are the stored zips, or their host-built twins (``artifacts.twins``)."""
    from strata.artifacts.twins import local_code

    config = row.config
    layers = []
    for layer in config.layers or []:
        ref = parse_layer_version_arn(layer.arn, path="layers")
        stored = tx.get_layer_version(ref.name, ref.version)  # deleted versions keep serving (reference 8.2)
        if stored is not None:
            layer_sha, layer_zip = local_code(ctx.artifacts, stored.code_sha256_hex)
            layers.append(LayerSnapshot(arn=layer.arn, sha256=layer_sha, zip_path=str(layer_zip)))
    code_sha, code_zip = local_code(ctx.artifacts, row.code_sha256_hex)
    variables = (config.environment.variables if config.environment else None) or {}
    overridden: tuple[str, ...] = ()
    if ctx.env_overrides is not None:       # local only: the version row keeps its own configuration
        variables, overridden = ctx.env_overrides.apply(row.function_name, variables)
    logging = config.logging_config
    return FunctionSnapshot(
        function_name=row.function_name, function_arn=ctx.function_arn(row.function_name), version=row.version,
        handler=config.handler or "", runtime=config.runtime or "", code_sha256=code_sha,
        code_zip=str(code_zip), layers=tuple(layers),
        memory_size=config.memory_size or DEFAULTS["MemorySize"], timeout=config.timeout or DEFAULTS["Timeout"],
        environment=tuple(sorted(variables.items())),
        architectures=tuple(config.architectures or DEFAULTS["Architectures"]),
        ephemeral_storage=config.ephemeral_storage.size if config.ephemeral_storage
        else DEFAULTS["EphemeralStorage"]["Size"],
        log_format=(logging.log_format if logging else None) or LOG_FORMAT,
        log_group=(logging.log_group if logging else None) or log_group(row.function_name),
        region=ctx.region, revision_id=config.revision_id or "", overridden=overridden)
