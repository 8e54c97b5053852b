"""One execution environment: a worker process (started on demand), its temp folder, and the invocation sequence
with Lambda's outcomes (result, function error, init error, timeout, out of memory, runtime exit) and log framing.

The environment survives its worker: after a timeout, a memory kill or an exit the worker is gone and the next
invocation starts a new one (a cold start) with the same ``/tmp``, as Lambda does. An init error discards the
environment altogether.
"""
from __future__ import annotations

import base64
import json
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from dataclasses import fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING, cast

from strata.local.runtime import debug as debugging
from strata.local.runtime import sandbox
from strata.local.runtime.api import FunctionSnapshot, InvokeRequest, InvokeResult, OnDone
from strata.local.runtime.limits import INIT_TIMEOUT, OUTPUT_CAP, REPLY_POLL, RESPONSE_MAX, TAIL_BYTES
from strata.local.runtime.logs import WRITE_BATCH, LogStore, invocation_block
from strata.local.runtime.process import EXITED, OUT_OF_MEMORY, TIMEOUT, WorkerProcess, running_loop

if TYPE_CHECKING:
    from concurrent.futures import Executor

_perf_counter = time.perf_counter
_monotonic = time.monotonic
_new = object.__new__
_set = object.__setattr__

_RESULT_FIELDS = ("status_code", "payload", "executed_version", "request_id", "function_error", "log_result")


def _result(status_code: int, payload: bytes, executed_version: str, request_id: str, function_error: str | None,
            log_result: str | None) -> InvokeResult:
    """``InvokeResult(...)`` at a third of the cost: a frozen dataclass's ``__init__`` sets each field through
    ``object.__setattr__``; this sets the instance dictionary once (same fields, equality, hash and repr)."""
    result = _new(InvokeResult)
    _set(result, "__dict__", {"status_code": status_code, "payload": payload, "executed_version": executed_version,
                              "request_id": request_id, "function_error": function_error, "log_result": log_result})
    return result


if tuple(f.name for f in fields(InvokeResult)) != _RESULT_FIELDS or hasattr(InvokeResult, "__slots__"):
    _result = InvokeResult  # noqa: F811 - the contract changed shape: use its constructor


_SIGNAL_TEXT: dict[int, str] = {
    signal.SIGKILL: "killed", signal.SIGSEGV: "segmentation fault", signal.SIGABRT: "aborted",
    signal.SIGTERM: "terminated", signal.SIGBUS: "bus error", signal.SIGILL: "illegal instruction"}


