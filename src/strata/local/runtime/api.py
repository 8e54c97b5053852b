"""The contract between the Lambda control plane (``strata.local.lambda_service``) and the runtime
(``strata.local.runtime``).

The service resolves names, qualifiers and alias routing, then hands the runtime a ``FunctionSnapshot``: everything an
execution environment serves, frozen. Equal snapshots may share warm workers; any difference (new code, new config,
another version) gets fresh environments, as in Lambda. The runtime never reads the service's database.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Literal, Protocol

from strata.model.lambda_defaults import DEFAULTS, LOG_FORMAT

if TYPE_CHECKING:
    from concurrent.futures import Executor

InvocationType = Literal["RequestResponse", "Event", "DryRun"]
LogType = Literal["None", "Tail"]


@dataclass(frozen=True)
class LayerSnapshot:
    """One layer version attached to a function, in attach order (a later layer's file wins)."""

    arn: str            # layer version ARN, e.g. arn:aws:lambda:us-east-1:123456789012:layer:shared:3
    sha256: str         # hex sha256 of the layer zip (the artifact digest)
    zip_path: str       # path of the zip in the content-addressed artifact store


@dataclass(frozen=True)
class FunctionSnapshot:
    """What one execution environment serves: code + configuration + layers of one function version."""

    function_name: str
    function_arn: str                      # unqualified ARN
    version: str                           # "$LATEST" or "1", "2", ...
    handler: str
    runtime: str                           # e.g. "python3.12"
    code_sha256: str                       # hex sha256 of the code zip
    code_zip: str                          # path of the code zip in the artifact store
    layers: tuple[LayerSnapshot, ...] = ()
    memory_size: int = DEFAULTS["MemorySize"]          # MB, enforced per worker
    timeout: int = DEFAULTS["Timeout"]                 # seconds
    environment: tuple[tuple[str, str], ...] = ()   # user variables, sorted by key
    architectures: tuple[str, ...] = tuple(DEFAULTS["Architectures"])
    ephemeral_storage: int = DEFAULTS["EphemeralStorage"]["Size"]   # MB
    log_format: str = LOG_FORMAT
    log_group: str = ""                    # default lambda_defaults.log_group(name)
    region: str = "us-east-1"
    revision_id: str = ""                  # $LATEST's config revision: a new one means new environments
    overridden: tuple[str, ...] = ()       # variables set by a local --env-vars override (strata.local.env_vars)

    @cached_property
    def key(self) -> tuple:
        """Warm-pool key: environments are reused only for an identical snapshot. Computed once per snapshot (the
        fields are frozen; the value lives in the instance dictionary, outside equality, hash and repr)."""
        return (self.function_arn, self.version, self.revision_id, self.code_sha256,
                tuple(layer.sha256 for layer in self.layers), self.handler, self.runtime, self.memory_size,
                self.timeout, self.environment, self.overridden)


@dataclass(frozen=True)
class InvokeRequest:
    payload: bytes
    request_id: str
    # ARN exactly as invoked (unqualified, :N or :alias): context.invoked_function_arn
    invoked_arn: str
    invocation_type: InvocationType = "RequestResponse"
    log_type: LogType = "None"
    client_context: str | None = None      # base64 JSON, as on the wire


@dataclass(frozen=True)
class InvokeResult:
    status_code: int                       # 200 RequestResponse, 202 Event, 204 DryRun
    payload: bytes                         # handler result (JSON) or Lambda's error object
    executed_version: str
    request_id: str
    function_error: str | None = None      # "Unhandled" on function errors
    log_result: str | None = None          # base64 of the last 4 KB of the log when log_type == "Tail"


# called once when a started invocation ends: (result, None) or (None, error). It may also carry hooks the runtime
# looks for (``started``, ``succeeded``, ``sole``: ``Environment.start``)
OnDone = Callable[[InvokeResult | None, BaseException | None], None]


class Runtime(Protocol):
    """What the service needs from a runtime. ``concurrency_limit`` is the function's reserved concurrency (None =
    unreserved); when all allowed environments are busy the runtime raises ``TooManyRequestsException``.

    ``invoke`` and ``close`` are required. The other capabilities have defaults here, which a runtime that subclasses
    this protocol inherits and may override (``WorkerPool`` overrides all three): ``invoke_async`` for callers on an
    asyncio event loop (default: the blocking ``invoke`` in ``executor``), ``start_invoke``, a warm invocation
    started on the loop with a callback ``on_done(result, error)`` instead of a coroutine (default False: it cannot
    start that way, use ``invoke_async``), and ``drain`` (default: nothing is queued)."""

    def invoke(self, snapshot: FunctionSnapshot, request: InvokeRequest, *,
               concurrency_limit: int | None = None) -> InvokeResult: ...

    def close(self) -> None: ...

    async def invoke_async(self, snapshot: FunctionSnapshot, request: InvokeRequest, *,
                           concurrency_limit: int | None = None, executor: Executor | None = None) -> InvokeResult:
        import asyncio
        import functools

        call = functools.partial(self.invoke, snapshot, request, concurrency_limit=concurrency_limit)
        return await asyncio.get_running_loop().run_in_executor(executor, call)

    def start_invoke(self, snapshot: FunctionSnapshot, request: InvokeRequest, on_done: OnDone,
                     concurrency_limit: int | None = None, executor: Executor | None = None) -> bool:
        return False

    def drain(self, timeout: float | None = None) -> bool:
        return True
