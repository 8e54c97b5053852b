"""``<home>/server.json``: how other strata commands find a running ``strata serve`` and reuse its warm workers.

The file is written atomically once the socket listens and removed on exit. A file left by a killed server is
harmless: ``running_server`` believes it only if the pid is alive *and* the port answers. ``connect`` adds what a
client needs to be let in: the region the server signs for and the home's credentials (``strata.local.credentials``).
Outside ``strata.local.server`` because the runtime reads it too (a worker's SDK endpoint), and the server imports the
runtime.

``for_workers`` is the server a worker's SDK is pointed at: a running ``strata serve`` of the home, else the server
the command itself starts on demand (``strata.local.server.on_demand`` registers one per home with ``provide``: the
runtime cannot import the server package, which imports it). An on-demand server is never written to
``server.json``: it lives only as long as its command, and other commands must not send their invocations there.
"""
from __future__ import annotations

import json
import os
import socket
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from strata.local import credentials
from strata.local.credentials import Credentials
from strata.model.deploy import DEFAULT_REGION

FILE_NAME = "server.json"


@dataclass(frozen=True)
class ServerInfo:
    pid: int
    host: str
    port: int
    started: float            # epoch seconds
    stack_name: str | None = None
    region: str | None = None  # the region requests must be signed for

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def server_file(home: Path) -> Path:
    return Path(home) / FILE_NAME


def write(home: Path, host: str, port: int, stack_name: str | None = None, region: str | None = None) -> ServerInfo:
    """Record this process as the server for ``home`` (atomic: readers never see half a file)."""
    info = ServerInfo(os.getpid(), host, port, time.time(), stack_name, region)
    path = server_file(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".server.", suffix=".json")
    with os.fdopen(fd, "w") as fh:
        json.dump(asdict(info), fh)
    os.replace(tmp, path)
    return info


def remove(home: Path) -> None:
    """Remove the file if it is still this process's (a newer server may have replaced it)."""
    path = server_file(home)
    info = read(home)
    if info is not None and info.pid == os.getpid():
        path.unlink(missing_ok=True)


def read(home: Path) -> ServerInfo | None:
    try:
        data = json.loads(server_file(home).read_text())
        return ServerInfo(int(data["pid"]), str(data["host"]), int(data["port"]), float(data["started"]),
                          data.get("stack_name"), data.get("region"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def _port_answers(host: str, port: int, timeout: float) -> bool:
    connect_host = "127.0.0.1" if host in ("0.0.0.0", "") else ("::1" if host == "::" else host)
    try:
        with socket.create_connection((connect_host, port), timeout=timeout):
            return True
    except OSError:
        return False


def running_server(home: Path, timeout: float = 0.2) -> str | None:
    """The URL of the server serving ``home``, if its pid is alive and its port answers; else None."""
    access = connect(home, timeout=timeout, with_credentials=False)
    return access.url if access is not None else None


@dataclass(frozen=True)
class ServerAccess:
    """How to reach and be let in by a running server: its URL, the region to sign for, the key pair."""

    url: str
    region: str
    credentials: Credentials | None
    stack_name: str | None = None


def connect(home: Path, *, timeout: float = 0.2, probe: bool = True,
            with_credentials: bool = True) -> ServerAccess | None:
    """The running server of ``home`` (pid alive and, with ``probe``, its port answering) and how to sign for it;
    None when none runs. Reading the credentials may raise ``CredentialsFileError`` (a file not to trust)."""
    info = read(home)
    if info is None or not _pid_alive(info.pid):
        return None
    if probe and not _port_answers(info.host, info.port, timeout):
        return None
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(info.host, info.host)
    url = ServerInfo(info.pid, host, info.port, info.started).url
    keys = credentials.load(home) if with_credentials else None
    return ServerAccess(url, info.region or DEFAULT_REGION, keys, info.stack_name)


class OnDemand(Protocol):
    """A server a command starts for its workers when no ``strata serve`` runs (``strata.local.server.on_demand``)."""

    def running(self) -> ServerAccess | None: ...
    def start(self) -> ServerAccess | None: ...


_on_demand: dict[str, list[OnDemand]] = {}
_on_demand_lock = threading.Lock()


def provide(home: Path, server: OnDemand) -> None:
    """Register ``server`` as the one to start for ``home``'s workers while no ``strata serve`` runs."""
    with _on_demand_lock:
        _on_demand.setdefault(_key(home), []).append(server)


def withdraw(home: Path, server: OnDemand) -> None:
    """Undo ``provide`` (the command is done with it)."""
    with _on_demand_lock:
        servers = _on_demand.get(_key(home), [])
        if server in servers:
            servers.remove(server)
        if not servers:
            _on_demand.pop(_key(home), None)


def for_workers(home: Path) -> ServerAccess | None:
    """The server ``home``'s workers reach AWS through: one this process already started for them, else a running
    ``strata serve`` (its warm workers), else one this process starts now; None when none can be had (no command
    provides one: library use). Raises ``CredentialsFileError`` for a credentials file not to trust."""
    with _on_demand_lock:
        servers = list(_on_demand.get(_key(home), ()))
    for server in servers:
        found = server.running()
        if found is not None:
            return found
    found = connect(home, probe=bool(servers))     # a record whose port is dead: start ours rather than trust it
    if found is not None and found.credentials is not None:
        return found
    for server in servers:
        found = server.start()
        if found is not None:
            return found
    return None


def _key(home: Path) -> str:
    return os.path.realpath(home)
