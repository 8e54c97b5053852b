"""One worker process seen from the pool: spawn it, exchange frames, enforce the deadline and MemorySize, collect
its output, kill it.

Why the parent enforces memory by sampling the resident set (``/proc/<pid>/statm``) rather than with ``RLIMIT_AS``:
Lambda limits memory actually used (a cgroup), while Python processes reserve far more address space than they touch
(thread stacks, malloc arenas, BLAS buffers), so an address-space limit equal to MemorySize breaks ordinary handlers,
and when it does bite it surfaces as a MemoryError the handler may swallow. Sampling happens only while an invocation
runs longer than one watch period, so fast invokes never pay for it. A generous ``RLIMIT_AS`` stays as a backstop
against an allocation that outruns the sampler. Handler subprocesses are not counted (their cgroup, when there is
one, only serves to kill them with the worker: ``containment``).

Output: the worker's stdout and stderr share one pipe which is read while waiting for the reply (one ``poll`` over
the reply pipe and the output pipe), so a handler printing without end never blocks, and only the tail is kept.
"""
from __future__ import annotations

import marshal
import os
import select
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, cast

from strata.local.runtime.containment import Cage
from strata.local.runtime.limits import ADDRESS_SPACE_HEADROOM_MB, MEMORY_WATCH_PERIOD, OUTPUT_CAP
from strata.local.runtime.protocol import GO, HEADER, MARSHAL_VERSION, READ_CHUNK, FrameBuffer, write_all

if TYPE_CHECKING:
    import asyncio
    from concurrent.futures import Executor

try:
    import resource
except ImportError:  # pragma: no cover - not POSIX
    resource = None  # type: ignore[assignment]  # mypy checks for Linux, where resource always imports

_read = os.read
_loads = marshal.loads
_dumps = marshal.dumps
_write = os.write
_monotonic = time.monotonic
_perf_counter = time.perf_counter
_sched_yield = os.sched_yield
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_POLLIN = select.POLLIN | select.POLLHUP | select.POLLERR
TIMEOUT = ("timeout",)
OUT_OF_MEMORY = ("oom_killed",)
EXITED = ("exited",)
_LATE = ("late",)                       # receive_async: the deadline passed, decide off the loop
_OVER_MEMORY = ("over_memory",)         # receive_async: the sampled resident set is over the limit


class ReplyWaiter(Protocol):
    """Who waits for a worker's reply (``WorkerProcess.begin_wait``): an asyncio future, or the runtime's callback
    object. It may also say ``drains_output`` (it collects the output written before the reply itself)."""

    def done(self) -> bool: ...
    def set_result(self, message: tuple[Any, ...], /) -> None: ...
    def set_exception(self, error: BaseException, /) -> None: ...


@dataclass
class Output:
    """The tail of what the worker wrote: at most ``cap`` bytes kept, the rest counted."""

    cap: int = OUTPUT_CAP
    data: bytearray = field(default_factory=bytearray)
    dropped: int = 0

    def add(self, chunk: bytes) -> None:
        self.data += chunk
        excess = len(self.data) - self.cap
        if excess > self.cap:          # trim in big steps, not on every chunk
            del self.data[:excess]
            self.dropped += excess

    def take(self) -> tuple[bytes, int]:
        """The kept bytes (trimmed to the cap) and how many were dropped; resets."""
        if not self.data:
            dropped, self.dropped = self.dropped, 0
            return b"", dropped
        excess = len(self.data) - self.cap
        if excess > 0:
            del self.data[:excess]
            self.dropped += excess
        data, dropped = bytes(self.data), self.dropped
        self.data = bytearray()
        self.dropped = 0
        return data, dropped


