"""``WorkerPool``: strata's ``Runtime``. Warm execution environments per snapshot, reserved concurrency, idle
reaping, async events.

Bookkeeping (under one lock, held only for dictionary work, never while a worker runs):
- idle environments per ``FunctionSnapshot.key``, most recently used first out (the others age and get reaped);
- in-flight invocations per function ARN: reserved concurrency caps a function across all its versions, so it
  counts invocations, not environments, and an idle environment never throttles anyone;
- the total number of environments, capped by ``max_environments`` (an idle one of another snapshot is evicted
  first; when all are busy the invoke is throttled like Lambda's account limit).
Preparing a snapshot (unpacking, layer merge, interpreter choice) happens outside the lock, once per snapshot key.
"""
from __future__ import annotations

import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from strata.local.runtime import sandbox
from strata.local.runtime.api import FunctionSnapshot, InvokeRequest, InvokeResult, OnDone, Runtime
from strata.local.runtime.debug import DebugTarget
from strata.local.runtime.environment import Environment
from strata.local.runtime.events import EventQueue
from strata.local.runtime.limits import EVENT_RETRY_DELAYS, IDLE_TIMEOUT
from strata.local.runtime.logs import LogStore
from strata.local.runtime.process import running_loop
from strata.model.lambda_errors import ServiceException, TooManyRequestsException

if TYPE_CHECKING:
    from concurrent.futures import Executor

RESERVED_REASON = "ReservedFunctionConcurrentInvocationLimitExceeded"
ACCOUNT_REASON = "ConcurrentInvocationLimitExceeded"


def throttled(reason: str) -> TooManyRequestsException:
    """Lambda's 429 body: ``{"Type": "User", "message": "Rate Exceeded.", "Reason": ...}``."""
    return TooManyRequestsException("Rate Exceeded.", Reason=reason)


