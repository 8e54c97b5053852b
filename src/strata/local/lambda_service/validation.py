"""Lambda's limits and patterns, with the exact texts AWS answers (reference sections 1.2, 4.3, 7, 8, 11).

Server-side constraint failures are collected and raised once as AWS does: ``N validation errors detected: a; b``.
Semantic failures (reserved keys, 4 KB environment, layer rules ...) are ``InvalidParameterValueException``.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from strata.model.lambda_errors import InvalidParameterValueException, ValidationException

MEMORY_MIN, MEMORY_MAX = 128, 10240
TIMEOUT_MIN, TIMEOUT_MAX = 1, 900
EPHEMERAL_MIN, EPHEMERAL_MAX = 512, 10240
ENV_MAX_BYTES = 4096
NAME_MAX = 64
DESCRIPTION_MAX = 256
HANDLER_MAX = 128
MAX_LAYERS = 5
MAX_TAGS = 50
ZIPPED_MAX = 52428800
SYNC_PAYLOAD_MAX = 6291456
ASYNC_PAYLOAD_MAX = 1048576
ALIAS_MAX = 128

ROLE_PATTERN = r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+"
HANDLER_PATTERN = r"[^\s]+"
ALIAS_PATTERN = r"(?!^[0-9]+$)([a-zA-Z0-9-_]+)"
ENV_KEY_PATTERN = r"[a-zA-Z]([a-zA-Z0-9_])+"
ARCHITECTURES = ("x86_64", "arm64")
TRACING_MODES = ("Active", "PassThrough")
LOG_FORMATS = ("JSON", "Text")

# Runtimes a function may be created or updated with (recorded set 2026-01, plus the model's newer entries).
RUNTIMES = (
    "nodejs16.x", "nodejs18.x", "nodejs20.x", "nodejs22.x", "nodejs24.x", "nodejs26.x",
    "python3.8", "python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14", "python3.15",
    "java8.al2", "java11", "java17", "java21", "java25", "java8.al2023", "java11.al2023", "java17.al2023",
    "dotnet6", "dotnet8", "dotnet10", "ruby3.2", "ruby3.3", "ruby3.4", "ruby4.0", "provided.al2", "provided.al2023",
)
# In the model's enum but no longer creatable
DEPRECATED_RUNTIMES = (
    "nodejs", "nodejs4.3", "nodejs6.10", "nodejs8.10", "nodejs10.x", "nodejs12.x", "nodejs14.x", "java8", "python2.7",
    "python3.6", "python3.7", "dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1", "dotnetcore3.1", "nodejs4.3-edge",
    "go1.x", "ruby2.5", "ruby2.7", "provided",
)
RESERVED_ENV_KEYS = (
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR", "TZ",
)

_ROLE = re.compile(ROLE_PATTERN)
_HANDLER = re.compile(HANDLER_PATTERN)
_ALIAS = re.compile(r"[a-zA-Z0-9_-]+")
_ENV_KEY = re.compile(ENV_KEY_PATTERN)


class Checks:
    """Collects constraint failures; ``raise_if_any`` raises the one ValidationException AWS would send."""

    def __init__(self) -> None:
        self.failures: list[str] = []

    def fail(self, value: object, path: str, constraint: str) -> None:
        shown = "null" if value is None else f"'{value}'"
        self.failures.append(f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}")

    def max_length(self, value: str | None, path: str, limit: int) -> None:
        if value is not None and len(value) > limit:
            self.fail(value, path, f"Member must have length less than or equal to {limit}")

    def pattern(self, value: str | None, path: str, regex: re.Pattern[str], shown: str) -> None:
        if value is not None and not regex.fullmatch(value):
            self.fail(value, path, f"Member must satisfy regular expression pattern: {shown}")

    def range(self, value: int | None, path: str, low: int, high: int) -> None:
        if value is None:
            return
        if value < low:
            self.fail(value, path, f"Member must have value greater than or equal to {low}")
        elif value > high:
            self.fail(value, path, f"Member must have value less than or equal to {high}")

    def enum(self, value: str | None, path: str, allowed: Iterable[str]) -> None:
        allowed = tuple(allowed)
        if value is not None and value not in allowed:
            self.fail(value, path, f"Member must satisfy enum value set: [{', '.join(allowed)}]")

    def raise_if_any(self) -> None:
        if self.failures:
            count = len(self.failures)
            noun = "error" if count == 1 else "errors"
            raise ValidationException(f"{count} validation {noun} detected: " + "; ".join(self.failures))


def check_role(checks: Checks, role: str | None) -> None:
    checks.pattern(role, "role", _ROLE, ROLE_PATTERN)


def check_handler(checks: Checks, handler: str | None) -> None:
    checks.max_length(handler, "handler", HANDLER_MAX)
    if handler is not None and len(handler) <= HANDLER_MAX:
        checks.pattern(handler, "handler", _HANDLER, HANDLER_PATTERN)


def check_architectures(checks: Checks, architectures: list[str] | None) -> None:
    if architectures is None:
        return
    if len(architectures) > 1:
        checks.fail(_java_list(architectures), "architectures", "Member must have length less than or equal to 1")
    elif any(a not in ARCHITECTURES for a in architectures):
        checks.fail(_java_list(architectures), "architectures",
                    "Member must satisfy constraint: "
                    f"[Member must satisfy enum value set: [{', '.join(ARCHITECTURES)}]]")


def check_runtime(runtime: str | None) -> None:
    """Runtime failures are InvalidParameterValueException on AWS (reference 4.3), checked after the pattern ones."""
    if runtime is None or runtime in RUNTIMES:
        return
    if runtime in DEPRECATED_RUNTIMES:
        # UNVERIFIED wording tail: AWS names a suggested replacement runtime in some variants
        raise InvalidParameterValueException(
            f"The runtime parameter of {runtime} is no longer supported for creating or updating AWS Lambda "
            "functions. We recommend you use a supported runtime while creating or updating functions.")
    raise InvalidParameterValueException(
        f"Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: "
        f"[{', '.join(RUNTIMES)}] or be a valid ARN")


def check_environment_keys(checks: Checks, variables: Mapping[str, str] | None) -> None:
    if variables and any(not _ENV_KEY.fullmatch(k) for k in variables):
        # Java map rendering as in AWS's other map messages; UNVERIFIED for environment variables
        checks.fail(_java_map(variables), "environment.variables",
                    f"Map keys must satisfy constraint: [Member must satisfy regular expression pattern: "
                    f"{ENV_KEY_PATTERN}]")


def check_environment(variables: Mapping[str, str] | None) -> None:
    """Reserved keys, then the 4 KB limit measured on the compact JSON of the map (reference 4.3)."""
    if not variables:
        return
    reserved = [k for k in variables if k in RESERVED_ENV_KEYS]
    if reserved:
        raise InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the environment variables you have "
            "provided contains reserved keys that are currently not supported for modification. Reserved keys used "
            f"in this request: {', '.join(reserved)}")
    measured = json.dumps(dict(variables), separators=(",", ":"), ensure_ascii=False)
    if len(measured.encode("utf-8")) > ENV_MAX_BYTES:
        raise InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the environment variables you have "
            f"provided exceeded the 4KB limit. String measured: {measured}")


def check_alias_name(checks: Checks, name: str | None, path: str = "name") -> None:
    if name is None:
        return
    checks.max_length(name, path, ALIAS_MAX)
    if not _ALIAS.fullmatch(name) or name.isdigit():
        checks.fail(name, path, f"Member must satisfy regular expression pattern: {ALIAS_PATTERN}")


def check_tags_count(tags: Mapping[str, str] | None) -> None:
    if tags is not None and len(tags) > MAX_TAGS:
        raise InvalidParameterValueException("Number of tags exceeds resource tag limit.")


def _java_list(items: Iterable[object]) -> str:
    return "[" + ", ".join(str(i) for i in items) + "]"


def _java_map(mapping: Mapping[Any, object]) -> str:
    return "{" + ", ".join(f"{k}={v}" for k, v in mapping.items()) + "}"


def java_map(mapping: Mapping[Any, object]) -> str:
    """A map as AWS's Java service prints it in validation texts: ``{2=2.0}``."""
    return _java_map(mapping)
