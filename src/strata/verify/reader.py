"""The "lambda reader" verify talks to: the subset of boto3's Lambda client it calls, nothing more.

boto3's client satisfies it for AWS; for the local target, ``strata.engine.client.LocalLambdaClient`` (boto3 method
names over the in-process service) does. Errors come back as the client raises them; ``is_not_found`` recognises
"does not exist" from either.
"""
from __future__ import annotations

from typing import Any, Protocol


class LambdaReader(Protocol):
    def get_function_configuration(self, **kw: Any) -> dict[str, Any]: ...
    def get_alias(self, **kw: Any) -> dict[str, Any]: ...


class LambdaRepairer(LambdaReader, Protocol):
    def update_function_configuration(self, **kw: Any) -> dict[str, Any]: ...
    def update_function_code(self, **kw: Any) -> dict[str, Any]: ...
    def publish_version(self, **kw: Any) -> dict[str, Any]: ...
    def update_alias(self, **kw: Any) -> dict[str, Any]: ...


def error_code(exc: BaseException) -> str | None:
    """The service error code of ``exc`` (botocore ClientError, or the local service's exception class name)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return (response.get("Error") or {}).get("Code")
    code = getattr(exc, "code", None)
    return code if isinstance(code, str) else type(exc).__name__


def is_not_found(exc: BaseException) -> bool:
    return error_code(exc) in ("ResourceNotFoundException", "404", "NotFound")
