"""The version-locked settings verify compares, each in one canonical form for both sides.

A template property (resolved CloudFormation value) and a FunctionConfiguration member (what Lambda reports for
$LATEST or a version) are mapped to the same canonical value, with Lambda's default standing in for an absent one,
so "absent" and "MemorySize: 128" compare equal. The set follows ``strata.transform.fields.VERSIONED`` (the one list
of what a version contains); code is compared separately (CodeSha256). ``update`` turns a canonical value back into
UpdateFunctionConfiguration arguments for ``--repair`` (None: that setting cannot be changed in place).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from strata.model.lambda_defaults import DEFAULTS, LOG_FORMAT
from strata.model.naming import LayerVersionRef


def _text(value: Any) -> Any:
    return None if value in (None, "") else str(value)


def _int(value: Any) -> Any:
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def _env_template(value: Any) -> dict[str, str]:
    variables = (value or {}).get("Variables") if isinstance(value, dict) else None
    return {str(k): _scalar(v) for k, v in (variables or {}).items()}


def _env_live(value: Any) -> dict[str, str]:
    variables = (value or {}).get("Variables") if isinstance(value, dict) else None
    return {str(k): str(v) for k, v in (variables or {}).items()}


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _layers_template(value: Any) -> list[str]:
    return [str(v) for v in (value or [])]


def _layers_live(value: Any) -> list[str]:
    return [str(item.get("Arn")) if isinstance(item, dict) else str(item) for item in (value or [])]


def _member(key: str, default: Any = None, cast: Callable[[Any], Any] = _text) -> Callable[[Any], Any]:
    def read(value: Any) -> Any:
        if isinstance(value, dict) and value.get(key) not in (None, ""):
            return cast(value[key])
        return default
    return read


def _number(name: str) -> Callable[[Any], Any]:
    """An integer setting; absent is Lambda's default (so "absent" and "MemorySize: 128" compare equal)."""
    return lambda value: DEFAULTS[name] if value is None else _int(value)


def _or_default(name: str) -> Callable[[Any], Any]:
    return lambda value: value or DEFAULTS[name]


def _architectures(value: Any) -> list[str]:
    return list(value or DEFAULTS["Architectures"])


def _default_member(prop: str, key: str, cast: Callable[[Any], Any] = _text) -> Callable[[Any], Any]:
    """``prop``'s member ``key``, Lambda's default when absent."""
    return _member(key, DEFAULTS[prop][key], cast)


def _vpc(value: Any) -> dict[str, list[str]]:
    value = value if isinstance(value, dict) else {}
    return {"SubnetIds": sorted(str(v) for v in value.get("SubnetIds") or []),
            "SecurityGroupIds": sorted(str(v) for v in value.get("SecurityGroupIds") or [])}


def _file_systems(value: Any) -> list[dict[str, str]]:
    return [{"Arn": str(v.get("Arn")), "LocalMountPath": str(v.get("LocalMountPath"))}
            for v in (value or []) if isinstance(v, dict)]


def _logging(value: Any) -> dict[str, str]:
    """Members other than Lambda's defaults (Text format, no levels); the log group is compared separately."""
    value = value if isinstance(value, dict) else {}
    out = {k: str(v) for k, v in value.items() if k in ("LogFormat", "ApplicationLogLevel", "SystemLogLevel") and v}
    if out.get("LogFormat") == LOG_FORMAT:
        out.pop("LogFormat")
        out.pop("ApplicationLogLevel", None)   # levels only apply to JSON logs; Lambda drops them for Text
        out.pop("SystemLogLevel", None)
    return out


@dataclass(frozen=True)
class Setting:
    name: str                                  # what a user reads ("MemorySize", "Layers", ...)
    prop: str                                  # AWS::Lambda::Function property
    member: str                                # FunctionConfiguration member
    from_template: Callable[[Any], Any]
    from_live: Callable[[Any], Any]
    update: Callable[[Any], dict[str, Any]] | None


