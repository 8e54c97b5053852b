"""Server-side checks of the constraints that boto3 does not check: maxima, patterns, enums, required members.

botocore validates required members, types and minima on the client only (reference 1.2), so anything else a
client sends reaches the server, and AWS answers ``ValidationException`` with its standard text:
``N validation error(s) detected: Value '<v>' at '<camelCasePath>' failed to satisfy constraint: <constraint>``.
Values are shown the way AWS (Java) prints them: ``[a, b]`` for lists, ``{k=v}`` for maps, ``null``.
Some shapes are left to the control plane because AWS answers them with another error or text (``DEFERRED``).
"""
from __future__ import annotations

import functools
import re
from typing import Any

from strata.model.lambda_errors import ValidationException

# Shapes the control plane checks itself (``strata.local.lambda_service``: names, validation, layers, aliases ...), with
# the texts AWS was recorded answering, which are not always the model's: AWS quotes older name/qualifier/layer patterns
# than botocore's current model, stops Timeout/MemorySize at 900/10240 (model: 5400/32768), answers an unknown Runtime
# with InvalidParameterValueException. Checking them here too would answer first, with the model's text. The contract
# suite, run through this server, is what keeps this list honest.
DEFERRED: frozenset[str] = frozenset({
    "FunctionName", "NamespacedFunctionName", "NumericLatestPublishedOrAliasQualifier", "Qualifier",
    "Alias", "VersionWithLatestPublished", "Version", "AdditionalVersion", "Weight", "Description",
    "RoleArn", "Handler", "Runtime", "Timeout", "MemorySize", "EphemeralStorageSize", "TracingMode", "LogFormat",
    "PackageType", "ArchitecturesList", "Architecture", "EnvironmentVariables", "EnvironmentVariableName",
    "LayerNameOrArn", "LayerName", "LayerVersionArn", "LayerList", "LicenseInfo", "CompatibleRuntimes",
    "CompatibleArchitectures", "FunctionVersion", "MaxListItems", "MaxLayerListItems", "ReservedConcurrentExecutions",
    "InvocationType", "LogType", "TaggableResource",
})

# Java regex classes Python's ``re`` lacks; the replacements accept a superset (never reject what AWS accepts).
_JAVA_CLASSES = {r"\p{L}": r"\w", r"\p{Z}": r"\s", r"\p{N}": r"\d"}


@functools.lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> re.Pattern[str] | None:
    """The model's (Java) pattern as a Python regex, or None when it cannot be translated (then it is not checked)."""
    for java, py in _JAVA_CLASSES.items():
        pattern = pattern.replace(java, py)
    try:
        return re.compile(pattern, re.DOTALL)
    except re.error:
        return None


def camel(name: str) -> str:
    """AWS's path spelling of a member: first letter lowered (``FunctionName`` -> ``functionName``)."""
    return name[:1].lower() + name[1:]


def show(value: Any) -> str:
    """A value as AWS's Java service prints it inside ``Value '...'``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (bytes, bytearray)):
        return f"java.nio.HeapByteBuffer[pos=0 lim={len(value)} cap={len(value)}]"
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{show(k)}={show(v)}" for k, v in value.items()) + "}"
    return str(value)


def _bound(shape: dict[str, Any], key: str) -> str:
    bound = shape[key]
    return str(float(bound)) if shape["type"] in ("double", "float") else str(bound)


def constraints(shape: dict[str, Any]) -> list[str]:
    """Every constraint text of a scalar shape, in AWS's order (used inside ``Map value must satisfy ...``)."""
    texts: list[str] = []
    kind = "value" if shape["type"] in ("integer", "long", "double", "float") else "length"
    if "max" in shape:
        texts.append(f"Member must have {kind} less than or equal to {_bound(shape, 'max')}")
    if "min" in shape:
        texts.append(f"Member must have {kind} greater than or equal to {_bound(shape, 'min')}")
    if "pattern" in shape:
        texts.append(f"Member must satisfy regular expression pattern: {shape['pattern']}")
    if "enum" in shape:
        texts.append(f"Member must satisfy enum value set: [{', '.join(shape['enum'])}]")
    return texts


