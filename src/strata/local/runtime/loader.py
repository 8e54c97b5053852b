"""Inside the worker: resolve ``Handler`` to a function, and turn failures into Lambda's error objects.

Mirrors the AWS Python runtime interface client (``_get_handler``, ``make_error``, ``log_error``): the same error
types, messages and key order, with the runtime's own frames removed from stack traces.
"""
from __future__ import annotations

import os
import sys

TYPE_CHECKING = False           # typing.TYPE_CHECKING without importing typing (the worker's start-up is cold start)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

_OWN_DIR = os.path.dirname(os.path.abspath(__file__))


class Fault(Exception):
    """A runtime-detected failure with Lambda's ``errorType``."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


def load_handler(spec: str) -> Callable[..., Any]:
    """Import the handler's module and return the function (raises ``Fault`` or what module code raised)."""
    try:
        module_name, function_name = spec.rsplit(".", 1)
    except ValueError as exc:
        raise Fault("Runtime.MalformedHandlerName", f"Bad handler '{spec}': {exc}") from None
    try:
        if module_name.split(".")[0] in sys.builtin_module_names:
            raise Fault("Runtime.BuiltInModuleConflict",
                        f"Cannot use built-in module {module_name} as a handler module")
        dotted = module_name.replace("/", ".")
        __import__(dotted)
        module = sys.modules[dotted]
    except ImportError as exc:
        raise Fault("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}") from None
    except SyntaxError as exc:
        trace = [f' File "{exc.filename}" Line {exc.lineno}\n {exc.text}']
        raise Fault("Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}", trace) from None
    try:
        return getattr(module, function_name)
    except AttributeError:
        raise Fault("Runtime.HandlerNotFound",
                    f"Handler '{function_name}' missing on module '{module_name}'") from None


def fault_object(fault: Fault, request_id: str) -> dict:
    return {"errorMessage": fault.message, "errorType": fault.error_type, "requestId": request_id,
            "stackTrace": fault.trace}


def error_object(exc: BaseException, request_id: str) -> dict:
    """Lambda's object for an exception raised by user code (module import or handler)."""
    import traceback  # only on errors: it costs milliseconds to import

    frames = [frame for frame in traceback.extract_tb(exc.__traceback__) if not _is_runtime_frame(frame.filename)]
    return {"errorMessage": str(exc), "errorType": type(exc).__name__, "requestId": request_id,
            "stackTrace": traceback.format_list(frames)}


def _is_runtime_frame(filename: str) -> bool:
    return os.path.dirname(filename) == _OWN_DIR or filename.startswith("<frozen importlib")


def log_error(error: dict) -> None:
    """What the runtime writes to the function log for an error: ``[ERROR] Type: message`` and the frames."""
    text = f"[ERROR] {error['errorType']}: {error['errorMessage']}"
    if error.get("stackTrace"):
        text += "\nTraceback (most recent call last):\n" + "".join(error["stackTrace"]).rstrip("\n")
    sys.stderr.write(text + "\n")
    sys.stderr.flush()
