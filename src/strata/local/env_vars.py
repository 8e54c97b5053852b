"""``--env-vars FILE``: local overrides of functions' environment variables, in SAM CLI's format.

The file is JSON: ``{"Parameters": {"VAR": "v"}, "<function>": {"VAR": "v"}}``. ``Parameters`` applies to every
function; a function's own object wins over it. A function is named, as SAM CLI looks it up and in its order of
precedence, by its logical id, its function name, or ``Stack/LogicalId`` (the full path; here the stack is a
locally deployed stack of the state home). As in SAM CLI, only variables a function already declares (its
``Environment.Variables``) take an override; the others are ignored, so nothing passes locally that depends on a
variable Lambda would not have. Values are strings; numbers and booleans are written as SAM CLI writes them
(``true``/``false``), ``null`` is the empty string.

The overrides are LOCAL and never stored: they are applied (``strata.local.lambda_service.overrides.EnvOverrides``)
when the Lambda service freezes a version's snapshot for the runtime (``strata.local.lambda_service.invoke``), never
to a version, its fingerprint or what ``--target aws`` deploys. A snapshot with overrides lists them
(``FunctionSnapshot.overridden``) and is keyed apart, so its warm workers are never shared with those of the plain
version.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from strata.errors import Location, StrataError
from strata.local.lambda_service.overrides import EnvOverrides

PARAMETERS = "Parameters"   # the key whose variables apply to every function


class EnvVarsError(StrataError):
    """The --env-vars file cannot be read or is not in SAM CLI's format (exit 1)."""


@dataclass(frozen=True)
class EnvVarsFile:
    """A parsed --env-vars file: the variables for every function, and those per function key as written."""

    path: str
    parameters: Mapping[str, str] = field(default_factory=dict)
    functions: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def variables(self, keys: Iterable[str]) -> tuple[str | None, dict[str, str]]:
        """(the key used, merged variables) for a function known by ``keys`` in SAM CLI's precedence order: the first
        key present in the file gives the function's own variables, on top of ``Parameters``."""
        for key in keys:
            own = self.functions.get(key)
            if own is not None:
                return key, {**self.parameters, **own}
        return None, dict(self.parameters)


def load(path: str | Path) -> EnvVarsFile:
    """Parse ``path``; an ``EnvVarsError`` naming the file (and for JSON the line and column) when it cannot be."""
    where = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise EnvVarsError(f"--env-vars {where}: cannot read it ({reason})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EnvVarsError(f"the --env-vars file is not valid JSON: {exc.msg}",
                           location=Location(where, exc.lineno, exc.colno),
                           hint='the format: {"Parameters": {"VAR": "value"}, "Function": {"VAR": "value"}}') from None
    if not isinstance(data, dict):
        raise EnvVarsError(f"--env-vars {where}: the top level must be an object of functions (and Parameters), "
                           f"not {_kind(data)}")
    parameters: dict[str, str] = {}
    functions: dict[str, dict[str, str]] = {}
    for key, value in data.items():
        if not isinstance(value, dict):
            raise EnvVarsError(f"--env-vars {where}: {key!r} must be an object of variables (VAR: value), "
                               f"not {_kind(value)}")
        variables = {str(name): _text(where, key, str(name), v) for name, v in value.items()}
        if key == PARAMETERS:
            parameters = variables
        else:
            functions[key] = variables
    return EnvVarsFile(where, parameters, functions)


def _text(where: str, key: str, name: str, value: Any) -> str:
    """A variable's value as the environment holds it, written as SAM CLI writes it."""
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise EnvVarsError(f"--env-vars {where}: {key}.{name} must be a string, number or boolean, not {_kind(value)}")


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(type(value), "a number")


@dataclass(frozen=True)
class FunctionEntry:
    """A function the file may name: its stack and logical id, its function name (None when not known yet) and the
    variables its configuration declares."""

    stack: str
    logical_id: str
    name: str | None
    declared: frozenset[str]

    @property
    def keys(self) -> tuple[str, ...]:
        """SAM CLI's identifiers, in its order of precedence: logical id, function name, full path."""
        return tuple(k for k in (self.logical_id, self.name, f"{self.stack}/{self.logical_id}") if k)


