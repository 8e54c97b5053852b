"""HTTP request -> boto3-shaped params for one operation, by its input shape.

Where each member travels (uri label, querystring, header, raw payload, JSON body) and its type come from the model.
Wire strings become ints, booleans, bytes and datetimes here, so the control plane sees what boto3 would have passed.
Everything wrong is collected and raised once, as AWS does: a body that is not JSON ->
``InvalidRequestContentException``; missing members, wrong types and broken constraints -> ``ValidationException``.
"""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from strata.local.server.model import Member, OperationSpec, ServiceSpec
from strata.local.server.validate import DEFERRED, Validator, _line, camel, raise_if_any
from strata.model.lambda_errors import InvalidRequestContentException

_INTS = ("integer", "long")
_FLOATS = ("double", "float")


@dataclass(frozen=True)
class HttpRequest:
    """The parts of a request the parser reads; header names lower-cased, the path still percent-encoded."""

    method: str
    raw_path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes


class _TypeProblem(Exception):
    """A wire value of the wrong type; ``path``/``value`` say where (None: the member itself)."""

    def __init__(self, text: str, path: str | None = None, value: Any = None) -> None:
        super().__init__(text)
        self.text, self.path, self.value = text, path, value


def _type_text(kind: str) -> str:
    return f"Member must be of type {kind}"


class RequestReader:
    """Builds params for an operation; one per compiled spec (it only holds the shapes and a validator)."""

    def __init__(self, spec: ServiceSpec, deferred: frozenset[str] = DEFERRED) -> None:
        self.shapes = spec.shapes
        self.validator = Validator(spec.shapes, deferred)
        self._plans: dict[str, _Plan | None] = {}

    def read_parts(self, op: OperationSpec, labels: dict[str, str], query: list[tuple[str, str]],
                   headers: dict[str, str], body: bytes, method: str = "", raw_path: str = "") -> dict[str, Any]:
        """``read`` from the request's parts. An operation whose members are all text (labels, query, headers) plus
        a raw payload, Invoke's shape, takes a precompiled path when every value is valid: the same params, without
        walking the model; anything else (a violation, a missing member) is ``read``'s, for AWS's exact errors."""
        plan = self._plans.get(op.name, _UNSET)
        if plan is _UNSET:
            plan = self._plans[op.name] = _Plan.compile(op, self.shapes, self.validator)
        if plan is not None:
            params = plan.read(labels, query, headers, body)
            if params is not None:
                return params
        return self.read(op, labels, HttpRequest(method, raw_path, query, headers, body))

    def read(self, op: OperationSpec, labels: dict[str, str], request: HttpRequest) -> dict[str, Any]:
        params: dict[str, Any] = {}
        errors: list[str] = []
        for m in op.uri:
            if m.wire_name in labels:
                self._put(params, m, labels[m.wire_name], errors, self._from_text)
        if op.query and request.query:
            for m in op.query:
                values = [v for k, v in request.query if k == m.wire_name]
                if not values:
                    continue
                if self.shapes[m.shape]["type"] == "list":
                    item = self.shapes[m.shape]["member"]["shape"]
                    try:
                        params[m.name] = [self._from_text(item, v) for v in values]
                    except _TypeProblem as exc:
                        errors.append(_line(values, camel(m.name), exc.text))
                else:
                    self._put(params, m, values[0], errors, self._from_text)
        for m in op.headers:
            value = request.headers.get(m.wire_name.lower())
            if value is not None:
                self._put(params, m, value, errors, self._from_text)
        if op.payload is not None:
            self._read_payload(op.payload, request.body, params)
        elif op.body:
            document = _json_object(request.body)
            for m in op.body:
                if m.wire_name in document and document[m.wire_name] is not None:
                    self._put(params, m, document[m.wire_name], errors, self._from_json, camel(m.name))
        if op.input_shape:
            self.validator.check_members(op.input_shape, params, "", errors)
        raise_if_any(errors)
        return params

    def _put(self, params: dict[str, Any], m: Member, raw: Any, errors: list[str], convert: Callable[..., Any],
             path: str | None = None) -> None:
        try:
            params[m.name] = convert(m.shape, raw) if path is None else convert(m.shape, raw, path)
        except _TypeProblem as exc:
            shown = raw if exc.path is None or exc.path == path else exc.value
            errors.append(_line(shown, exc.path or camel(m.name), exc.text))

    def _read_payload(self, m: Member, body: bytes, params: dict[str, Any]) -> None:
        kind = self.shapes[m.shape]["type"]
        if kind == "blob":
            params[m.name] = body
        elif kind == "string":
            params[m.name] = body.decode("utf-8", errors="replace")
        elif body:
            errors: list[str] = []
            document = _json_object(body)
            try:
                params[m.name] = self._from_json(m.shape, document, camel(m.name))
            except _TypeProblem as exc:
                errors.append(_line(exc.value, exc.path or camel(m.name), exc.text))
            raise_if_any(errors)

    # -- wire text (uri, querystring, header) -> typed value
    def _from_text(self, shape_name: str, text: str) -> Any:
        kind = self.shapes[shape_name]["type"]
        if kind == "string":
            return text
        if kind in _INTS:
            try:
                return int(text)
            except ValueError:
                raise _TypeProblem(_type_text(kind)) from None
        if kind == "boolean":
            lowered = text.lower()
            if lowered in ("true", "false"):
                return lowered == "true"
            raise _TypeProblem(_type_text(kind))
        if kind in _FLOATS:
            try:
                return float(text)
            except ValueError:
                raise _TypeProblem(_type_text(kind)) from None
        if kind == "timestamp":
            return _timestamp(text)
        if kind == "blob":
            return text.encode()
        raise _TypeProblem(_type_text(kind))

    # -- JSON value -> typed value (recursive)
    def _from_json(self, shape_name: str, value: Any, path: str) -> Any:
        shape = self.shapes[shape_name]
        kind = shape["type"]
        if kind == "string":
            if isinstance(value, str):
                return value
        elif kind in _INTS:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, float) and value.is_integer():
                return int(value)
        elif kind == "boolean":
            if isinstance(value, bool):
                return value
        elif kind in _FLOATS:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
        elif kind == "blob":
            if isinstance(value, str):
                try:
                    return base64.b64decode(value, validate=True)
                except (binascii.Error, ValueError):
                    raise _TypeProblem("Member must be base64-encoded binary data", path, value) from None
        elif kind == "timestamp":
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return datetime.fromtimestamp(value, tz=UTC)
            if isinstance(value, str):
                return _timestamp(value, path)
        elif kind == "list":
            if isinstance(value, list):
                item = shape["member"]["shape"]
                return [None if v is None else self._from_json(item, v, f"{path}.{i}.member")
                        for i, v in enumerate(value, 1)]
        elif kind == "map":
            if isinstance(value, dict):
                val = shape["value"]["shape"]
                return {k: None if v is None else self._from_json(val, v, f"{path}.{k}") for k, v in value.items()}
        elif kind == "structure":
            if isinstance(value, dict):
                out: dict[str, Any] = {}
                for name, member in shape.get("members", {}).items():
                    wire = member.get("locationName", name)
                    if value.get(wire) is not None:
                        out[name] = self._from_json(member["shape"], value[wire], f"{path}.{camel(name)}")
                return out
        raise _TypeProblem(_type_text(kind), path, value)


