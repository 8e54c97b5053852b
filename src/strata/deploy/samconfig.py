"""SAM CLI's ``samconfig.toml``, read so that a SAM user's existing deploy settings work unchanged.

Layout (SAM's): ``[<env>.global.parameters]`` then ``[<env>.<command>.parameters]`` (the command's section wins),
keys in snake_case: stack_name, s3_bucket, s3_prefix, region, profile, capabilities, parameter_overrides, tags,
no_execute_changeset, confirm_changeset. ``capabilities``, ``parameter_overrides`` and ``tags`` may be one string
(space-separated, as SAM writes them) or a list.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from strata.errors import Location, StrataError

FILE_NAME = "samconfig.toml"


class SamConfigError(StrataError):
    """samconfig.toml cannot be read."""


def find_samconfig(template_path: Path, explicit: str | None = None) -> Path | None:
    """``--config-file`` if given (must exist); else samconfig.toml beside the template, else in the current folder."""
    if explicit:
        path = Path(explicit)
        if not path.is_absolute() and not path.exists():
            path = template_path.resolve().parent / explicit
        if not path.is_file():
            raise SamConfigError(f"config file {explicit} not found", hint="check --config-file")
        return path
    for folder in (template_path.resolve().parent, Path.cwd()):
        if (folder / FILE_NAME).is_file():
            return folder / FILE_NAME
    return None


def read_samconfig(path: Path | None, *, env: str = "default", command: str = "deploy") -> dict[str, Any]:
    """The merged parameters for ``command`` in ``env`` (empty when there is no file or no such section)."""
    if path is None:
        return {}
    import tomllib  # only when there is a file: most deploys have none

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SamConfigError(f"cannot read {path.name}: {exc}", location=Location(str(path)),
                             hint="fix the TOML syntax (SAM's format: [default.deploy.parameters])") from exc
    section = data.get(env)
    if section is None:
        if env != "default":
            known = ", ".join(sorted(k for k, v in data.items() if isinstance(v, dict))) or "none"
            raise SamConfigError(f"{path.name} has no environment {env!r} (it has: {known})",
                                 location=Location(str(path)), hint="check --config-env")
        return {}
    merged: dict[str, Any] = {}
    for part in ("global", command):
        params = ((section.get(part) or {}).get("parameters") or {}) if isinstance(section, dict) else {}
        merged.update(params)
    return merged


def words(value: Any) -> list[str]:
    """``"A B"`` or ``["A", "B"]`` -> ``["A", "B"]``."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return str(value).split()


def override_texts(value: Any) -> list[str]:
    """parameter_overrides as the strings ``parse_parameter_overrides`` reads (a TOML table as its JSON object)."""
    if value is None:
        return []
    if isinstance(value, dict):
        import json

        return [json.dumps(value)]
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


def parse_tags(values: Any) -> dict[str, str]:
    """``k=v "k 2"="v 2"`` (string, or list of such strings) -> ``{"k": "v", "k 2": "v 2"}``."""
    import shlex

    out: dict[str, str] = {}
    for text in override_texts(values):
        for item in shlex.split(text):
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise SamConfigError(f"cannot read tag {item!r}", hint="write tags as Key=Value pairs")
            out[key] = value
    return out
