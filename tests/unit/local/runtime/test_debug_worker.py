"""``--debug`` in the runtime: the debugged function's worker waits for a debugger (a real DAP client attaches), one
invocation of it at a time, with its code reached through stable links and debugpy on its path alone."""
from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest
from dap_client import DapClient
from runtime_lab import Lab, body

from strata.local.runtime.debug import DebugTarget, worker_paths
from strata.local.runtime.pool import WorkerPool
from strata.model.lambda_errors import TooManyRequestsException

pytest.importorskip("debugpy")

CODE = {"app.py": "import sys\ndef handler(event, context):\n    return {'path': sys.path, 'n': event.get('n')}\n"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_worker_paths_reach_code_and_layers_through_stable_links(tmp_path: Path):
    home = tmp_path / "home"
    code, opt = home / "runtime" / "c0de", home / "runtime" / "opt" / "0p7"
    for folder in (code, opt / "python"):
        folder.mkdir(parents=True)
    target = DebugTarget("Hello/Fn", "stack-Hello-1", 5678)
    paths = worker_paths(target, home, (str(code), str(opt / "python"), "/usr/lib/python3/site"), code, opt)
    links = home / "runtime" / "debug" / "Hello_Fn"
    assert paths[:3] == [str(links / "code"), str(links / "opt" / "python"), "/usr/lib/python3/site"]
    assert paths[3] == str(home / "runtime" / "debugpy") and (Path(paths[3]) / "debugpy" / "__init__.py").is_file()
    assert os.readlink(links / "code") == str(code)
    moved = home / "runtime" / "c0de2"              # an edit: new digest folder, same link name
    moved.mkdir()
    assert worker_paths(target, home, (str(moved),), moved, None)[0] == str(links / "code")
    assert os.readlink(links / "code") == str(moved)
    assert DebugTarget("..", "x").links(home) == home / "runtime" / "debug" / "function"


def test_the_debugged_function_waits_for_a_debugger_and_runs_one_invocation_at_a_time(tmp_path: Path):
    port = _free_port()
    pool = WorkerPool(tmp_path / "home", event_retry_delays=(), debug=DebugTarget("fn", "fn", port))
    lab = Lab(tmp_path / "home", pool)
    client = None
    try:
        debugged = lab.function(CODE, name="fn", timeout=1)
        other = lab.function(CODE, name="other", timeout=1)
        answers: list = []
        waiting = threading.Thread(target=lambda: answers.append(lab.invoke(debugged, {"n": 1})))
        waiting.start()
        client = DapClient("127.0.0.1", port)                 # retries until the worker listens
        # while it is being debugged, a second invocation of it is refused (it would need a second port) ...
        with pytest.raises(TooManyRequestsException, match=f"fn is being debugged .*127.0.0.1:{port}"):
            lab.invoke(debugged, {"n": 2})
        # ... and other functions run as always, without debugpy on their path
        other_path = body(lab.invoke(other, {"n": 3}))["path"]
        runtime = tmp_path / "home" / "runtime"
        assert str(runtime / "debugpy") not in other_path
        assert not any(entry.startswith(str(runtime / "debug")) for entry in other_path)
        client.attach({})
        waiting.join(timeout=120)
        answer = body(answers[0])
        assert answer["n"] == 1
        assert answer["path"][0].endswith(os.path.join("runtime", "debug", "fn", "code"))
        assert str(tmp_path / "home" / "runtime" / "debugpy") in answer["path"]
        assert body(lab.invoke(debugged, {"n": 4}))["n"] == 4        # warm: the attached worker serves again
        assert pool.environment_count(debugged) == 1
        pool.reap(now=time.monotonic() + 10 * pool.idle_timeout)       # idle reaping never ends the debug session
        assert pool.environment_count(debugged) == 1 and pool.environment_count(other) == 0
    finally:
        if client is not None:
            client.close()
        pool.close()
