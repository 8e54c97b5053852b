"""The one place where typed shapes meet Lambda's JSON member names.

``to_wire`` turns a shape (dataclass) into a boto3-shaped dict (PascalCase members, ``None`` omitted); ``from_wire``
builds a shape from such a dict, ignoring members strata does not model. Names are derived (``code_sha256`` ->
``CodeSha256``) with a table for AWS's irregular spellings; maps (tags, variables, weights) are copied as they are.
"""
from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

# snake_case -> member name where capitalising each word gives the wrong answer
IRREGULAR: dict[str, str] = {
    "kms_key_arn": "KMSKeyArn",
    "source_kms_key_arn": "SourceKMSKeyArn",
}
_IRREGULAR_BACK = {v: k for k, v in IRREGULAR.items()}


@functools.lru_cache(maxsize=4096)     # a few hundred names, each converted on every call of every operation
def member_name(attr: str) -> str:
    """``code_sha256`` -> ``CodeSha256``; ``kms_key_arn`` -> ``KMSKeyArn``."""
    return IRREGULAR.get(attr) or "".join(part[:1].upper() + part[1:] for part in attr.split("_"))


@functools.lru_cache(maxsize=4096)
def attr_name(member: str) -> str:
    """``CodeSha256`` -> ``code_sha256`` (inverse of ``member_name`` for every member strata models)."""
    if member in _IRREGULAR_BACK:
        return _IRREGULAR_BACK[member]
    out: list[str] = []
    for i, ch in enumerate(member):
        if ch.isupper() and i > 0 and not member[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def to_wire(value: Any) -> Any:
    """A shape (or list/dict of shapes) as boto3-shaped data."""
    plan = _wire_plan(type(value))  # type: ignore[arg-type]  # a class is hashable (python/mypy#11470)
    if plan is not None:
        out: dict[str, Any] = {}
        for attr, member in plan:
            item = getattr(value, attr)
            if item is not None:
                out[member] = item if type(item) in _PLAIN else to_wire(item)
        return out
    if isinstance(value, list | tuple):
        return [item if type(item) in _PLAIN else to_wire(item) for item in value]
    if isinstance(value, dict):
        return {key: item if type(item) in _PLAIN else to_wire(item) for key, item in value.items()}
    return value


_PLAIN = frozenset({str, int, float, bool})


@functools.cache
def _wire_plan(cls: type) -> tuple[tuple[str, str], ...] | None:
    """(attribute, member) pairs of a shape class, in field order; None for anything that is not a shape. Computed
    once per class: ``dataclasses.fields`` and the name conversion cost more than the copy itself (a deploy of 50
    functions converts ~20,000 values)."""
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        return None
    return tuple((f.name, member_name(f.name)) for f in dataclasses.fields(cls))


def from_wire(cls: type[T], data: dict[str, Any]) -> T:
    """Build shape ``cls`` from boto3-shaped ``data``; unknown members are ignored."""
    plan = _read_plan(cls)  # type: ignore[arg-type]  # a class is hashable; mypy thinks not (python/mypy#11470)
    kwargs: dict[str, Any] = {}
    for member, item in data.items():
        step = plan.get(member)
        if step is None:
            step = plan.get(member_name(attr_name(member)))    # an odd spelling of a modelled member
            if step is None:
                continue
        attr, convert = step
        kwargs[attr] = item if convert is None or item is None else convert(item)
    return cls(**kwargs)


def convert_value(annotation: Any, item: Any) -> Any:
    """Convert one wire value to the type ``annotation`` names (dataclasses and lists of them; else as is)."""
    if item is None:
        return None
    convert = _converter(annotation)
    return item if convert is None else convert(item)


@functools.lru_cache(maxsize=1024)
def _converter(annotation: Any) -> Callable[[Any], Any] | None:
    """How to convert a wire value to ``annotation`` (None: kept as it is), decided once per annotation."""
    target = _strip_optional(annotation)
    origin = typing.get_origin(target)
    if isinstance(target, type) and dataclasses.is_dataclass(target):
        shape = target
        return lambda item: from_wire(shape, item) if isinstance(item, dict) else item
    if origin is list:
        (inner,) = typing.get_args(target) or (Any,)
        element = _converter(inner)
        if element is None:
            return lambda item: list(item) if isinstance(item, list) else item
        return lambda item: ([None if e is None else element(e) for e in item] if isinstance(item, list)
                             else item)
    if origin is dict:
        return lambda item: dict(item) if isinstance(item, dict) else item
    return None


@functools.cache
def _read_plan(cls: type) -> dict[str, tuple[str, Callable[[Any], Any] | None]]:
    """member -> (attribute, converter) for every field of shape ``cls``: the reverse of ``_wire_plan``."""
    hints = _hints(cls)
    plan: dict[str, tuple[str, Callable[[Any], Any] | None]] = {}
    for attr, annotation in hints.items():
        plan[member_name(attr)] = (attr, _converter(annotation))
    return plan


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


@functools.lru_cache(maxsize=1024)
def _strip_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation
