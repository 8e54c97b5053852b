"""``--debug FUNCTION`` as the CLI takes it (``invoke``, ``serve``, ``dev``): FUNCTION, a logical id of the stack or a
function name, resolved to the function whose workers run under debugpy (``strata.local.runtime.debug``)."""
from __future__ import annotations

from pathlib import Path

from strata.errors import StrataError
from strata.local.runtime.debug import DEFAULT_PORT, DebugTarget, attach_note, debugpy_folder

__all__ = ["DebugTarget", "attach_note", "debug_target"]


def debug_target(home: Path, function: str, port: int = DEFAULT_PORT, *, stack_name: str | None = None,
                 default_stack: str | None = None) -> DebugTarget:
    """The function ``function`` names in ``home`` (a logical id of ``stack_name``, else of ``default_stack`` when it
    is one, else a function name; a qualifier is ignored: every version of it is debugged). An unknown function, or
    no debugpy, is an error now rather than a worker that never stops to wait."""
    from strata.local.engine.describe import resolve_target
    from strata.local.lambda_service.service import LambdaService
    from strata.model.lambda_errors import ResourceNotFoundException
    from strata.model.naming import FunctionRef

    name = FunctionRef.parse(resolve_target(home, function, stack_name, default_stack)).name
    with LambdaService(home) as service:
        try:
            service.get_function_configuration(function_name=name)
        except ResourceNotFoundException:
            raise StrataError(f"--debug {function}: no such function in {home}",
                              hint="name a function's logical id (with --stack-name when it is not the stack "
                                   "deploy names here) or its function name; deploy it first") from None
    debugpy_folder(home)                    # debugpy must be there (and its link made) before a worker needs it
    _check_free(port)
    return DebugTarget(function, name, port)


def _check_free(port: int) -> None:
    """The debugger's port must be free now: a worker that cannot listen fails only at its first invocation."""
    import socket

    from strata.local.runtime.debug import HOST

    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            raise StrataError(f"--debug-port {port}: cannot listen on {HOST}:{port} ({exc.strerror or exc})",
                              hint="another debug session or program uses it: pick another with --debug-port") from None
