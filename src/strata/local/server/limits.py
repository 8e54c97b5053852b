"""Request size limits and AWS's texts for them (reference 9.1, 4.3).

The 413 goes out as soon as the size is known; the HTTP layer reads and discards the rest of the body, so a client
that sends its whole body before reading still gets the answer on a live connection. A body declared larger than
``DRAIN_CAP`` is not worth draining: the server answers and closes the connection.
"""
from __future__ import annotations

from strata.local.server.errors import UndrainableBodyException
from strata.model.lambda_errors import RequestEntityTooLargeException

SYNC_INVOKE = 6_291_456          # 6 MB, RequestResponse / DryRun request
ASYNC_INVOKE = 1_048_576         # 1 MB, Event request (since Oct 2025)
CODE_UPLOAD = 70_167_211         # whole CreateFunction / UpdateFunctionCode / PublishLayerVersion body
DEFAULT = 6_291_456              # any other operation
DRAIN_CAP = 96 * 1024 * 1024     # larger declared bodies: answer 413 and close instead of draining

_CODE_OPERATIONS = frozenset({"CreateFunction", "UpdateFunctionCode", "PublishLayerVersion"})
_WIRE_NAMES = {"Invoke": "InvokeFunction"}  # the name AWS prints in the message


def body_limit(operation: str, invocation_type: str | None) -> int:
    """Largest body accepted for ``operation`` (Invoke depends on ``X-Amz-Invocation-Type``)."""
    if operation in ("Invoke", "InvokeWithResponseStream"):
        return ASYNC_INVOKE if invocation_type == "Event" else SYNC_INVOKE
    if operation == "InvokeAsync":
        return ASYNC_INVOKE
    return CODE_UPLOAD if operation in _CODE_OPERATIONS else DEFAULT


def too_large(operation: str, invocation_type: str | None, size: int,
              close_connection: bool = False) -> RequestEntityTooLargeException:
    """AWS's 413 for a body of ``size`` bytes; with ``close_connection``, one the server answers at once and then
    closes the connection."""
    error = UndrainableBodyException if close_connection else RequestEntityTooLargeException
    limit = body_limit(operation, invocation_type)
    if operation in ("Invoke", "InvokeAsync") and (invocation_type == "Event" or operation == "InvokeAsync"):
        return error(
            f"{size} byte payload is too large for the Event invocation type (limit {limit} bytes)")
    return error(
        f"Request must be smaller than {limit} bytes for the {_WIRE_NAMES.get(operation, operation)} operation")
