"""``WorkerPool.retire``: after an alias moves (``strata dev``), the old versions' warm workers are drained: idle
ones stop at once, a busy one finishes its request on its version and stops after."""
from __future__ import annotations

import os
import socket
import threading
import time

from runtime_lab import body

HOLDING = {"app.py": """
    import os, socket
    def handler(event, context):
        port = (event or {}).get("hold")
        if port:
            with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:
                conn.sendall(b"started")
                conn.recv(16)
        return {"pid": os.getpid(), "version": context.function_version}
"""}


def _gone(pid: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:                                   # a zombie child of this process counts as gone once reaped
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return True
        except ChildProcessError:
            pass
        time.sleep(0.02)
    return False


def test_retire_stops_idle_workers_of_other_versions_and_keeps_the_new_one(lab):
    v1 = lab.function(HOLDING, version="1")
    v2 = lab.function(HOLDING, version="2")
    other = lab.function(HOLDING, version="1", name="other")
    old_pid = body(lab.invoke(v1))["pid"]
    body(lab.invoke(v2))
    body(lab.invoke(other))
    assert lab.pool.retire("fn", keep_version="2") == 1
    assert lab.pool.environment_count(v1) == 0 and _gone(old_pid)
    assert lab.pool.environment_count(v2) == 1 and lab.pool.environment_count(other) == 1
    assert lab.pool.environment_count() == 2
    assert body(lab.invoke(v1))["version"] == "1"            # still invocable: a cold start


def test_a_busy_worker_finishes_its_request_then_stops(lab):
    v1 = lab.function(HOLDING, version="1")
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(60)
    results = []
    thread = threading.Thread(target=lambda: results.append(lab.invoke(v1, {"hold": listener.getsockname()[1]})))
    thread.start()
    conn, _ = listener.accept()
    with conn, listener:
        conn.settimeout(60)
        assert conn.recv(16) == b"started"
        assert lab.pool.retire("fn", keep_version="2") == 1
        assert thread.is_alive()
        conn.sendall(b"go")
    thread.join(60)
    (result,) = results
    assert result.status_code == 200 and result.function_error is None
    assert body(result)["version"] == "1"
    assert _gone(body(result)["pid"])
    assert lab.pool.environment_count() == 0