_UNSET: Any = object()
_CHECKED = ("pattern", "enum", "max")


class _Plan:
    """An operation's text members and raw payload, with which of them have constraints the server checks."""

    __slots__ = ("uri", "query", "headers", "payload", "required", "violations")

    def __init__(self, uri: tuple[tuple[str, str], ...], query: tuple[tuple[str, str], ...],
                 headers: tuple[tuple[str, str], ...], payload: str | None, required: tuple[str, ...],
                 violations: tuple[Callable[[str, Any], list[str]], tuple[tuple[str, str], ...]]) -> None:
        self.uri, self.query, self.headers, self.payload = uri, query, headers, payload
        self.required, self.violations = required, violations

    @classmethod
    def compile(cls, op: OperationSpec, shapes: dict[str, dict[str, Any]], validator: Validator) -> _Plan | None:
        if op.body or not op.input_shape:
            return None
        members = (*op.uri, *op.query, *op.headers)
        if any(shapes[m.shape]["type"] != "string" for m in members):
            return None
        if op.payload is not None and shapes[op.payload.shape]["type"] != "blob":
            return None

        def checked(m: Member) -> tuple[str, str] | None:
            shape = shapes[m.shape]
            if m.shape in validator.deferred or not any(k in shape for k in _CHECKED):
                return None
            return m.name, m.shape

        return cls(uri=tuple((m.name, m.wire_name) for m in op.uri),
                   query=tuple((m.name, m.wire_name) for m in op.query),
                   headers=tuple((m.name, m.wire_name.lower()) for m in op.headers),
                   payload=op.payload.name if op.payload is not None else None,
                   required=tuple(shapes[op.input_shape].get("required", ())),
                   violations=(validator.violations,
                               tuple(c for c in map(checked, (*members, *(() if op.payload is None else
                                                                          (op.payload,)))) if c)))

    def read(self, labels: dict[str, str], query: list[tuple[str, str]], headers: dict[str, str],
             body: bytes) -> dict[str, Any] | None:
        """The params, or None when a member is missing or breaks a constraint (``read`` then says how)."""
        params: dict[str, Any] = {}
        for name, wire in self.uri:
            value = labels.get(wire)
            if value is not None:
                params[name] = value
        if query:
            for name, wire in self.query:
                for key, value in query:
                    if key == wire:
                        params[name] = value
                        break
        for name, wire in self.headers:
            value = headers.get(wire)
            if value is not None:
                params[name] = value
        if self.payload is not None:
            params[self.payload] = body
        for name in self.required:
            if params.get(name) is None:
                return None
        violations, checked = self.violations
        for name, shape in checked:
            value = params.get(name)
            if value is not None and violations(shape, value):
                return None
        return params


def _timestamp(text: str, path: str | None = None) -> datetime:
    """ISO 8601 (query strings, JSON strings) or epoch seconds."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            return datetime.fromtimestamp(float(text), tz=UTC)
        except ValueError:
            raise _TypeProblem(_type_text("timestamp"), path, text) from None


def _json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object; an empty body is ``{}`` (botocore sends none when no body member is set)."""
    if not body or not body.strip():
        return {}
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequestContentException(
            f"Could not parse request body into json: Could not parse payload into json: {exc}") from None
    if not isinstance(document, dict):
        raise InvalidRequestContentException(
            "Could not parse request body into json: Could not parse payload into json: "
            f"expected a JSON object, got {type(document).__name__}")
    return document
