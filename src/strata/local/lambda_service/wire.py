"""The wire door: ``dispatch(service, "CreateFunction", {...boto3-shaped params})`` -> boto3-shaped result.

Operation names are botocore's; each maps to the ``LambdaService`` method of the same name in snake_case, whose
keyword parameters are the request members (their type hints say which become shapes). Members strata does not model
are ignored, as an older service would. Errors are the typed Lambda errors, raised as they are; the HTTP server
turns them into responses, the in-process contract adapter hands them to the tests.
"""
from __future__ import annotations

import functools
import inspect
import typing
from typing import Any

from strata.local.lambda_service.convert import attr_name, convert_value, member_name, to_wire
from strata.local.lambda_service.service import LambdaService
from strata.local.lambda_service.validation import Checks
from strata.local.runtime.api import InvokeResult
from strata.model.lambda_errors import UnsupportedOperationException

# botocore operation -> service method (a plain registry: an unknown operation fails loudly)
OPERATIONS: dict[str, str] = {
    name: "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
    for name in (
        "CreateFunction", "GetFunction", "GetFunctionConfiguration", "UpdateFunctionCode",
        "UpdateFunctionConfiguration", "DeleteFunction", "ListFunctions", "PublishVersion",
        "ListVersionsByFunction", "CreateAlias", "GetAlias", "UpdateAlias", "DeleteAlias", "ListAliases",
        "PublishLayerVersion", "GetLayerVersion", "GetLayerVersionByArn", "ListLayerVersions", "ListLayers",
        "DeleteLayerVersion", "PutFunctionConcurrency", "GetFunctionConcurrency", "DeleteFunctionConcurrency",
        "TagResource", "UntagResource", "ListTags", "GetAccountSettings", "Invoke",
    )
}


def dispatch(service: LambdaService, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """Run one Lambda operation with boto3-shaped ``params``; return the boto3-shaped result (no ResponseMetadata)."""
    method_name = OPERATIONS.get(operation)
    if method_name is None:
        raise UnsupportedOperationException(f"strata's local Lambda does not implement {operation}.")
    method = getattr(service, method_name)
    kwargs = _kwargs(type(service), method_name, params)
    # a class is hashable; mypy thinks not (python/mypy#11470)
    missing = [name for name, required in _params(type(service), method_name).items()  # type: ignore[arg-type]
               if required and name not in kwargs]
    if missing:  # botocore checks these client-side; other callers get AWS's server-side answer
        checks = Checks()
        for name in missing:
            member = member_name(name)
            checks.fail(None, member[:1].lower() + member[1:], "Member must not be null")
        checks.raise_if_any()
    result = method(**kwargs)
    if operation == "Invoke":
        return invoke_result(result)
    if operation == "DeleteFunction":
        return {"StatusCode": 204}  # the modelled StatusCode is the HTTP status (reference 2)
    return {} if result is None else to_wire(result)


def invoke_result(result: InvokeResult) -> dict[str, Any]:
    """Invoke's boto3 shape: ExecutedVersion only for RequestResponse (reference 9.2)."""
    out: dict[str, Any] = {"StatusCode": result.status_code}
    if result.function_error:
        out["FunctionError"] = result.function_error
    if result.log_result:
        out["LogResult"] = result.log_result
    if result.status_code == 200 and result.executed_version:
        out["ExecutedVersion"] = result.executed_version
    out["Payload"] = result.payload
    return out


def _kwargs(cls: type, method_name: str, params: dict[str, Any]) -> dict[str, Any]:
    hints = _hints(cls, method_name)
    kwargs: dict[str, Any] = {}
    for member, value in params.items():
        name = attr_name(member)
        if name not in hints or value is None:
            continue
        kwargs[name] = _coerce(hints[name], convert_value(hints[name], value))
    return kwargs


def _coerce(annotation: Any, value: Any) -> Any:
    """Query-string members arrive as text from HTTP; bytes may arrive as text or a file from boto3-like callers."""
    args = set(typing.get_args(annotation)) | {annotation}
    if int in args and isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    if bool in args and isinstance(value, str):
        return value.lower() == "true"
    if bytes in args:
        if isinstance(value, str):
            return value.encode("utf-8")
        if hasattr(value, "read"):
            return value.read()
        if isinstance(value, bytearray | memoryview):
            return bytes(value)
    return value


@functools.cache
def _hints(cls: type, method_name: str) -> dict[str, Any]:
    hints = typing.get_type_hints(getattr(cls, method_name))
    hints.pop("return", None)
    return hints


@functools.cache
def _params(cls: type, method_name: str) -> dict[str, bool]:
    """Parameter name -> required (no default)."""
    signature = inspect.signature(getattr(cls, method_name))
    return {name: p.default is inspect.Parameter.empty
            for name, p in signature.parameters.items() if name != "self"}
