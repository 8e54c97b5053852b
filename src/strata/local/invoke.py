"""``strata invoke`` on the local target: one invocation through the Lambda service of a state folder.

When a ``strata serve`` owns the state, the invocation goes to it (its warm workers) instead of starting a worker
here. An ``Event`` invocation is queued and waited for here (no long-lived process would run it otherwise).
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from strata.model.deploy import DEFAULT_REGION


def invoke_local(home: Path, target: str, payload: bytes, *, invocation_type: str = "RequestResponse",
                 log_type: str = "None", region: str | None = None,
                 note: Callable[[str], None] = print) -> Any:
    """Invoke ``target`` (name or ARN, ``[:QUALIFIER]``); the service's invoke result (payload, function error, log
    tail). ``note`` hears what an Event invocation does."""
    from strata.local.discovery import connect

    server = connect(home)
    if server is not None:
        from strata.local.server.client import invoke_via_server
        from strata.model.naming import FunctionRef

        ref = FunctionRef.parse(target)     # the server's route takes the qualifier apart from the name or ARN
        result = invoke_via_server(server, str(ref.with_qualifier(None)), ref.qualifier or None, payload,
                                   invocation_type, log_type)
        if invocation_type == "Event":
            note(f"queued on {server.url} (RequestId: {result.request_id})")
        return result
    from strata.local.lambda_service.service import LambdaService

    with LambdaService(home, region=region or DEFAULT_REGION) as service:
        result = service.invoke(target, payload=payload, invocation_type=invocation_type, log_type=log_type)
        if invocation_type == "Event":
            note(f"queued (RequestId: {result.request_id}); waiting for it to run...")
            service.drain()
            note("done")
        return result
