"""Layer versions: publish (numbers never reused, content immutable), read, list, delete, and attaching them to
functions (reference section 8)."""
from __future__ import annotations

from pathlib import Path

from strata.local.lambda_service import validation as v
from strata.local.lambda_service.code import store_code
from strata.local.lambda_service.context import Context
from strata.local.lambda_service.names import LAYER_VERSION_ARN_PATTERN, parse_layer_name, parse_layer_version_arn
from strata.local.lambda_service.paging import paginate
from strata.local.lambda_service.shapes import (
    Layer,
    LayersListItem,
    LayerVersion,
    LayerVersionContentInput,
    LayerVersionContentOutput,
    LayerVersionsListItem,
    ListLayersResponse,
    ListLayerVersionsResponse,
)
from strata.local.lambda_service.store import LayerVersionRow, Tx
from strata.model.lambda_errors import InvalidParameterValueException, ResourceNotFoundException, ValidationException
from strata.model.naming import code_sha256_of

# Runtime enum of the model: what CompatibleRuntimes/CompatibleRuntime may name
MODEL_RUNTIMES = v.DEPRECATED_RUNTIMES + v.RUNTIMES
NOT_FOUND = "The resource you requested does not exist."
BELOW_ONE = "Layer Version Cannot be less than 1"


def publish_layer_version(ctx: Context, *, layer_name: str, content: LayerVersionContentInput,
                          description: str | None = None, compatible_runtimes: list[str] | None = None,
                          compatible_architectures: list[str] | None = None,
                          license_info: str | None = None) -> LayerVersion:
    name = _layer_name(ctx, layer_name)
    checks = v.Checks()
    checks.max_length(description, "description", v.DESCRIPTION_MAX)
    _check_compatible(checks, compatible_runtimes, compatible_architectures)
    checks.max_length(license_info, "licenseInfo", 512)
    checks.raise_if_any()
    stored = store_code(ctx.artifacts, zip_file=content.zip_file, s3_bucket=content.s3_bucket, s3_key=content.s3_key)
    with ctx.db.transaction(write=True) as tx:
        number = tx.next_layer_version(name)
        row = LayerVersionRow(name, number, description or "", ctx.now(), list(compatible_runtimes or []),
                              list(compatible_architectures or []), license_info, stored.sha256_hex, stored.size,
                              stored.unzipped_size)
        tx.put_layer_version(row)
    return _layer_version(ctx, row)


def get_layer_version(ctx: Context, *, layer_name: str, version_number: int) -> LayerVersion:
    name = _layer_name(ctx, layer_name)
    if version_number < 1:
        raise InvalidParameterValueException(BELOW_ONE)
    with ctx.db.transaction(write=False) as tx:
        row = tx.get_layer_version(name, version_number)
    if row is None or row.deleted:
        raise ResourceNotFoundException(NOT_FOUND)
    return _layer_version(ctx, row)


def get_layer_version_by_arn(ctx: Context, *, arn: str) -> LayerVersion:
    ref = parse_layer_version_arn(arn, path="arn")
    if ref.region != ctx.region or ref.account != ctx.account_id:
        raise ResourceNotFoundException(NOT_FOUND)
    return get_layer_version(ctx, layer_name=ref.name, version_number=ref.version)


def list_layer_versions(ctx: Context, *, layer_name: str, compatible_runtime: str | None = None,
                        compatible_architecture: str | None = None, marker: str | None = None,
                        max_items: int | None = None) -> ListLayerVersionsResponse:
    name = _layer_name(ctx, layer_name)
    _check_filters(compatible_runtime, compatible_architecture, max_items)
    with ctx.db.transaction(write=False) as tx:
        rows = [r for r in tx.layer_versions(name) if _matches(r, compatible_runtime, compatible_architecture)]
    page, next_marker = paginate(rows, lambda r: (-r.version,), marker, max_items, cap=50)
    return ListLayerVersionsResponse([_list_item(ctx, r) for r in page], next_marker)


def list_layers(ctx: Context, *, compatible_runtime: str | None = None, compatible_architecture: str | None = None,
                marker: str | None = None, max_items: int | None = None) -> ListLayersResponse:
    _check_filters(compatible_runtime, compatible_architecture, max_items)
    items: list[LayersListItem] = []
    with ctx.db.transaction(write=False) as tx:
        for name in tx.layer_names():
            matching = [r for r in tx.layer_versions(name)
                        if _matches(r, compatible_runtime, compatible_architecture)]
            if matching:
                items.append(LayersListItem(name, ctx.layer_arn(name), _list_item(ctx, matching[0])))
    page, next_marker = paginate(items, lambda i: (i.layer_name,), marker, max_items, cap=50)
    return ListLayersResponse(page, next_marker)


def delete_layer_version(ctx: Context, *, layer_name: str, version_number: int) -> None:
    """Always succeeds (also for unknown layers and repeated deletes); functions using it keep working."""
    name = _layer_name(ctx, layer_name)
    if version_number < 1:
        raise InvalidParameterValueException(BELOW_ONE)
    with ctx.db.transaction(write=True) as tx:
        tx.mark_layer_version_deleted(name, version_number)


