"""The "lambda reader" verify talks to: the subset of boto3's Lambda client it calls, nothing more.

boto3's client satisfies it for AWS; for the local target, ``strata.local.engine.client.LocalLambdaClient`` (boto3
method names over the in-process service) does. Errors come back as the client raises them;
``strata.model.lambda_errors.is_not_found`` recognises "does not exist" from either.
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
