"""Typed values for Lambda's request and response shapes.

Field names are the snake_case of botocore's member names (``code_sha256`` is ``CodeSha256``); ``convert`` maps them to
and from the wire. Fields left ``None`` are omitted on the wire, as AWS omits absent members (reference section 4.1).
Maps whose keys are data (tags, environment variables, routing weights) stay plain dicts.
"""
from __future__ import annotations

from dataclasses import dataclass, field


# ---- function configuration pieces ------------------------------------------------------------------------------
@dataclass(frozen=True)
class FunctionCode:
    """CreateFunction's ``Code`` / UpdateFunctionCode's code members: bytes, or a content-addressed S3 key."""

    zip_file: bytes | None = None
    s3_bucket: str | None = None
    s3_key: str | None = None
    s3_object_version: str | None = None
    image_uri: str | None = None


@dataclass(frozen=True)
class Environment:
    variables: dict[str, str] | None = None


@dataclass(frozen=True)
class EnvironmentResponse:
    variables: dict[str, str] | None = None


@dataclass(frozen=True)
class VpcConfig:
    subnet_ids: list[str] | None = None
    security_group_ids: list[str] | None = None
    ipv6_allowed_for_dual_stack: bool | None = None


@dataclass(frozen=True)
class VpcConfigResponse:
    subnet_ids: list[str] | None = None
    security_group_ids: list[str] | None = None
    vpc_id: str | None = None
    ipv6_allowed_for_dual_stack: bool | None = None


@dataclass(frozen=True)
class DeadLetterConfig:
    target_arn: str | None = None


@dataclass(frozen=True)
class TracingConfig:
    mode: str | None = None


@dataclass(frozen=True)
class LoggingConfig:
    log_format: str | None = None
    application_log_level: str | None = None
    system_log_level: str | None = None
    log_group: str | None = None


@dataclass(frozen=True)
class SnapStart:
    apply_on: str | None = None


@dataclass(frozen=True)
class SnapStartResponse:
    apply_on: str | None = None
    optimization_status: str | None = None


@dataclass(frozen=True)
class EphemeralStorage:
    size: int = 512


@dataclass(frozen=True)
class ImageConfig:
    entry_point: list[str] | None = None
    command: list[str] | None = None
    working_directory: str | None = None


@dataclass(frozen=True)
class ImageConfigResponse:
    image_config: ImageConfig | None = None


@dataclass(frozen=True)
class FileSystemConfig:
    arn: str = ""
    local_mount_path: str = ""


@dataclass(frozen=True)
class Layer:
    """A layer version attached to a function, as FunctionConfiguration lists it."""

    arn: str = ""
    code_size: int = 0


@dataclass(frozen=True)
class FunctionConfiguration:
    function_name: str | None = None
    function_arn: str | None = None
    runtime: str | None = None
    role: str | None = None
    handler: str | None = None
    code_size: int | None = None
    description: str | None = None
    timeout: int | None = None
    memory_size: int | None = None
    last_modified: str | None = None
    code_sha256: str | None = None
    version: str | None = None
    vpc_config: VpcConfigResponse | None = None
    dead_letter_config: DeadLetterConfig | None = None
    environment: EnvironmentResponse | None = None
    kms_key_arn: str | None = None
    tracing_config: TracingConfig | None = None
    master_arn: str | None = None
    revision_id: str | None = None
    layers: list[Layer] | None = None
    state: str | None = None
    state_reason: str | None = None
    state_reason_code: str | None = None
    last_update_status: str | None = None
    last_update_status_reason: str | None = None
    last_update_status_reason_code: str | None = None
    file_system_configs: list[FileSystemConfig] | None = None
    package_type: str | None = None
    image_config_response: ImageConfigResponse | None = None
    architectures: list[str] | None = None
    ephemeral_storage: EphemeralStorage | None = None
    snap_start: SnapStartResponse | None = None
    logging_config: LoggingConfig | None = None


@dataclass(frozen=True)
class FunctionCodeLocation:
    repository_type: str | None = None
    location: str | None = None


@dataclass(frozen=True)
class Concurrency:
    reserved_concurrent_executions: int | None = None


@dataclass(frozen=True)
class GetFunctionResponse:
    configuration: FunctionConfiguration | None = None
    code: FunctionCodeLocation | None = None
    tags: dict[str, str] | None = None
    concurrency: Concurrency | None = None


@dataclass(frozen=True)
class ListFunctionsResponse:
    functions: list[FunctionConfiguration] = field(default_factory=list)
    next_marker: str | None = None


@dataclass(frozen=True)
class ListVersionsByFunctionResponse:
    versions: list[FunctionConfiguration] = field(default_factory=list)
    next_marker: str | None = None


# ---- aliases ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AliasRoutingConfiguration:
    additional_version_weights: dict[str, float] | None = None


@dataclass(frozen=True)
class AliasConfiguration:
    alias_arn: str | None = None
    name: str | None = None
    function_version: str | None = None
    description: str | None = None
    routing_config: AliasRoutingConfiguration | None = None
    revision_id: str | None = None


@dataclass(frozen=True)
class ListAliasesResponse:
    aliases: list[AliasConfiguration] = field(default_factory=list)
    next_marker: str | None = None


# ---- layers -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LayerVersionContentInput:
    s3_bucket: str | None = None
    s3_key: str | None = None
    s3_object_version: str | None = None
    zip_file: bytes | None = None


@dataclass(frozen=True)
class LayerVersionContentOutput:
    location: str | None = None
    code_sha256: str | None = None
    code_size: int | None = None


@dataclass(frozen=True)
class LayerVersion:
    """PublishLayerVersion / GetLayerVersion / GetLayerVersionByArn output."""

    content: LayerVersionContentOutput | None = None
    layer_arn: str | None = None
    layer_version_arn: str | None = None
    description: str | None = None
    created_date: str | None = None
    version: int | None = None
    compatible_architectures: list[str] | None = None
    compatible_runtimes: list[str] | None = None
    license_info: str | None = None


@dataclass(frozen=True)
class LayerVersionsListItem:
    layer_version_arn: str | None = None
    version: int | None = None
    description: str | None = None
    created_date: str | None = None
    compatible_architectures: list[str] | None = None
    compatible_runtimes: list[str] | None = None
    license_info: str | None = None


@dataclass(frozen=True)
class LayersListItem:
    layer_name: str | None = None
    layer_arn: str | None = None
    latest_matching_version: LayerVersionsListItem | None = None


@dataclass(frozen=True)
class ListLayerVersionsResponse:
    layer_versions: list[LayerVersionsListItem] = field(default_factory=list)
    next_marker: str | None = None


@dataclass(frozen=True)
class ListLayersResponse:
    layers: list[LayersListItem] = field(default_factory=list)
    next_marker: str | None = None


# ---- tags, account ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ListTagsResponse:
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AccountLimit:
    total_code_size: int = 80530636800
    code_size_unzipped: int = 262144000
    code_size_zipped: int = 52428800
    concurrent_executions: int = 1000
    unreserved_concurrent_executions: int = 1000


@dataclass(frozen=True)
class AccountUsage:
    total_code_size: int = 0
    function_count: int = 0


@dataclass(frozen=True)
class GetAccountSettingsResponse:
    account_limit: AccountLimit = field(default_factory=AccountLimit)
    account_usage: AccountUsage = field(default_factory=AccountUsage)