# ---- attaching layers to a function ------------------------------------------------------------------------------
def resolve_function_layers(tx: Tx, ctx: Context, arns: list[str]) -> list[tuple[Layer, LayerVersionRow]]:
    """Check a function's ``Layers`` list (reference 8.3) and return its entries, in order."""
    bad = []
    refs = []
    for arn in arns:
        try:
            refs.append(parse_layer_version_arn(arn, path="layers"))
        except ValidationException:
            bad.append(arn)
    if bad:
        # UNVERIFIED: the exact list rendering AWS uses for this member
        raise ValidationException(
            f"1 validation error detected: Value '[{', '.join(arns)}]' at 'layers' failed to satisfy constraint: "
            f"Member must satisfy constraint: [Member must satisfy regular expression pattern: "
            f"{LAYER_VERSION_ARN_PATTERN}]")
    if len(refs) > v.MAX_LAYERS:
        raise InvalidParameterValueException(f"Cannot reference more than {v.MAX_LAYERS} layers.")
    for ref in refs:
        if ref.region != ctx.region:
            raise InvalidParameterValueException(
                "Layers are not in the same region as the function. "
                f"Layers are expected to be in region {ctx.region}.")
    seen: dict[tuple[str, str], str] = {}
    for arn, ref in zip(arns, refs):
        key = (ref.account, ref.name)
        if key in seen:
            raise InvalidParameterValueException(
                "Two different versions of the same layer are not allowed to be referenced in the same function. "
                f"{seen[key]} and {arn} are versions of the same layer.")
        seen[key] = arn
    out = []
    for arn, ref in zip(arns, refs):
        row = tx.get_layer_version(ref.name, ref.version) if ref.account == ctx.account_id else None
        if row is None or row.deleted:
            raise InvalidParameterValueException(f"Layer version {arn} does not exist.")
        out.append((Layer(arn=ref.arn, code_size=row.code_size), row))
    return out


def layer_zip_path(ctx: Context, row: LayerVersionRow) -> Path:
    return ctx.artifacts.path_for(row.code_sha256_hex)


# ---- helpers ------------------------------------------------------------------------------------------------------
def _layer_name(ctx: Context, value: str) -> str:
    name, region = parse_layer_name(value)
    if region is not None and region != ctx.region:
        raise ResourceNotFoundException(NOT_FOUND)
    return name


def _check_compatible(checks: v.Checks, runtimes: list[str] | None, architectures: list[str] | None) -> None:
    if runtimes is not None:
        if len(runtimes) > 15:
            checks.fail(_java_list(runtimes), "compatibleRuntimes", "Member must have length less than or equal to 15")
        elif any(r not in MODEL_RUNTIMES for r in runtimes):
            checks.fail(_java_list(runtimes), "compatibleRuntimes",
                        f"Member must satisfy constraint: [Member must satisfy enum value set: "
                        f"[{', '.join(MODEL_RUNTIMES)}]]")
    if architectures is not None:
        if len(architectures) > 2:
            checks.fail(_java_list(architectures), "compatibleArchitectures",
                        "Member must have length less than or equal to 2")
        elif any(a not in v.ARCHITECTURES for a in architectures):
            checks.fail(_java_list(architectures), "compatibleArchitectures",
                        f"Member must satisfy constraint: [Member must satisfy enum value set: "
                        f"[{', '.join(v.ARCHITECTURES)}]]")


def _check_filters(runtime: str | None, architecture: str | None, max_items: int | None) -> None:
    checks = v.Checks()
    checks.enum(runtime, "compatibleRuntime", MODEL_RUNTIMES)
    checks.enum(architecture, "compatibleArchitecture", v.ARCHITECTURES)
    checks.range(max_items, "maxItems", 1, 50)
    checks.raise_if_any()


def _matches(row: LayerVersionRow, runtime: str | None, architecture: str | None) -> bool:
    return (runtime is None or runtime in row.compatible_runtimes) and \
        (architecture is None or architecture in row.compatible_architectures)


def _java_list(items: list[str]) -> str:
    return "[" + ", ".join(items) + "]"


def _layer_version(ctx: Context, row: LayerVersionRow) -> LayerVersion:
    return LayerVersion(
        content=LayerVersionContentOutput(location=layer_zip_path(ctx, row).as_uri(),
                                          code_sha256=code_sha256_of(row.code_sha256_hex), code_size=row.code_size),
        layer_arn=ctx.layer_arn(row.name), layer_version_arn=ctx.layer_version_arn(row.name, row.version),
        description=row.description, created_date=row.created_date, version=row.version,
        compatible_architectures=list(row.compatible_architectures),
        compatible_runtimes=list(row.compatible_runtimes), license_info=row.license_info)


def _list_item(ctx: Context, row: LayerVersionRow) -> LayerVersionsListItem:
    return LayerVersionsListItem(
        layer_version_arn=ctx.layer_version_arn(row.name, row.version), version=row.version,
        description=row.description, created_date=row.created_date,
        compatible_architectures=list(row.compatible_architectures),
        compatible_runtimes=list(row.compatible_runtimes), license_info=row.license_info)

