"""Asynchronous (``Event``) invocations: accepted at once (202), run later on background threads.

Like Lambda: a throttled event waits for a free slot (here up to ``EVENT_MAX_AGE`` seconds), a failed one is retried
after the configured delays, with the same request id; the client context is not passed to async invocations.
``drain`` lets a short-lived caller (the CLI) wait for everything queued before it exits.
"""
from __future__ import annotations

import dataclasses
import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

from strata.local.runtime.api import FunctionSnapshot, InvokeRequest, InvokeResult
from strata.local.runtime.limits import EVENT_MAX_AGE, EVENT_RETRY_DELAYS, EVENT_THROTTLE_RETRY
from strata.model.lambda_errors import TooManyRequestsException

log = logging.getLogger("strata.local.runtime")
Run = Callable[[FunctionSnapshot, InvokeRequest, "int | None"], InvokeResult]


@dataclasses.dataclass
class _Event:
    snapshot: FunctionSnapshot
    request: InvokeRequest
    limit: int | None
    accepted: float
    attempt: int = 0


class EventQueue:
    """Pending async invocations with due times, served by up to ``threads`` daemon threads."""

    def __init__(self, run: Run, *, threads: int = 4, retry_delays: tuple[float, ...] = EVENT_RETRY_DELAYS) -> None:
        self._run = run
        self._max_threads = threads
        self._retry_delays = retry_delays
        self._heap: list[tuple[float, int, _Event]] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._pending = 0                  # queued + running
        self._idle_threads = 0
        self._threads: list[threading.Thread] = []
        self._closed = False

    def put(self, snapshot: FunctionSnapshot, request: InvokeRequest, limit: int | None) -> None:
        request = dataclasses.replace(request, invocation_type="RequestResponse", log_type="None",
                                      client_context=None)
        with self._cond:
            if self._closed:
                raise RuntimeError("event queue closed")
            self._pending += 1
            self._schedule(_Event(snapshot, request, limit, time.monotonic()), 0.0)
            if self._idle_threads == 0 and len(self._threads) < self._max_threads:
                thread = threading.Thread(target=self._serve, name=f"strata-events-{len(self._threads)}",
                                          daemon=True)
                self._threads.append(thread)
                thread.start()
            self._cond.notify()

    def _schedule(self, event: _Event, delay: float) -> None:
        heapq.heappush(self._heap, (time.monotonic() + delay, next(self._order), event))

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until every accepted event has finished (retries included); False on timeout."""
        end = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._pending:
                remaining = None if end is None else end - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def close(self) -> None:
        """Stop serving; events still queued are dropped."""
        with self._cond:
            self._closed = True
            self._pending -= len(self._heap)
            self._heap.clear()
            self._cond.notify_all()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=5)

    def _next(self) -> _Event | None:
        with self._cond:
            while not self._closed:
                if self._heap:
                    due = self._heap[0][0] - time.monotonic()
                    if due <= 0:
                        return heapq.heappop(self._heap)[2]
                else:
                    due = None
                self._idle_threads += 1
                self._cond.wait(due)
                self._idle_threads -= 1
            return None

    def _serve(self) -> None:
        while True:
            event = self._next()
            if event is None:
                return
            retry_in = self._attempt(event)
            with self._cond:
                if retry_in is not None and not self._closed:
                    self._schedule(event, retry_in)
                    self._cond.notify()
                else:
                    self._pending -= 1
                    self._cond.notify_all()

    def _attempt(self, event: _Event) -> float | None:
        """Run once; the delay before the next attempt, or None when the event is done."""
        name = event.snapshot.function_name
        try:
            result = self._run(event.snapshot, event.request, event.limit)
        except TooManyRequestsException:
            if time.monotonic() - event.accepted > EVENT_MAX_AGE:
                log.warning("event %s for %s dropped: still throttled after %.0f s", event.request.request_id,
                            name, EVENT_MAX_AGE)
                return None
            return EVENT_THROTTLE_RETRY
        except Exception:  # noqa: BLE001 - a background thread must not die; the error is logged
            log.exception("event %s for %s failed before running", event.request.request_id, name)
            return None
        if result.function_error and event.attempt < len(self._retry_delays):
            delay = self._retry_delays[event.attempt]
            event.attempt += 1
            return delay
        return None
