"""Invoke: resolve what runs (alias routing picks a version per call), check the payload limits, freeze a
``FunctionSnapshot`` and hand it to the runtime (reference sections 7.3, 9)."""
from __future__ import annotations

from strata.lambda_ import validation as v
from strata.lambda_.context import Context
from strata.lambda_.errors import RequestEntityTooLargeException
from strata.lambda_.lookup import Target, resolve_target
from strata.lambda_.names import LATEST, parse_layer_version_arn, resolve_function
from strata.lambda_.store import Tx, VersionRow
from strata.runtime.api import FunctionSnapshot, InvokeRequest, InvokeResult, LayerSnapshot, Runtime

INVOCATION_TYPES = ("Event", "RequestResponse", "DryRun")
LOG_TYPES = ("None", "Tail")
INVOKE_NAME_MAX = 170  # recorded for Get/Invoke (reference 3.1)


def check_payload(payload: bytes, invocation_type: str) -> None:
    if invocation_type == "Event" and len(payload) > v.ASYNC_PAYLOAD_MAX:
        raise RequestEntityTooLargeException(
            f"{len(payload)} byte payload is too large for the Event invocation type "
            f"(limit {v.ASYNC_PAYLOAD_MAX} bytes)")
    if len(payload) > v.SYNC_PAYLOAD_MAX:
        raise RequestEntityTooLargeException(
            f"Request must be smaller than {v.SYNC_PAYLOAD_MAX} bytes for the InvokeFunction operation")


def invoke(ctx: Context, runtime: Runtime | None, *, function_name: str, qualifier: str | None = None,
           payload: bytes = b"", invocation_type: str = "RequestResponse", log_type: str = "None",
           client_context: str | None = None, get_runtime=None) -> InvokeResult:
    """``get_runtime`` supplies the runtime lazily, so DryRun and failed look-ups never start one."""
    checks = v.Checks()
    checks.enum(invocation_type, "invocationType", INVOCATION_TYPES)
    checks.enum(log_type, "logType", LOG_TYPES)
    checks.raise_if_any()
    payload = payload or b""
    check_payload(payload, invocation_type)
    ref = resolve_function(function_name, qualifier, region=ctx.region, namespaced=True, max_length=INVOKE_NAME_MAX)
    with ctx.db.transaction(write=False) as tx:
        target = resolve_target(tx, ctx, ref, missing_suffix=LATEST)  # unqualified miss ends in :$LATEST (3.3)
        row = _pick_version(tx, ctx, target)
        snapshot = _snapshot(tx, ctx, row)
    request_id = ctx.new_id()
    if invocation_type == "DryRun":
        return InvokeResult(status_code=204, payload=b"", executed_version=row.version, request_id=request_id)
    request = InvokeRequest(payload=payload, request_id=request_id,
                            invoked_arn=ctx.function_arn(ref.name, ref.qualifier),
                            invocation_type=invocation_type,  # type: ignore[arg-type]
                            log_type=log_type,  # type: ignore[arg-type]
                            client_context=client_context)
    runner = runtime if runtime is not None else get_runtime()
    return runner.invoke(snapshot, request, concurrency_limit=target.function.reserved_concurrency)


def _pick_version(tx: Tx, ctx: Context, target: Target) -> VersionRow:
    """An alias with routing sends each call to the extra version with probability = its weight (reference 7.3)."""
    alias = target.alias
    if alias is None or not alias.weights:
        return target.version
    (extra, weight), = alias.weights.items()
    if ctx.rng.random() < weight:
        row = tx.get_version(target.function.name, extra)
        if row is not None:
            return row
    return target.version


def _snapshot(tx: Tx, ctx: Context, row: VersionRow) -> FunctionSnapshot:
    config = row.config
    layers = []
    for layer in config.layers or []:
        ref = parse_layer_version_arn(layer.arn, path="layers")
        stored = tx.get_layer_version(ref.name, ref.version)  # deleted versions keep serving (reference 8.2)
        if stored is not None:
            layers.append(LayerSnapshot(arn=layer.arn, sha256=stored.code_sha256_hex,
                                        zip_path=str(ctx.artifacts.path_for(stored.code_sha256_hex))))
    variables = (config.environment.variables if config.environment else None) or {}
    logging = config.logging_config
    return FunctionSnapshot(
        function_name=row.function_name, function_arn=ctx.function_arn(row.function_name), version=row.version,
        handler=config.handler or "", runtime=config.runtime or "", code_sha256=row.code_sha256_hex,
        code_zip=str(ctx.artifacts.path_for(row.code_sha256_hex)), layers=tuple(layers),
        memory_size=config.memory_size or 128, timeout=config.timeout or 3,
        environment=tuple(sorted(variables.items())), architectures=tuple(config.architectures or ["x86_64"]),
        ephemeral_storage=config.ephemeral_storage.size if config.ephemeral_storage else 512,
        log_format=(logging.log_format if logging else None) or "Text",
        log_group=(logging.log_group if logging else None) or f"/aws/lambda/{row.function_name}",
        region=ctx.region, revision_id=config.revision_id or "")
