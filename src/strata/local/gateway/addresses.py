"""Where each deployed API is served locally: ``<home>/gateway.json``.

``ports`` maps an API stage's key (``stack/LogicalId/stage``) to its port, chosen once (at the deploy that creates
it, the first free-looking port after serve's default 3001) and kept, so a URL printed after a deploy, in
``describe`` and in a browser's history stays right across restarts. ``serving`` is what a running ``strata serve``
actually bound (a recorded port that was busy gets another one), with its pid; tests and tools read that.

``localize`` rewrites a stack output that names an ``execute-api`` or ``lambda-url`` URL of a deployed API into its
local URL (on the local target, the AWS one does not exist).
"""
from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from strata.local.gateway.model import Api

FILE_NAME = "gateway.json"
HOST = "127.0.0.1"
FIRST_PORT = 3002          # serve's Lambda API listens on 3001 by default


def addresses_file(home: Path) -> Path:
    return Path(home) / FILE_NAME


def local_url(port: int) -> str:
    return f"http://{HOST}:{port}/"


def _read(home: Path) -> dict[str, Any]:
    try:
        data = json.loads(addresses_file(home).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _ports(section: Any) -> dict[str, int]:
    if not isinstance(section, dict):
        return {}
    return {str(k): v for k, v in section.items() if isinstance(v, int) and not isinstance(v, bool)}


def recorded_ports(home: Path) -> dict[str, int]:
    """Each API key's chosen port."""
    return _ports(_read(home).get("ports"))


def serving_ports(home: Path) -> dict[str, int]:
    """The ports a running ``strata serve`` of ``home`` bound (empty when none runs)."""
    serving = _read(home).get("serving")
    if not isinstance(serving, dict) or not _alive(serving.get("pid")):
        return {}
    return _ports(serving.get("ports"))


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write(home: Path, ports: dict[str, int], serving: dict[str, int] | None = None) -> None:
    """Record ``ports`` (and what this process serves, or keep what another one said)."""
    data = _read(home)
    data["ports"] = dict(sorted(ports.items()))
    if serving is not None:
        data["serving"] = {"pid": os.getpid(), "ports": dict(sorted(serving.items()))}
    path = addresses_file(home)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".gateway.", suffix=".json")
    with os.fdopen(fd, "w") as out:
        json.dump(data, out, indent=1)
    os.replace(tmp, path)


def stop_serving(home: Path) -> None:
    data = _read(home)
    serving = data.get("serving")
    if isinstance(serving, dict) and serving.get("pid") == os.getpid():
        del data["serving"]
        write(home, _ports(data.get("ports")))


def assign(home: Path, apis: list[Api]) -> dict[str, int]:
    """Ports for ``apis`` without one (recorded); returns every API's port."""
    ports = recorded_ports(home)
    taken = set(ports.values())
    candidate = FIRST_PORT
    changed = False
    for api in apis:
        if api.key in ports:
            continue
        while candidate in taken:
            candidate += 1
        ports[api.key] = candidate
        taken.add(candidate)
        changed = True
    if changed:
        write(home, ports)
    return ports


@dataclass(frozen=True)
class Endpoint:
    api: Api
    url: str

    @property
    def line(self) -> str:
        return f"{self.api.title}: {self.url}"


def endpoints(home: Path, stack: str, *, record: bool = True) -> list[Endpoint]:
    """The local endpoints of ``stack`` as deployed in ``home`` (ports assigned and recorded when ``record``)."""
    from strata.local.gateway.routes import load

    try:
        apis = [api for api in load(home) if api.stack == stack]
        if not apis:
            return []
        ports = assign(home, apis) if record else recorded_ports(home)
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:   # shown, never the command's failure
        logging.getLogger("strata.local.gateway").warning("cannot list the local API endpoints: %s", exc)
        return []
    live = serving_ports(home)
    return [Endpoint(api, local_url(live.get(api.key) or ports[api.key])) for api in apis
            if api.key in ports or api.key in live]


def warnings(found: list[Endpoint]) -> list[str]:
    """What is not enforced locally (AWS_IAM, API keys) and what is not served, for the deploy and serve output."""
    notes: list[str] = []
    for endpoint in found:
        api = endpoint.api
        notes += api.warnings
        if api.kind != "URL" and any(r.iam for r in api.routes):
            notes.append(f"{api.title}: AWS_IAM authorization is not enforced locally (requests are let in)")
        guarded = {str(r.authorizer) for r in api.routes if r.authorizer}
        if guarded:      # the authorizers (and their JWT, JWKS and asyncio imports) only for an API that has some
            from strata.local.gateway import auth_hook

            specs = auth_hook.specs(api)
            guarded -= set(specs)
        for name in sorted(guarded):
            notes.append(f"{api.title}: authorizer {name} is not enforced locally (Cognito user pools; requests are "
                         f"let in)")
        if any(r.api_key_required for r in api.routes):
            notes.append(f"{api.title}: API keys are not enforced locally (requests without x-api-key are let in)")
    return list(dict.fromkeys(notes))


def localize(value: Any, found: list[Endpoint]) -> Any:
    """``value`` with each deployed URL of ``found`` replaced by its local one (a REST stage's path prefix goes: the
    local port serves one stage)."""
    if not isinstance(value, str) or not found:
        return value
    for endpoint in found:
        api = endpoint.api
        if api.kind == "URL":
            if api.deployed_url:
                value = value.replace(api.deployed_url.rstrip("/"), endpoint.url.rstrip("/"))
            continue
        stage = "" if api.stage == "$default" else re.escape(api.stage)
        pattern = rf"https://{re.escape(api.api_id)}\.execute-api\.[a-z0-9-]+\.amazonaws\.com(\.cn)?" + \
            (rf"/{stage}(?=/|$)" if stage else "")
        value = re.sub(pattern, endpoint.url.rstrip("/"), value)
    return value


def localize_outputs(outputs: dict[str, Any], found: list[Endpoint]) -> dict[str, Any]:
    """Stack outputs with their deployed API URLs shown as the local ones."""
    if not found:
        return outputs
    return {name: {**output, "Value": localize(output.get("Value"), found)} if isinstance(output, dict)
            else localize(output, found) for name, output in outputs.items()}


def endpoints_text(found: list[Endpoint]) -> str:
    """The deploy's and ``describe``'s lines: each endpoint's local URL, then what is not enforced locally."""
    if not found:
        return ""
    lines = ["Local endpoints (served by `strata serve` and `strata dev`):"]
    lines += [f"  {endpoint.line}" for endpoint in found]
    lines += [f"  warning: {note}" for note in warnings(found)]
    return "\n".join(lines)
