"""Building and checking a function's configuration: defaults and computed fields (reference 4.1), constraint
checks (4.3), and the transitional states AWS reports right after Create/Update (4.1, 4.2)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from strata.local.lambda_service import validation as v
from strata.local.lambda_service.shapes import (
    DeadLetterConfig,
    Environment,
    EnvironmentResponse,
    EphemeralStorage,
    FileSystemConfig,
    FunctionConfiguration,
    ImageConfig,
    ImageConfigResponse,
    Layer,
    LoggingConfig,
    SnapStart,
    SnapStartResponse,
    TracingConfig,
    VpcConfig,
    VpcConfigResponse,
)
from strata.model.lambda_defaults import DEFAULTS, LOG_FORMAT, log_group
from strata.model.naming import LATEST

CREATING = "The function is being created."


@dataclass(frozen=True)
class Settings:
    """The version-level members CreateFunction and UpdateFunctionConfiguration accept; ``None`` = not given."""

    role: str | None = None
    handler: str | None = None
    runtime: str | None = None
    description: str | None = None
    timeout: int | None = None
    memory_size: int | None = None
    vpc_config: VpcConfig | None = None
    environment: Environment | None = None
    dead_letter_config: DeadLetterConfig | None = None
    kms_key_arn: str | None = None
    tracing_config: TracingConfig | None = None
    file_system_configs: list[FileSystemConfig] | None = None
    image_config: ImageConfig | None = None
    ephemeral_storage: EphemeralStorage | None = None
    snap_start: SnapStart | None = None
    logging_config: LoggingConfig | None = None


def check_settings(s: Settings) -> None:
    """Pattern/range failures (one ValidationException listing all), then the semantic ones AWS checks after."""
    checks = v.Checks()
    v.check_role(checks, s.role)
    v.check_handler(checks, s.handler)
    checks.max_length(s.description, "description", v.DESCRIPTION_MAX)
    checks.range(s.timeout, "timeout", v.TIMEOUT_MIN, v.TIMEOUT_MAX)
    checks.range(s.memory_size, "memorySize", v.MEMORY_MIN, v.MEMORY_MAX)
    if s.ephemeral_storage is not None:
        checks.range(s.ephemeral_storage.size, "ephemeralStorage.size", v.EPHEMERAL_MIN, v.EPHEMERAL_MAX)
    if s.tracing_config is not None:
        checks.enum(s.tracing_config.mode, "tracingConfig.mode", v.TRACING_MODES)
    if s.logging_config is not None:
        checks.enum(s.logging_config.log_format, "loggingConfig.logFormat", v.LOG_FORMATS)
    if s.environment is not None:
        v.check_environment_keys(checks, s.environment.variables)
    checks.raise_if_any()
    v.check_runtime(s.runtime)
    if s.environment is not None:
        v.check_environment(s.environment.variables)


def initial_config(name: str, arn: str) -> FunctionConfiguration:
    """A new function's $LATEST before the request's settings are applied: AWS's defaults (reference 4.1)."""
    d = DEFAULTS
    return FunctionConfiguration(
        function_name=name, function_arn=arn, description=d["Description"], timeout=d["Timeout"],
        memory_size=d["MemorySize"], version=LATEST, tracing_config=TracingConfig(mode=d["TracingConfig"]["Mode"]),
        state="Active", last_update_status="Successful", package_type=d["PackageType"],
        architectures=list(d["Architectures"]), ephemeral_storage=EphemeralStorage(size=d["EphemeralStorage"]["Size"]),
        snap_start=SnapStartResponse(apply_on=d["SnapStart"]["ApplyOn"], optimization_status="Off"),
        logging_config=LoggingConfig(log_format=LOG_FORMAT, log_group=log_group(name)))


def apply_settings(config: FunctionConfiguration, s: Settings) -> FunctionConfiguration:
    """``config`` with every given setting applied (an explicit empty environment or list replaces the old one)."""
    changes: dict[str, Any] = {}                 # FunctionConfiguration field -> value of that field's type
    for name in ("role", "handler", "runtime", "description", "timeout", "memory_size", "dead_letter_config",
                 "ephemeral_storage", "file_system_configs"):
        value = getattr(s, name)
        if value is not None:
            changes[name] = value
    if s.kms_key_arn is not None:
        changes["kms_key_arn"] = s.kms_key_arn or None
    if s.vpc_config is not None:
        changes["vpc_config"] = VpcConfigResponse(
            subnet_ids=list(s.vpc_config.subnet_ids or []),
            security_group_ids=list(s.vpc_config.security_group_ids or []),
            ipv6_allowed_for_dual_stack=s.vpc_config.ipv6_allowed_for_dual_stack)
    if s.environment is not None:
        changes["environment"] = EnvironmentResponse(variables=dict(s.environment.variables or {}))
    if s.tracing_config is not None and s.tracing_config.mode is not None:
        changes["tracing_config"] = TracingConfig(mode=s.tracing_config.mode)
    if s.image_config is not None:
        changes["image_config_response"] = ImageConfigResponse(image_config=s.image_config)
    if s.snap_start is not None and s.snap_start.apply_on is not None:
        changes["snap_start"] = SnapStartResponse(apply_on=s.snap_start.apply_on, optimization_status="Off")
    if s.logging_config is not None:
        current = config.logging_config or LoggingConfig()
        given = {k: val for k, val in dataclasses.asdict(s.logging_config).items() if val is not None}
        changes["logging_config"] = dataclasses.replace(current, **given)
    return dataclasses.replace(config, **changes)


def with_layers(config: FunctionConfiguration, layers: list[Layer]) -> FunctionConfiguration:
    """AWS omits ``Layers`` when a function has none."""
    return dataclasses.replace(config, layers=list(layers) or None)


def as_creating(config: FunctionConfiguration, revision_id: str) -> FunctionConfiguration:
    """What CreateFunction answers: Pending, and a RevisionId that the finished state transition replaces (4.2)."""
    return dataclasses.replace(config, state="Pending", state_reason=CREATING, state_reason_code="Creating",
                               last_update_status=None, last_update_status_reason=None,
                               last_update_status_reason_code=None, revision_id=revision_id)


def as_updating(config: FunctionConfiguration, revision_id: str) -> FunctionConfiguration:
    """What UpdateFunctionCode/Configuration answer: InProgress, and a RevisionId the finished update replaces."""
    return dataclasses.replace(config, last_update_status="InProgress", last_update_status_reason=CREATING,
                               last_update_status_reason_code="Creating", revision_id=revision_id)
