"""Publishing and listing versions (reference section 5).

A version is published only when Create/UpdateFunctionCode/UpdateFunctionConfiguration happened since the newest
version: the function carries a generation counter those three bump (tags and concurrency do not), and each version
records the generation it was cut from. Numbers come from a per-function counter and are never handed out twice.
"""
from __future__ import annotations

import dataclasses

from strata.local.lambda_service import validation as v
from strata.local.lambda_service.context import Context
from strata.local.lambda_service.lookup import require_function, require_latest
from strata.local.lambda_service.names import resolve_function
from strata.local.lambda_service.paging import paginate
from strata.local.lambda_service.shapes import FunctionConfiguration, ListVersionsByFunctionResponse
from strata.local.lambda_service.store import FunctionRow, Tx, VersionRow
from strata.model.lambda_errors import InvalidParameterValueException, PreconditionFailedException
from strata.model.naming import LATEST

REVISION_MISMATCH = ("The Revision Id provided does not match the latest Revision Id. "
                     "Call the GetFunction/GetAlias API to retrieve the latest Revision Id")


def check_revision(given: str | None, current: str | None) -> None:
    if given is not None and given != current:
        raise PreconditionFailedException(REVISION_MISMATCH)


def publish_version(ctx: Context, *, function_name: str, code_sha256: str | None = None,
                    description: str | None = None, revision_id: str | None = None) -> FunctionConfiguration:
    ref = resolve_function(function_name, None, region=ctx.region)
    checks = v.Checks()
    checks.max_length(description, "description", v.DESCRIPTION_MAX)
    checks.raise_if_any()
    with ctx.db.transaction(write=True) as tx:
        fn = require_function(tx, ctx, ref.name)
        latest = require_latest(tx, ref.name)
        # Order as LocalStack does (AWS order UNVERIFIED, reference 5.1): RevisionId, then CodeSha256, then dedup
        check_revision(revision_id, latest.config.revision_id)
        if code_sha256 is not None and code_sha256 != latest.config.code_sha256:
            raise InvalidParameterValueException(
                f"CodeSHA256 ({code_sha256}) is different from current CodeSHA256 in $LATEST "
                f"({latest.config.code_sha256}). Please try again with the CodeSHA256 in $LATEST.")
        row = publish_from_latest(tx, ctx, fn, latest, description)
    return row.config


def publish_from_latest(tx: Tx, ctx: Context, fn: FunctionRow, latest: VersionRow,
                        description: str | None) -> VersionRow:
    """Cut a version from $LATEST, or return the newest one when nothing version-relevant changed since (5.1)."""
    newest = tx.highest_version(fn.name)
    if newest is not None and newest.generation == fn.generation:
        return newest  # a success that returns the existing version; the description given is ignored
    number = fn.last_version + 1
    fn.last_version = number
    tx.put_function(fn)
    config = dataclasses.replace(
        latest.config, version=str(number), function_arn=ctx.function_arn(fn.name, str(number)),
        description=latest.config.description if description is None else description,
        revision_id=ctx.new_id(), state="Active", state_reason=None, state_reason_code=None,
        last_update_status="Successful", last_update_status_reason=None, last_update_status_reason_code=None)
    row = VersionRow(fn.name, str(number), number, fn.generation, latest.code_sha256_hex, latest.unzipped_size,
                     config)
    tx.put_version(row)
    # publishing gives $LATEST a new RevisionId too (reference 4.2)
    latest.config = dataclasses.replace(latest.config, revision_id=ctx.new_id())
    tx.put_version(latest)
    return row


def list_versions_by_function(ctx: Context, *, function_name: str, marker: str | None = None,
                              max_items: int | None = None) -> ListVersionsByFunctionResponse:
    ref = resolve_function(function_name, None, region=ctx.region, namespaced=True, max_length=170)
    checks = v.Checks()
    checks.range(max_items, "maxItems", 1, 10000)
    checks.raise_if_any()
    with ctx.db.transaction(write=False) as tx:
        require_function(tx, ctx, ref.name)
        rows = tx.versions(ref.name)
    page, next_marker = paginate(rows, lambda r: (r.number,), marker, max_items, cap=50)
    return ListVersionsByFunctionResponse([listed(ctx, r) for r in page], next_marker)


def highest_version_number(ctx: Context, *, function_name: str) -> int:
    """The highest version number the function has handed out (0: none yet). Not a Lambda operation: the stack
    engine's answer to "which versions existed before this publish?", which listing every version gave at a cost
    that grew with the function's history (a ``strata dev`` session publishes one per save)."""
    ref = resolve_function(function_name, None, region=ctx.region, namespaced=True, max_length=170)
    with ctx.db.transaction(write=False) as tx:
        return require_function(tx, ctx, ref.name).last_version


def listed(ctx: Context, row: VersionRow) -> FunctionConfiguration:
    """Version lists show ``...:$LATEST`` for the unpublished entry and ``...:N`` for versions (reference 3.4)."""
    qualifier = LATEST if row.version == LATEST else row.version
    return dataclasses.replace(row.config, function_arn=ctx.function_arn(row.function_name, qualifier))
