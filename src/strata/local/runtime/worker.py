"""The worker process: one Lambda execution environment. Started by the pool as
``<python> -I -S -c BOOTSTRAP <read fd>,<write fd> <sys.path entries...>`` with the function's environment variables,
its code folder as working directory, stdout+stderr on a pipe the pool reads (the function log), requests arriving on
``<read fd>`` and replies going out on ``<write fd>`` (two pipes).

Init imports the handler once (module state then lives as long as the worker); each request runs one invocation.
Imports are kept to what the first reply needs (json for the event, marshal for frames): start-up time is cold-start
time. Runs on whichever interpreter the function's runtime selects, so it uses nothing newer than Python 3.8.

The worker does not run from strata's sources: this module and the three it imports (relatively) are copied under the
private top-level name ``_strata_runtime`` into a runtime folder (``sdk.bootstrap_folder``, Lambda's ``/var/runtime``),
so strata itself is never importable by a handler. They import nothing from strata.
"""
from __future__ import annotations

import io
import json
import marshal
import os
import sys
import time

from .context import ClientContextError, LambdaContext, parse_client_context
from .loader import Fault, error_object, fault_object, load_handler, log_error
from .protocol import GO, HEADER, READ_CHUNK, FrameBuffer, frame, read_message, write_all

TYPE_CHECKING = False           # typing.TYPE_CHECKING without importing typing (start-up time is cold-start time)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    Send = Callable[[tuple[Any, ...]], None]

# The -c program the pool runs: put the runtime folder (``sdk.bootstrap_folder``) on sys.path just long enough to
# import this module's copy from it.
BOOTSTRAP = ("import sys;sys.path.insert(0,{folder!r});from _strata_runtime.worker import main;"
             "del sys.path[0];main()")

try:
    from resource import RUSAGE_SELF, getrusage
except ImportError:  # not POSIX: no peak-memory figure
    def _max_rss_kb() -> int:
        return 0
else:
    def _max_rss_kb() -> int:
        return getrusage(RUSAGE_SELF).ru_maxrss


def _decimal_default(value: Any) -> Any:
    """Lambda writes Decimal as a number; the stdlib encoder can only approximate that with int/float."""
    if type(value).__name__ == "Decimal":
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _encoder() -> json.JSONEncoder:
    # python3.12+ runtimes keep non-ASCII characters unescaped in responses (reference 10.2)
    runtime = os.environ.get("AWS_EXECUTION_ENV", "").replace("AWS_Lambda_python", "")
    try:
        modern = tuple(int(p) for p in runtime.split(".")[:2]) >= (3, 12)
    except ValueError:
        modern = sys.version_info >= (3, 12)
    return json.JSONEncoder(default=_decimal_default, ensure_ascii=not modern)


class _Encode:
    """``encoder.encode`` without rebuilding the C encoder on every call (``JSONEncoder.iterencode`` does, which is
    half the cost of encoding a small result). Same output; falls back to ``encoder.encode`` where the C encoder is
    missing, and starts afresh after an error (the C encoder may leave entries in its circular-reference marks)."""

    def __init__(self, encoder: json.JSONEncoder) -> None:
        self._encoder = encoder
        self._c: Callable[[Any, int], Any] | None = None
        try:
            from _json import make_encoder as c_make_encoder  # what json.encoder's c_make_encoder is
            from json.encoder import encode_basestring, encode_basestring_ascii
        except ImportError:  # pragma: no cover - a CPython without _json
            return
        quote = encode_basestring_ascii if encoder.ensure_ascii else encode_basestring

        def make() -> Callable[[Any, int], Any]:
            return c_make_encoder({} if encoder.check_circular else None, encoder.default, quote, None,
                                  encoder.key_separator, encoder.item_separator, encoder.sort_keys,
                                  encoder.skipkeys, encoder.allow_nan)
        self._make = make
        self._c = make()

    def __call__(self, value: Any) -> str:
        c = self._c
        if c is None:
            return self._encoder.encode(value)
        try:
            return "".join(c(value, 0))
        except BaseException:
            self._c = self._make()
            raise


