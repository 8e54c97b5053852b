"""Functions and ``$LATEST``: create, read, update code/configuration, delete, list (reference sections 3-4)."""
from __future__ import annotations

import dataclasses
from typing import Any

from strata.local.lambda_service import validation as v
from strata.local.lambda_service.code import StoredCode, check_unzipped_total, store_code
from strata.local.lambda_service.configuration import (
    Settings,
    apply_settings,
    as_creating,
    as_updating,
    check_settings,
    initial_config,
    with_layers,
)
from strata.local.lambda_service.context import Context
from strata.local.lambda_service.layers import resolve_function_layers
from strata.local.lambda_service.lookup import present, require_function, require_latest, resolve_target
from strata.local.lambda_service.names import resolve_function, validation_message
from strata.local.lambda_service.paging import paginate
from strata.local.lambda_service.shapes import (
    Concurrency,
    DeadLetterConfig,
    Environment,
    EphemeralStorage,
    FileSystemConfig,
    FunctionCode,
    FunctionCodeLocation,
    FunctionConfiguration,
    GetFunctionResponse,
    ImageConfig,
    Layer,
    ListFunctionsResponse,
    LoggingConfig,
    SnapStart,
    TracingConfig,
    VpcConfig,
)
from strata.local.lambda_service.store import FunctionRow, Tx, VersionRow
from strata.local.lambda_service.versions import check_revision, listed, publish_from_latest
from strata.model.lambda_defaults import DEFAULTS
from strata.model.lambda_errors import InvalidParameterValueException, ResourceConflictException
from strata.model.naming import LATEST, FunctionRef, code_sha256_of, is_version_number

QUALIFIED_NOT_ALLOWED = ("This operation is permitted on Lambda functions only. Aliases and versions do not support "
                         "this operation. Please specify either a function name or an unqualified function ARN.")
GET_NAME_MAX = 170  # recorded limit for Get/Invoke (reference 3.1)
MANDATORY = "Runtime and Handler are mandatory parameters for functions created with deployment package format Zip."


def unqualified(ctx: Context, function_name: str) -> FunctionRef:
    """Resolve a name for an operation on the function itself; a qualifier is refused (reference 5.3)."""
    ref = resolve_function(function_name, None, region=ctx.region)
    if ref.qualifier is not None:
        raise InvalidParameterValueException(QUALIFIED_NOT_ALLOWED)
    return ref


