"""Lambda's error types as Python exceptions.

Each carries Lambda's error code (the ``x-amzn-ErrorType``), HTTP status and message, so the in-process service, the
HTTP server and the CLI all speak the same errors. ``message_key`` is the JSON member name AWS uses in the body
(``message`` or ``Message``: it follows the exception's model member, reference section 1.2). They survive pickling.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from strata.errors import StrataError

T = TypeVar("T")


class LambdaError(StrataError):
    """Base: ``code`` is the wire error type, ``status`` the HTTP status."""

    code = "ServiceException"
    status = 500
    message_key = "Message"
    close_connection = False   # the HTTP server answers at once and closes instead of reading the body

    def __init__(self, message: str, **extra: object) -> None:
        super().__init__(message)
        self.extra = dict(extra)  # extra body members, e.g. retryAfterSeconds / Reason for throttling

    def __reduce__(self):
        return (_rebuild_lambda_error, (type(self), self.message, self.extra))

    def render(self) -> str:
        return f"{self.code}: {self.message}"

    def to_body(self) -> dict[str, object]:
        """The JSON body AWS sends for this error (reference section 1.2)."""
        if self.code == "ValidationException":
            return {"message": self.message}
        body: dict[str, object] = {"Type": "User", self.message_key: self.message}
        body.update(self.extra)
        return body


def _rebuild_lambda_error(cls, message, extra):
    return cls(message, **extra)


class InvalidParameterValueException(LambdaError):
    code, status, message_key = "InvalidParameterValueException", 400, "message"


class ValidationException(LambdaError):
    code, status, message_key = "ValidationException", 400, "message"


class ResourceNotFoundException(LambdaError):
    code, status, message_key = "ResourceNotFoundException", 404, "Message"


class ResourceConflictException(LambdaError):
    code, status, message_key = "ResourceConflictException", 409, "message"


class PreconditionFailedException(LambdaError):
    code, status, message_key = "PreconditionFailedException", 412, "message"


class CodeStorageExceededException(LambdaError):
    code, status, message_key = "CodeStorageExceededException", 400, "message"


class RequestEntityTooLargeException(LambdaError):
    """The wire code AWS really sends for oversized requests (not the modelled RequestTooLargeException)."""

    code, status, message_key = "RequestEntityTooLargeException", 413, "message"


class TooManyRequestsException(LambdaError):
    code, status, message_key = "TooManyRequestsException", 429, "message"


class UnsupportedMediaTypeException(LambdaError):
    code, status, message_key = "UnsupportedMediaTypeException", 415, "message"


class InvalidRequestContentException(LambdaError):
    code, status, message_key = "InvalidRequestContentException", 400, "message"


class ServiceException(LambdaError):
    code, status, message_key = "ServiceException", 500, "Message"


class ResourceNotReadyException(LambdaError):
    code, status, message_key = "ResourceNotReadyException", 502, "message"


class UnsupportedOperationException(LambdaError):
    """A Lambda operation botocore knows but strata's local Lambda does not implement (501: clients don't retry)."""

    code, status, message_key = "UnsupportedOperationException", 501, "message"


# code -> class, for turning a wire error back into the same exception (HTTP clients, pickled errors)
ERRORS_BY_CODE: dict[str, type[LambdaError]] = {
    cls.code: cls
    for cls in (
        InvalidParameterValueException, ValidationException, ResourceNotFoundException, ResourceConflictException,
        PreconditionFailedException, CodeStorageExceededException, RequestEntityTooLargeException,
        TooManyRequestsException, UnsupportedMediaTypeException, InvalidRequestContentException, ServiceException,
        ResourceNotReadyException, UnsupportedOperationException,
    )
}


def error_code(exc: BaseException) -> str | None:
    """The service error code of ``exc``: a botocore ClientError's, the local service's (``LambdaError.code``), else
    the exception's class name. One reading for the engine's handlers, verify and ops, whichever client they hold."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return (response.get("Error") or {}).get("Code")
    code = getattr(exc, "code", None)
    return code if isinstance(code, str) else type(exc).__name__


def is_not_found(exc: BaseException) -> bool:
    return error_code(exc) in ("ResourceNotFoundException", "404", "NotFound")


def unless_not_found(read: Callable[..., T], /, **params: Any) -> T | None:
    """``read(**params)`` (a client method such as ``get_alias``), or None when the service answers that what it
    reads does not exist; any other error is raised. The one way verify and ops read what may have been deleted."""
    try:
        return read(**params)
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise


def is_unsupported(exc: BaseException) -> bool:
    """The service does not implement the operation (the local service for some Lambda operations)."""
    return error_code(exc) == "UnsupportedOperationException"
