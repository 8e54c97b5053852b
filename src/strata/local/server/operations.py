"""What the server calls for an operation: the control plane's ``wire.dispatch``, with Invoke taken directly.

Invoke is the hot path and the one operation whose response must carry the invocation's own request id (the id the
function sees as ``context.aws_request_id`` and logs in ``START RequestId:``, reference 1.1), which ``dispatch``'s
boto3-shaped result does not include. So Invoke goes straight to ``LambdaService.invoke`` and is shaped by
``wire.invoke_result``, plus ``ResponseMetadata.RequestId`` for the ``x-amzn-RequestId`` header. Everything else is
``dispatch`` unchanged. ``invoke_async`` is Invoke for the server's event loop: ``LambdaService.invoke_async`` awaits
a warm worker's reply on the loop, with no thread in between; ``start_invoke`` is the same for a warm worker with a
callback instead of a coroutine, handing over the ``InvokeResult`` unshaped (the server's hot path).
"""
from __future__ import annotations

from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from strata.local.runtime.api import OnDone
    from strata.local.server.app import InvokeAsync, StartInvoke


class ServiceDispatch:
    """``(operation, params) -> result`` over one ``LambdaService``; blocking, called from the server's threads.
    ``invoke_async`` and ``start_invoke`` are None when the service lacks them: the server then runs Invoke through
    ``__call__`` in its threads."""

    invoke_async: InvokeAsync | None
    start_invoke: StartInvoke | None

    def __init__(self, service: Any) -> None:
        from strata.local.lambda_service.wire import dispatch, invoke_result

        self.service = service
        self._dispatch = dispatch
        self._invoke_result = invoke_result
        self.invoke_async = self._invoke_async if hasattr(service, "invoke_async") else None
        self.start_invoke = self._start_invoke if hasattr(service, "start_invoke") else None

    def __call__(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if operation != "Invoke":
            return self._dispatch(self.service, operation, params)
        name, qualifier, payload, invocation_type, log_type, client_context = _invoke_args(params)
        return self._shaped(self.service.invoke(
            name, qualifier=qualifier, payload=payload, invocation_type=invocation_type, log_type=log_type,
            client_context=client_context))

    async def _invoke_async(self, params: dict[str, Any], executor: Executor | None = None) -> dict[str, Any]:
        """Invoke on the running event loop; what must block runs in ``executor``. Same result as ``__call__``."""
        name, qualifier, payload, invocation_type, log_type, client_context = _invoke_args(params)
        return self._shaped(await self.service.invoke_async(
            name, qualifier=qualifier, payload=payload, invocation_type=invocation_type, log_type=log_type,
            client_context=client_context, executor=executor))

    def _start_invoke(self, params: dict[str, Any], on_done: OnDone, executor: Executor | None = None) -> bool:
        """Invoke started on the loop, ``on_done(invoke_result, error)`` called when it ends (a warm worker, a cached
        resolution); the result is the runtime's ``InvokeResult`` itself (``response.render_invoke`` shapes it).
        False when it cannot go that way: use ``invoke_async``."""
        return self.service.start_invoke(*_invoke_args(params), on_done, executor)

    def _shaped(self, result: Any) -> dict[str, Any]:
        out = self._invoke_result(result)
        if result.request_id:
            out["ResponseMetadata"] = {"RequestId": result.request_id}
        return out


def _invoke_args(params: dict[str, Any]) -> tuple[str, str | None, bytes, str, str, str | None]:
    """Invoke's params as the service takes them: (function name, qualifier, payload, invocation type, log type,
    client context), with Lambda's defaults for what the request left out."""
    get = params.get
    return (params["FunctionName"], get("Qualifier"), get("Payload") or b"", get("InvocationType") or "RequestResponse",
            get("LogType") or "None", get("ClientContext"))
