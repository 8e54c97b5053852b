"""One worker process seen from the pool: spawn it, exchange frames, enforce the deadline and MemorySize, collect
its output, kill it.

Why the parent enforces memory by sampling the resident set (``/proc/<pid>/statm``) rather than with ``RLIMIT_AS``:
Lambda limits memory actually used (a cgroup), while Python processes reserve far more address space than they touch
(thread stacks, malloc arenas, BLAS buffers), so an address-space limit equal to MemorySize breaks ordinary handlers,
and when it does bite it surfaces as a MemoryError the handler may swallow. Sampling happens only while an invocation
runs longer than one watch period, so fast invokes never pay for it. A generous ``RLIMIT_AS`` stays as a backstop
against an allocation that outruns the sampler. Handler subprocesses are not counted (no cgroups here).

Output: the worker's stdout and stderr share one pipe which is read while waiting for the reply (one ``poll`` over
the socket and the pipe), so a handler printing without end never blocks, and only the tail is kept.
"""
from __future__ import annotations

import marshal
import os
import select
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field

from strata.runtime.limits import ADDRESS_SPACE_HEADROOM_MB, MEMORY_WATCH_PERIOD, OUTPUT_CAP
from strata.runtime.protocol import HEADER, MARSHAL_VERSION, READ_CHUNK, FrameBuffer, write_all

try:
    import resource
except ImportError:  # pragma: no cover - not POSIX
    resource = None

_read = os.read
_loads = marshal.loads
_dumps = marshal.dumps
_write = os.write
_monotonic = time.monotonic
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_POLLIN = select.POLLIN | select.POLLHUP | select.POLLERR
TIMEOUT = ("timeout",)
OUT_OF_MEMORY = ("oom_killed",)
EXITED = ("exited",)


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
        """Run ``command <socket fd> <paths...>`` (the worker bootstrap and its sys.path entries)."""
        parent, child = socket.socketpair()
        out_read, out_write = os.pipe()
        try:
            self.proc = subprocess.Popen([*command, str(child.fileno()), *paths], env=env, cwd=cwd,
                                         stdin=subprocess.DEVNULL, stdout=out_write, stderr=out_write,
                                         pass_fds=(child.fileno(),), start_new_session=True)
        except BaseException:
            parent.close()
            os.close(out_read)
            raise
        finally:
            child.close()
            os.close(out_write)
        self.pid = self.proc.pid
        self._sock = parent                      # kept so the fd lives as long as we do
        self.fd = parent.fileno()
        self.out_fd = out_read
        os.set_blocking(out_read, False)
        self.memory_limit = memory_mb * 1024 * 1024
        self.buffer = FrameBuffer()
        self.output = Output()
        self.poller = select.poll()
        self.poller.register(self.fd, _POLLIN)        # first: receive() relies on the socket being polled first
        self.poller.register(self.out_fd, _POLLIN)
        self.out_poller = select.poll()         # a zero-timeout check is cheaper than a failing read
        self.out_poller.register(self.out_fd, _POLLIN)
        self._out_open = True
        self.dead = False
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
            written = _write(self.fd, data)
            if written < len(data):             # a large payload: the socket takes it in pieces
                write_all(self.fd, memoryview(data)[written:])
            return True
        except OSError:
            return False

    def receive(self, deadline: float) -> tuple:
        """The worker's next message, or TIMEOUT / OUT_OF_MEMORY (worker killed) / EXITED (worker died)."""
        buffer = self.buffer
        if buffer.data:
            message = buffer.pop()
            if message is not None:
                self._drain()
                return message
        fd, out_fd, poll = self.fd, self.out_fd, self.poller.poll
        now = _monotonic()
        next_check = now + MEMORY_WATCH_PERIOD
        while True:
            late = now >= deadline              # one last look without waiting: a reply that came in while this
            if not late and now >= next_check:  # thread was busy elsewhere (writing logs, waiting for the GIL) counts
                if self.rss() > self.memory_limit:
                    self.kill()
                    return OUT_OF_MEMORY
                next_check = now + MEMORY_WATCH_PERIOD
            output_ready = False
            message = None
            for ready, _event in poll(0 if late else max(1, int((min(deadline, next_check) - now) * 1000) + 1)):
                if ready == fd:
                    try:
                        chunk = _read(fd, buffer.needed() if buffer.data else READ_CHUNK)
                    except ConnectionResetError:
                        chunk = b""
                    if not chunk:
                        self._drain()
                        self.wait()
                        return EXITED
                    if not buffer.data and len(chunk) > HEADER and \
                            len(chunk) == HEADER + int.from_bytes(chunk[:HEADER], "little"):
                        message = _loads(chunk[HEADER:])      # the usual case: one whole reply in one read
                    else:
                        buffer.feed(chunk)
                elif ready == out_fd:
                    self._read_output()
                    output_ready = True
            if message is None:
                message = buffer.pop()
            if message is not None:
                # The worker flushes its output before it replies, and poll checks the socket (registered first)
                # before the pipe in every pass: a pass that saw the reply and not the pipe saw an empty pipe.
                if output_ready:
                    self._drain()
                return message
            if late:
                self.kill()
                return TIMEOUT
            now = _monotonic()

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

    def _drain(self) -> None:
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
        """Stop the worker and anything it started (it leads its own session)."""
        if not self.dead:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                try:
                    self.proc.kill()
                except ProcessLookupError:
                    pass
        self.wait()

    def wait(self) -> int:
        code = self.proc.wait()
        self._drain()
        self.dead = True
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
        for closer in (self._sock.close, lambda: os.close(self.out_fd)):
            try:
                closer()
            except OSError:
                pass
