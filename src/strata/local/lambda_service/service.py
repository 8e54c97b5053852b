"""``LambdaService``: the local Lambda control plane, one method per Lambda operation (snake_case).

Arguments are the operation's request members in snake_case (nested members as ``shapes`` dataclasses); results are
``shapes`` dataclasses (``invoke`` returns the runtime's ``InvokeResult``); failures are ``strata.model.lambda_errors``
exceptions carrying Lambda's code, status and message. State is one SQLite database plus the artifact store under
``home``; every call is one transaction, so several processes may share a home. The three doors (stack engine, CLI,
HTTP server via ``wire.dispatch``) all go through this class.
"""
from __future__ import annotations

import random
import threading
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from strata.artifacts.store import ArtifactStore
from strata.local.lambda_service import aliases, concurrency, functions, invoke, layers, versions
from strata.local.lambda_service import tags as _tags
from strata.local.lambda_service.configuration import Settings
from strata.local.lambda_service.context import Context, utc_now
from strata.local.lambda_service.shapes import (
    AliasConfiguration,
    AliasRoutingConfiguration,
    Concurrency,
    DeadLetterConfig,
    Environment,
    EphemeralStorage,
    FileSystemConfig,
    FunctionCode,
    FunctionConfiguration,
    GetAccountSettingsResponse,
    GetFunctionResponse,
    ImageConfig,
    LayerVersion,
    LayerVersionContentInput,
    ListAliasesResponse,
    ListFunctionsResponse,
    ListLayersResponse,
    ListLayerVersionsResponse,
    ListTagsResponse,
    ListVersionsByFunctionResponse,
    LoggingConfig,
    SnapStart,
    TracingConfig,
    VpcConfig,
)
from strata.local.lambda_service.store import Database
from strata.local.runtime.api import InvokeResult, OnDone, Runtime
from strata.paths import database_path

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from strata.local.lambda_service.overrides import EnvOverrides


