"""Marker/MaxItems pagination over an ordered list: the marker is the (opaque) sort key of the next page's first
item, so deleting items between pages never skips or repeats the rest."""
from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from strata.model.lambda_errors import InvalidParameterValueException

T = TypeVar("T")


def paginate(items: Sequence[T], key: Callable[[T], tuple[Any, ...]], marker: str | None, max_items: int | None,
             *, cap: int) -> tuple[list[T], str | None]:
    start = 0
    if marker:
        wanted = _decode(marker)
        start = next((i for i, item in enumerate(items) if list(key(item)) >= wanted), len(items))
    size = min(max_items or cap, cap)
    page = list(items[start:start + size])
    rest = start + size
    next_marker = _encode(list(key(items[rest]))) if rest < len(items) else None
    return page, next_marker


def _encode(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def _decode(marker: str) -> list[Any]:
    try:
        return json.loads(base64.urlsafe_b64decode(marker.encode()))
    except (ValueError, TypeError):
        raise InvalidParameterValueException(f"Invalid marker: {marker}") from None
