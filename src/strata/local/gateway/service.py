"""The gateway inside ``strata serve`` (and ``strata dev``): one listener per API stage and function URL, on
127.0.0.1 only, each on its own port.

Why a port per API: a browser tells origins apart by port, so a page served by one API can call another across
origins and CORS decides what it may read, as on AWS; and an API's paths stay the paths the template names (no
prefix to strip). Ports are stable (``addresses``: ``<home>/gateway.json`` records each API's port, chosen by the
deploy that created it); a recorded port that is busy gets another one (after serve's own port, or any free one
when serve's port is 0), recorded in turn.

The listeners are ``HttpServer``s run on the serve loop (``attach`` hooks the Lambda API server's start), so an
HTTP request reaches a warm worker with no thread hop, sharing the invoke slots of Lambda's API. Every
``POLL_SECONDS`` the deployed state's signature is read (in a thread); when a deploy changed it, the route tables are
rebuilt: APIs are swapped in place, new ones get listeners, removed ones stop.
"""
from __future__ import annotations

import asyncio
import errno
import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from strata.local.gateway import addresses, routes
from strata.local.gateway.access_log import AccessLog
from strata.local.gateway.app import GatewayApp, Invoker
from strata.local.gateway.jwks import JwksSource
from strata.local.gateway.model import Api
from strata.local.server.http import HttpServer, listening_socket

log = logging.getLogger("strata.local.gateway")

POLL_SECONDS = 1.0
HOST = addresses.HOST


def _bind(port: int) -> socket.socket | None:
    """A socket listening on ``port``, or None when the port is taken or not ours to take (try another)."""
    try:
        return listening_socket(HOST, port)
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EACCES):
            return None
        raise


@dataclass
class Listener:
    api: Api
    app: GatewayApp
    server: HttpServer
    sock: socket.socket
    port: int

    @property
    def url(self) -> str:
        return addresses.local_url(self.port)


class Gateway:
    """Every deployed API of ``home`` served beside the Lambda API; ``announce`` hears each address and warning."""

    def __init__(self, home: Path, *, base_port: int = 0, announce: Callable[[str], None] | None = None,
                 poll: float = POLL_SECONDS, jwks: JwksSource | None = None) -> None:
        self.home = Path(home)
        self.base_port = base_port
        self.announce = announce or (lambda line: None)
        self.poll = poll
        self.jwks = jwks if jwks is not None else _jwks_from_environment(self.announce)
        self.listeners: dict[str, Listener] = {}
        self.invoker: Invoker | None = None
        self.main: HttpServer | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.signature: tuple = ()
        self.access_log: AccessLog | None = None
        self.ready = threading.Event()
        self._task: asyncio.Task | None = None

    def attach(self, server: HttpServer) -> None:
        """Serve the APIs once ``server`` (the Lambda API's, whose app has ``invoke_slots``, ``invoke_pool`` and a
        dispatch over the service) serves, on its loop; stop with it."""
        app: Any = server.app
        self.invoker = Invoker(app.dispatch.service, app.invoke_slots, app.invoke_pool)
        self.main = server
        server.on_serving.append(self._start)

    # -- on the loop -------------------------------------------------------------------------------------------------

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.access_log = AccessLog(self.home, loop)
        try:
            self.signature = routes.signature(self.home)
            self.apply(routes.load(self.home))
        except Exception:  # noqa: BLE001 - the Lambda API keeps serving; the watch retries
            log.exception("the local gateway could not read the deployed APIs")
            self.signature = ()
        self.ready.set()
        self._task = loop.create_task(self._watch())

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        main = self.main
        assert main is not None
        try:
            next_look = loop.time() + self.poll
            while not main.should_exit:
                await asyncio.sleep(0.1)          # notice the Lambda API server stopping at its own tick
                if main.should_exit:
                    break
                if loop.time() < next_look:
                    continue
                next_look = loop.time() + self.poll
                try:
                    signature = await loop.run_in_executor(None, routes.signature, self.home)
                    if signature == self.signature:
                        continue
                    apis = await loop.run_in_executor(None, routes.load, self.home)
                except Exception:  # noqa: BLE001 - a deploy in progress, a busy database: next round
                    log.debug("reading the deployed APIs failed", exc_info=True)
                    continue
                self.signature = signature
                self.apply(apis)
        finally:
            self.stop()

    def apply(self, apis: list[Api]) -> None:
        """Serve exactly ``apis``: swap routes of the ones served, start new ones, stop removed ones."""
        loop = self.loop
        assert loop is not None and self.invoker is not None
        ports = addresses.recorded_ports(self.home)
        wanted = {api.key: api for api in apis}
        for key in list(self.listeners):
            if key not in wanted:
                listener = self.listeners.pop(key)
                listener.server.should_exit = True
                self.announce(f"  {listener.api.title}: no longer deployed, {listener.url} stopped")
        for key, api in wanted.items():
            current = self.listeners.get(key)
            if current is not None:
                if current.api != api:
                    current.app.api = api
                    current.api = api
                    self._warn(api)
                continue
            sock, port = self._socket(ports.get(key), ports)
            if sock is None:
                self.announce(f"  {api.title}: no free port on {HOST}; not served")
                continue
            app = GatewayApp(api, self.invoker, port, jwks=self.jwks,
                             access_log=self.access_log.write if self.access_log is not None else None)
            server = HttpServer(app, keep_alive=75.0, body_timeout=30.0, handle_signals=False)
            task = loop.create_task(server.serve([sock]))
            _tasks.add(task)
            task.add_done_callback(_tasks.discard)
            listener = Listener(api, app, server, sock, port)
            self.listeners[key] = listener
            ports[key] = port
            self.announce(f"  {api.title}: {listener.url}")
            self._warn(api)
        try:
            addresses.write(self.home, ports, {key: listener.port for key, listener in self.listeners.items()})
        except OSError as exc:
            log.warning("cannot record the gateway's ports in %s: %s", addresses.addresses_file(self.home), exc)

    def _warn(self, api: Api) -> None:
        for note in addresses.warnings([addresses.Endpoint(api, "")]):
            self.announce(f"  warning: {note}")

    def _socket(self, recorded: int | None, ports: dict[str, int]) -> tuple[socket.socket | None, int]:
        if recorded:
            sock = _bind(recorded)
            if sock is not None:
                return sock, recorded
        taken = set(ports.values()) | {listener.port for listener in self.listeners.values()}
        if self.base_port:
            candidate = self.base_port + 1
            while candidate < min(self.base_port + 200, 65536):
                if candidate not in taken:
                    sock = _bind(candidate)
                    if sock is not None:
                        return sock, candidate
                candidate += 1
        sock = _bind(0)
        return (sock, sock.getsockname()[1]) if sock is not None else (None, 0)

    def stop(self) -> None:
        for listener in self.listeners.values():
            listener.server.should_exit = True
        self.listeners.clear()
        try:
            addresses.stop_serving(self.home)
        except OSError:
            pass
        if self.access_log is not None:
            self.access_log.close()
            self.access_log = None

    def urls(self) -> dict[str, str]:
        return {key: listener.url for key, listener in self.listeners.items()}


def _jwks_from_environment(announce: Callable[[str], None]) -> JwksSource:
    """JWT keys from STRATA_JWKS (``strata dev``; ``strata serve`` parses --jwks at its edge); a malformed value is
    announced and ignored (JWT routes then answer 401, saying which issuer lacks keys)."""
    try:
        return JwksSource.from_settings()
    except ValueError as exc:
        announce(f"  warning: STRATA_JWKS ignored: {exc}")
        return JwksSource()


_tasks: set[asyncio.Task] = set()