def _error_payload(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()


def _exit_text(code: int | None) -> str:
    if code is None or code == 0:
        return "Runtime exited without providing a reason"
    if code < 0:
        name = _SIGNAL_TEXT.get(-code, f"signal {-code}")
        return f"Runtime exited with error: signal: {name}"
    return f"Runtime exited with error: exit status {code}"


class Environment:
    """A warm (or warmable) execution environment for one snapshot. One invocation at a time."""

    def __init__(self, snapshot: FunctionSnapshot, prepared: sandbox.Prepared, logs: LogStore,
                 debug: debugging.DebugTarget | None = None) -> None:
        self.snapshot = snapshot
        self.debug = debug                # its worker runs under debugpy (``runtime.debug``)
        self.prepared = prepared
        self.logs = logs
        self.tmp_dir = tempfile.mkdtemp(prefix="strata-tmp-")
        self.log_stream = sandbox.log_stream_name(snapshot.version)
        self.worker: WorkerProcess | None = None
        self.discarded = False            # true after an init error or close(): never reuse
        self.last_used = time.monotonic()
        self._pending_output = ""
        self._replies_quickly = True      # the last warm invocation replied within REPLY_POLL: worth polling for
        # constant parts of every invocation, computed once
        self._timeout = float(snapshot.timeout)
        self._limit = float("inf") if debug is not None else self._timeout     # not enforced while debugging
        self._timeout_ms = int(self._timeout * 1000)
        self._function_name = snapshot.function_name
        self._version = snapshot.version
        self._memory_size = snapshot.memory_size
        self._append_log = logs.append_later
        self._write_queued_logs = logs.write_queued

    def invoke(self, request: InvokeRequest) -> InvokeResult:
        worker = self._live_worker()
        head = ""
        init_ms = None
        if worker is None:
            head, init_ms, failed = self._start(request)
            if failed is not None:
                return self._finish(request, head, failed, 0.0, init_ms, self.snapshot.memory_size * 1024)
            worker = cast(WorkerProcess, self.worker)     # _start made it, and it is ready
        # the warm path: everything per invocation that does not depend on the request was computed in __init__
        started = _perf_counter()
        deadline = _monotonic() + self._limit
        if self._send(worker, request):
            self._write_queued_logs(WRITE_BATCH)   # earlier invocations' blocks, while the worker runs
            reply = worker.receive(deadline)
        else:
            reply = self._gone(worker)
        return self._outcome(request, head, init_ms, worker, reply, (_perf_counter() - started) * 1000)

    async def invoke_async(self, request: InvokeRequest, executor: Executor | None = None) -> InvokeResult:
        """``invoke`` for a caller on an event loop: a warm worker's reply is awaited on the loop (no thread); what
        blocks (a cold start, reaping or killing a worker) runs in ``executor``. Same steps, outcomes and logs."""
        worker = self._live_worker()
        loop = running_loop()
        if worker is None:                # a cold start spawns and waits for init: the blocking path, in a thread
            return await loop.run_in_executor(executor, self.invoke, request)
        started = _perf_counter()
        deadline = _monotonic() + self._limit
        if self._send(worker, request):
            self._write_queued_logs(WRITE_BATCH)
            try:
                reply = await worker.receive_async(deadline, executor)
            except BaseException:         # cancelled (the worker was killed) or a broken frame: replace the worker
                self._drop_worker()
                raise
        else:
            reply = await loop.run_in_executor(executor, self._gone, worker)
        duration_ms = (_perf_counter() - started) * 1000
        kind = reply[0]
        if kind == "ok" or kind == "error":
            return self._finish(request, "", (kind, reply[1], None), duration_ms, None, reply[2])
        return await loop.run_in_executor(executor, self._outcome, request, "", None, worker, reply, duration_ms)

    def start(self, request: InvokeRequest, on_done: OnDone, executor: Executor | None = None,
              release: Callable[[Environment], None] | None = None) -> bool:
        """``invoke_async``'s warm path without a coroutine, for ``strata serve``: send ``request`` now and call
        ``on_done(result, None)`` (or ``on_done(None, error)``) straight from the loop's reader callback when the
        reply comes, with no trip through the loop's ready queue. A plain success goes to
        ``on_done.succeeded(payload)`` when it has one and that returns True (no result object is made).
        ``release(self)`` says the environment is free again *before* ``on_done`` runs (what the function printed is
        collected first), so ``on_done`` may start the next invocation on it at once, while it answers this one; a
        plain success's log block is queued after ``on_done`` returns. An ``on_done.started(request_id, version)``
        hears those right after the send (unless a whole reply was already buffered: then ``on_done`` came first).
        With ``on_done.sole`` true (its caller runs nothing else) the reply pipe is polled for up to
        ``limits.REPLY_POLL`` before this returns, so a quick reply is answered without the loop going to sleep.
        False when there is no live warm worker: nothing was sent, use ``invoke_async``. The endings that block
        (deadline, memory kill, exit) finish in ``executor`` as ``invoke_async``'s do, then call ``on_done`` on the
        loop. Same outcomes and logs as ``invoke_async``."""
        worker = self.worker
        if worker is None or worker.proc.returncode is not None:
            return False
        started = _perf_counter()
        # The request goes out first and the waiting is set up after: the reply is read by the loop's reader callback,
        # which cannot run before this returns to the loop, and work done while the worker runs on the other CPU
        # is off the round trip (bench_server.py). No waitpid per call (``_live_worker``): a worker that died idle
        # has closed its pipes, so the send fails and ``invoke_async`` (whose ``_live_worker`` reaps it) starts a
        # fresh one; one whose pipes another process still holds is found by the watch timer within a period.
        if not self._send(worker, request):
            return False
        deadline = _monotonic() + self._limit
        waiter = _ReplyWaiter(self, worker, request, started, deadline, on_done, executor, release)
        loop = worker.current_loop()
        worker.begin_wait(waiter, deadline, loop)
        if worker.buffer.data:           # a whole reply already read (the rest of an earlier read): rare
            message = worker.buffered()
            if message is not None:
                worker.end_wait()
                waiter.set_result(message)
                return True
        hint = getattr(on_done, "started", None)
        if hint is not None:              # while the worker runs: what a plain success will carry
            hint(request.request_id, self._version)
        if self._replies_quickly and getattr(on_done, "sole", False):
            worker.poll_reply(REPLY_POLL, loop)   # the caller runs nothing else: catch the reply before sleeping
        return True

    def _live_worker(self) -> WorkerProcess | None:
        """The warm worker, unless it died while idle (killed by the OS, say): then it is dropped and this invocation
        cold-starts a fresh one, as Lambda gives a new environment instead of failing the caller."""
        worker = self.worker
        if worker is not None and worker.proc.poll() is not None:
            self._drop_worker()
            return None
        return worker

    def _send(self, worker: WorkerProcess, request: InvokeRequest) -> bool:
        return worker.send((request.request_id, request.payload or b"", self._timeout_ms, request.invoked_arn,
                            request.client_context))

    def _outcome(self, request: InvokeRequest, head: str, init_ms: float | None, worker: WorkerProcess,
                 reply: tuple, duration_ms: float) -> InvokeResult:
        """The invocation's result and log from the worker's reply (or TIMEOUT / OUT_OF_MEMORY / EXITED)."""
        kind = reply[0]
        if kind == "ok" or kind == "error":
            return self._finish(request, head, (kind, reply[1], None), duration_ms, init_ms, reply[2])
        outcome, rss_kb = self._worker_lost(request, reply, worker)
        return self._finish(request, head, outcome, duration_ms, init_ms, rss_kb)

    # -- cold start ------------------------------------------------------------------------------------------------

    def _start(self, request: InvokeRequest) -> tuple[str, float, tuple | None]:
        snapshot, prepared = self.snapshot, self.prepared
        sandbox.ensure_intact(prepared)
        head = sandbox.init_line(snapshot, prepared)
        if snapshot.overridden:       # a local --env-vars overlay: say so where the environment starts
            head += (f"[strata] local --env-vars override active: {', '.join(snapshot.overridden)} "
                     f"(not part of version {snapshot.version})\n")
        env = sandbox.environment(snapshot, prepared, self.tmp_dir, self.log_stream)
        command, paths, memory_mb = list(prepared.command), list(prepared.python_paths), snapshot.memory_size
        env.pop(debugging.PORT_VARIABLE, None)
        if self.debug is not None:
            command, paths, memory_mb = debugging.launch(self.debug, prepared, env, memory_mb)
        started = time.perf_counter()
        worker = WorkerProcess(command, paths, env, str(prepared.code_dir), memory_mb)
        self.worker = worker
        reply = worker.receive(time.monotonic() + max(INIT_TIMEOUT, self._limit))
        init_ms = (time.perf_counter() - started) * 1000
        init_output, dropped = worker.output.take()
        head += _text(init_output, dropped)
        kind = reply[0]
        if kind == "ready":
            return head, init_ms, None
        if kind == "init_error":                      # Lambda discards the environment; next invoke inits again
            self._drop_worker()
            self.discarded = True
            return head, init_ms, ("error", reply[1], None)
        outcome, _rss = self._worker_lost(request, reply, worker)
        return head, init_ms, outcome

    # -- outcomes --------------------------------------------------------------------------------------------------

    def _gone(self, worker: WorkerProcess) -> tuple:
        worker.wait()
        return EXITED

    def _worker_lost(self, request: InvokeRequest, reply: tuple, worker: WorkerProcess) -> tuple[tuple, int]:
        """The worker was killed or died: Lambda's error for why, and the worker is replaced on next use."""
        rid = request.request_id
        memory_kb = self.snapshot.memory_size * 1024
        if reply is TIMEOUT:
            peak = worker.peak_kb() if not worker.dead else 0
            self._drop_worker()
            seconds = f"{float(self.snapshot.timeout):.2f}"
            stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            return (("timeout", _error_payload("Sandbox.Timedout",
                                               f"RequestId: {rid} Error: Task timed out after {seconds} seconds"),
                     f"{stamp} {rid} Task timed out after {seconds} seconds\n"), peak or memory_kb)
        if reply is OUT_OF_MEMORY or reply[0] == "oom":
            self._drop_worker()
            text = f"RequestId: {rid} Error: Runtime exited with error: signal: killed"
            return (("oom", _error_payload("Runtime.OutOfMemory", text), f"{text}\nRuntime.OutOfMemory\n"),
                    memory_kb)
        code = worker.returncode
        self._drop_worker()
        text = f"RequestId: {rid} Error: {_exit_text(code)}"
        return (("exit", _error_payload("Runtime.ExitError", text), f"{text}\nRuntime.ExitError\n"), 0)

    def _drop_worker(self) -> None:
        """Close the worker, keeping what it wrote for this invocation's log."""
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.close()
            self._pending_output += _text(*worker.output.take())

    def _finish(self, request: InvokeRequest, head: str, outcome: tuple, duration_ms: float,
                init_ms: float | None, rss_kb: int) -> InvokeResult:
        kind, payload, runtime_line = outcome
        rid = request.request_id
        if kind == "ok" and len(payload) > RESPONSE_MAX:
            kind = "error"
            payload = json.dumps({
                "errorMessage": f"Response payload size exceeded maximum allowed payload size ({RESPONSE_MAX} bytes).",
                "errorType": "Function.ResponseSizeTooLarge"}).encode()
        body = self._take_output()
        if runtime_line:
            body += runtime_line
        text = invocation_block(head, rid, self._version, body, duration_ms, self._memory_size,
                                (rss_kb + 1023) // 1024, init_ms)
        self._append_log(self._function_name, self._version, text)
        tail = None
        if request.log_type == "Tail":
            tail = base64.b64encode(text.encode("utf-8", "backslashreplace")[-TAIL_BYTES:]).decode("ascii")
        self.last_used = _monotonic()
        return _result(200, payload, self._version, rid, None if kind == "ok" else "Unhandled", tail)

    def _take_output(self) -> str:
        """What the function wrote since the last invocation's log: output kept from a worker that was dropped, then
        the current worker's collected output."""
        worker = self.worker
        output = worker.output if worker is not None else None
        body = _text(*output.take()) if output is not None and (output.data or output.dropped) else ""
        if self._pending_output:
            body, self._pending_output = self._pending_output + body, ""
        return body

    def _log_warm(self, request_id: str, output: str, duration_ms: float, rss_kb: int) -> None:
        """``_finish``'s log part for a warm invocation that returned a plain result (no init, no runtime line, no
        tail), ``output`` its ``_take_output()``: the block queued unformatted (a full batch is written), nothing else
        made. The server's hot path runs it after the answer went out (and the environment may already serve the
        next invocation: hence the output taken before)."""
        self.logs.append_warm_later(self._function_name, self._version, request_id, output, duration_ms,
                                    self._memory_size, (rss_kb + 1023) // 1024, WRITE_BATCH)

    def kill_worker(self) -> None:
        """Kill the worker from another thread (pool shutdown); the running invocation sees it exit."""
        worker = self.worker
        if worker is not None:
            worker.kill()

    def close(self) -> None:
        """Stop the worker and delete the temp folder; the environment is never used again."""
        self.discarded = True
        self._drop_worker()
        shutil.rmtree(self.tmp_dir, ignore_errors=True)


_settling: set = set()                  # _ReplyWaiter._settle tasks still running


class _ReplyWaiter:
    """What ``Environment.start`` hands ``WorkerProcess.begin_wait``: future-like (``done``, ``set_result``,
    ``set_exception``), but it finishes the invocation in the reader callback itself. Loop thread only."""

    __slots__ = ("env", "worker", "request", "started", "deadline", "on_done", "executor", "release", "finished")

    def __init__(self, env: Environment, worker: WorkerProcess, request: InvokeRequest, started: float,
                 deadline: float, on_done: OnDone, executor: Executor | None,
                 release: Callable[[Environment], None] | None) -> None:
        self.env, self.worker, self.request, self.started = env, worker, request, started
        self.deadline, self.on_done, self.executor, self.release = deadline, on_done, executor, release
        self.finished = False

    def _end(self, result: InvokeResult | None, error: BaseException | None) -> None:
        """The environment given back, then ``on_done`` told (which may hand the environment its next invocation)."""
        try:
            self._give_back()
        finally:
            self.on_done(result, error)

    def _give_back(self) -> None:
        self.env.last_used = _monotonic()        # before it is idle: the reaper judges idle environments by it
        if self.release is not None:
            self.release(self.env)

    drains_output = True                 # what the handler printed is collected by ``set_result``, not the reader

    def done(self) -> bool:
        return self.finished

    def set_result(self, message: tuple) -> None:
        self.finished = True
        worker = self.worker
        worker.end_wait()
        kind = message[0]
        if kind == "ok" or kind == "error":
            ended = _perf_counter()
            env, request, payload = self.env, self.request, message[1]
            env._replies_quickly = ended - self.started <= REPLY_POLL
            duration_ms = (ended - self.started) * 1000
            if kind == "error" or request.log_type == "Tail" or len(payload) > RESPONSE_MAX:
                try:                          # a function error, the log text or the size error: made at once
                    worker.drain()
                    result = env._finish(request, "", (kind, payload, None), duration_ms, None, message[2])
                    env._write_queued_logs(WRITE_BATCH)
                except BaseException as exc:  # noqa: BLE001 - the caller hears of it, as from invoke_async
                    self._end(None, exc)
                    return
                self._end(result, None)
                return
            # A plain success. What it printed is collected and the environment given back first, so that the answer
            # (``on_done``) can start a queued invocation on it before writing this one's response (the worker runs
            # while the server writes); the log block is queued last (formatted with its batch).
            try:
                worker.drain()
                output = env._take_output()
            except BaseException as exc:      # noqa: BLE001 - the caller hears of it, as from invoke_async
                self._end(None, exc)
                return
            self._give_back()
            try:
                succeeded = getattr(self.on_done, "succeeded", None)
                if succeeded is None or not succeeded(payload):
                    self.on_done(_result(200, payload, env._version, request.request_id, None, None), None)
            finally:
                env._log_warm(request.request_id, output, duration_ms, message[2])
            return
        if message is not EXITED:
            worker.drain()
        import asyncio

        task = asyncio.ensure_future(self._settle(message))
        _settling.add(task)                   # the loop keeps only a weak reference to a task
        task.add_done_callback(_settling.discard)

    def set_exception(self, error: BaseException) -> None:
        """A broken frame: the worker cannot be trusted with another invocation."""
        self.finished = True
        self.worker.end_wait()
        if not self.worker.dead:
            self.worker.kill()
        self.env._drop_worker()
        self._end(None, error)

    async def _settle(self, message: tuple) -> None:
        """The endings that block: ``invoke_async``'s code for them, off the reader callback."""
        env, worker, executor = self.env, self.worker, self.executor
        try:
            reply = await worker.settle(message, self.deadline, executor)
            duration_ms = (_perf_counter() - self.started) * 1000
            result = await running_loop().run_in_executor(executor, env._outcome, self.request, "", None, worker,
                                                          reply, duration_ms)
        except BaseException as exc:  # noqa: BLE001 - reported to the caller
            env._drop_worker()
            self._end(None, exc)
            return
        self._end(result, None)


def _text(data: bytes, dropped: int) -> str:
    text = data.decode("utf-8", "replace")
    if dropped:
        text = f"[strata] {dropped} bytes of output dropped, kept the last {OUTPUT_CAP}\n" + text
    if text and not text.endswith("\n"):
        text += "\n"
    return text
