"""PreTraffic/PostTraffic hooks: invoked as functions with the event CodeDeploy sends, judged as CodeDeploy judges.

Event: ``{"DeploymentId": "d-...", "LifecycleEventHookExecutionId": "..."}``. As on AWS, a hook reports its verdict
with ``boto3.client("codedeploy").put_lifecycle_event_hook_execution_status(deploymentId=...,
lifecycleEventHookExecutionId=..., status="Succeeded"|"Failed")``: its worker's ``AWS_ENDPOINT_URL_CODEDEPLOY`` points
at the home's local server (``strata.local.server.codedeploy``), which records the report in
``strata.local.hook_executions``, where each execution id handed out here was opened first. The reported status is
the verdict (Failed -> the shift rolls back), whatever the invocation returned.

A hook that never reports (written for strata before it answered CodeDeploy) is judged by its invocation, the
fallback: an unhandled error (raise), a timeout, or a returned ``"Failed"`` (or ``{"status": "Failed"}``, any case of
the key) fails it; anything else succeeds. When the invocation neither raised nor returned a status, a report may
still come from something the hook started: the wait is bounded by the invocation's own duration plus
``REPORT_GRACE``, so a hook that never reports cannot hang the deploy. Either way the execution is then settled, and
a late report is refused (``LifecycleEventAlreadyCompletedException``). ``HookResult.source`` says which verdict was
used ("reported" or "returned"); ``strata deploy`` prints it.
"""
from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from strata.local.hook_executions import HookExecutions

REPORT_GRACE = 1.0          # seconds past the invocation's duration to wait for a report that has not come
_POLL = 0.02

REPORTED = "reported"       # HookResult.source: the hook's PutLifecycleEventHookExecutionStatus
RETURNED = "returned"       # HookResult.source: what the invocation returned or raised (no report came)


@dataclass(frozen=True)
class HookResult:
    hook: str                # BeforeAllowTraffic / AfterAllowTraffic
    function: str
    execution_id: str
    succeeded: bool
    detail: str
    source: str = RETURNED   # REPORTED | RETURNED: where the verdict came from

    def text(self) -> str:
        """The deploy's line for it: the verdict and where it came from."""
        verdict = "Succeeded" if self.succeeded else "Failed"
        return f"{self.hook} hook {self.function}: {verdict} ({self.detail})"


def new_execution_id() -> str:
    return secrets.token_urlsafe(24)


def run_hook(client: Any, hook: str, function: str, deployment_id: str, executions: HookExecutions | None = None,
             *, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
             grace: float = REPORT_GRACE) -> HookResult:
    """Invoke ``function`` (RequestResponse) with CodeDeploy's event; the verdict it reports to ``executions``
    (None: no store, the invocation's alone), else the invocation's. ``clock``/``sleep``: real time (the report
    comes from a real process, whatever speed the shift's schedule runs at)."""
    execution_id = new_execution_id()
    if executions is not None:
        executions.open(deployment_id, execution_id, hook, function)
    payload = json.dumps({"DeploymentId": deployment_id, "LifecycleEventHookExecutionId": execution_id}).encode()
    began = clock()
    try:
        answer = client.invoke(FunctionName=function, InvocationType="RequestResponse", Payload=payload)
    except Exception as exc:  # noqa: BLE001 - a hook that cannot run fails the deployment, as in CodeDeploy
        returned = (False, f"could not be invoked: {exc}", True)
    else:
        returned = _returned(answer)
    took = clock() - began
    reported: str | None = None
    if executions is not None:
        reported = executions.reported(execution_id)
        if reported is None and not returned[2]:       # nothing said yet either way: a report may still come
            deadline = clock() + took + grace
            while reported is None and clock() < deadline:
                sleep(_POLL)
                reported = executions.reported(execution_id)
        settled = executions.settle(execution_id, "Succeeded" if returned[0] else "Failed")
        reported = settled or reported
    if reported is not None:
        return HookResult(hook, function, execution_id, reported == "Succeeded",
                          f"reported {reported} through CodeDeploy PutLifecycleEventHookExecutionStatus", REPORTED)
    succeeded, detail, _ = returned
    return HookResult(hook, function, execution_id, succeeded, f"{detail}; it reported no status to CodeDeploy",
                      RETURNED)


def _returned(answer: dict[str, Any]) -> tuple[bool, str, bool]:
    """The invocation's verdict: (succeeded, why, said so explicitly: raised, or returned a status)."""
    body = answer.get("Payload", b"")
    body = body.read() if hasattr(body, "read") else body
    text = body.decode("utf-8", "replace") if isinstance(body, bytes | bytearray) else str(body or "")
    if answer.get("FunctionError"):
        return False, f"raised {_error_text(text)}", True
    status = _status(text)
    if status is not None and status.lower() == "failed":
        return False, "returned status Failed", True
    if status is not None:
        return True, f"returned status {status[:40]}", True
    return True, "returned without an error", False


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
