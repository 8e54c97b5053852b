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
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if item is not None:
                out[member_name(f.name)] = to_wire(item)
        return out
    if isinstance(value, list | tuple):
        return [to_wire(item) for item in value]
    if isinstance(value, dict):
        return {key: to_wire(item) for key, item in value.items()}
    return value


def from_wire(cls: type[T], data: dict[str, Any]) -> T:
    """Build shape ``cls`` from boto3-shaped ``data``; unknown members are ignored."""
    hints = _hints(cls)  # type: ignore[arg-type]  # a class is hashable; mypy thinks not (python/mypy#11470)
    kwargs: dict[str, Any] = {}
    for member, item in data.items():
        attr = attr_name(member)
        if attr in hints:
            kwargs[attr] = convert_value(hints[attr], item)
    return cls(**kwargs)


def convert_value(annotation: Any, item: Any) -> Any:
    """Convert one wire value to the type ``annotation`` names (dataclasses and lists of them; else as is)."""
    if item is None:
        return None
    target = _strip_optional(annotation)
    origin = typing.get_origin(target)
    if isinstance(target, type) and dataclasses.is_dataclass(target) and isinstance(item, dict):
        return from_wire(target, item)
    if origin is list and isinstance(item, list):
        (inner,) = typing.get_args(target) or (Any,)
        return [convert_value(inner, element) for element in item]
    if origin is dict and isinstance(item, dict):
        return dict(item)
    return item


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
