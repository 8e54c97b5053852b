"""A server for a command's own workers, started on demand: their AWS calls need somewhere local to go.

A handler's ``boto3.client("lambda")`` / ``boto3.client("codedeploy")`` goes where ``AWS_ENDPOINT_URL_*`` point
(``strata.local.runtime.sandbox``). When a ``strata serve`` runs for the home, that is it. Otherwise the command
(``strata invoke``, ``strata deploy`` running traffic-shift hooks, anything invoking through the engine's client)
registers an ``OnDemandServer`` with ``strata.local.discovery.provide``, and the first worker it spawns starts it:
the same app as ``strata serve`` (``runner.home_app``: Lambda's API and CodeDeploy's hook status, SigV4 with the
home's key pair, the Host guard, no browser requests) on 127.0.0.1 and an ephemeral port, served by a thread of the
command's process, with a Lambda service and worker pool of its own (a nested invoke never waits on the pool or lock
of the invocation that made it).

Why in process rather than a background ``strata serve``: it costs no interpreter start and no ``server.json``
(nothing can be left stale: the thread and the socket die with the process, whatever kills it), and nothing outlives
the command. It is never advertised in ``server.json``: other commands would send their invocations to a server
about to go away. ``close`` (or the end of the ``serving`` block, or interpreter exit) stops it and its workers.
"""
from __future__ import annotations

import atexit
import logging
import os
import socket
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from strata.local import discovery
from strata.local.discovery import ServerAccess
from strata.model.deploy import DEFAULT_REGION

if TYPE_CHECKING:
    from strata.local.credentials import Credentials
    from strata.local.server.http import HttpServer

log = logging.getLogger("strata.local.server")

HOST = "127.0.0.1"

_started: weakref.WeakSet[OnDemandServer] = weakref.WeakSet()


class OnDemandServer:
    """One home's server for this process's workers; started by ``start`` (the first worker), at most once.

    ``start`` only binds the port (the worker's address is known at once) and hands the rest (the app, the event
    loop) to the server's thread: the worker's first connection waits in the listen backlog meanwhile, so the
    worker's own start-up and the server's overlap instead of adding up."""

    def __init__(self, home: Path, region: str = DEFAULT_REGION) -> None:
        self.home, self.region = Path(home), region
        self._lock = threading.Lock()
        self._access: ServerAccess | None = None
        self._thread: threading.Thread | None = None
        self._server: HttpServer | None = None
        self._closed = False
        self.start_ms: float | None = None          # ``start``: on the worker's path (the report's figure)
        self.ready_ms: float | None = None          # ``start`` until the app is built and about to serve

    def running(self) -> ServerAccess | None:
        return self._access

    def start(self) -> ServerAccess | None:
        """Serve now (once); its access for workers. None once closed."""
        with self._lock:
            if self._access is not None or self._closed:
                return self._access
            began = time.perf_counter()
            from strata.local import credentials

            keys = credentials.ensure(self.home)
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)    # not runner.bind: importing the server
            sock.bind((HOST, 0))                                         # package is for the thread to do
            sock.listen(1024)
            sock.setblocking(False)
            port = sock.getsockname()[1]
            self._thread = threading.Thread(target=self._serve, args=(sock, keys, began), daemon=True,
                                            name="strata-on-demand")
            self._thread.start()
            self._access = ServerAccess(f"http://{HOST}:{port}", self.region, keys)
            self.start_ms = (time.perf_counter() - began) * 1000
            _started.add(self)
            return self._access

    def _serve(self, sock: socket.socket, keys: Credentials, began: float) -> None:
        """The server's thread: build ``strata serve``'s app for the home, serve until ``close``."""
        from strata.local.server.auth import AllowedHosts
        from strata.local.server.runner import home_app, make_server

        try:
            app, service = home_app(self.home, region=self.region, invoke_threads=16)   # signed with ``keys``
            close = service.close
        except BaseException:
            sock.close()                # the workers' calls are refused at once instead of waiting
            log.exception("the on-demand server for %s could not start", self.home)
            raise
        try:
            app.allowed_hosts = AllowedHosts.for_bind(HOST, sock.getsockname()[1])
            server = make_server(app, sock)
            with self._lock:
                if self._closed:
                    return
                self._server = server
            self.ready_ms = (time.perf_counter() - began) * 1000
            server.run(sockets=[sock])
        finally:
            sock.close()
            app.close()
            close()

    def close(self) -> None:
        """Stop serving (if it started) and stop its workers; a later ``start`` starts nothing."""
        with self._lock:
            self._closed = True
            server, thread, self._access = self._server, self._thread, None
        discovery.withdraw(self.home, self)
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(30)


class Lease:
    """One user's hold on the process's on-demand server for a home (``register``); ``close`` lets go, and the
    server stops when its last user lets go: a worker warm in one client's pool keeps reaching the server it was
    given while another client of the same home closes."""

    def __init__(self, server: OnDemandServer, key: tuple[str, str]) -> None:
        self.server, self._key = server, key
        self._open = True

    def close(self) -> None:
        with _leases_lock:
            if not self._open:
                return
            self._open = False
            _leases[self._key] -= 1
            last = _leases[self._key] == 0
            if last:
                del _leases[self._key], _shared[self._key]
        if last:
            self.server.close()


_shared: dict[tuple[str, str], OnDemandServer] = {}
_leases: dict[tuple[str, str], int] = {}
_leases_lock = threading.Lock()


def register(home: Path, region: str = DEFAULT_REGION) -> Lease:
    """Offer this process's on-demand server for ``home`` (one per home and region, shared by every user of it) to
    its workers, until the returned lease's ``close``."""
    key = (os.path.realpath(home), region)
    with _leases_lock:
        server = _shared.get(key)
        if server is None:
            server = _shared[key] = OnDemandServer(home, region)
            _leases[key] = 0
            discovery.provide(home, server)
        _leases[key] += 1
    return Lease(server, key)


@contextmanager
def serving(home: Path, region: str = DEFAULT_REGION) -> Iterator[OnDemandServer]:
    """``register`` for the block: the server (if a worker started it) stops at its end, unless another user of
    it in this process still holds it."""
    lease = register(home, region)
    try:
        yield lease.server
    finally:
        lease.close()


@atexit.register
def _stop_started() -> None:
    """A command that never closed its server: stop it (and its workers) before the interpreter goes."""
    for server in list(_started):
        server.close()
