"""Which Python a user says runs a ``pythonX.Y`` function (and which ``node`` a ``nodejsN.x`` one): the settings,
where they come from, and how they merge.

Two kinds, both keyed by the runtime's ``X.Y``:
- a path: ``--python 3.12=/opt/py312/bin/python3`` (repeatable), ``STRATA_PYTHON="3.12=/path 3.13=/path"``,
  samconfig.toml ``python = ["3.12=/path"]``; the binary there must really be X.Y (``strata.local.runtime.interpreter``
  probes it);
- a substitution: ``--allow-python-substitute 3.12=3.11``, ``STRATA_ALLOW_PYTHON_SUBSTITUTE``, samconfig.toml
  ``allow_python_substitute``: when no Python X.Y is found, run the function on A.B instead, and say so everywhere
  (deploy, describe, the cold start's INIT_START line). Without one, a missing Python is an error, never silently
  another version.
Node.js has the same two, keyed by the runtime's major ``N`` (``--node 20=PATH``, ``STRATA_NODE``, samconfig.toml
``node``; ``--allow-node-substitute 18=20``, ``STRATA_ALLOW_NODE_SUBSTITUTE``, ``allow_node_substitute``), kept in
the same settings: a Python key is ``X.Y``, a Node key a bare major, so they never collide.
Per version, a flag wins over the environment variable, which wins over samconfig.toml. Each value keeps where it
came from, so a message can name the setting to change. Plain values; nothing is probed here.
"""
from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from strata.errors import StrataError

PATH_FLAG, SUBSTITUTE_FLAG = "--python", "--allow-python-substitute"
PATH_ENV, SUBSTITUTE_ENV = "STRATA_PYTHON", "STRATA_ALLOW_PYTHON_SUBSTITUTE"
PATH_KEY, SUBSTITUTE_KEY = "python", "allow_python_substitute"      # samconfig.toml keys
NODE_PATH_FLAG, NODE_SUBSTITUTE_FLAG = "--node", "--allow-node-substitute"
NODE_PATH_ENV, NODE_SUBSTITUTE_ENV = "STRATA_NODE", "STRATA_ALLOW_NODE_SUBSTITUTE"
NODE_PATH_KEY, NODE_SUBSTITUTE_KEY = "node", "allow_node_substitute"
_VERSION = re.compile(r"^(\d+)\.(\d+)$")
_MAJOR = re.compile(r"^\d+$")


class PythonSettingError(StrataError):
    """A ``--python`` / ``--allow-python-substitute`` value that cannot be read (a usage error)."""

    exit_code = 2


@dataclass(frozen=True)
class Setting:
    """One user setting for a Python version: a path (or substitute version), and where it was given."""

    value: str
    source: str          # "--python", "STRATA_PYTHON", "samconfig.toml python", ...

    def said(self, version: str) -> str:
        """The setting as the user wrote it: ``--allow-python-substitute 3.12=3.11``."""
        return f"{self.source} {version}={self.value}"


@dataclass(frozen=True)
class PythonSettings:
    """Per ``X.Y``: the user's interpreter path, and the version allowed to stand in when X.Y is missing."""

    paths: Mapping[str, Setting] = field(default_factory=dict)
    substitutes: Mapping[str, Setting] = field(default_factory=dict)

    def over(self, base: PythonSettings) -> PythonSettings:
        """These settings, per version, over ``base``'s."""
        return PythonSettings({**base.paths, **self.paths}, {**base.substitutes, **self.substitutes})

    def to_json(self) -> dict[str, Any]:
        return {"paths": {v: [s.value, s.source] for v, s in sorted(self.paths.items())},
                "substitutes": {v: [s.value, s.source] for v, s in sorted(self.substitutes.items())}}

    @classmethod
    def from_json(cls, data: Any) -> PythonSettings:
        if not isinstance(data, dict):
            return cls()

        def read(part: Any) -> dict[str, Setting]:
            if not isinstance(part, dict):
                return {}
            return {str(v): Setting(str(s[0]), str(s[1])) for v, s in part.items()
                    if isinstance(s, list) and len(s) == 2}
        return cls(read(data.get("paths")), read(data.get("substitutes")))

    def key(self) -> str:
        """A hashable text of the settings (memo keys)."""
        return json.dumps(self.to_json(), sort_keys=True)


def version_text(text: str) -> tuple[int, int] | None:
    """``"3.12"`` -> ``(3, 12)``; None when it is not X.Y."""
    match = _VERSION.match(text.strip())
    return (int(match.group(1)), int(match.group(2))) if match else None


def _items(values: Any) -> list[str]:
    """Flag values, an environment variable's text or a samconfig.toml value (a string or a list) -> items."""
    if values is None:
        return []
    if isinstance(values, str):
        return shlex.split(values)
    out: list[str] = []
    for value in values:
        out += shlex.split(str(value)) if isinstance(value, str) and " " in value.strip() else [str(value)]
    return out