class LambdaService:
    """Lambda's semantics over local state in ``home``. ``runtime`` defaults to a lazily started
    ``strata.local.runtime.pool.WorkerPool(home)``; ``rng``/``clock``/``new_id`` are injectable for tests.
    ``keep_connection``: one database connection per thread for the service's life (a service made for one deploy),
    instead of one per call (a long-lived server, which must notice its state file being replaced)."""

    def __init__(self, home: Path, *, region: str = "us-east-1", account_id: str = "123456789012",
                 runtime: Runtime | None = None, rng: random.Random | None = None,
                 clock: Callable[[], datetime] | None = None, new_id: Callable[[], str] | None = None,
                 env_overrides: EnvOverrides | None = None, keep_connection: bool = False) -> None:
        self.home = Path(home)
        db = Database(database_path(self.home), keep_open=keep_connection)
        ctx = Context(region=region, account_id=account_id, db=db,
                      artifacts=ArtifactStore(self.home), clock=clock or utc_now, env_overrides=env_overrides)
        if new_id is not None:
            ctx.new_id = new_id
        if rng is not None:
            ctx.rng = rng
        self.ctx = ctx
        self._runtime = runtime
        self._runtime_lock = threading.Lock()

    @property
    def region(self) -> str:
        return self.ctx.region

    @property
    def account_id(self) -> str:
        return self.ctx.account_id

    # ---- runtime ------------------------------------------------------------------------------------------------
    @property
    def runtime(self) -> Runtime:
        """The runtime, started on first use (importing the pool only then keeps the control plane light)."""
        with self._runtime_lock:
            if self._runtime is None:
                from strata.local.runtime.pool import WorkerPool

                self._runtime = WorkerPool(self.home)
            return self._runtime

    def set_env_overrides(self, overrides: EnvOverrides | None) -> None:
        """Apply these local ``--env-vars`` overrides to the environments started from now on (``strata dev`` after a
        deploy named new functions); cached resolutions are dropped so the next invoke freezes a new snapshot."""
        self.ctx.env_overrides = overrides
        invoke.forget_resolutions(self.ctx.db)

    def drain(self, timeout: float | None = None) -> bool:
        """Wait for queued Event invocations to finish (the CLI must not exit before they ran)."""
        with self._runtime_lock:
            runtime = self._runtime
        return True if runtime is None else runtime.drain(timeout)

    def close(self) -> None:
        """Stop the runtime if this service started or was given one; close the database connections it kept."""
        with self._runtime_lock:
            runtime, self._runtime = self._runtime, None
        if runtime is not None:
            runtime.close()
        self.ctx.db.close()

    def __enter__(self) -> LambdaService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- functions ----------------------------------------------------------------------------------------------
    def create_function(self, *, function_name: str, role: str, code: FunctionCode, runtime: str | None = None,
                        handler: str | None = None, description: str | None = None, timeout: int | None = None,
                        memory_size: int | None = None, publish: bool = False, vpc_config: VpcConfig | None = None,
                        package_type: str | None = None, dead_letter_config: DeadLetterConfig | None = None,
                        environment: Environment | None = None, kms_key_arn: str | None = None,
                        tracing_config: TracingConfig | None = None, tags: dict[str, str] | None = None,
                        layers: list[str] | None = None, file_system_configs: list[FileSystemConfig] | None = None,
                        image_config: ImageConfig | None = None, architectures: list[str] | None = None,
                        ephemeral_storage: EphemeralStorage | None = None, snap_start: SnapStart | None = None,
                        logging_config: LoggingConfig | None = None,
                        code_signing_config_arn: str | None = None) -> FunctionConfiguration:
        return functions.create_function(
            self.ctx, function_name=function_name, role=role, code=code, runtime=runtime, handler=handler,
            description=description, timeout=timeout, memory_size=memory_size, publish=bool(publish),
            vpc_config=vpc_config, package_type=package_type, dead_letter_config=dead_letter_config,
            environment=environment, kms_key_arn=kms_key_arn, tracing_config=tracing_config, tags=tags,
            layers=layers, file_system_configs=file_system_configs, image_config=image_config,
            architectures=architectures, ephemeral_storage=ephemeral_storage, snap_start=snap_start,
            logging_config=logging_config, code_signing_config_arn=code_signing_config_arn)

    def get_function(self, *, function_name: str, qualifier: str | None = None) -> GetFunctionResponse:
        return functions.get_function(self.ctx, function_name=function_name, qualifier=qualifier)

    def get_function_configuration(self, *, function_name: str,
                                   qualifier: str | None = None) -> FunctionConfiguration:
        return functions.get_function_configuration(self.ctx, function_name=function_name, qualifier=qualifier)

    def update_function_code(self, *, function_name: str, zip_file: bytes | None = None,
                             s3_bucket: str | None = None, s3_key: str | None = None,
                             s3_object_version: str | None = None, image_uri: str | None = None,
                             publish: bool = False, dry_run: bool = False, revision_id: str | None = None,
                             architectures: list[str] | None = None) -> FunctionConfiguration:
        return functions.update_function_code(
            self.ctx, function_name=function_name, zip_file=zip_file, s3_bucket=s3_bucket, s3_key=s3_key,
            s3_object_version=s3_object_version, image_uri=image_uri, publish=bool(publish), dry_run=bool(dry_run),
            revision_id=revision_id, architectures=architectures)

    def update_function_configuration(
            self, *, function_name: str, role: str | None = None, handler: str | None = None,
            description: str | None = None, timeout: int | None = None, memory_size: int | None = None,
            vpc_config: VpcConfig | None = None, environment: Environment | None = None, runtime: str | None = None,
            dead_letter_config: DeadLetterConfig | None = None, kms_key_arn: str | None = None,
            tracing_config: TracingConfig | None = None, revision_id: str | None = None,
            layers: list[str] | None = None, file_system_configs: list[FileSystemConfig] | None = None,
            image_config: ImageConfig | None = None, ephemeral_storage: EphemeralStorage | None = None,
            snap_start: SnapStart | None = None, logging_config: LoggingConfig | None = None,
    ) -> FunctionConfiguration:
        given = Settings(role=role, handler=handler, runtime=runtime, description=description, timeout=timeout,
                         memory_size=memory_size, vpc_config=vpc_config, environment=environment,
                         dead_letter_config=dead_letter_config, kms_key_arn=kms_key_arn,
                         tracing_config=tracing_config, file_system_configs=file_system_configs,
                         image_config=image_config, ephemeral_storage=ephemeral_storage, snap_start=snap_start,
                         logging_config=logging_config)
        return functions.update_function_configuration(
            self.ctx, function_name=function_name, revision_id=revision_id, layers=layers, **vars(given))

    def delete_function(self, *, function_name: str, qualifier: str | None = None) -> None:
        functions.delete_function(self.ctx, function_name=function_name, qualifier=qualifier)

    def list_functions(self, *, master_region: str | None = None, function_version: str | None = None,
                       marker: str | None = None, max_items: int | None = None) -> ListFunctionsResponse:
        return functions.list_functions(self.ctx, master_region=master_region, function_version=function_version,
                                        marker=marker, max_items=max_items)

    # ---- versions -----------------------------------------------------------------------------------------------
    def publish_version(self, *, function_name: str, code_sha256: str | None = None,
                        description: str | None = None, revision_id: str | None = None) -> FunctionConfiguration:
        return versions.publish_version(self.ctx, function_name=function_name, code_sha256=code_sha256,
                                        description=description, revision_id=revision_id)

    def list_versions_by_function(self, *, function_name: str, marker: str | None = None,
                                  max_items: int | None = None) -> ListVersionsByFunctionResponse:
        return versions.list_versions_by_function(self.ctx, function_name=function_name, marker=marker,
                                                  max_items=max_items)

    def highest_version_number(self, function_name: str) -> int:
        """Not a Lambda operation (``versions.highest_version_number``): the in-process engine's shortcut."""
        return versions.highest_version_number(self.ctx, function_name=function_name)

    # ---- aliases ------------------------------------------------------------------------------------------------
    def create_alias(self, *, function_name: str, name: str, function_version: str, description: str | None = None,
                     routing_config: AliasRoutingConfiguration | None = None) -> AliasConfiguration:
        return aliases.create_alias(self.ctx, function_name=function_name, name=name,
                                    function_version=function_version, description=description,
                                    routing_config=routing_config)

    def get_alias(self, *, function_name: str, name: str) -> AliasConfiguration:
        return aliases.get_alias(self.ctx, function_name=function_name, name=name)

    def update_alias(self, *, function_name: str, name: str, function_version: str | None = None,
                     description: str | None = None, routing_config: AliasRoutingConfiguration | None = None,
                     revision_id: str | None = None) -> AliasConfiguration:
        return aliases.update_alias(self.ctx, function_name=function_name, name=name,
                                    function_version=function_version, description=description,
                                    routing_config=routing_config, revision_id=revision_id)

    def delete_alias(self, *, function_name: str, name: str) -> None:
        aliases.delete_alias(self.ctx, function_name=function_name, name=name)

    def list_aliases(self, *, function_name: str, function_version: str | None = None, marker: str | None = None,
                     max_items: int | None = None) -> ListAliasesResponse:
        return aliases.list_aliases(self.ctx, function_name=function_name, function_version=function_version,
                                    marker=marker, max_items=max_items)

    # ---- layers -------------------------------------------------------------------------------------------------
    def publish_layer_version(self, *, layer_name: str, content: LayerVersionContentInput,
                              description: str | None = None, compatible_runtimes: list[str] | None = None,
                              compatible_architectures: list[str] | None = None,
                              license_info: str | None = None) -> LayerVersion:
        return layers.publish_layer_version(
            self.ctx, layer_name=layer_name, content=content, description=description,
            compatible_runtimes=compatible_runtimes, compatible_architectures=compatible_architectures,
            license_info=license_info)

    def get_layer_version(self, *, layer_name: str, version_number: int) -> LayerVersion:
        return layers.get_layer_version(self.ctx, layer_name=layer_name, version_number=int(version_number))

    def get_layer_version_by_arn(self, *, arn: str) -> LayerVersion:
        return layers.get_layer_version_by_arn(self.ctx, arn=arn)

    def list_layer_versions(self, *, layer_name: str, compatible_runtime: str | None = None,
                            compatible_architecture: str | None = None, marker: str | None = None,
                            max_items: int | None = None) -> ListLayerVersionsResponse:
        return layers.list_layer_versions(self.ctx, layer_name=layer_name, compatible_runtime=compatible_runtime,
                                          compatible_architecture=compatible_architecture, marker=marker,
                                          max_items=max_items)

    def list_layers(self, *, compatible_runtime: str | None = None, compatible_architecture: str | None = None,
                    marker: str | None = None, max_items: int | None = None) -> ListLayersResponse:
        return layers.list_layers(self.ctx, compatible_runtime=compatible_runtime,
                                  compatible_architecture=compatible_architecture, marker=marker,
                                  max_items=max_items)

    def delete_layer_version(self, *, layer_name: str, version_number: int) -> None:
        layers.delete_layer_version(self.ctx, layer_name=layer_name, version_number=int(version_number))

    # ---- function-level settings --------------------------------------------------------------------------------
    def put_function_concurrency(self, *, function_name: str, reserved_concurrent_executions: int) -> Concurrency:
        return concurrency.put_function_concurrency(self.ctx, function_name=function_name,
                                                    reserved_concurrent_executions=reserved_concurrent_executions)

    def get_function_concurrency(self, *, function_name: str) -> Concurrency:
        return concurrency.get_function_concurrency(self.ctx, function_name=function_name)

    def delete_function_concurrency(self, *, function_name: str) -> None:
        concurrency.delete_function_concurrency(self.ctx, function_name=function_name)

    def tag_resource(self, *, resource: str, tags: dict[str, str]) -> None:
        _tags.tag_resource(self.ctx, resource=resource, tags=tags)

    def untag_resource(self, *, resource: str, tag_keys: list[str]) -> None:
        _tags.untag_resource(self.ctx, resource=resource, tag_keys=tag_keys)

    def list_tags(self, *, resource: str) -> ListTagsResponse:
        return _tags.list_tags(self.ctx, resource=resource)

    def get_account_settings(self) -> GetAccountSettingsResponse:
        return concurrency.get_account_settings(self.ctx)

    # ---- invoke -------------------------------------------------------------------------------------------------
    def invoke(self, function_name: str, *, qualifier: str | None = None, payload: bytes = b"",
               invocation_type: str = "RequestResponse", log_type: str = "None",
               client_context: str | None = None) -> InvokeResult:
        return invoke.invoke(self.ctx, self._runtime, function_name=function_name, qualifier=qualifier,
                             payload=payload, invocation_type=invocation_type, log_type=log_type,
                             client_context=client_context, get_runtime=lambda: self.runtime)

    def start_invoke(self, function_name: str, qualifier: str | None, payload: bytes, invocation_type: str,
                     log_type: str, client_context: str | None, on_done: OnDone,
                     executor: Executor | None = None) -> bool:
        """A warm invocation started on the event loop with a callback ``on_done(result, error)`` instead of a
        coroutine (``strata serve``'s hot path; positional, as every call costs there); False when it cannot go that
        way: use ``invoke_async``."""
        return invoke.start_invoke(self.ctx, self._runtime or self.runtime, function_name, qualifier, payload,
                                   invocation_type, log_type, client_context, on_done, executor)

    def invoke_async(self, function_name: str, *, qualifier: str | None = None, payload: bytes = b"",
                     invocation_type: str = "RequestResponse", log_type: str = "None",
                     client_context: str | None = None,
                     executor: Executor | None = None) -> Awaitable[InvokeResult]:
        """``invoke`` awaited on an asyncio event loop (``strata serve``): same checks, semantics and result; a warm
        invocation waits on the loop, and what blocks (a look-up missing the cache, a cold start) runs in
        ``executor`` (``None``: the loop's default). Returns ``invoke.invoke_async``'s coroutine itself (one
        coroutine layer less per Invoke); everything, errors included, happens when it is awaited."""
        return invoke.invoke_async(
            self.ctx, self._runtime, function_name=function_name, qualifier=qualifier, payload=payload,
            invocation_type=invocation_type, log_type=log_type, client_context=client_context,
            get_runtime=lambda: self.runtime, executor=executor)


