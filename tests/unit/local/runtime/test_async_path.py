"""``WorkerPool.invoke_async`` / ``LambdaService.invoke_async``: the event-loop path ``strata serve`` uses gives the
blocking path's results, logs and outcomes (timeouts, memory kills, exits, output), starts cold environments in the
executor, keeps Lambda's concurrency rules, and leaves a worker that is safe for the blocking path afterwards."""
from __future__ import annotations

import asyncio
import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from runtime_lab import RUNTIME, body, make_zip

from strata.local.runtime.api import InvokeRequest
from strata.model.lambda_errors import TooManyRequestsException

ECHO = {"app.py": """
    import os
    count = 0
    def handler(event, context):
        global count
        count += 1
        print("seen", event)
        return {"count": count, "event": event, "pid": os.getpid(), "id": context.aws_request_id}
"""}


def _request(snapshot, event=None, **request) -> InvokeRequest:
    request.setdefault("invoked_arn", snapshot.function_arn)
    return InvokeRequest(payload=json.dumps({} if event is None else event).encode(),
                         request_id=request.pop("request_id", str(uuid.uuid4())), **request)


def run(coro):
    return asyncio.run(coro)


def test_warm_invokes_on_the_loop_match_the_blocking_path(lab):
    fn = lab.function(ECHO)
    first = lab.invoke(fn, {"n": 1}, request_id="req-sync")        # cold start, blocking path

    async def two():
        return [await lab.pool.invoke_async(fn, _request(fn, {"n": i}, request_id=f"req-{i}", log_type="Tail"))
                for i in (2, 3)]
    second, third = run(two())
    assert [body(r)["count"] for r in (first, second, third)] == [1, 2, 3]
    assert body(first)["pid"] == body(second)["pid"] == body(third)["pid"]     # the same warm worker
    assert (third.status_code, third.executed_version, third.request_id, body(third)["id"]) == (
        200, "$LATEST", "req-3", "req-3")
    assert third.function_error is None
    import base64
    tail = base64.b64decode(third.log_result).decode()
    assert "START RequestId: req-3" in tail and "seen {'n': 3}" in tail and "REPORT RequestId: req-3" in tail
    assert body(lab.invoke(fn))["count"] == 4                          # and the blocking path still works after
    log = lab.logs(fn)
    for rid in ("req-sync", "req-2", "req-3"):
        assert f"START RequestId: {rid} " in log and f"END RequestId: {rid}\n" in log
    assert log.index("seen {'n': 2}") < log.index("END RequestId: req-2")  # output lands in its own block


def test_a_cold_start_runs_in_the_executor(lab):
    fn = lab.function(ECHO)
    with ThreadPoolExecutor(2, thread_name_prefix="cold") as executor:
        result = run(lab.pool.invoke_async(fn, _request(fn), executor=executor))
    assert body(result)["count"] == 1 and "Init Duration" in lab.logs(fn)


@pytest.mark.parametrize("event,error_type,message", [
    ({"sleep": 1}, "Sandbox.Timedout", "RequestId: req-x Error: Task timed out after 1.00 seconds"),
    ({"exit": 3}, "Runtime.ExitError", "RequestId: req-x Error: Runtime exited with error: exit status 3"),
    ({"grow": 1}, "Runtime.OutOfMemory", "RequestId: req-x Error: Runtime exited with error: signal: killed"),
])
def test_lost_workers_on_the_loop(lab, event, error_type, message):
    fn = lab.function({"app.py": """
        import os, time
        def handler(event, context):
            if event.get("sleep"):
                print("sleeping")
                time.sleep(30)
            if event.get("exit"):
                os._exit(event["exit"])
            if event.get("grow"):
                hoard = []
                while True:
                    hoard.append(bytearray(8 * 1024 * 1024))
            return "ok"
    """}, timeout=1, memory_size=128)
    assert body(lab.invoke(fn)) == "ok"

    async def go():
        lost = await lab.pool.invoke_async(fn, _request(fn, event, request_id="req-x"))
        again = await lab.pool.invoke_async(fn, _request(fn))         # a new worker (cold start) serves the next one
        return lost, again
    lost, again = run(go())
    assert lost.function_error == "Unhandled"
    assert json.loads(lost.payload) == {"errorType": error_type, "errorMessage": message}
    assert body(again) == "ok"
    log = lab.logs(fn)
    assert "END RequestId: req-x" in log
    if error_type == "Sandbox.Timedout":
        assert "sleeping\n" in log and " req-x Task timed out after 1.00 seconds\n" in log