class WorkerPool(Runtime):
    """Runs invocations in warm worker processes; implements ``strata.local.runtime.api.Runtime``."""

    def __init__(self, home: Path, *, max_environments: int = 32, idle_timeout: float = IDLE_TIMEOUT,
                 event_threads: int = 4, event_retry_delays: tuple[float, ...] = EVENT_RETRY_DELAYS,
                 logs: LogStore | None = None, debug: DebugTarget | None = None) -> None:
        self.home = Path(home)
        self.debug = debug                 # this function's environments run under debugpy, one at a time
        self.max_environments = max_environments
        self.idle_timeout = idle_timeout
        self._own_logs = logs is None
        self.logs = logs or LogStore(self.home)
        self._lock = threading.Lock()
        self._idle: dict[tuple, list[Environment]] = defaultdict(list)
        self._busy: set[Environment] = set()
        self._in_flight: dict[str, int] = defaultdict(int)
        self._debugged: set[str] = set()      # ARNs of the debugged function (``_limit``)
        self._total = 0
        self._prepared: dict[tuple, sandbox.Prepared] = {}
        self._prepare_locks: dict[tuple, threading.Lock] = {}
        self._closed = False
        self._events = EventQueue(self._invoke_sync, threads=event_threads, retry_delays=event_retry_delays)
        self._reaper: threading.Thread | None = None
        self._stop = threading.Event()

    # -- Runtime protocol ------------------------------------------------------------------------------------------

    def invoke(self, snapshot: FunctionSnapshot, request: InvokeRequest, *,
               concurrency_limit: int | None = None) -> InvokeResult:
        """Run (RequestResponse), queue (Event: 202 at once) or skip (DryRun: 204) one invocation."""
        kind = request.invocation_type
        if kind == "Event":
            if self._closed:
                raise ServiceException("The local runtime is shut down.")
            self._events.put(snapshot, request, concurrency_limit)
            return InvokeResult(202, b"", snapshot.version, request.request_id)
        if kind == "DryRun":
            return InvokeResult(204, b"", snapshot.version, request.request_id)
        return self._invoke_sync(snapshot, request, concurrency_limit)

    def drain(self, timeout: float | None = None) -> bool:
        """Wait for queued Event invocations (and their retries) to finish; False if ``timeout`` ran out first."""
        return self._events.drain(timeout)

    def close(self) -> None:
        """Stop every worker, drop queued events, stop background threads. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            idle = [env for envs in self._idle.values() for env in envs]
            busy = list(self._busy)
            self._idle.clear()
        self._stop.set()
        for env in busy:               # their invoking threads see the worker exit, then close them on release
            env.kill_worker()
        self._events.close()
        for env in idle:
            env.close()
        if self._reaper is not None:
            self._reaper.join(timeout=5)
        if self._own_logs:
            self.logs.close()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def prepare(self, snapshot: FunctionSnapshot) -> sandbox.Prepared:
        """Unpack code and layers and choose the interpreter now (normally done at the first cold start). The
        service may call it at CreateFunction/PublishLayerVersion time to refuse an unsafe zip early
        (``UnsafeArchiveError``, an ``InvalidParameterValueException``)."""
        return self._prepare(snapshot, snapshot.key)

    def retire(self, function_name: str, keep_version: str | None = None) -> int:
        """Drain the warm environments of ``function_name`` except ``keep_version``'s (an alias moved away from
        them: ``strata dev``): idle ones stop now, busy ones finish their invocation on the version they serve and
        stop when it ends, never mid-request. How many were retired."""
        with self._lock:
            idle: list[Environment] = []
            for key in list(self._idle):
                envs = self._idle[key]
                if envs and envs[0].snapshot.function_name == function_name \
                        and envs[0].snapshot.version != keep_version:
                    idle += envs
                    del self._idle[key]
            self._total -= len(idle)
            busy = [env for env in self._busy
                    if env.snapshot.function_name == function_name and env.snapshot.version != keep_version]
            for env in busy:
                env.discarded = True       # ``_release`` closes it when its invocation ends
        for env in idle:
            env.close()
        return len(idle) + len(busy)

    # -- introspection (tests, `strata` status output) ---------------------------------------------------------------

    def environment_count(self, snapshot: FunctionSnapshot | None = None) -> int:
        with self._lock:
            if snapshot is None:
                return self._total
            key = snapshot.key
            return len(self._idle.get(key, ())) + sum(1 for env in self._busy if env.snapshot.key == key)

    # -- the synchronous path --------------------------------------------------------------------------------------

    def _invoke_sync(self, snapshot: FunctionSnapshot, request: InvokeRequest,
                     limit: int | None) -> InvokeResult:
        limit = self._limit(snapshot, limit)
        key = snapshot.key
        arn = snapshot.function_arn
        env = self._take_idle(key, arn, limit)
        if env is None:
            return self._invoke_cold(snapshot, key, request, limit)
        try:
            return env.invoke(request)
        finally:
            self._release(snapshot, key, env)

    def _take_idle(self, key: tuple, arn: str, limit: int | None) -> Environment | None:
        """The warm path's one lock round: an idle environment of ``key``, now busy and counted in flight (None:
        there is none, nothing was counted). Throttles at the reserved concurrency."""
        with self._lock:
            if self._closed:
                raise ServiceException("The local runtime is shut down.")
            in_flight = self._in_flight
            running = in_flight[arn]
            if limit is not None and running >= limit:
                raise self._throttled(arn)
            idle = self._idle.get(key)
            if not idle:
                return None
            env = idle.pop()
            self._busy.add(env)
            in_flight[arn] = running + 1
            return env

    def _give_back(self, env: Environment) -> None:
        """``Environment.start``'s release: the invocation ended, ``env`` is idle again (``_release``)."""
        snapshot = env.snapshot
        self._release(snapshot, snapshot.key, env)

    # -- the event-loop path ---------------------------------------------------------------------------------------

    async def invoke_async(self, snapshot: FunctionSnapshot, request: InvokeRequest, *,
                           concurrency_limit: int | None = None, executor: Executor | None = None) -> InvokeResult:
        """``invoke`` for a caller on an asyncio event loop (``strata serve``): the same rules and outcomes, but a warm
        environment's reply is awaited on the loop instead of blocking a thread. A cold start (or anything else that
        blocks: spawning, reaping, killing) runs the blocking path in ``executor``; Event and DryRun never wait."""
        if request.invocation_type != "RequestResponse":
            return self.invoke(snapshot, request, concurrency_limit=concurrency_limit)
        concurrency_limit = self._limit(snapshot, concurrency_limit)
        key = snapshot.key
        arn = snapshot.function_arn
        env = self._take_idle(key, arn, concurrency_limit)
        if env is None:
            return await running_loop().run_in_executor(
                executor, self._invoke_sync, snapshot, request, concurrency_limit)
        try:
            return await env.invoke_async(request, executor)
        finally:
            self._release(snapshot, key, env)

    def start_invoke(self, snapshot: FunctionSnapshot, request: InvokeRequest, on_done: OnDone,
                     concurrency_limit: int | None = None, executor: Executor | None = None) -> bool:
        """A warm RequestResponse invocation started from the event loop without a coroutine
        (``Environment.start``): ``on_done(result, error)`` is called when it ends. False when it cannot start
        that way (no idle warm environment, another invocation type): nothing was counted or sent, use
        ``invoke_async``. Throttling raises here, as from ``invoke_async``. The environment is given back just before
        ``on_done`` runs, so ``on_done`` can start the next invocation on it at once."""
        if request.invocation_type != "RequestResponse":
            return False
        concurrency_limit = self._limit(snapshot, concurrency_limit)
        key = snapshot.key
        arn = snapshot.function_arn
        env = self._take_idle(key, arn, concurrency_limit)
        if env is None:
            return False
        try:
            started = env.start(request, on_done, executor, self._give_back)
        except BaseException:
            self._release(snapshot, key, env)
            raise
        if not started:
            self._release(snapshot, key, env)
        return started

    def _invoke_cold(self, snapshot: FunctionSnapshot, key: tuple, request: InvokeRequest,
                     limit: int | None) -> InvokeResult:
        env, evicted = self._acquire(snapshot, key, limit)
        for old in evicted:
            old.close()
        try:
            if env is None:
                debug = self.debug if self.debug is not None and self.debug.matches(snapshot.function_name) else None
                env = Environment(snapshot, self._prepare(snapshot, key), self.logs, debug)
                self._ensure_reaper()
                with self._lock:
                    self._busy.add(env)
            return env.invoke(request)
        finally:
            self._release(snapshot, key, env)

    def _acquire(self, snapshot: FunctionSnapshot, key: tuple,
                 limit: int | None) -> tuple[Environment | None, list]:
        arn = snapshot.function_arn
        evicted: list[Environment] = []
        with self._lock:
            if self._closed:
                raise ServiceException("The local runtime is shut down.")
            if limit is not None and self._in_flight[arn] >= limit:
                raise self._throttled(arn)
            idle = self._idle.get(key)
            env = idle.pop() if idle else None
            if env is not None:
                self._busy.add(env)
            else:
                if arn in self._debugged:          # the debug port is the idle debug environment's: stop it first
                    taken = self._take_idle_of(arn)
                    evicted += taken
                    self._total -= len(taken)
                if self._total >= self.max_environments:
                    victim = self._oldest_idle()
                    if victim is None:
                        raise throttled(ACCOUNT_REASON)
                    evicted.append(victim)
                    self._total -= 1
                self._total += 1
            self._in_flight[arn] += 1
        return env, evicted

    def _release(self, snapshot: FunctionSnapshot, key: tuple, env: Environment | None) -> None:
        """An invocation ended (the second lock round): uncounted, and ``env`` idle again, or closed if discarded or
        the pool is shut (None: a cold start that made no environment)."""
        close = None
        with self._lock:
            self._in_flight[snapshot.function_arn] -= 1
            if env is not None:
                self._busy.discard(env)
            if env is None or env.discarded or self._closed:
                self._total -= 1
                close = env
            else:
                self._idle[key].append(env)
        if close is not None:
            close.close()

    def _limit(self, snapshot: FunctionSnapshot, limit: int | None) -> int | None:
        """The reserved concurrency, and 1 for the debugged function (its debugger has one port)."""
        if self.debug is None or not self.debug.matches(snapshot.function_name):
            return limit
        self._debugged.add(snapshot.function_arn)
        return 1

    def _throttled(self, arn: str) -> TooManyRequestsException:
        if arn in self._debugged and self.debug is not None:
            return TooManyRequestsException(
                f"{self.debug.label} is being debugged (debugpy on {self.debug.address}): one invocation of it at a "
                "time; this one was refused. Retry when the debugged one has finished.", Reason=RESERVED_REASON)
        return throttled(RESERVED_REASON)

    def _take_idle_of(self, arn: str) -> list[Environment]:
        """Remove and return every idle environment of function ``arn`` (caller holds the lock)."""
        taken: list[Environment] = []
        for key in [key for key, envs in self._idle.items() if envs and envs[0].snapshot.function_arn == arn]:
            taken += self._idle.pop(key)
        return taken

    def _oldest_idle(self) -> Environment | None:
        """Remove and return the least recently used idle environment (caller holds the lock)."""
        best_envs: list[Environment] | None = None
        best = None
        for envs in self._idle.values():
            if envs and (best is None or envs[0].last_used < best.last_used):
                best_envs, best = envs, envs[0]
        if best_envs is not None:
            best_envs.pop(0)
        return best

    def _prepare(self, snapshot: FunctionSnapshot, key: tuple) -> sandbox.Prepared:
        prepared = self._prepared.get(key)
        if prepared is not None:
            return prepared
        with self._lock:
            lock = self._prepare_locks.setdefault(key, threading.Lock())
        with lock:
            prepared = self._prepared.get(key)
            if prepared is None:
                prepared = sandbox.prepare(snapshot, self.home)
                self._prepared[key] = prepared
        return prepared

    # -- idle reaping ----------------------------------------------------------------------------------------------

    def _ensure_reaper(self) -> None:
        if self._reaper is None:
            with self._lock:
                if self._reaper is None and not self._closed:
                    self._reaper = threading.Thread(target=self._reap_loop, name="strata-reaper", daemon=True)
                    self._reaper.start()

    def _reap_loop(self) -> None:
        period = max(0.05, min(self.idle_timeout / 2, 30.0))
        while not self._stop.wait(period):
            self.reap()

    def reap(self, now: float | None = None) -> int:
        """Stop environments idle for longer than ``idle_timeout`` (never the ``--debug`` one); how many were
        stopped."""
        now = time.monotonic() if now is None else now
        stale: list[Environment] = []
        with self._lock:
            for key in list(self._idle):
                envs = self._idle[key]
                # a debug environment stays while the pool runs: reaping it would end the attached debug session
                keep = [env for env in envs if now - env.last_used < self.idle_timeout or env.debug is not None]
                stale += [env for env in envs if now - env.last_used >= self.idle_timeout and env.debug is None]
                if keep:
                    self._idle[key] = keep
                else:
                    del self._idle[key]
            self._total -= len(stale)
        for env in stale:
            env.close()
        return len(stale)