class Validator:
    """Checks converted values against the model's shapes; collects every finding like AWS does."""

    def __init__(self, shapes: dict[str, dict[str, Any]], deferred: frozenset[str] = DEFERRED) -> None:
        self.shapes = shapes
        self.deferred = deferred

    def violations(self, shape_name: str, value: Any) -> list[str]:
        """Constraint texts that ``value`` (not None) breaks, for one scalar/list/map shape, non-recursive.

        Minima are botocore's to check (client-side, reference 1.2) and the control plane's where it matters; the
        server adds what no client checks: maxima, patterns, enums."""
        if shape_name in self.deferred:
            return []
        shape = self.shapes[shape_name]
        kind = shape["type"]
        found: list[str] = []
        if kind == "string":
            if "pattern" in shape:
                regex = compile_pattern(shape["pattern"])
                if regex is not None and regex.fullmatch(value) is None:
                    found.append(f"Member must satisfy regular expression pattern: {shape['pattern']}")
            if "enum" in shape and value not in shape["enum"]:
                found.append(f"Member must satisfy enum value set: [{', '.join(shape['enum'])}]")
        if kind in ("integer", "long", "double", "float"):
            if "max" in shape and value > shape["max"]:
                found.append(f"Member must have value less than or equal to {_bound(shape, 'max')}")
        elif kind in ("string", "blob", "list", "map"):
            if "max" in shape and len(value) > shape["max"]:
                found.append(f"Member must have length less than or equal to {shape['max']}")
        return found

    def check(self, shape_name: str, value: Any, path: str, errors: list[str]) -> None:
        """Append AWS-worded findings for ``value`` at ``path`` (and everything inside it) to ``errors``."""
        shape = self.shapes[shape_name]
        for text in self.violations(shape_name, value):
            errors.append(_line(value, path, text))
        kind = shape["type"]
        if kind == "structure":
            self.check_members(shape_name, value, path, errors)
        elif kind == "list":
            item = shape["member"]["shape"]
            bad = [v for v in value if v is None or self.violations(item, v)]
            if bad:  # AWS lists the item's constraints (recorded: Architectures, reference 4.3)
                inner = constraints(self.shapes[item])
                errors.append(_line(value, path, f"Member must satisfy constraint: [{', '.join(inner)}]"))
            for index, v in enumerate(value, 1):
                if v is not None and self.shapes[item]["type"] in ("structure", "list", "map"):
                    self.check(item, v, f"{path}.{index}.member", errors)
        elif kind == "map":
            key, val = shape["key"]["shape"], shape["value"]["shape"]
            if any(self.violations(key, k) for k in value):
                inner = constraints(self.shapes[key])
                errors.append(_line(value, path, f"Map keys must satisfy constraint: [{', '.join(inner)}]"))
            if any(v is None or self.violations(val, v) for v in value.values()):  # recorded: reference 7.2
                inner = constraints(self.shapes[val]) + ["Member must not be null"]
                errors.append(_line(value, path, f"Map value must satisfy constraint: [{', '.join(inner)}]"))
            if self.shapes[val]["type"] in ("structure", "list", "map"):
                for k, v in value.items():
                    if v is not None:
                        self.check(val, v, f"{path}.{k}", errors)

    def check_members(self, shape_name: str, value: dict[str, Any], path: str, errors: list[str]) -> None:
        shape = self.shapes[shape_name]
        prefix = f"{path}." if path else ""
        for name in shape.get("required", ()):
            if value.get(name) is None:
                errors.append(_line(None, prefix + camel(name), "Member must not be null"))
        for name, member in shape.get("members", {}).items():
            v = value.get(name)
            if v is not None:
                self.check(member["shape"], v, prefix + camel(name), errors)


def _line(value: Any, path: str, text: str) -> str:
    shown = "null" if value is None else f"'{show(value)}'"
    return f"Value {shown} at '{path}' failed to satisfy constraint: {text}"


def raise_if_any(errors: list[str]) -> None:
    """One ``ValidationException`` carrying every finding, worded as AWS words it."""
    if not errors:
        return
    n = len(errors)
    head = f"{n} validation error{'s' if n > 1 else ''} detected: "
    raise ValidationException(head + "; ".join(errors))