def _setup_streams() -> None:
    """print() reaches the log line by line, as in Lambda (the pool reads the pipe while the handler runs)."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):     # the interpreter's own streams at start-up
            stream.reconfigure(line_buffering=True, errors="backslashreplace")


def main() -> None:
    read_text, _, write_text = sys.argv[1].partition(",")
    rfd = int(read_text)
    wfd = int(write_text) if write_text else rfd          # one descriptor both ways (a socket) still works
    sys.path[:0] = sys.argv[2:]
    sys.argv = [os.path.abspath(__file__)]
    _setup_streams()
    LambdaContext.configure()

    def send(message: tuple[Any, ...]) -> None:
        write_all(wfd, frame(message))

    if os.read(rfd, 1) != GO:     # caged first (containment): no handler code runs before
        os._exit(0)
    debug_port = os.environ.pop("_STRATA_DEBUG_PORT", "")     # debug.PORT_VARIABLE: --debug FUNCTION
    if debug_port:
        try:
            _wait_for_debugger(int(debug_port), rfd)
        except Exception as exc:  # no debugger can attach: the invocation says why (port taken, no debugpy)
            _init_failed(send, fault_object(Fault("Runtime.DebuggerError", f"--debug: {exc}"), ""))
    # No bytecode written from here on: the handler's code and layers are shared folders that must stay as unpacked
    # (Lambda's are read-only too); the runtime's own modules above were cached as usual.
    sys.dont_write_bytecode = True
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except Fault as fault:
        _init_failed(send, fault_object(fault, ""))
    except Exception as exc:  # module-level code raised: errorType is the exception's class
        _init_failed(send, error_object(exc, ""))
    send(("ready",))
    _serve(rfd, wfd, send, handler)


def _wait_for_debugger(port: int, rfd: int) -> None:
    """``--debug``: listen on 127.0.0.1:``port`` (debugpy's adapter inside this process: the port closes with it)
    and wait for a debugger before the handler is imported. A watcher ends this process when the pool goes away
    (its request pipe hangs up), so a worker paused or waiting for a debugger never outlives strata."""
    import select
    import threading

    def watch() -> None:
        poller = select.poll()
        poller.register(rfd, 0)             # hang-up and errors only: requests stay for the main loop
        poller.poll()
        os._exit(0)

    watcher = threading.Thread(target=watch, name="strata-debug-watch", daemon=True)
    watcher.is_pydev_daemon_thread = True   # type: ignore[attr-defined]  # hidden from the debugger's threads
    watcher.start()
    import debugpy

    debugpy.listen(("127.0.0.1", port), in_process_debug_adapter=True)
    sys.stderr.write(f"[strata] debugpy: waiting for a debugger on 127.0.0.1:{port}\n")
    debugpy.wait_for_client()


def _init_failed(send: Send, error: dict[str, Any]) -> None:
    log_error(error)
    send(("init_error", json.dumps(error).encode()))
    os._exit(0)


def _serve(fd: int, wfd: int, send: Send, handler: Callable[[Any, LambdaContext], Any]) -> None:
    encode = _Encode(_encoder())
    loads = json.loads
    buffer = FrameBuffer()
    stdout, stderr = sys.stdout, sys.stderr
    read, write, marshal_loads, now = os.read, os.write, marshal.loads, time.time
    while True:
        data = read(fd, READ_CHUNK)
        # the usual case: exactly one whole request in one read
        if not buffer.data and len(data) > HEADER and len(data) == HEADER + int.from_bytes(data[:HEADER], "little"):
            message = marshal_loads(data[HEADER:])
        elif not data:
            os._exit(0)            # the pool closed its end: nothing more to do
        else:
            buffer.feed(data)
            message = read_message(fd, buffer)
            if message is None:
                os._exit(0)
        request_id, payload, timeout_ms, invoked_arn, client_context = message
        deadline_ms = now() * 1000 + timeout_ms
        try:
            context = LambdaContext(request_id, deadline_ms, invoked_arn,
                                    parse_client_context(client_context, loads) if client_context else None)
            try:
                event = loads(payload) if payload else {}
            except ValueError as exc:
                raise Fault("Runtime.UnmarshalError", f"Unable to unmarshal input: {exc}") from None
        except ClientContextError as exc:
            reply = _error_reply(fault_object(Fault("Runtime.LambdaContextUnmarshalError", str(exc)), request_id))
        except Fault as fault:
            reply = _error_reply(fault_object(fault, request_id))
        else:
            try:
                result = handler(event, context)
            except MemoryError:
                _flush(stdout, stderr)
                send(("oom", _max_rss_kb()))
                os._exit(1)
            except Exception as exc:
                reply = _error_reply(error_object(exc, request_id))
            else:
                reply = _result_reply(result, encode, request_id)
        try:                       # before the reply: what the invocation printed belongs to it
            stdout.flush()
        except (OSError, ValueError):
            pass
        try:
            stderr.flush()
        except (OSError, ValueError):
            pass
        out = frame(reply)
        written = write(wfd, out)
        if written < len(out):     # a large result: the pipe takes it in pieces
            write_all(wfd, out[written:])


def _result_reply(result: Any, encode: _Encode, request_id: str) -> tuple[Any, ...]:
    if isinstance(result, (bytes, bytearray)):
        return ("ok", bytes(result), _max_rss_kb())
    try:
        body = encode(result).encode("utf-8")
    except (TypeError, ValueError, OverflowError, RecursionError) as exc:
        return _error_reply(fault_object(Fault("Runtime.MarshalError", f"Unable to marshal response: {exc}"),
                                         request_id))
    return ("ok", body, _max_rss_kb())


def _error_reply(error: dict[str, Any]) -> tuple[Any, ...]:
    log_error(error)
    return ("error", json.dumps(error).encode(), _max_rss_kb())


def _flush(*streams: Any) -> None:
    for stream in streams:
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