class WorkerProcess:
    """A running worker. Not thread-safe: the pool gives it one invocation at a time."""

    def __init__(self, command: list[str], paths: list[str], env: dict[str, str], cwd: str, memory_mb: int) -> None:
        """Run ``command <read fd>,<write fd> <paths...>`` (the worker bootstrap and its sys.path entries): one pipe
        carries requests to the worker, another its replies. Pipes, not a socketpair: on the 2-vCPU VM the
        benchmarks run on, a round trip over a Unix socketpair costs ~7 us more than over two pipes, and nothing
        here needs a socket (bench_server.py)."""
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        out_read, out_write = os.pipe()
        for fd in (request_write, reply_write):
            _grow_pipe(fd)
        try:
            self.proc = subprocess.Popen([*command, f"{request_read},{reply_write}", *paths], env=env, cwd=cwd,
                                         stdin=subprocess.DEVNULL, stdout=out_write, stderr=out_write,
                                         pass_fds=(request_read, reply_write), start_new_session=True)
        except BaseException:
            for fd in (request_write, reply_read, out_read):
                os.close(fd)
            raise
        finally:
            for fd in (request_read, reply_write, out_write):
                os.close(fd)
        self.pid = self.proc.pid
        # The worker waits for one byte before it runs any handler code, sent once it is caged (``containment``):
        # moving a process into a cgroup can take milliseconds (the kernel waits for an RCU grace period), time the
        # worker spends starting its interpreter meanwhile, and nothing the handler starts can be outside the cage.
        try:
            self.cage = Cage(self.pid, env.get("AWS_LAMBDA_LOG_STREAM_NAME"))
        finally:
            try:
                os.write(request_write, GO)
            except OSError:
                pass                    # it is gone already: receive() reports how it ended
        self.fd = reply_read                     # replies come in here (watched by poll and the event loop)
        self.wfd = request_write                 # requests go out here
        self.out_fd = out_read
        os.set_blocking(out_read, False)
        self.memory_limit = memory_mb * 1024 * 1024
        self.buffer = FrameBuffer()
        self.output = Output()
        self.poller = select.poll()
        self.poller.register(self.fd, _POLLIN)        # first: receive() relies on the replies being polled first
        self.poller.register(self.out_fd, _POLLIN)
        self.reply_poller = select.poll()       # the reply pipe alone: has the worker said anything?
        self.reply_poller.register(self.fd, _POLLIN)
        self.out_poller = select.poll()         # a zero-timeout check is cheaper than a failing read
        self.out_poller.register(self.out_fd, _POLLIN)
        self._out_open = True
        self.dead = False
        # receive_async's state (event-loop thread only): the loop the reply pipe is registered with, the waiting
        # invocation, its deadline and next check, the worker's one timer, the loop watching the output pipe
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._waiter: ReplyWaiter | None = None
        self._deadline = 0.0
        self._due = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._timer_loop: asyncio.AbstractEventLoop | None = None
        self._out_loop: asyncio.AbstractEventLoop | None = None
        if resource is not None and hasattr(resource, "prlimit"):
            backstop = (memory_mb + ADDRESS_SPACE_HEADROOM_MB) * 1024 * 1024
            try:
                resource.prlimit(self.pid, resource.RLIMIT_AS, (backstop, backstop))
            except (OSError, ValueError):
                pass

    def send(self, message: tuple) -> bool:
        """Send one frame; False when the worker is gone."""
        body = _dumps(message, MARSHAL_VERSION)
        data = len(body).to_bytes(HEADER, "little") + body     # protocol.frame(), inline
        try:
            written = _write(self.wfd, data)
            if written < len(data):             # a large payload: the pipe takes it in pieces
                write_all(self.wfd, memoryview(data)[written:])
            return True
        except OSError:
            return False

    def receive(self, deadline: float) -> tuple:
        """The worker's next message, or TIMEOUT / OUT_OF_MEMORY (worker killed) / EXITED (worker died)."""
        message = self.buffered()
        if message is not None:
            return message
        fd, out_fd, poll = self.fd, self.out_fd, self.poller.poll
        now = _monotonic()
        next_check = now + MEMORY_WATCH_PERIOD
        while True:
            late = now >= deadline              # one last look without waiting: a reply that came in while this
            if not late and now >= next_check:  # thread was busy elsewhere (writing logs, waiting for the GIL) counts
                if self.over_memory():
                    return self.killed(OUT_OF_MEMORY)
                if self.proc.poll() is not None and not self.reply_poller.poll(0):
                    # gone without a word, its reply pipe held open by a process it forked (as receive_async)
                    return self.exited()
                next_check = now + MEMORY_WATCH_PERIOD
            output_ready = False
            message = None
            for ready, _event in poll(0 if late else max(1, int((min(deadline, next_check) - now) * 1000) + 1)):
                if ready == fd:
                    message = self._read_reply()
                    if message is EXITED:
                        return self.exited()
                elif ready == out_fd:
                    self._read_output()
                    output_ready = True
            if message is None:
                message = self.buffer.pop()
            if message is not None:
                # The worker flushes its output before it replies, and poll checks the replies (registered first)
                # before the pipe in every pass: a pass that saw the reply and not the pipe saw an empty pipe.
                if output_ready:
                    self.drain()
                return message
            if late:
                return self.killed(TIMEOUT)
            now = _monotonic()

    async def receive_async(self, deadline: float, executor: Executor | None = None) -> tuple:
        """``receive`` on the running event loop: the same outcomes, waiting in the loop instead of a thread.

        The reply pipe stays registered with the loop (``add_reader``) from the first call on, and one timer per worker
        samples memory every watch period and fires at the deadline: a warm invocation registers nothing and arms
        no timer (the timer, armed for an earlier invocation, re-arms itself for this one's first check). A reader
        callback that finds no invocation waiting (a blocking caller has the worker, or it exited while idle)
        unregisters itself; ``close`` unregisters before the descriptor is closed (on the loop's thread, so the
        number cannot be reused while still registered). The output pipe is watched only from an invocation's
        first watch period on, and only until it ends. What blocks (the last look at the deadline and the kill,
        reaping a worker that exited) runs ``receive`` and ``exited`` themselves in ``executor``, so those endings
        are the blocking path's. Cancelled while the worker runs: the worker is killed (its reply would otherwise
        be read as the next invocation's)."""
        message = self.buffered()
        if message is not None:
            return message
        loop = running_loop()
        waiter = loop.create_future()
        self.begin_wait(waiter, deadline, loop)
        try:
            message = await waiter
        except BaseException:
            self.end_wait()
            if not self.dead:
                self.kill()
            raise
        self.end_wait()
        return await self.settle(message, deadline, executor)

    def begin_wait(self, waiter: ReplyWaiter, deadline: float, loop: asyncio.AbstractEventLoop) -> None:
        """Hand the next reply to ``waiter`` (``done()``, ``set_result(message)``, ``set_exception(exc)``: an asyncio
        future, or the server's callback object, which answers without a trip through the loop's ready queue).
        ``set_result`` may also get ``_LATE``/``_OVER_MEMORY``/``EXITED``: pass those to ``settle``. Call
        ``end_wait`` when it has its message (or gives up: then ``kill`` the worker, whose reply would be read as the
        next invocation's). A waiter with ``drains_output`` true collects the output written before the reply
        itself (``drain``), when it likes: nothing else can reach the worker before the waiter is done with it.
        On ``loop``'s thread; the caller checked ``buffered()`` first."""
        self._waiter = waiter
        self._deadline = deadline
        now = _monotonic()
        # the first memory sample one watch period from now, as the blocking path; +1 ms as its poll timeout rounds
        due = now + min(deadline - now, MEMORY_WATCH_PERIOD) + 0.001
        self._due = due
        if self._loop is not loop:
            self._watch_on(loop)
        if self._timer is None or self._timer_at > due or self._timer_loop is not loop:
            self._arm(loop, due - now, due)

    async def settle(self, message: tuple, deadline: float, executor: Executor | None = None) -> tuple:
        """What ``begin_wait``'s waiter got, as ``receive`` would return it: a reply as is; at the deadline one last
        look then the kill, past the memory limit the kill, an exit the reaping, each the blocking path's own code
        in ``executor``."""
        if message is _LATE:
            return await running_loop().run_in_executor(executor, self.receive, deadline)
        if message is _OVER_MEMORY:
            return await running_loop().run_in_executor(executor, self.killed, OUT_OF_MEMORY)
        if message is EXITED:
            return await running_loop().run_in_executor(executor, self.exited)
        return message

    def _watch_on(self, loop: asyncio.AbstractEventLoop) -> None:
        """Register the reply pipe with ``loop`` (for good; an earlier loop's registration is dropped)."""
        old = self._loop
        if old is not None and not old.is_closed():
            if old.is_running():        # another running loop (another thread) has it: let that loop drop it
                old.call_soon_threadsafe(self._unwatch, old)
            else:
                self._unwatch(old)
        loop.add_reader(self.fd, self._on_reply, loop)
        self._loop = loop
        self._loop_thread = threading.get_ident()

    def current_loop(self) -> asyncio.AbstractEventLoop:
        """The running loop of this thread: the one the reply pipe is registered with when that one runs here
        (no system call: ``asyncio.get_running_loop`` checks the process id with ``getpid`` on every call, one
        system call per warm invoke), else ``asyncio.get_running_loop()``."""
        loop = self._loop
        if loop is not None and self._loop_thread == threading.get_ident() and loop.is_running():
            return loop                 # a thread runs one loop at a time: this is it
        return running_loop()

    def _unwatch(self, loop: asyncio.AbstractEventLoop) -> None:
        """Drop ``loop``'s registration of the reply pipe (on ``loop``'s thread, or while it is not running)."""
        try:
            loop.remove_reader(self.fd)
        except Exception:  # noqa: BLE001 - closed loop or descriptor: nothing left registered
            pass
        if self._loop is loop:
            self._loop = None

    def _arm(self, loop: asyncio.AbstractEventLoop, delay: float, at: float) -> None:
        timer = self._timer
        if timer is not None and self._timer_loop is loop:    # another loop's timer: that loop is closed or idle
            timer.cancel()
        self._timer = loop.call_later(delay, self._on_timer)
        self._timer_at = at
        self._timer_loop = loop

    def end_wait(self) -> None:
        """The invocation is over (on the loop): no waiter; the output pipe's reader, if any, removed. The reply
        pipe's reader and the timer stay (they do nothing without a waiter)."""
        self._waiter = None
        out_loop = self._out_loop
        if out_loop is not None:
            self._out_loop = None
            try:
                out_loop.remove_reader(self.out_fd)
            except Exception:  # noqa: BLE001 - a closed loop: nothing left registered
                pass

    def _on_reply(self, loop: asyncio.AbstractEventLoop) -> None:      # the loop this registration belongs to
        waiter = self._waiter
        if waiter is None or waiter.done() or self._loop is not loop:
            self._unwatch(loop)         # nobody waits here (a blocking caller reads it, or end of file while idle)
            return
        try:
            message = self._read_reply()
            if message is None:
                message = self.buffer.pop()
            if message is None:
                return
            if message is not EXITED and not getattr(waiter, "drains_output", False):
                self.drain()           # output written before the reply belongs to this invocation
        except Exception as exc:        # a broken frame: the caller sees it, as from the blocking path
            waiter.set_exception(exc)
            return
        waiter.set_result(message)

    def _on_output(self) -> None:
        self._read_output()
        out_loop = self._out_loop
        if not self._out_open and out_loop is not None:   # every writer closed the pipe
            self._out_loop = None
            out_loop.remove_reader(self.out_fd)

    def _on_timer(self) -> None:
        self._timer = None
        waiter = self._waiter
        if waiter is None or waiter.done():
            return                      # idle: the next invocation arms it again
        loop = cast("asyncio.AbstractEventLoop", self._timer_loop)     # set with the timer that calls this
        now = _monotonic()
        due = self._due
        if now < due - 0.001:           # armed for an earlier invocation: wait for this one's check
            self._arm(loop, due - now, due)
            return
        if self._out_loop is None and self._out_open and self.out_poller.poll(0):
            # Output is watched from the first tick on: a fast invocation's output is collected with its reply
            # (``drain``) and registering a reader per invocation would cost more than the rest of the wait. A
            # handler that fills the pipe before the first tick waits for it, at most one watch period.
            self._out_loop = loop
            loop.add_reader(self.out_fd, self._on_output)
            self._on_output()
        deadline = self._deadline
        if now >= deadline:
            waiter.set_result(_LATE)
            return
        if self.over_memory():
            waiter.set_result(_OVER_MEMORY)
            return
        if self.proc.poll() is not None and not self.reply_poller.poll(0):
            # gone without a word and its reply pipe quiet: another process holds the pipe open (a child the
            # handler forked), so no end of file will come; the reaping path says how it ended
            waiter.set_result(EXITED)
            return
        due = now + min(deadline - now, MEMORY_WATCH_PERIOD) + 0.001
        self._due = due
        self._arm(loop, due - now, due)

    def poll_reply(self, seconds: float, loop: asyncio.AbstractEventLoop) -> bool:
        """Look at the reply pipe for up to ``seconds``, yielding the CPU between looks, and hand a reply that comes
        to the waiter (``begin_wait``) at once, as the loop's reader would: True if the pipe turned readable. Why:
        the loop would sleep, and waking a sleeping vCPU costs a VM more than this wait (``limits.REPLY_POLL``)."""
        poll = self.reply_poller.poll
        until = _perf_counter() + seconds
        while not poll(0):
            if _perf_counter() > until:
                return False
            _sched_yield()
        self._on_reply(loop)
        return True

    def buffered(self) -> tuple | None:
        """A message already received whole (the rest of an earlier read), its output collected."""
        buffer = self.buffer
        if buffer.data:
            message = buffer.pop()
            if message is not None:
                self.drain()
                return message
        return None

    def _read_reply(self) -> tuple | None:
        """One read from the reply pipe (which is ready): the message it completed, None for more to come, EXITED at
        end of file."""
        buffer = self.buffer
        try:
            chunk = _read(self.fd, buffer.needed() if buffer.data else READ_CHUNK)
        except (ConnectionResetError, BlockingIOError) as exc:
            if isinstance(exc, BlockingIOError):
                return None
            chunk = b""
        if not chunk:
            return EXITED
        if not buffer.data and len(chunk) > HEADER and \
                len(chunk) == HEADER + int.from_bytes(chunk[:HEADER], "little"):
            return _loads(chunk[HEADER:])      # the usual case: one whole reply in one read
        buffer.feed(chunk)
        return None

    def over_memory(self) -> bool:
        return self.rss() > self.memory_limit

    def killed(self, reason: tuple) -> tuple:
        """Kill the worker; return why (TIMEOUT or OUT_OF_MEMORY)."""
        self.kill()
        return reason

    def exited(self) -> tuple:
        """The worker closed its reply pipe: collect its last output, reap it, EXITED."""
        self.drain()
        self.wait()
        return EXITED

    def _read_output(self) -> None:
        try:
            chunk = os.read(self.out_fd, 1 << 16)
        except BlockingIOError:
            return
        if chunk:
            self.output.add(chunk)
        elif self._out_open:                    # every writer closed the pipe: stop polling it
            self.poller.unregister(self.out_fd)
            self._out_open = False

    def drain(self) -> None:
        """Collect output already written (before the reply, so it belongs to this invocation)."""
        out_fd, output = self.out_fd, self.output
        if not self.out_poller.poll(0):
            return
        while True:
            try:
                chunk = os.read(out_fd, 1 << 16)
            except (BlockingIOError, OSError):
                return
            if not chunk:
                return
            output.add(chunk)

    def rss(self) -> int:
        """Resident bytes now (0 when unknown)."""
        try:
            with open(f"/proc/{self.pid}/statm", "rb") as fh:
                return int(fh.read().split()[1]) * _PAGE
        except (OSError, IndexError, ValueError):
            return 0

    def peak_kb(self) -> int:
        """Peak resident set (VmHWM) in KB, read before a kill; 0 when unknown."""
        try:
            with open(f"/proc/{self.pid}/status", "rb") as fh:
                for line in fh:
                    if line.startswith(b"VmHWM:"):
                        return int(line.split()[1])
        except (OSError, ValueError, IndexError):
            pass
        return 0

    def kill(self) -> None:
        """Stop the worker and anything it started (``containment``; the worker leads its own session too)."""
        if not self.dead:
            self.cage.end()
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                try:
                    self.proc.kill()
                except ProcessLookupError:
                    pass
        self.wait()

    def wait(self) -> int:
        """Reap the worker; what it started dies with it."""
        code = self.proc.wait()
        self.drain()
        self.dead = True
        self.cage.end()
        return code

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    def close(self) -> None:
        """Kill if running and release the descriptors."""
        if self.proc.poll() is None:
            self.kill()
        else:
            self.dead = True
            self.cage.end()
        loop = self._loop
        if loop is None or loop.is_closed():
            self._close_fds()
            return
        # Still registered with an event loop: unregister before closing, on the loop's thread (a closed number can
        # be reused by the next worker's pipe while the loop still watches it).
        import asyncio

        if not loop.is_running() or asyncio._get_running_loop() is loop:
            self._unwatch(loop)
            self._close_fds()
            return

        def on_loop() -> None:
            self._unwatch(loop)
            self._close_fds()
        try:
            loop.call_soon_threadsafe(on_loop)
        except RuntimeError:            # the loop closed meanwhile: nothing is registered any more
            self._close_fds()

    def _close_fds(self) -> None:
        for fd in (self.wfd, self.fd, self.out_fd):
            try:
                os.close(fd)
            except OSError:
                pass


def _grow_pipe(fd: int) -> None:
    """Let a pipe hold 1 MiB (Linux's default ceiling for unprivileged processes), so a large event or result
    crosses in a few wake-ups instead of sixteen per MiB; nothing changes where that is not allowed."""
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError):
        pass


def running_loop() -> asyncio.AbstractEventLoop:
    """``asyncio.get_running_loop()``, importing asyncio only when an event-loop caller exists (the CLI's blocking
    path never pays for it; once imported, the import statement is a dictionary look-up)."""
    import asyncio

    return asyncio.get_running_loop()

