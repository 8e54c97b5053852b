"""The local SSM parameter store: the values that ``AWS::SSM::Parameter::Value<...>`` parameters and
``{{resolve:ssm:NAME}}`` references read on the local target, filled by the user (``strata ssm put``, ``strata ssm
load FILE``).

Why here: the local target has no Parameter Store to ask, and a value from outside the template must be known before
apply (``strata.transform.external``). One table, ``ssm_parameters``, in the home's state database
(``strata.local.state_file``: created 0600, damage reported as such), so a SecureString is as private as every
function's environment. Each put bumps the parameter's version, as Parameter Store does; the version is what
``{{resolve:ssm:NAME:VERSION}}`` may pin (only the current version is kept: an older pin is an error naming it).
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from strata.errors import StrataError
from strata.local import state_file

TYPES = ("String", "StringList", "SecureString")
SCHEMA = """CREATE TABLE IF NOT EXISTS ssm_parameters (
  name TEXT PRIMARY KEY, type TEXT NOT NULL, value TEXT NOT NULL, version INTEGER NOT NULL, updated_at REAL NOT NULL)"""
# Parameter Store's rule: letters, digits and .-_/ ; a path starts with / ; at most 2048 characters
_NAME = re.compile(r"[A-Za-z0-9_./-]{1,2048}")
MAX_VALUE = 8192   # an advanced parameter's limit: a longer value cannot exist in Parameter Store either


@dataclass(frozen=True)
class SsmParameter:
    name: str
    type: str
    value: str
    version: int
    updated_at: float

    def shown(self, with_decryption: bool = False) -> str:
        """The value as printed: a SecureString stays hidden unless asked for."""
        return self.value if self.type != "SecureString" or with_decryption else "****"

    def as_json(self, with_decryption: bool = False) -> dict[str, object]:
        """``--output json``'s object, in SSM's GetParameter member names."""
        return {"Name": self.name, "Type": self.type, "Value": self.shown(with_decryption), "Version": self.version}


class SsmStore(state_file.TableStore):
    """The parameters of one state home."""

    schema = SCHEMA

    def get(self, name: str) -> SsmParameter | None:
        with state_file.guarded(self.path):
            row = self.db.execute("SELECT name, type, value, version, updated_at FROM ssm_parameters WHERE name = ?",
                                  (name,)).fetchone()
        return SsmParameter(*row) if row else None

    def list(self, prefix: str = "") -> list[SsmParameter]:
        with state_file.guarded(self.path):
            rows = self.db.execute("SELECT name, type, value, version, updated_at FROM ssm_parameters "
                                   "WHERE substr(name, 1, ?) = ? ORDER BY name", (len(prefix), prefix)).fetchall()
        return [SsmParameter(*row) for row in rows]

    def put(self, name: str, value: str, type_: str = "String") -> SsmParameter:
        """Create or overwrite ``name`` (a new version each time, as ``ssm put-parameter --overwrite`` does)."""
        check_parameter(name, value, type_)
        with state_file.guarded(self.path):
            self.db.execute("BEGIN IMMEDIATE")
            try:
                row = self.db.execute("SELECT version FROM ssm_parameters WHERE name = ?", (name,)).fetchone()
                version = (row[0] if row else 0) + 1
                self.db.execute("INSERT OR REPLACE INTO ssm_parameters VALUES (?, ?, ?, ?, ?)",
                                (name, type_, value, version, time.time()))
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
        return SsmParameter(name, type_, value, version, time.time())

    def delete(self, name: str) -> bool:
        with state_file.guarded(self.path):
            return self.db.execute("DELETE FROM ssm_parameters WHERE name = ?", (name,)).rowcount > 0


def check_parameter(name: str, value: str, type_: str) -> None:
    """Parameter Store's own rules, so what works here can be put there."""
    if type_ not in TYPES:
        raise StrataError(f"SSM parameter type {type_!r} is not one of {', '.join(TYPES)}")
    if not _NAME.fullmatch(name) or name.lower().lstrip("/").startswith(("aws", "ssm")):
        raise StrataError(f"{name!r} is not a valid SSM parameter name",
                          hint="use letters, digits and . - _ / (a path starts with /); names may not begin with "
                               "aws or ssm")
    if not value:
        raise StrataError(f"SSM parameter {name}: the value is empty (Parameter Store refuses empty values)")
    if len(value.encode()) > MAX_VALUE:
        raise StrataError(f"SSM parameter {name}: the value is longer than {MAX_VALUE} bytes")


def read_parameter_file(path: Path) -> list[tuple[str, str, str]]:
    """``strata ssm load FILE``: a JSON or YAML mapping ``name: value`` or ``name: {Value: ..., Type: ...}``
    (a list value is a StringList) -> (name, value, type) triples."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StrataError(f"cannot read {path}: {exc.strerror or exc}") from None
    data: Any
    try:
        data = json.loads(text)
    except ValueError:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise StrataError(f"{path} is neither JSON nor YAML: {exc}") from None
    if not isinstance(data, dict):
        raise StrataError(f"{path} must hold a mapping of parameter name -> value",
                          hint="write e.g. {\"/app/stage\": \"prod\", \"/app/key\": {\"Value\": \"s\", "
                               "\"Type\": \"SecureString\"}}")
    out = []
    for name, spec in data.items():
        if isinstance(spec, dict):
            value, type_ = spec.get("Value"), str(spec.get("Type", "String"))
        else:
            value, type_ = spec, "String"
        if isinstance(value, list):
            value, type_ = ",".join(str(v) for v in value), "StringList"
        if value is None or isinstance(value, (dict, list)):
            raise StrataError(f"{path}: parameter {name} has no Value")
        text_value = ("true" if value else "false") if isinstance(value, bool) else str(value)
        check_parameter(str(name), text_value, type_)
        out.append((str(name), text_value, type_))
    return out


__all__ = ["SsmParameter", "SsmStore", "TYPES", "check_parameter", "read_parameter_file"]
