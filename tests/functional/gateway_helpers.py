"""Helpers for the local API Gateway's functional tests: find each API's local address as the running ``strata serve``
bound it (``<home>/gateway.json``), and send plain HTTP (urllib: no signing, as a browser or curl would)."""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from strata.local.gateway.addresses import serving_ports

GATEWAY_TIMEOUT = 60.0


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def api_url(home: Path, stack: str, logical_id: str, stage: str, timeout: float = GATEWAY_TIMEOUT) -> str:
    """The local URL of one deployed API stage, once the gateway serves it (``<stack>/<logical id>/<stage>``)."""
    key = f"{stack}/{logical_id}/{stage}"
    deadline = time.monotonic() + timeout
    while True:
        port = serving_ports(home).get(key)
        if port is not None:
            url = f"http://127.0.0.1:{port}"
            try:
                request(url + "/__strata_probe__")
                return url
            except OSError:
                pass
        if time.monotonic() > deadline:
            raise AssertionError(f"the gateway did not serve {key}; serving: {serving_ports(home)}")
        time.sleep(0.1)


def request(url: str, method: str = "GET", headers: dict[str, str] | None = None, body: bytes | None = None,
            timeout: float = 60) -> Reply:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return Reply(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
    except urllib.error.HTTPError as err:
        return Reply(err.code, {k.lower(): v for k, v in err.headers.items()}, err.read())
