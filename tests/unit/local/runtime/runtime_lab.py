"""Helpers for runtime tests: real handlers written into zips, stored as artifacts, served by a real pool.

(A uniquely named module rather than ``conftest``: several test folders have a conftest, and only one can be
imported under that name at a time.)
"""
from __future__ import annotations

import io
import json
import stat
import sys
import textwrap
import uuid
import zipfile
from pathlib import Path

from strata.artifacts.store import ArtifactStore
from strata.local.runtime.api import FunctionSnapshot, InvokeRequest, LayerSnapshot
from strata.local.runtime.pool import WorkerPool

RUNTIME = "python%d.%d" % sys.version_info[:2]
ACCOUNT_ARN = "arn:aws:lambda:us-east-1:123456789012"


def make_zip(files: dict[str, str | bytes], symlinks: dict[str, str] | None = None) -> bytes:
    """A zip of ``files`` (text is dedented) plus symlink entries ``name -> target``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, content in files.items():
            if isinstance(content, str):
                content = textwrap.dedent(content)
            archive.writestr(name, content)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return buf.getvalue()


class Lab:
    """A strata home with an artifact store and a pool; builds snapshots and invokes them."""

    def __init__(self, home: Path, pool: WorkerPool) -> None:
        self.home = home
        self.store = ArtifactStore(home)
        self.pool = pool

    def layer(self, files: dict[str, str | bytes], name: str = "shared", version: int = 1) -> LayerSnapshot:
        art = self.store.put_bytes(make_zip(files))
        return LayerSnapshot(f"{ACCOUNT_ARN}:layer:{name}:{version}", art.sha256, str(art.path))

    def function(self, files: dict[str, str | bytes] | bytes, handler: str = "app.handler", *,
                 name: str = "fn", **config) -> FunctionSnapshot:
        data = files if isinstance(files, bytes) else make_zip(files)
        art = self.store.put_bytes(data)
        config.setdefault("runtime", RUNTIME)
        return FunctionSnapshot(function_name=name, function_arn=f"{ACCOUNT_ARN}:function:{name}",
                                version=config.pop("version", "$LATEST"), handler=handler,
                                code_sha256=art.sha256, code_zip=str(art.path), **config)

    def invoke(self, snapshot: FunctionSnapshot, event: object = None, *, payload: bytes | None = None,
               limit: int | None = None, **request):
        if payload is None:
            payload = json.dumps({} if event is None else event).encode()
        request.setdefault("invoked_arn", snapshot.function_arn)
        req = InvokeRequest(payload=payload, request_id=request.pop("request_id", str(uuid.uuid4())), **request)
        return self.pool.invoke(snapshot, req, concurrency_limit=limit)

    def logs(self, snapshot: FunctionSnapshot) -> str:
        return self.pool.logs.read(snapshot.function_name, snapshot.version)


def body(result) -> object:
    return json.loads(result.payload)