def parse_paths(values: Any, source: str, base: Path | None = None) -> dict[str, Setting]:
    """``X.Y=PATH`` items -> {X.Y: path}; a relative path is taken from ``base`` (default: the current folder)."""
    out: dict[str, Setting] = {}
    for item in _items(values):
        version, sep, path = item.partition("=")
        if not sep or version_text(version) is None or not path.strip():
            raise PythonSettingError(f"{source} {item!r}: expected X.Y=PATH, e.g. 3.12=/usr/bin/python3.12")
        full = Path(path.strip()).expanduser()
        if not full.is_absolute():
            full = (base or Path.cwd()) / full
        out[version.strip()] = Setting(os.path.normpath(full), source)
    return out


def parse_substitutes(values: Any, source: str) -> dict[str, Setting]:
    """``X.Y=A.B`` items -> {X.Y: A.B}: functions of runtime pythonX.Y may run on Python A.B when X.Y is missing."""
    out: dict[str, Setting] = {}
    for item in _items(values):
        version, sep, other = item.partition("=")
        if not sep or version_text(version) is None or version_text(other) is None:
            raise PythonSettingError(f"{source} {item!r}: expected X.Y=A.B (run pythonX.Y functions on Python A.B "
                                     "when X.Y is missing), e.g. 3.12=3.11")
        if version.strip() == other.strip():
            raise PythonSettingError(f"{source} {item!r}: a version cannot substitute for itself")
        out[version.strip()] = Setting(other.strip(), source)
    return out


def parse_node_paths(values: Any, source: str, base: Path | None = None) -> dict[str, Setting]:
    """``N=PATH`` items -> {N: path}: the ``node`` that runs nodejsN.x functions."""
    out: dict[str, Setting] = {}
    for item in _items(values):
        major, sep, path = item.partition("=")
        if not sep or not _MAJOR.match(major.strip()) or not path.strip():
            raise PythonSettingError(f"{source} {item!r}: expected N=PATH (a Node.js major), e.g. 20=/usr/bin/node")
        full = Path(path.strip()).expanduser()
        if not full.is_absolute():
            full = (base or Path.cwd()) / full
        out[major.strip()] = Setting(os.path.normpath(full), source)
    return out


def parse_node_substitutes(values: Any, source: str) -> dict[str, Setting]:
    """``N=M`` items -> {N: M}: nodejsN.x functions may run on Node.js M when no Node.js N is found."""
    out: dict[str, Setting] = {}
    for item in _items(values):
        major, sep, other = item.partition("=")
        if not sep or not _MAJOR.match(major.strip()) or not _MAJOR.match(other.strip()):
            raise PythonSettingError(f"{source} {item!r}: expected N=M (run nodejsN.x functions on Node.js M when N "
                                     "is missing), e.g. 22=20")
        if major.strip() == other.strip():
            raise PythonSettingError(f"{source} {item!r}: a version cannot substitute for itself")
        out[major.strip()] = Setting(other.strip(), source)
    return out


def from_environment(environ: Mapping[str, str] | None = None) -> PythonSettings:
    """``STRATA_PYTHON`` and ``STRATA_ALLOW_PYTHON_SUBSTITUTE`` (and ``STRATA_NODE``,
    ``STRATA_ALLOW_NODE_SUBSTITUTE``)."""
    env = os.environ if environ is None else environ
    return PythonSettings({**parse_paths(env.get(PATH_ENV), PATH_ENV),
                           **parse_node_paths(env.get(NODE_PATH_ENV), NODE_PATH_ENV)},
                          {**parse_substitutes(env.get(SUBSTITUTE_ENV), SUBSTITUTE_ENV),
                           **parse_node_substitutes(env.get(NODE_SUBSTITUTE_ENV), NODE_SUBSTITUTE_ENV)})


def from_flags(paths: Iterable[str] = (), substitutes: Iterable[str] = (), node_paths: Iterable[str] = (),
               node_substitutes: Iterable[str] = ()) -> PythonSettings:
    return PythonSettings({**parse_paths(list(paths), PATH_FLAG), **parse_node_paths(list(node_paths), NODE_PATH_FLAG)},
                          {**parse_substitutes(list(substitutes), SUBSTITUTE_FLAG),
                           **parse_node_substitutes(list(node_substitutes), NODE_SUBSTITUTE_FLAG)})


def resolve_python(paths: Iterable[str] = (), substitutes: Iterable[str] = (),
                   samconfig: Mapping[str, Any] | None = None, template_dir: Path | None = None,
                   environ: Mapping[str, str] | None = None, node_paths: Iterable[str] = (),
                   node_substitutes: Iterable[str] = ()) -> PythonSettings:
    """Flags over the environment over samconfig.toml (whose relative paths are from the template's folder)."""
    sam = samconfig or {}
    from_file = PythonSettings(
        {**parse_paths(sam.get(PATH_KEY), f"samconfig.toml {PATH_KEY} =", template_dir),
         **parse_node_paths(sam.get(NODE_PATH_KEY), f"samconfig.toml {NODE_PATH_KEY} =", template_dir)},
        {**parse_substitutes(sam.get(SUBSTITUTE_KEY), f"samconfig.toml {SUBSTITUTE_KEY} ="),
         **parse_node_substitutes(sam.get(NODE_SUBSTITUTE_KEY), f"samconfig.toml {NODE_SUBSTITUTE_KEY} =")})
    return from_flags(paths, substitutes, node_paths, node_substitutes).over(from_environment(environ).over(from_file))
