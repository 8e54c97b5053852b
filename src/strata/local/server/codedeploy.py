"""CodeDeploy, as much of it as a Lambda lifecycle hook calls: ``PutLifecycleEventHookExecutionStatus``.

A PreTraffic/PostTraffic hook written for AWS reports its verdict with ``boto3.client("codedeploy")
.put_lifecycle_event_hook_execution_status(deploymentId=..., lifecycleEventHookExecutionId=..., status="Succeeded")``
(or ``"Failed"``); workers get ``AWS_ENDPOINT_URL_CODEDEPLOY`` pointing here, and the report lands in the
home's ``strata.local.hook_executions``, where the local traffic shift (``strata.local.shift``) reads it. Shapes and
error codes are botocore's ``codedeploy`` model (JSON 1.1, target prefix ``CodeDeploy_20141006``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from strata.local.hook_executions import HookExecutions
from strata.local.server.json_protocol import JsonService

TARGET_PREFIX = "CodeDeploy_20141006"
SIGNING_NAME = "codedeploy"


class CodeDeployOperations:
    """The operations over one home's hook executions (a connection per report: nothing to close)."""

    def __init__(self, home: Path) -> None:
        self.home = Path(home)

    def put_lifecycle_event_hook_execution_status(self, params: dict[str, Any]) -> dict[str, Any]:
        with HookExecutions(self.home) as store:
            execution_id = store.report(_text(params.get("deploymentId")),
                                        _text(params.get("lifecycleEventHookExecutionId")),
                                        _text(params.get("status")))
        return {"lifecycleEventHookExecutionId": execution_id}


def codedeploy_service(operations: CodeDeployOperations) -> JsonService:
    return JsonService(TARGET_PREFIX, SIGNING_NAME, {
        "PutLifecycleEventHookExecutionStatus": operations.put_lifecycle_event_hook_execution_status,
    })


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
