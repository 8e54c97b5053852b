"""Aliases and weighted routing (reference section 7).

An alias names one published version (or $LATEST) plus at most one extra version with a weight in [0, 1]; the extra
version must exist, differ from the primary one, and $LATEST cannot take part in routing.
"""
from __future__ import annotations

import re

from strata.local.lambda_service import validation as v
from strata.local.lambda_service.context import Context
from strata.local.lambda_service.lookup import not_found, require_function
from strata.local.lambda_service.names import resolve_function
from strata.local.lambda_service.paging import paginate
from strata.local.lambda_service.shapes import AliasConfiguration, AliasRoutingConfiguration, ListAliasesResponse
from strata.local.lambda_service.store import AliasRow, Tx
from strata.local.lambda_service.versions import check_revision
from strata.model.lambda_errors import (
    InvalidParameterValueException,
    ResourceConflictException,
    ResourceNotFoundException,
)
from strata.model.naming import LATEST

_VERSION = re.compile(r"\$LATEST|[0-9]+")
_DIGITS = re.compile(r"[0-9]+")
VERSION_PATTERN = r"(\$LATEST|[0-9]+)"
WEIGHTS_PATH = "routingConfig.additionalVersionWeights"


def create_alias(ctx: Context, *, function_name: str, name: str, function_version: str,
                 description: str | None = None,
                 routing_config: AliasRoutingConfiguration | None = None) -> AliasConfiguration:
    fn_name = resolve_function(function_name, None, region=ctx.region).name
    weights = _check_input(name, function_version, description, routing_config)
    with ctx.db.transaction(write=True) as tx:
        require_function(tx, ctx, fn_name)
        _check_targets(tx, ctx, fn_name, function_version, weights)
        if tx.get_alias(fn_name, name) is not None:
            raise ResourceConflictException(f"Alias already exists: {ctx.function_arn(fn_name, name)}")
        row = AliasRow(fn_name, name, function_version, description or "", weights or None, ctx.new_id())
        tx.put_alias(row)
    return _config(ctx, row)


def get_alias(ctx: Context, *, function_name: str, name: str) -> AliasConfiguration:
    fn_name = resolve_function(function_name, None, region=ctx.region).name
    _check_name(name)
    with ctx.db.transaction(write=False) as tx:
        require_function(tx, ctx, fn_name)
        row = tx.get_alias(fn_name, name)
    if row is None:
        raise ResourceNotFoundException(f"Cannot find alias arn: {ctx.function_arn(fn_name, name)}")
    return _config(ctx, row)


def update_alias(ctx: Context, *, function_name: str, name: str, function_version: str | None = None,
                 description: str | None = None, routing_config: AliasRoutingConfiguration | None = None,
                 revision_id: str | None = None) -> AliasConfiguration:
    """Omitted members keep their value; ``RoutingConfig`` with an empty map removes routing (reference 7.2)."""
    fn_name = resolve_function(function_name, None, region=ctx.region).name
    weights = _check_input(name, function_version, description, routing_config)
    with ctx.db.transaction(write=True) as tx:
        require_function(tx, ctx, fn_name)
        row = tx.get_alias(fn_name, name)
        if row is None:
            raise ResourceNotFoundException(f"Alias not found: {ctx.function_arn(fn_name, name)}")
        check_revision(revision_id, row.revision_id)
        new_version = function_version if function_version is not None else row.function_version
        new_weights = row.weights if routing_config is None else (weights or None)
        _check_targets(tx, ctx, fn_name, new_version, new_weights or {})
        row = AliasRow(fn_name, name, new_version, row.description if description is None else description,
                       new_weights, ctx.new_id())  # every update gives a new RevisionId (reference 4.2)
        tx.put_alias(row)
    return _config(ctx, row)


def delete_alias(ctx: Context, *, function_name: str, name: str) -> None:
    """Deleting an unknown alias succeeds (reference 7.1)."""
    fn_name = resolve_function(function_name, None, region=ctx.region).name
    _check_name(name)
    with ctx.db.transaction(write=True) as tx:
        require_function(tx, ctx, fn_name)
        tx.delete_alias(fn_name, name)


def list_aliases(ctx: Context, *, function_name: str, function_version: str | None = None,
                 marker: str | None = None, max_items: int | None = None) -> ListAliasesResponse:
    fn_name = resolve_function(function_name, None, region=ctx.region).name
    checks = v.Checks()
    checks.pattern(function_version, "functionVersion", _VERSION, VERSION_PATTERN)
    checks.range(max_items, "maxItems", 1, 10000)
    checks.raise_if_any()
    with ctx.db.transaction(write=False) as tx:
        require_function(tx, ctx, fn_name)
        rows = [a for a in tx.aliases(fn_name) if function_version is None or a.function_version == function_version]
    page, next_marker = paginate(rows, lambda a: (a.name,), marker, max_items, cap=50)
    return ListAliasesResponse([_config(ctx, r) for r in page], next_marker)


# ---- helpers ------------------------------------------------------------------------------------------------------
def _check_name(name: str) -> None:
    checks = v.Checks()
    v.check_alias_name(checks, name)
    checks.raise_if_any()


def _check_input(name: str, function_version: str | None, description: str | None,
                 routing: AliasRoutingConfiguration | None) -> dict[str, float]:
    """Pattern/range failures as one ValidationException, then the routing rules (InvalidParameterValue)."""
    checks = v.Checks()
    v.check_alias_name(checks, name)
    checks.pattern(function_version, "functionVersion", _VERSION, VERSION_PATTERN)
    checks.max_length(description, "description", v.DESCRIPTION_MAX)
    weights = dict((routing.additional_version_weights or {}) if routing else {})
    if any(not _DIGITS.fullmatch(str(k)) for k in weights):
        checks.fail(v.java_map(weights), WEIGHTS_PATH,
                    "Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member "
                    "must have length greater than or equal to 1, Member must satisfy regular expression pattern: "
                    "[0-9]+]")  # UNVERIFIED list of key constraints
    if any(w is None or not 0.0 <= float(w) <= 1.0 for w in weights.values()):
        shown = v.java_map({k: (float(w) if w is not None else "null") for k, w in weights.items()})
        checks.fail(shown, WEIGHTS_PATH,
                    "Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member "
                    "must have value greater than or equal to 0.0, Member must not be null]")
    checks.raise_if_any()
    if len(weights) > 1:
        raise InvalidParameterValueException("Number of items in AdditionalVersionWeights cannot be greater than 1")
    return {str(k): float(w) for k, w in weights.items()}


def _check_targets(tx: Tx, ctx: Context, fn_name: str, primary: str, weights: dict[str, float]) -> None:
    if weights and primary == LATEST:
        raise InvalidParameterValueException("$LATEST is not supported for an alias pointing to more than 1 version")
    for extra in weights:
        if extra == primary:
            raise InvalidParameterValueException(
                f"Invalid function version {extra}. Function version {extra} is already included in routing "
                "configuration.")
    if tx.get_version(fn_name, primary) is None:
        raise not_found(ctx, fn_name, primary)
    for extra in weights:
        if tx.get_version(fn_name, extra) is None:
            raise not_found(ctx, fn_name, extra)


def _config(ctx: Context, row: AliasRow) -> AliasConfiguration:
    routing = AliasRoutingConfiguration(additional_version_weights=dict(row.weights)) if row.weights else None
    return AliasConfiguration(alias_arn=ctx.function_arn(row.function_name, row.name), name=row.name,
                              function_version=row.function_version, description=row.description,
                              routing_config=routing, revision_id=row.revision_id)
