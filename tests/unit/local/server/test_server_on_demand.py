"""The server a command starts on demand for its workers' AWS calls: started by the first worker that needs one,
never advertised, gone with its command; a running ``strata serve`` preferred; nested invocations answered (real
workers, the handler's own boto3)."""
from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import pytest
from strata_testkit import zip_bytes

from strata.local import credentials, discovery
from strata.local.server.on_demand import register, serving

pytest.importorskip("strata.local.runtime.pool")

ROLE = "arn:aws:iam::123456789012:role/r"
# counts down through its own alias: each level's worker waits on the next one's invocation
RECURSE = """\
import json
import boto3

def handler(event, context):
    n = event["n"]
    if n == 0:
        return ["bottom"]
    answer = boto3.client("lambda").invoke(FunctionName="countdown", Qualifier="live", Payload=json.dumps({"n": n - 1}))
    return [n] + json.loads(answer["Payload"].read())
"""


def test_an_on_demand_server_starts_once_is_never_advertised_and_stops_with_its_command(tmp_path):
    home = tmp_path / "home"
    assert discovery.for_workers(home) is None                  # nobody provides one: library use
    with serving(home) as server:
        assert server.running() is None                          # nothing started before a worker needs it
        access = discovery.for_workers(home)
        assert access is not None and server.running() == access and server.start_ms is not None
        assert discovery.for_workers(home) == access              # once
        assert access.credentials == credentials.load(home)
        assert access.url.startswith("http://127.0.0.1:")
        assert not discovery.server_file(home).exists()          # never in server.json
        port = urlsplit(access.url).port
        assert port is not None
    assert discovery.for_workers(home) is None                   # withdrawn with its command
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    lease = register(home)
    lease.close()
    lease.close()                                                # letting go twice is letting go once
    assert lease.server.start() is None and discovery.for_workers(home) is None


def test_the_server_lives_while_any_user_in_the_process_holds_it(tmp_path):
    home = tmp_path / "home"
    first, second = register(home), register(home)
    try:
        assert first.server is second.server
        access = discovery.for_workers(home)
        first.close()
        assert discovery.for_workers(home) == access == second.server.running()     # still serving the other
    finally:
        first.close()
        second.close()
    assert discovery.for_workers(home) is None


def test_a_running_strata_serve_is_preferred_and_a_dead_record_is_not(tmp_path):
    home = tmp_path / "home"
    credentials.ensure(home)
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen()
    with serving(home) as server:
        try:
            discovery.write(home, "127.0.0.1", listening.getsockname()[1], region="us-east-1")   # a live "serve"
            access = discovery.for_workers(home)
            assert access is not None and access.url.endswith(f":{listening.getsockname()[1]}")
            assert server.running() is None                       # nothing of ours started
            listening.close()                                     # it went away, its record stayed
            access = discovery.for_workers(home)
            assert access is not None and access == server.running()
        finally:
            listening.close()
            discovery.remove(home)


def test_nested_invocations_through_the_on_demand_server_do_not_wait_on_each_other(tmp_path):
    from strata.local.invoke import invoke_local
    from strata.local.lambda_service.service import LambdaService
    from strata.local.lambda_service.shapes import FunctionCode

    home = tmp_path / "home"
    with LambdaService(home) as service:
        service.create_function(function_name="countdown", role=ROLE, runtime="python3.11", handler="app.handler",
                                timeout=60, code=FunctionCode(zip_file=zip_bytes({"app.py": RECURSE})), publish=True)
        service.create_alias(function_name="countdown", name="live", function_version="1")
    result = invoke_local(home, "countdown:live", b'{"n": 3}')
    assert result.function_error is None, result.payload
    assert json.loads(result.payload) == [3, 2, 1, "bottom"]
    assert not discovery.server_file(home).exists()