SETTINGS: tuple[Setting, ...] = (
    Setting("Handler", "Handler", "Handler", _text, _text, lambda v: {"Handler": v}),
    Setting("Runtime", "Runtime", "Runtime", _text, _text, lambda v: {"Runtime": v}),
    Setting("Role", "Role", "Role", _text, _text, lambda v: {"Role": v}),
    Setting("MemorySize", "MemorySize", "MemorySize", _number("MemorySize"), _number("MemorySize"),
            lambda v: {"MemorySize": v}),
    Setting("Timeout", "Timeout", "Timeout", _number("Timeout"), _number("Timeout"), lambda v: {"Timeout": v}),
    Setting("Environment", "Environment", "Environment", _env_template, _env_live,
            lambda v: {"Environment": {"Variables": dict(v)}}),
    Setting("Layers", "Layers", "Layers", _layers_template, _layers_live, lambda v: {"Layers": list(v)}),
    Setting("Description", "Description", "Description", _or_default("Description"), _or_default("Description"),
            lambda v: {"Description": v}),
    Setting("Architectures", "Architectures", "Architectures", _architectures, _architectures, None),
    Setting("EphemeralStorage", "EphemeralStorage", "EphemeralStorage", _default_member("EphemeralStorage", "Size",
            _int), _default_member("EphemeralStorage", "Size", _int), lambda v: {"EphemeralStorage": {"Size": v}}),
    Setting("TracingConfig", "TracingConfig", "TracingConfig", _default_member("TracingConfig", "Mode"),
            _default_member("TracingConfig", "Mode"), lambda v: {"TracingConfig": {"Mode": v}}),
    Setting("DeadLetterConfig", "DeadLetterConfig", "DeadLetterConfig", _member("TargetArn"), _member("TargetArn"),
            lambda v: {"DeadLetterConfig": {"TargetArn": v or DEFAULTS["DeadLetterConfig"]["TargetArn"]}}),
    Setting("KmsKeyArn", "KmsKeyArn", "KMSKeyArn", _text, _text, lambda v: {"KMSKeyArn": v or DEFAULTS["KmsKeyArn"]}),
    Setting("VpcConfig", "VpcConfig", "VpcConfig", _vpc, _vpc, lambda v: {"VpcConfig": dict(v)}),
    Setting("FileSystemConfigs", "FileSystemConfigs", "FileSystemConfigs", _file_systems, _file_systems,
            lambda v: {"FileSystemConfigs": list(v)}),
    Setting("SnapStart", "SnapStart", "SnapStart", _default_member("SnapStart", "ApplyOn"),
            _default_member("SnapStart", "ApplyOn"), lambda v: {"SnapStart": {"ApplyOn": v}}),
    Setting("LoggingConfig", "LoggingConfig", "LoggingConfig", _logging, _logging,
            lambda v: {"LoggingConfig": {"LogFormat": LOG_FORMAT, **v}}),
    Setting("PackageType", "PackageType", "PackageType", _or_default("PackageType"), _or_default("PackageType"),
            None),
)

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


def live_settings(configuration: dict[str, Any]) -> dict[str, Any]:
    """Canonical value of every setting in a FunctionConfiguration (``$LATEST`` or a version)."""
    return {s.name: s.from_live(configuration.get(s.member)) for s in SETTINGS}


def layer_label(arn: str) -> str:
    """``arn:aws:lambda:r:a:layer:shared:4`` -> ``shared:4`` (what people call a layer version)."""
    try:
        return LayerVersionRef.parse(str(arn)).label
    except ValueError:
        return str(arn)


def describe(name: str, value: Any) -> str:
    """A setting's value in words: ``Timeout 10``, ``layers shared:4, util:2``, ``no layers``."""
    if name == "Layers":
        return "layers " + ", ".join(layer_label(a) for a in value) if value else "no layers"
    if name == "Environment":
        return "environment " + (", ".join(f"{k}={v}" for k, v in sorted(value.items())) or "(none)")
    if value in (None, "", [], {}):
        return f"no {name}"
    if isinstance(value, (list, dict)):
        import json
        return f"{name} {json.dumps(value, sort_keys=True)}"
    return f"{name} {value}"


def differences(name: str, live: Any, expected: Any) -> list[tuple[str, str]]:
    """(what is served, what was deployed) phrases for one setting; several for layers and environment."""
    if name == "Layers" and len(live) == len(expected):
        return [(f"layer {layer_label(a)}", layer_label(b)) for a, b in zip(live, expected) if a != b]
    if name == "Environment":
        out = []
        for key in sorted(set(live) | set(expected)):
            if live.get(key) != expected.get(key):
                served = f"{key}={live[key]}" if key in live else f"{key} unset"
                deployed = f"{key}={expected[key]}" if key in expected else f"{key} unset"
                out.append((f"environment variable {served}", deployed))
        return out
    return [(describe(name, live), describe(name, expected))]
