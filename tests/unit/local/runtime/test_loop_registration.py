"""A warm worker stays registered with the event loop between invokes: the blocking path, a worker dying while
idle, and closing the pool from another thread while the loop runs must all stay correct."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
import uuid

from runtime_lab import body

from strata.local.runtime.api import InvokeRequest

ECHO = {"app.py": """
    import os
    def handler(event, context):
        return {"pid": os.getpid(), "event": event}
"""}


def _request(snapshot, event) -> InvokeRequest:
    return InvokeRequest(payload=json.dumps(event).encode(), request_id=str(uuid.uuid4()),
                         invoked_arn=snapshot.function_arn)


class LoopThread:
    """An event loop running in a thread, as the server runs one, to submit invokes to."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro, timeout: float = 30.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def test_blocking_invokes_on_a_worker_registered_with_a_running_loop(lab) -> None:
    fn = lab.function(ECHO)
    loop = LoopThread()
    try:
        first = loop.run(lab.pool.invoke_async(fn, _request(fn, {"n": 1})))
        for n in range(2, 30):  # the loop still watches this worker's socket: it must not take these replies
            answer = lab.invoke(fn, {"n": n})
            assert body(answer)["event"] == {"n": n} and body(answer)["pid"] == body(first)["pid"]
        again = loop.run(lab.pool.invoke_async(fn, _request(fn, {"n": 30})))
        assert body(again)["event"] == {"n": 30} and body(again)["pid"] == body(first)["pid"]
    finally:
        loop.stop()


def test_a_worker_that_dies_while_idle_is_replaced(lab) -> None:
    fn = lab.function(ECHO)
    loop = LoopThread()
    try:
        first = loop.run(lab.pool.invoke_async(fn, _request(fn, {"n": 1})))
        os.kill(body(first)["pid"], signal.SIGKILL)
        time.sleep(0.2)  # the loop sees the socket close while no invocation waits
        second = loop.run(lab.pool.invoke_async(fn, _request(fn, {"n": 2})))
        assert body(second)["event"] == {"n": 2} and body(second)["pid"] != body(first)["pid"]
    finally:
        loop.stop()


def test_closing_the_pool_from_another_thread_while_the_loop_runs(lab) -> None:
    fn = lab.function(ECHO)
    loop = LoopThread()
    try:
        first = loop.run(lab.pool.invoke_async(fn, _request(fn, {"n": 1})))
        lab.pool.close()  # this thread is not the loop's: unregister-then-close goes through the loop
        time.sleep(0.2)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(body(first)["pid"], 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the worker outlived the pool")
        assert loop.thread.is_alive()  # the loop did not crash on a closed descriptor
    finally:
        loop.stop()


def test_blocking_path_replaces_a_worker_that_died_while_idle(lab) -> None:
    fn = lab.function(ECHO)
    first = lab.invoke(fn, {"n": 1})
    os.kill(body(first)["pid"], signal.SIGKILL)
    time.sleep(0.2)
    second = lab.invoke(fn, {"n": 2})
    assert second.function_error is None and body(second)["event"] == {"n": 2}
    assert body(second)["pid"] != body(first)["pid"]


def _start(pool, fn, event):
    """``WorkerPool.start_invoke`` from the loop (the server's hot path): the result, or None when it cannot start
    that way (the caller then takes ``invoke_async``, as the server does)."""
    async def run():
        done = asyncio.get_running_loop().create_future()
        request = _request(fn, event)
        if not pool.start_invoke(fn, request, lambda result, error: done.set_result((result, error))):
            return None
        result, error = await asyncio.wait_for(done, 20)
        assert error is None, error
        return result
    return run()


def test_the_callback_path_gives_way_when_the_worker_died_while_idle(lab) -> None:
    fn = lab.function(ECHO)
    loop = LoopThread()
    try:
        first = loop.run(_start(lab.pool, fn, {"n": 1})) or loop.run(lab.pool.invoke_async(fn, _request(fn, {"n": 1})))
        warm = loop.run(_start(lab.pool, fn, {"n": 2}))
        assert warm is not None and body(warm)["pid"] == body(first)["pid"]    # warm: started by callback
        os.kill(body(first)["pid"], signal.SIGKILL)
        time.sleep(0.2)
        assert loop.run(_start(lab.pool, fn, {"n": 3})) is None     # the send fails: nothing ran, nothing counted
        second = loop.run(lab.pool.invoke_async(fn, _request(fn, {"n": 3})))
        assert body(second)["event"] == {"n": 3} and body(second)["pid"] != body(first)["pid"]
    finally:
        loop.stop()


FORKS_THEN_DIES = {"app.py": """
    import os, time
    def handler(event, context):
        if event.get("die"):
            if os.fork() == 0:          # a child keeps the worker's pipes open after the worker is gone
                time.sleep(10)
                os._exit(0)
            os._exit(3)
        return {"pid": os.getpid()}
"""}


def test_a_worker_gone_while_its_pipes_stay_open_is_reported_within_a_watch_period(lab) -> None:
    fn = lab.function(FORKS_THEN_DIES, timeout=30)
    loop = LoopThread()
    try:
        loop.run(lab.pool.invoke_async(fn, _request(fn, {})))
        result = loop.run(_start(lab.pool, fn, {"die": True}))
        assert result.function_error == "Unhandled"
        assert json.loads(result.payload)["errorType"] == "Runtime.ExitError"
        assert "exit status 3" in json.loads(result.payload)["errorMessage"]
    finally:
        loop.stop()
