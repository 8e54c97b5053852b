"""Run the app on strata's HTTP server (``server/http.py``: httptools + uvloop): bind, advertise in
``server.json``, serve, clean up. The socket is bound here, so ``--port 0`` works and ``server.json`` names the real
port before the first request can arrive.

``strata serve`` (``serve_home``) always requires SigV4, on loopback too: a port on 127.0.0.1 is reachable by every
local user and, through the browser, by every web page. The keys are the home's (``strata.local.credentials``, 0600),
plus an operator's ``--access-key-id``/``--secret-access-key`` when given; the app answers only to the Host names of
the address it listens on (DNS rebinding).
"""
from __future__ import annotations

import errno
import ipaddress
import logging
import signal
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from strata.errors import StrataError
from strata.local import discovery
from strata.local.server.app import LambdaApp
from strata.local.server.auth import AllowedHosts
from strata.local.server.http import HttpServer, listening_socket

if TYPE_CHECKING:
    from strata.local.lambda_service.overrides import EnvOverrides
    from strata.local.lambda_service.service import LambdaService
    from strata.local.runtime.debug import DebugTarget

LOOPBACK_DEFAULT = "127.0.0.1"


class ServerConfigError(StrataError):
    """``strata serve`` cannot start as asked (address in use, public bind without credentials ...)."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, or a clear error saying what to do."""
    try:
        return listening_socket(host, port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ServerConfigError(f"port {port} on {host} is already in use",
                                    hint="is another `strata serve` running? pick a free one with --port") from None
        raise ServerConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                                hint="check --host (an address of this machine) and --port") from None


@dataclass
class Served:
    """A server started by ``run_in_thread``: its URL and the ``HttpServer`` (set ``should_exit`` to stop it)."""

    url: str
    host: str
    port: int
    server: HttpServer


def make_server(app: LambdaApp, sock: socket.socket | None = None) -> HttpServer:
    """The server for ``app`` (``sock`` is passed to ``run``); keep-alive connections idle 75 s, as AWS's front end."""
    return HttpServer(app, keep_alive=75.0, body_timeout=app.body_timeout)


def serve(app: LambdaApp, home: Path, host: str, port: int, *, stack_name: str | None = None,
          on_ready: Callable[[str], None] | None = None,
          companions: Sequence[Callable[[HttpServer], None]] = ()) -> None:
    """Serve until SIGINT/SIGTERM (or ``should_exit``); ``server.json`` exists exactly while serving.

    SIGINT/SIGTERM stop the server gracefully from the moment ``server.json`` appears: until the event loop installs
    its own handlers, these ask the server to stop (a Ctrl+C right after start used to raise KeyboardInterrupt
    instead: exit status 1, a traceback). ``companions`` are handed the server before it starts (the local gateway
    serves its APIs on the same loop: ``strata.local.gateway.service.Gateway.attach``)."""
    sock = bind(host, port)
    actual_port = sock.getsockname()[1]
    if app.allowed_hosts is None:
        app.allowed_hosts = AllowedHosts.for_bind(host, actual_port)
    server = make_server(app, sock)
    for attach in companions:
        attach(server)
    previous = _stop_on_signals(server)
    try:
        region = app.verifier.region if app.verifier is not None else None
        info = discovery.write(home, host, actual_port, stack_name, region)
        try:
            if on_ready:
                on_ready(info.url)
            server.run(sockets=[sock])
        finally:
            discovery.remove(home)
            sock.close()
            app.close()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    logging.getLogger("strata.local.server").info("server on %s stopped", info.url)


