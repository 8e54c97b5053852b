"""strata's HTTP layer alone, for ``bench_server.py``: the real ``LambdaApp`` on uvicorn (routes, parsing, validation,
thread pool, serialization, request ids) whose Invoke goes to the floor's minimal warm worker instead of the control
plane and ``WorkerPool``. Comparing it with the floor isolates what the server itself costs.

Run: ``python bench/server_http_only.py PORT_FILE`` (writes the port, serves until killed).
"""
from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from server_floor import Worker  # noqa: E402

from strata.server.app import LambdaApp  # noqa: E402
from strata.server.model import service_spec  # noqa: E402
from strata.server.runner import bind, make_server  # noqa: E402


def main(port_file: str) -> None:
    worker, lock = Worker(), threading.Lock()

    def dispatch(operation: str, params: dict) -> dict:
        with lock:
            payload = worker.call(params["Payload"])
        return {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": payload}

    app = LambdaApp(dispatch, service_spec(), invoke_threads=1)
    sock = bind("127.0.0.1", 0)
    with open(port_file + ".tmp", "w") as fh:
        fh.write(str(sock.getsockname()[1]))
    os.replace(port_file + ".tmp", port_file)
    make_server(app, sock).run(sockets=[sock])


if __name__ == "__main__":
    main(sys.argv[1])