def test_endless_output_is_read_while_waiting_and_capped(lab):
    fn = lab.function({"app.py": """
        def handler(event, context):
            if event.get("spam"):
                while True:
                    print("spam " * 40)
            if event.get("lots"):
                print("x" * 300_000)                 # more than a pipe holds: read before the reply can come
            return "ok"
    """}, timeout=1)

    async def go():
        lots = await lab.pool.invoke_async(fn, _request(fn, {"lots": 1}, request_id="req-lots"))
        spam = await lab.pool.invoke_async(fn, _request(fn, {"spam": 1}, request_id="req-spam"))
        return lots, spam
    assert body(lab.invoke(fn)) == "ok"
    lots, spam = run(go())
    assert body(lots) == "ok"
    assert json.loads(spam.payload)["errorType"] == "Sandbox.Timedout"
    log = lab.logs(fn)
    assert "x" * 300_000 in log and "bytes of output dropped" in log
    assert len(log) < 2 * (1 << 20) + 400_000


def test_concurrent_invokes_get_separate_environments_and_the_limit_throttles(lab):
    fn = lab.function({"app.py": """
        import os, time
        def handler(event, context):
            time.sleep(event.get("sleep", 0))
            return os.getpid()
    """})
    lab.invoke(fn)

    async def go(limit):
        calls = [lab.pool.invoke_async(fn, _request(fn, {"sleep": 0.3}), concurrency_limit=limit) for _ in range(2)]
        return await asyncio.gather(*calls, return_exceptions=True)
    pids = run(go(None))
    assert len({body(r) for r in pids}) == 2                          # two environments, as the blocking path
    results = run(go(1))
    assert sum(isinstance(r, TooManyRequestsException) for r in results) == 1
    throttled = next(r for r in results if isinstance(r, TooManyRequestsException))
    assert throttled.status == 429
    assert lab.pool.environment_count(fn) == 2


def test_cancelled_while_the_worker_runs_replaces_the_worker(lab):
    fn = lab.function({"app.py": """
        import os, time
        def handler(event, context):
            time.sleep(event.get("sleep", 0))
            return os.getpid()
    """}, timeout=10)
    pid = body(lab.invoke(fn))

    async def go():
        task = asyncio.ensure_future(lab.pool.invoke_async(fn, _request(fn, {"sleep": 5})))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    run(go())
    after = lab.invoke(fn)                      # never the cancelled invocation's reply, a new worker's answer
    assert body(after) != pid and after.function_error is None


def test_event_and_dry_run_do_not_wait(lab):
    fn = lab.function(ECHO)

    async def go():
        event = await lab.pool.invoke_async(fn, _request(fn, invocation_type="Event"))
        dry = await lab.pool.invoke_async(fn, _request(fn, invocation_type="DryRun"))
        return event, dry
    event, dry = run(go())
    assert (event.status_code, dry.status_code) == (202, 204)
    assert lab.pool.drain(10)


def test_service_invoke_async_matches_invoke(tmp_path):
    from strata.local.lambda_service.service import LambdaService
    from strata.local.lambda_service.shapes import FunctionCode

    with LambdaService(tmp_path / "home") as service:
        service.create_function(function_name="fn", role="arn:aws:iam::123456789012:role/r", runtime=RUNTIME,
                                handler="app.handler", code=FunctionCode(zip_file=make_zip(ECHO)))

        async def go():
            miss = await service.invoke_async("fn", payload=b'{"a": 1}')      # resolves in the executor
            hit = await service.invoke_async("fn", payload=b'{"a": 2}')       # cached: resolved on the loop
            dry = await service.invoke_async("fn", invocation_type="DryRun")
            with pytest.raises(Exception) as missing:
                await service.invoke_async("nope")
            return miss, hit, dry, missing.value
        miss, hit, dry, missing = run(go())
        blocking = service.invoke("fn", payload=b'{"a": 3}')
        assert [body(r)["count"] for r in (miss, hit, blocking)] == [1, 2, 3]
        assert body(hit)["event"] == {"a": 2} and hit.executed_version == "$LATEST"
        assert dry.status_code == 204
        assert type(missing).__name__ == "ResourceNotFoundException"
