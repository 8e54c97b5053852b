"""Tags: function-level, never part of a version (reference 5.3); changing them gives $LATEST a new RevisionId
(4.2) but never a new generation, so they never make PublishVersion cut a version."""
from __future__ import annotations

import dataclasses

from strata.local.lambda_service import validation as v
from strata.local.lambda_service.context import Context
from strata.local.lambda_service.lookup import require_function, require_latest
from strata.local.lambda_service.names import valid_function_ref, validation_message
from strata.local.lambda_service.shapes import ListTagsResponse
from strata.local.lambda_service.store import Tx
from strata.model.lambda_errors import InvalidParameterValueException, ValidationException
from strata.model.naming import FunctionRef

RESOURCE_PATTERN = (r"arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:"
                    r"(function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?|code-signing-config:csc-[a-z0-9]{17}|"
                    r"event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})")
QUALIFIED = "Tags on function aliases and versions are not supported. Please specify a function ARN."


def tag_resource(ctx: Context, *, resource: str, tags: dict[str, str]) -> None:
    name = _function_of(ctx, resource)
    with ctx.db.transaction(write=True) as tx:
        fn = require_function(tx, ctx, name)
        merged = {**fn.tags, **tags}
        v.check_tags_count(merged)
        fn.tags = merged
        tx.put_function(fn)
        _new_revision(tx, ctx, name)


def untag_resource(ctx: Context, *, resource: str, tag_keys: list[str]) -> None:
    name = _function_of(ctx, resource)
    with ctx.db.transaction(write=True) as tx:
        fn = require_function(tx, ctx, name)
        fn.tags = {k: val for k, val in fn.tags.items() if k not in set(tag_keys)}
        tx.put_function(fn)
        _new_revision(tx, ctx, name)


def list_tags(ctx: Context, *, resource: str) -> ListTagsResponse:
    name = _function_of(ctx, resource)
    with ctx.db.transaction(write=False) as tx:
        fn = require_function(tx, ctx, name)
    return ListTagsResponse(dict(fn.tags))


def _function_of(ctx: Context, resource: str) -> str:
    ref = FunctionRef.parse(resource)
    if ref.region is None or not valid_function_ref(ref):
        raise ValidationException(validation_message(
            resource, "resource", f"Member must satisfy regular expression pattern: {RESOURCE_PATTERN}"))
    if ref.qualifier is not None:
        raise InvalidParameterValueException(QUALIFIED)
    if ref.region != ctx.region or ref.account != ctx.account_id:
        from strata.local.lambda_service.lookup import not_found

        raise not_found(ctx, ref.name)  # UNVERIFIED: AWS's answer for another region/account here
    return ref.name


def _new_revision(tx: Tx, ctx: Context, name: str) -> None:
    latest = require_latest(tx, name)
    latest.config = dataclasses.replace(latest.config, revision_id=ctx.new_id())
    tx.put_version(latest)
