"""Finding what a name + qualifier designates, with AWS's not-found texts (reference 3.3, 3.4)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import cast

from strata.local.lambda_service.context import Context
from strata.local.lambda_service.shapes import FunctionConfiguration
from strata.local.lambda_service.store import AliasRow, FunctionRow, Tx, VersionRow
from strata.model.lambda_errors import ResourceNotFoundException
from strata.model.naming import LATEST, FunctionRef, is_version_number


def not_found(ctx: Context, name: str, qualifier: str | None = None) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Function not found: {ctx.function_arn(name, qualifier)}")


def require_function(tx: Tx, ctx: Context, name: str, *, qualifier_in_message: str | None = None) -> FunctionRow:
    fn = tx.get_function(name)
    if fn is None:
        raise not_found(ctx, name, qualifier_in_message)
    return fn


def require_latest(tx: Tx, name: str) -> VersionRow:
    row = tx.get_version(name, LATEST)
    assert row is not None, f"function {name} has no $LATEST row"
    return row


@dataclass(frozen=True)
class Target:
    """What a qualified reference designates: the function, the version row, and the alias when one was named."""

    function: FunctionRow
    version: VersionRow
    alias: AliasRow | None = None


def resolve_target(tx: Tx, ctx: Context, ref: FunctionRef, *, missing_suffix: str | None = None) -> Target:
    """Qualifier None/$LATEST/N/alias -> Target. The alias resolves to its primary version (routing is Invoke's)."""
    fn = require_function(tx, ctx, ref.name, qualifier_in_message=ref.qualifier or missing_suffix)
    qualifier = ref.qualifier or LATEST
    if qualifier == LATEST or is_version_number(qualifier):
        row = tx.get_version(ref.name, qualifier if qualifier == LATEST else str(int(qualifier)))
        if row is None or (qualifier != LATEST and str(int(qualifier)) != qualifier):
            raise not_found(ctx, ref.name, qualifier)
        return Target(fn, row)
    alias = tx.get_alias(ref.name, qualifier)
    if alias is None:
        raise not_found(ctx, ref.name, qualifier)
    row = tx.get_version(ref.name, alias.function_version)
    if row is None:  # cannot happen: versions an alias references cannot be deleted
        raise not_found(ctx, ref.name, alias.function_version)
    return Target(fn, row, alias)


def present(config: FunctionConfiguration, ctx: Context, qualifier_in_arn: str | None) -> FunctionConfiguration:
    """The stored configuration with the FunctionArn the request form calls for (reference 3.4)."""
    name = cast(str, config.function_name)      # a stored configuration always names its function
    return dataclasses.replace(config, function_arn=ctx.function_arn(name, qualifier_in_arn))
