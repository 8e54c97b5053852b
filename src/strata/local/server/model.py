"""Lambda's wire spec, compiled once from botocore's service model.

botocore's ``lambda`` model is the spec for routes, member locations and constraints (DESIGN: examples to follow, 7).
Importing ``botocore.loaders`` costs ~150 ms, so the compiled form (routes + the shapes the operations reach) is kept
in memory for the process and pickled beside the state (``<home>/cache/``) keyed by botocore's version: a warm
``strata serve`` starts without importing botocore at all.
"""
from __future__ import annotations

import functools
import importlib.metadata
import os
import pickle
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SERVICE = "lambda"
_FORMAT = 1  # bump when the compiled layout changes


@dataclass(frozen=True)
class Member:
    """One input or output member: where it travels and which shape it has."""

    name: str                  # the Python / boto3 name (PascalCase)
    shape: str                 # shape name in ``ServiceSpec.shapes``
    location: str | None       # uri | querystring | header | statusCode | None (body)
    wire_name: str             # locationName, or the member name for body members


@dataclass(frozen=True)
class OperationSpec:
    """Everything the server needs to parse one operation's request and serialize its result."""

    name: str
    method: str
    request_uri: str
    status: int                            # success status (``responseCode``)
    input_shape: str | None
    output_shape: str | None
    uri: tuple[Member, ...] = ()
    query: tuple[Member, ...] = ()
    headers: tuple[Member, ...] = ()
    body: tuple[Member, ...] = ()          # JSON body members (when there is no payload member)
    payload: Member | None = None          # the member that *is* the body (Invoke's Payload)
    required: tuple[str, ...] = ()
    out_headers: tuple[Member, ...] = ()
    out_status: Member | None = None       # member bound to the HTTP status (Invoke's StatusCode)
    out_payload: Member | None = None
    out_body: tuple[Member, ...] = ()


@dataclass(frozen=True)
class ServiceSpec:
    """The compiled model: operations by name plus the raw shape dicts (constraints only, no documentation)."""

    botocore_version: str
    operations: dict[str, OperationSpec]
    shapes: dict[str, dict[str, Any]] = field(repr=False)


_KEEP = ("type", "members", "member", "key", "value", "required", "min", "max", "pattern", "enum", "payload",
         "streaming", "eventstream")


def _slim(shape: dict[str, Any]) -> dict[str, Any]:
    out = {k: shape[k] for k in _KEEP if k in shape}
    if "members" in out:
        out["members"] = {n: {k: v for k, v in m.items() if k in ("shape", "location", "locationName")}
                          for n, m in out["members"].items()}
    return out


def _members(shapes: dict, shape_name: str | None) -> list[Member]:
    if not shape_name:
        return []
    return [Member(n, m["shape"], m.get("location"), m.get("locationName", n))
            for n, m in shapes[shape_name].get("members", {}).items()]


def compile_model(model: dict[str, Any], botocore_version: str) -> ServiceSpec:
    """Turn botocore's raw ``service-2`` dict into a ``ServiceSpec`` (pure; the unit tests feed it directly)."""
    shapes = {name: _slim(s) for name, s in model["shapes"].items()}
    ops: dict[str, OperationSpec] = {}
    for name, op in model["operations"].items():
        in_name = op.get("input", {}).get("shape")
        out_name = op.get("output", {}).get("shape")
        ins = _members(shapes, in_name)
        outs = _members(shapes, out_name)
        in_payload = shapes[in_name].get("payload") if in_name else None
        out_payload = shapes[out_name].get("payload") if out_name else None
        ops[name] = OperationSpec(
            name=name,
            method=op["http"]["method"],
            request_uri=op["http"]["requestUri"],
            status=int(op["http"].get("responseCode", 200)),
            input_shape=in_name,
            output_shape=out_name,
            uri=tuple(m for m in ins if m.location == "uri"),
            query=tuple(m for m in ins if m.location == "querystring"),
            headers=tuple(m for m in ins if m.location == "header"),
            body=tuple(m for m in ins if m.location is None and m.name != in_payload),
            payload=next((m for m in ins if m.name == in_payload), None),
            required=tuple(shapes[in_name].get("required", ())) if in_name else (),
            out_headers=tuple(m for m in outs if m.location == "header"),
            out_status=next((m for m in outs if m.location == "statusCode"), None),
            out_payload=next((m for m in outs if m.name == out_payload), None),
            out_body=tuple(m for m in outs if m.location is None and m.name != out_payload),
        )
    return ServiceSpec(botocore_version, ops, shapes)


def _botocore_version() -> str:
    try:
        return importlib.metadata.version("botocore")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - botocore is a dependency
        return "unknown"


def _load_raw() -> dict[str, Any]:
    import botocore.loaders  # the slow import, only on a cache miss

    return botocore.loaders.Loader().load_service_model(SERVICE, "service-2")


def _cache_file(cache_dir: Path, version: str) -> Path:
    return cache_dir / f"server-model-{SERVICE}-{version}-{_FORMAT}.pickle"


_compiled: dict[str, ServiceSpec] = {}      # by botocore version: a new home's first server compiles nothing again


@functools.cache
def _spec_for(cache_dir: str | None) -> ServiceSpec:
    version = _botocore_version()
    path = _cache_file(Path(cache_dir), version) if cache_dir else None
    known = _compiled.get(version)
    if known is not None:
        if path is not None and not path.is_file():
            _write_atomic(path, pickle.dumps(known, protocol=pickle.HIGHEST_PROTOCOL))
        return known
    if path is not None and path.is_file():
        try:
            with path.open("rb") as fh:
                spec = pickle.load(fh)
            if isinstance(spec, ServiceSpec) and spec.botocore_version == version:
                _compiled[version] = spec
                return spec
        except Exception:  # a corrupt or foreign cache file is rebuilt, never fatal
            pass
    spec = _compiled[version] = compile_model(_load_raw(), version)
    if path is not None:
        _write_atomic(path, pickle.dumps(spec, protocol=pickle.HIGHEST_PROTOCOL))
    return spec


def _write_atomic(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError:  # a read-only home only costs the next start some time
        pass


def service_spec(cache_dir: Path | None = None) -> ServiceSpec:
    """The compiled Lambda spec; ``cache_dir`` (usually ``paths.cache_dir(home)``) enables the on-disk cache."""
    return _spec_for(str(cache_dir) if cache_dir else None)
