"""``strata invoke`` on the local target: one invocation through the Lambda service of a state folder.

When a ``strata serve`` owns the state, the invocation goes to it (its warm workers) instead of starting a worker
here; otherwise the worker's own AWS calls go to a server this command starts on demand (``strata.local.server
.on_demand``). An ``Event`` invocation is queued and waited for here (no long-lived process would run it otherwise).
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from strata.model.deploy import DEFAULT_REGION

if TYPE_CHECKING:
    from strata.local.lambda_service.overrides import EnvOverrides
    from strata.local.runtime.debug import DebugTarget


def invoke_local(home: Path, target: str, payload: bytes, *, invocation_type: str = "RequestResponse",
                 log_type: str = "None", region: str | None = None,
                 note: Callable[[str], None] = print, debug: DebugTarget | None = None,
                 env_overrides: EnvOverrides | None = None) -> Any:
    """Invoke ``target`` (name or ARN, ``[:QUALIFIER]``); the service's invoke result (payload, function error, log
    tail). ``note`` hears what an Event invocation does. With ``debug``, the invocation runs here (never on a running
    server, whose workers are not debugged), that function's worker under debugpy. With ``env_overrides`` (local
    ``--env-vars``) it runs here too, in a worker of its own: the server's workers run without them."""
    from strata.local.discovery import connect

    server = connect(home) if debug is None else None
    if server is not None and env_overrides is not None:
        note(f"--env-vars: invoking in this process, not on the server at {server.url} (its workers run without "
             f"these overrides)")
        server = None
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
    from strata.local.runtime.pool import WorkerPool
    from strata.local.server.on_demand import serving

    runtime = WorkerPool(home, debug=debug) if debug is not None else None
    # the function's own AWS calls (boto3 lambda, codedeploy) go to a server started here when a worker needs one
    with serving(home, region or DEFAULT_REGION), \
            LambdaService(home, region=region or DEFAULT_REGION, runtime=runtime,
                          env_overrides=env_overrides) as service:
        result = service.invoke(target, payload=payload, invocation_type=invocation_type, log_type=log_type)
        if invocation_type == "Event":
            note(f"queued (RequestId: {result.request_id}); waiting for it to run...")
            service.drain()
            note("done")
        return result
