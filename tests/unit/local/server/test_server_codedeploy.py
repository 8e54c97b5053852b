"""CodeDeploy's PutLifecycleEventHookExecutionStatus on the local server (JSON 1.1 beside Lambda's rest-json), through
real boto3 clients, on a server started the way a command starts one for its workers."""
from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from strata.local import credentials
from strata.local.hook_executions import HookExecutions
from strata.local.server.auth import sign
from strata.local.server.on_demand import OnDemandServer

DEPLOYMENT = "d-ABCDEFGH1"


@pytest.fixture
def served(tmp_path):
    """An on-demand server for a fresh home, started; (home, access)."""
    home = tmp_path / "home"
    server = OnDemandServer(home)
    access = server.start()
    assert access is not None
    yield home, access
    server.close()


def _client(service: str, access, **kw):
    keys = kw.pop("keys", access.credentials)
    return boto3.client(service, endpoint_url=access.url, region_name=access.region,
                        aws_access_key_id=keys.access_key_id, aws_secret_access_key=keys.secret_access_key,
                        config=Config(retries={"max_attempts": 1}))


def _report(client, execution: str, status: str = "Succeeded", deployment: str = DEPLOYMENT):
    return client.put_lifecycle_event_hook_execution_status(
        deploymentId=deployment, lifecycleEventHookExecutionId=execution, status=status)


def _code(call) -> str:
    with pytest.raises(ClientError) as info:
        call()
    return info.value.response["Error"]["Code"]


def test_a_reported_status_is_recorded_once_and_refused_after(served):
    home, access = served
    with HookExecutions(home) as store:
        store.open(DEPLOYMENT, "exec-1", "BeforeAllowTraffic", "hook")
        store.open(DEPLOYMENT, "exec-2", "AfterAllowTraffic", "hook")
        client = _client("codedeploy", access)
        assert _report(client, "exec-1")["lifecycleEventHookExecutionId"] == "exec-1"
        assert store.reported("exec-1") == "Succeeded" and store.reported("exec-2") is None
        assert _code(lambda: _report(client, "exec-1", "Failed")) == "LifecycleEventAlreadyCompletedException"
        assert store.reported("exec-1") == "Succeeded"
        # the shifter stopped waiting for exec-2 and settled it: a late report is refused too
        assert store.settle("exec-2", "Succeeded") is None
        assert _code(lambda: _report(client, "exec-2", "Failed")) == "LifecycleEventAlreadyCompletedException"


def test_codedeploys_errors_for_what_it_would_refuse(served):
    home, access = served
    client = _client("codedeploy", access)
    with HookExecutions(home) as store:
        store.open(DEPLOYMENT, "exec-1", "BeforeAllowTraffic", "hook")
    assert _code(lambda: _report(client, "exec-1", deployment="d-NOSUCH123")) == "DeploymentDoesNotExistException"
    assert _code(lambda: _report(client, "exec-1", deployment="nope")) == "InvalidDeploymentIdException"
    assert _code(lambda: _report(client, "exec-1", deployment="")) == "DeploymentIdRequiredException"
    assert _code(lambda: _report(client, "exec-9")) == "InvalidLifecycleEventHookExecutionIdException"
    assert _code(lambda: _report(client, "exec-1", "Skipped")) == "InvalidLifecycleEventHookExecutionStatusException"
    assert _code(lambda: client.get_deployment(deploymentId=DEPLOYMENT)) == "UnknownOperationException"


def test_the_codedeploy_door_keeps_the_servers_rules(served):
    home, access = served
    with HookExecutions(home) as store:
        store.open(DEPLOYMENT, "exec-1", "BeforeAllowTraffic", "hook")
    stranger = credentials.Credentials("AKIASTRANGER0000000", "not-the-secret")
    assert _code(lambda: _report(_client("codedeploy", access, keys=stranger), "exec-1")) == \
        "UnrecognizedClientException"
    host = urlsplit(access.url).netloc
    body = json.dumps({"deploymentId": DEPLOYMENT, "lifecycleEventHookExecutionId": "exec-1",
                       "status": "Succeeded"}).encode()
    base = {"Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "CodeDeploy_20141006.PutLifecycleEventHookExecutionStatus"}

    def send(headers: dict[str, str]) -> tuple[int, dict]:
        conn = http.client.HTTPConnection(host, timeout=10)
        try:
            conn.request("POST", "/", body=body, headers=headers)
            response = conn.getresponse()
            return response.status, json.loads(response.read() or b"{}")
        finally:
            conn.close()

    assert access.credentials is not None
    as_lambda = sign(access.credentials, access.region, "POST", host, "/", "", base, body, service="lambda")
    status, answer = send(as_lambda)              # signed for Lambda: not good for CodeDeploy
    assert status == 403 and answer["__type"] == "InvalidSignatureException"
    signed = sign(access.credentials, access.region, "POST", host, "/", "", base, body, service="codedeploy")
    status, answer = send({**signed, "Origin": "https://example.com"})      # a web page's request
    assert status == 403
    assert send(signed) == (200, {"lifecycleEventHookExecutionId": "exec-1"})
    assert send(signed)[0] == 429                 # the same signature again: a replay (on a new connection)
    # and Lambda's API still answers on the same port
    assert _client("lambda", access).list_functions()["Functions"] == []
