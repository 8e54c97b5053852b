"""Reserved concurrency (function-level, reference 5.3) and account settings (reference section 2)."""
from __future__ import annotations

from strata.local.lambda_service import validation as v
from strata.local.lambda_service.context import Context
from strata.local.lambda_service.functions import unqualified
from strata.local.lambda_service.lookup import require_function
from strata.local.lambda_service.shapes import AccountLimit, AccountUsage, Concurrency, GetAccountSettingsResponse
from strata.local.lambda_service.store import Tx
from strata.model.lambda_errors import InvalidParameterValueException

ACCOUNT_CONCURRENCY = 1000
UNRESERVED_MINIMUM = 100


def put_function_concurrency(ctx: Context, *, function_name: str, reserved_concurrent_executions: int) -> Concurrency:
    ref = unqualified(ctx, function_name)
    checks = v.Checks()
    checks.range(reserved_concurrent_executions, "reservedConcurrentExecutions", 0, 2**31 - 1)
    checks.raise_if_any()
    with ctx.db.transaction(write=True) as tx:
        fn = require_function(tx, ctx, ref.name)
        others = sum(_reserved(tx, name) for name in tx.function_names() if name != ref.name)
        if ACCOUNT_CONCURRENCY - others - reserved_concurrent_executions < UNRESERVED_MINIMUM:
            raise InvalidParameterValueException(
                "Specified ReservedConcurrentExecutions for function decreases account's "
                f"UnreservedConcurrentExecution below its minimum value of [{UNRESERVED_MINIMUM}].")
        fn.reserved_concurrency = reserved_concurrent_executions
        tx.put_function(fn)
    return Concurrency(reserved_concurrent_executions)


def get_function_concurrency(ctx: Context, *, function_name: str) -> Concurrency:
    ref = unqualified(ctx, function_name)
    with ctx.db.transaction(write=False) as tx:
        fn = require_function(tx, ctx, ref.name)
    return Concurrency(fn.reserved_concurrency)


def delete_function_concurrency(ctx: Context, *, function_name: str) -> None:
    ref = unqualified(ctx, function_name)
    with ctx.db.transaction(write=True) as tx:
        fn = require_function(tx, ctx, ref.name)
        fn.reserved_concurrency = None
        tx.put_function(fn)


def get_account_settings(ctx: Context) -> GetAccountSettingsResponse:
    with ctx.db.transaction(write=False) as tx:
        names = tx.function_names()
        reserved = sum(_reserved(tx, n) for n in names)
        total = tx.total_code_size()
    return GetAccountSettingsResponse(
        account_limit=AccountLimit(unreserved_concurrent_executions=ACCOUNT_CONCURRENCY - reserved),
        account_usage=AccountUsage(total_code_size=total, function_count=len(names)))


def _reserved(tx: Tx, name: str) -> int:
    """The reserved concurrency of a function ``tx`` lists (0: none reserved)."""
    fn = tx.get_function(name)
    return (fn.reserved_concurrency or 0) if fn is not None else 0