@dataclass(frozen=True)
class Matched:
    """What the file does to each function: the variables it overrides (declared ones) and those it ignores."""

    source: str
    parameters: Mapping[str, str]                       # the file's Parameters: for functions of no stack
    applied: Mapping[FunctionEntry, Mapping[str, str]]
    ignored: Mapping[FunctionEntry, tuple[str, ...]]    # a function's own keys it does not declare
    unknown_keys: tuple[str, ...]                        # function keys naming no function
    unused_parameters: tuple[str, ...]                   # Parameters no function declares

    def warnings(self) -> list[str]:
        found = [f"--env-vars {self.source}: {key!r} names no function (it is ignored)"
                 for key in self.unknown_keys]
        for entry, names in self.ignored.items():
            found.append(f"--env-vars {self.source}: {entry.logical_id} does not declare {', '.join(names)} in "
                         f"its template: not set (as SAM CLI, only declared variables take an override)")
        if self.unused_parameters:
            found.append(f"--env-vars {self.source}: no function declares Parameters "
                         f"{', '.join(self.unused_parameters)}: not set")
        return found

    def overrides(self) -> EnvOverrides:
        """The value the Lambda service applies, by function name (functions whose name is known)."""
        by_name = {entry.name: dict(variables) for entry, variables in self.applied.items() if entry.name}
        return EnvOverrides(self.source, by_name, dict(self.parameters))

    def view(self) -> dict[str, Any]:
        """For ``plan`` and ``describe``: per stack and logical id the overridden variables, values masked."""
        from strata.template.parameters import MASK

        stacks: dict[str, dict[str, dict[str, str]]] = {}
        for entry, variables in sorted(self.applied.items(), key=lambda item: (item[0].stack, item[0].logical_id)):
            if variables:
                stacks.setdefault(entry.stack, {})[entry.logical_id] = {k: MASK for k in sorted(variables)}
        return {"File": self.source, "Stacks": stacks, "Warnings": self.warnings()}


def match(file: EnvVarsFile, entries: Iterable[FunctionEntry]) -> Matched:
    """Which of ``entries`` the file overrides, with what, and what it names that does not exist."""
    applied: dict[FunctionEntry, dict[str, str]] = {}
    ignored: dict[FunctionEntry, tuple[str, ...]] = {}
    used_keys: set[str] = set()
    declared_anywhere: set[str] = set()
    for entry in entries:
        declared_anywhere |= entry.declared
        key, variables = file.variables(entry.keys)
        if key is not None:
            used_keys.add(key)
            own = file.functions[key]
            missing = tuple(sorted(name for name in own if name not in entry.declared))
            if missing:
                ignored[entry] = missing
        applied[entry] = {k: v for k, v in variables.items() if k in entry.declared}
    unknown = tuple(k for k in file.functions if k not in used_keys)
    unused = tuple(sorted(k for k in file.parameters if k not in declared_anywhere))
    return Matched(file.path, file.parameters, applied, ignored, unknown, unused)


def deployed_entries(home: Path) -> list[FunctionEntry]:
    """Every function of the stacks deployed in ``home``, with the variables its deployed configuration declares."""
    from strata.local.engine.state import StackState

    state = StackState(Path(home))
    try:
        found = []
        for stack in state.stacks():
            for res in state.resources(stack.name).values():
                if res.type == "AWS::Lambda::Function":
                    found.append(FunctionEntry(stack.name, res.logical_id, res.physical_id,
                                               _declared(res.properties)))
        return found
    finally:
        state.close()


def template_entries(stack_name: str, template: Mapping[str, Any], home: Path | None = None) -> list[FunctionEntry]:
    """The functions of a stack template (plain CloudFormation, as ``transform`` makes it), for ``plan``: the name
    is the literal ``FunctionName`` if any, else the deployed function's name in ``home`` (else not known yet)."""
    deployed = {e.logical_id: e.name for e in deployed_entries(home) if e.stack == stack_name} if home else {}
    found = []
    for logical_id, res in (template.get("Resources") or {}).items():
        if isinstance(res, dict) and res.get("Type") == "AWS::Lambda::Function":
            properties = res.get("Properties") or {}
            name = properties.get("FunctionName")
            found.append(FunctionEntry(stack_name, logical_id, name if isinstance(name, str) else
                                       deployed.get(logical_id), _declared(properties)))
    return found


def _declared(properties: Mapping[str, Any]) -> frozenset[str]:
    environment = properties.get("Environment") if isinstance(properties, Mapping) else None
    variables = environment.get("Variables") if isinstance(environment, Mapping) else None
    return frozenset(str(k) for k in variables) if isinstance(variables, Mapping) else frozenset()


def for_home(file: EnvVarsFile, home: Path) -> Matched:
    """The file matched against the functions deployed in ``home`` (``invoke``, ``serve``, ``dev``, ``describe``)."""
    return match(file, deployed_entries(home))


def overrides_for_home(file: EnvVarsFile | None, home: Path, warn: Callable[[str], None]) -> EnvOverrides | None:
    """What ``invoke``, ``serve`` and ``dev`` hand ``LambdaService(env_overrides=...)`` for the ``--env-vars``
    option's value (None without one); each warning (a key naming no function, an undeclared variable) to ``warn``.
    ``dev`` calls it again after each deploy and gives the result to ``LambdaService.set_env_overrides``."""
    if file is None:
        return None
    matched = for_home(file, home)
    for line in matched.warnings():
        warn(f"warning: {line}")
    return matched.overrides()