def create_function(ctx: Context, *, function_name: str, role: str, code: FunctionCode, runtime: str | None = None,
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
    if len(function_name) <= 140:
        ref = resolve_function(function_name, None, region=ctx.region)
        if len(ref.name) > v.NAME_MAX:  # reference 3.2: IPVE on create, with the validation text
            raise InvalidParameterValueException(validation_message(
                ref.name, "functionName", f"Member must have length less than or equal to {v.NAME_MAX}"))
        if ref.qualifier is not None:
            raise InvalidParameterValueException(f"Unsupported function name: {function_name}")  # UNVERIFIED text
    else:
        ref = resolve_function(function_name, None, region=ctx.region)  # raises the 140 ValidationException
    settings = Settings(role=role, handler=handler, runtime=runtime, description=description, timeout=timeout,
                        memory_size=memory_size, vpc_config=vpc_config, environment=environment,
                        dead_letter_config=dead_letter_config, kms_key_arn=kms_key_arn,
                        tracing_config=tracing_config, file_system_configs=file_system_configs,
                        image_config=image_config, ephemeral_storage=ephemeral_storage, snap_start=snap_start,
                        logging_config=logging_config)
    checks = v.Checks()
    v.check_architectures(checks, architectures)
    checks.enum(package_type, "packageType", ("Zip", "Image"))
    checks.raise_if_any()
    check_settings(settings)
    v.check_tags_count(tags)
    if package_type == "Image":
        raise InvalidParameterValueException(
            "strata's local Lambda runs zip packages only; PackageType Image is not supported.")
    if runtime is None or handler is None:
        raise InvalidParameterValueException(MANDATORY)
    stored = store_code(ctx.artifacts, zip_file=code.zip_file, s3_bucket=code.s3_bucket, s3_key=code.s3_key,
                        image_uri=code.image_uri)
    with ctx.db.transaction(write=True) as tx:
        if tx.get_function(ref.name) is not None:
            raise ResourceConflictException(f"Function already exist: {ref.name}")
        attached = _attach_layers(tx, ctx, layers or [], stored.unzipped_size)
        config = apply_settings(initial_config(ref.name, ctx.function_arn(ref.name)), settings)
        config = dataclasses.replace(with_layers(config, attached),
                                     architectures=list(architectures or DEFAULTS["Architectures"]))
        config = dataclasses.replace(_with_code(config, stored, ctx), revision_id=ctx.new_id())
        fn = FunctionRow(ref.name, generation=1, last_version=0, tags=dict(tags or {}), reserved_concurrency=None,
                         created=ctx.now())
        tx.put_function(fn)
        latest = VersionRow(ref.name, LATEST, 0, fn.generation, stored.sha256_hex, stored.unzipped_size, config)
        tx.put_version(latest)
        if publish:
            version = publish_from_latest(tx, ctx, fn, latest, None)
            # CreateFunction(Publish=true) answers with the unqualified ARN and Version "1" (reference 3.4)
            config = dataclasses.replace(version.config, function_arn=ctx.function_arn(ref.name))
    return as_creating(config, ctx.new_id())


def get_function(ctx: Context, *, function_name: str, qualifier: str | None = None) -> GetFunctionResponse:
    ref = resolve_function(function_name, qualifier, region=ctx.region, namespaced=True, max_length=GET_NAME_MAX)
    with ctx.db.transaction(write=False) as tx:
        target = resolve_target(tx, ctx, ref)
    fn = target.function
    config = present(target.version.config, ctx, ref.qualifier)
    location = ctx.artifacts.path_for(target.version.code_sha256_hex).as_uri()
    return GetFunctionResponse(
        configuration=config, code=FunctionCodeLocation(repository_type="S3", location=location),
        tags=dict(fn.tags) if fn.tags else None,
        concurrency=Concurrency(fn.reserved_concurrency) if fn.reserved_concurrency is not None else None)


def get_function_configuration(ctx: Context, *, function_name: str,
                               qualifier: str | None = None) -> FunctionConfiguration:
    ref = resolve_function(function_name, qualifier, region=ctx.region, namespaced=True, max_length=GET_NAME_MAX)
    with ctx.db.transaction(write=False) as tx:
        target = resolve_target(tx, ctx, ref)
    return present(target.version.config, ctx, ref.qualifier)


def update_function_code(ctx: Context, *, function_name: str, zip_file: bytes | None = None,
                         s3_bucket: str | None = None, s3_key: str | None = None,
                         s3_object_version: str | None = None, image_uri: str | None = None,
                         publish: bool = False, dry_run: bool = False, revision_id: str | None = None,
                         architectures: list[str] | None = None) -> FunctionConfiguration:
    ref = unqualified(ctx, function_name)
    checks = v.Checks()
    v.check_architectures(checks, architectures)
    checks.raise_if_any()
    with ctx.db.transaction(write=False) as tx:
        require_function(tx, ctx, ref.name)
    stored = store_code(ctx.artifacts, zip_file=zip_file, s3_bucket=s3_bucket, s3_key=s3_key, image_uri=image_uri)
    with ctx.db.transaction(write=True) as tx:
        fn = require_function(tx, ctx, ref.name)
        latest = require_latest(tx, ref.name)
        check_revision(revision_id, latest.config.revision_id)
        check_unzipped_total(stored.unzipped_size + _layers_unzipped(tx, latest.config))
        if dry_run:  # validates only; the answer is $LATEST as it is (UNVERIFIED on AWS)
            return present(latest.config, ctx, None)
        config = _with_code(latest.config, stored, ctx)
        if architectures is not None:
            config = dataclasses.replace(config, architectures=list(architectures))
        updated = _bump(tx, ctx, fn, latest, config, stored)
        if publish:  # publishes after the update, as PublishVersion would (reference 5.1)
            return publish_from_latest(tx, ctx, fn, updated, None).config
    return as_updating(present(updated.config, ctx, None), ctx.new_id())


def update_function_configuration(ctx: Context, *, function_name: str, revision_id: str | None = None,
                                  layers: list[str] | None = None, **given: Any) -> FunctionConfiguration:
    ref = unqualified(ctx, function_name)
    settings = Settings(**given)
    check_settings(settings)
    with ctx.db.transaction(write=True) as tx:
        fn = require_function(tx, ctx, ref.name)
        latest = require_latest(tx, ref.name)
        check_revision(revision_id, latest.config.revision_id)
        config = apply_settings(latest.config, settings)
        if layers is not None:
            attached = _attach_layers(tx, ctx, layers, latest.unzipped_size)
            config = with_layers(config, attached)
        config = dataclasses.replace(config, last_modified=ctx.now())
        updated = _bump(tx, ctx, fn, latest, config, None)
    return as_updating(present(updated.config, ctx, None), ctx.new_id())


def delete_function(ctx: Context, *, function_name: str, qualifier: str | None = None) -> None:
    """Whole function (with versions and aliases), or one version (reference 4.4)."""
    ref = resolve_function(function_name, qualifier, region=ctx.region, namespaced=True)
    if ref.qualifier == LATEST:
        raise InvalidParameterValueException("$LATEST version cannot be deleted without deleting the function.")
    if ref.qualifier is not None and not is_version_number(ref.qualifier):
        raise InvalidParameterValueException("Deletion of aliases is not currently supported.")
    with ctx.db.transaction(write=True) as tx:
        require_function(tx, ctx, ref.name)
        if ref.qualifier is None:
            tx.delete_function(ref.name)
            return
        version = str(int(ref.qualifier))
        users = [a.name for a in tx.aliases(ref.name)
                 if a.function_version == version or version in (a.weights or {})]
        if users:
            raise ResourceConflictException(
                f"Unable to delete version because the following aliases reference it: [{', '.join(users)}]")
        tx.delete_version(ref.name, version)  # an unknown version number is a silent no-op


def list_functions(ctx: Context, *, master_region: str | None = None, function_version: str | None = None,
                   marker: str | None = None, max_items: int | None = None) -> ListFunctionsResponse:
    checks = v.Checks()
    checks.enum(function_version, "functionVersion", ("ALL",))
    checks.range(max_items, "maxItems", 1, 10000)
    checks.raise_if_any()
    with ctx.db.transaction(write=False) as tx:
        rows: list[VersionRow] = []
        for name in tx.function_names():
            versions = tx.versions(name)
            rows.extend(versions if function_version == "ALL" else versions[:1])
    page, next_marker = paginate(rows, lambda r: (r.function_name, r.number), marker, max_items, cap=50)
    shown = [listed(ctx, r) if function_version == "ALL" else present(r.config, ctx, None) for r in page]
    return ListFunctionsResponse(shown, next_marker)


# ---- helpers ------------------------------------------------------------------------------------------------------
def _with_code(config: FunctionConfiguration, stored: StoredCode, ctx: Context) -> FunctionConfiguration:
    return dataclasses.replace(config, code_sha256=code_sha256_of(stored.sha256_hex), code_size=stored.size,
                               last_modified=ctx.now())


def _attach_layers(tx: Tx, ctx: Context, arns: list[str], code_unzipped: int) -> list[Layer]:
    attached = resolve_function_layers(tx, ctx, arns)
    check_unzipped_total(code_unzipped + sum(row.unzipped_size for _, row in attached))
    return [layer for layer, _ in attached]


def _layers_unzipped(tx: Tx, config: FunctionConfiguration) -> int:
    from strata.local.lambda_service.names import parse_layer_version_arn

    total = 0
    for layer in config.layers or []:
        ref = parse_layer_version_arn(layer.arn, path="layers")
        row = tx.get_layer_version(ref.name, ref.version)
        total += row.unzipped_size if row else 0
    return total


def _bump(tx: Tx, ctx: Context, fn: FunctionRow, latest: VersionRow, config: FunctionConfiguration,
          stored: StoredCode | None) -> VersionRow:
    """Store a changed $LATEST: new generation (so the next publish cuts a version) and a new RevisionId."""
    fn.generation += 1
    tx.put_function(fn)
    latest.generation = fn.generation
    latest.config = dataclasses.replace(config, revision_id=ctx.new_id())
    if stored is not None:
        latest.code_sha256_hex, latest.unzipped_size = stored.sha256_hex, stored.unzipped_size
    tx.put_version(latest)
    return latest