def _stop_on_signals(server: HttpServer) -> dict:
    """SIGINT/SIGTERM call ``server.handle_exit`` (main thread only, where Python delivers signals); the previous
    handlers, to restore."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {sig: signal.signal(sig, lambda _sig, _frame: server.handle_exit())
            for sig in (signal.SIGINT, signal.SIGTERM)}


def run_in_thread(app: LambdaApp, host: str = LOOPBACK_DEFAULT, port: int = 0, *,
                  guard_hosts: bool = False) -> tuple[Served, Callable[[], None]]:
    """Serve ``app`` on a background thread (tests, benchmarks); returns the server and a ``stop()``. With
    ``guard_hosts``, the app answers only to the Host names of ``host`` and the port, as ``strata serve``."""
    sock = bind(host, port)
    server = make_server(app, sock)
    actual = sock.getsockname()[1]
    if guard_hosts:
        app.allowed_hosts = AllowedHosts.for_bind(host, actual)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="strata-serve", daemon=True)
    thread.start()
    import time

    limit = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < limit:
        time.sleep(0.005)

    def stop() -> None:
        server.should_exit = True
        thread.join(10)
        sock.close()
        app.close()

    host_text = f"[{host}]" if ":" in host else host
    return Served(f"http://{host_text}:{actual}", host, actual, server), stop


def serve_home(home: Path, *, host: str = LOOPBACK_DEFAULT, port: int = 3001, stack_name: str | None = None,
               access_key_id: str | None = None, secret_access_key: str | None = None, invoke_threads: int = 64,
               region: str | None = None, on_ready: Callable[[str, bool], None] | None = None,
               debug: DebugTarget | None = None, env_overrides: EnvOverrides | None = None,
               companions: Sequence[Callable[[HttpServer], None]] = ()) -> None:
    """``strata serve``: the Lambda service of ``home`` over Lambda's REST API until stopped. Every request must be
    SigV4-signed for ``region`` with the home's credentials (made on first need) or the given ones; a non-loopback
    ``host`` needs given ones (the operator hands them out). ``on_ready(url, signed)``. ``debug``: that function's
    worker runs under debugpy (``strata.local.runtime.debug``)."""
    app, service = home_app(home, host=host, access_key_id=access_key_id, secret_access_key=secret_access_key,
                            invoke_threads=invoke_threads, region=region, debug=debug, env_overrides=env_overrides)
    try:
        serve(app, Path(home), host, port, stack_name=stack_name,
              on_ready=(lambda url: on_ready(url, True)) if on_ready else None, companions=companions)
    finally:
        service.close()


def home_app(home: Path, *, host: str = LOOPBACK_DEFAULT, access_key_id: str | None = None,
             secret_access_key: str | None = None, invoke_threads: int = 64, region: str | None = None,
             debug: DebugTarget | None = None,
             env_overrides: EnvOverrides | None = None) -> tuple[LambdaApp, LambdaService]:
    """The signed app of ``serve_home`` (Lambda's API, and CodeDeploy's hook status) and the service behind it
    (``strata dev`` drains its workers after a swap; the on-demand server uses it too); the caller closes the
    service. Refuses a non-loopback ``host`` without given credentials."""
    from strata.local import credentials
    from strata.local.lambda_service.service import LambdaService
    from strata.local.server.auth import Credentials, Verifier
    from strata.local.server.codedeploy import CodeDeployOperations, codedeploy_service
    from strata.local.server.json_protocol import JsonProtocol
    from strata.local.server.model import service_spec
    from strata.local.server.operations import ServiceDispatch
    from strata.model.deploy import DEFAULT_REGION
    from strata.paths import cache_dir

    if bool(access_key_id) != bool(secret_access_key):
        raise ServerConfigError("--access-key-id and --secret-access-key go together: one of them is missing",
                                hint="set both (or STRATA_SERVER_ACCESS_KEY_ID and STRATA_SERVER_SECRET_ACCESS_KEY)")
    if not is_loopback(host) and not access_key_id:
        raise ServerConfigError(
            f"refusing to listen on {host} without credentials: anyone who can reach it could run code",
            hint="set --access-key-id and --secret-access-key (or STRATA_SERVER_ACCESS_KEY_ID / "
                 "STRATA_SERVER_SECRET_ACCESS_KEY) and sign requests with them, or keep --host 127.0.0.1")
    keys = [credentials.ensure(Path(home))]
    if access_key_id and secret_access_key:                    # both or neither (checked above)
        keys.append(Credentials(access_key_id, secret_access_key))
    region = region or DEFAULT_REGION
    verifier = Verifier(keys, region)
    spec = service_spec(cache_dir(home))
    runtime = None
    if debug is not None:
        from strata.local.runtime.pool import WorkerPool

        runtime = WorkerPool(home, debug=debug)
    service = LambdaService(home, region=region, runtime=runtime,
                            env_overrides=env_overrides)   # local --env-vars, if any
    app = LambdaApp(ServiceDispatch(service), spec, verifier=verifier, invoke_threads=invoke_threads)
    # CodeDeploy's hook status (JSON 1.1) on the same port: a traffic-shift hook's boto3 codedeploy call lands here
    app.mounts.append(JsonProtocol([codedeploy_service(CodeDeployOperations(Path(home)))], verifier))
    return app, service
