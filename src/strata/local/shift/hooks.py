"""PreTraffic/PostTraffic hooks: invoked as functions with the event CodeDeploy sends.

Event: ``{"DeploymentId": "d-...", "LifecycleEventHookExecutionId": "..."}``. In AWS a hook reports its verdict by
calling ``codedeploy.put_lifecycle_event_hook_execution_status``; there is no CodeDeploy endpoint locally, so the
local verdict is what the invocation says: an unhandled error (raise), a timeout, or a returned ``"Failed"`` (or
``{"status": "Failed"}``, any case of the key) fails the hook; anything else succeeds. A hook that already calls
CodeDeploy should catch that call's failure locally (e.g. only call it when ``AWS_LAMBDA_FUNCTION_NAME`` is set and
``STRATA_LOCAL`` is not) and return its status as well.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class HookResult:
    hook: str                # BeforeAllowTraffic / AfterAllowTraffic
    function: str
    execution_id: str
    succeeded: bool
    detail: str


def new_execution_id() -> str:
    return secrets.token_urlsafe(24)


def run_hook(client: Any, hook: str, function: str, deployment_id: str) -> HookResult:
    """Invoke ``function`` (RequestResponse) with CodeDeploy's event and read its verdict."""
    execution_id = new_execution_id()
    payload = json.dumps({"DeploymentId": deployment_id, "LifecycleEventHookExecutionId": execution_id}).encode()
    try:
        answer = client.invoke(FunctionName=function, InvocationType="RequestResponse", Payload=payload)
    except Exception as exc:  # noqa: BLE001 - a hook that cannot run fails the deployment, as in CodeDeploy
        return HookResult(hook, function, execution_id, False, f"could not be invoked: {exc}")
    body = answer.get("Payload", b"")
    body = body.read() if hasattr(body, "read") else body
    text = body.decode("utf-8", "replace") if isinstance(body, bytes | bytearray) else str(body or "")
    if answer.get("FunctionError"):
        return HookResult(hook, function, execution_id, False, f"raised {_error_text(text)}")
    status = _status(text)
    if status is not None and status.lower() == "failed":
        return HookResult(hook, function, execution_id, False, "returned status Failed")
    return HookResult(hook, function, execution_id, True, "Succeeded")


def _status(text: str) -> str | None:
    try:
        value = json.loads(text) if text else None
    except ValueError:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key, item in value.items():
            if str(key).lower() == "status" and isinstance(item, str):
                return item
    return None


def _error_text(text: str) -> str:
    try:
        value = json.loads(text)
    except ValueError:
        return text[:200]
    if isinstance(value, dict):
        return f"{value.get('errorType', 'Error')}: {value.get('errorMessage', '')}"[:200]
    return text[:200]
