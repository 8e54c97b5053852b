"""Route table: HTTP method + path (+ fixed query) -> operation, built from each operation's ``requestUri``.

No path literal is written here: ``/2015-03-31/functions/{FunctionName}/invocations`` comes from the model. A route
with a fixed query (``/2018-10-31/layers?find=LayerVersion``) wins over the plain one on the same path, and a route
with more literal segments wins over one with more labels. Path segments are split on the raw path and then
percent-decoded one by one, so an ARN (``arn%3Aaws%3A...``) or an encoded ``/`` stays inside its label.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote

from strata.local.server.model import ServiceSpec


@dataclass(frozen=True)
class Route:
    operation: str
    method: str
    segments: tuple[str | None, ...]      # a literal, or None where a label goes
    labels: tuple[str, ...]               # label names, in the order of the None segments
    fixed_query: tuple[tuple[str, str], ...]

    @property
    def rank(self) -> tuple[int, int]:
        return (-len(self.fixed_query), -sum(s is not None for s in self.segments))


def _split_uri(request_uri: str) -> tuple[list[str], list[tuple[str, str]]]:
    path, _, query = request_uri.partition("?")
    return [s for s in path.split("/") if s], parse_qsl(query, keep_blank_values=True)


def compile_route(operation: str, method: str, request_uri: str) -> Route:
    parts, fixed = _split_uri(request_uri)
    segments: list[str | None] = []
    labels: list[str] = []
    for part in parts:
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            if name.endswith("+"):
                raise ValueError(f"greedy label in {operation} {request_uri}: not supported")
            segments.append(None)
            labels.append(name)
        else:
            segments.append(part)
    return Route(operation, method, tuple(segments), tuple(labels), tuple(fixed))


class RouteTable:
    """Routes indexed by (method, number of segments); each bucket is tried in rank order."""

    def __init__(self, routes: list[Route]) -> None:
        self._buckets: dict[tuple[str, int], list[Route]] = {}
        for route in sorted(routes, key=lambda r: r.rank):
            self._buckets.setdefault((route.method, len(route.segments)), []).append(route)

    @classmethod
    def from_spec(cls, spec: ServiceSpec) -> RouteTable:
        return cls([compile_route(op.name, op.method, op.request_uri) for op in spec.operations.values()])

    def match(self, method: str, raw_path: str, query: list[tuple[str, str]]) -> tuple[str, dict[str, str]] | None:
        """``(operation, {label: decoded value})`` or None. ``raw_path`` is still percent-encoded."""
        parts = raw_path.split("/")
        if parts and parts[0] == "":
            parts = parts[1:]
        if parts and parts[-1] == "":  # tolerate one trailing slash (some SDKs send it)
            parts = parts[:-1]
        bucket = self._buckets.get((method, len(parts)))
        if not bucket:
            return None
        for route in bucket:
            values: list[str] = []
            for seg, part in zip(route.segments, parts):
                if seg is None:
                    if not part:
                        break
                    values.append(part)
                elif seg != part:
                    break
            else:
                if route.fixed_query and not all(pair in query for pair in route.fixed_query):
                    continue
                return route.operation, {name: unquote(v) for name, v in zip(route.labels, values)}
        return None
