"""Warm reuse, layers as /opt, context and environment, invocation types, concurrency."""
from __future__ import annotations

import base64
import json
import os
import threading
import time

import pytest
from runtime_lab import RUNTIME, Lab, body

from strata.model.lambda_errors import TooManyRequestsException

COUNTER = {"app.py": """
    import os
    count = 0
    def handler(event, context):
        global count
        count += 1
        print("call", count)
        return {"count": count, "event": event, "pid": os.getpid()}
"""}


def test_module_state_survives_warm_invokes(lab):
    fn = lab.function(COUNTER)
    first = lab.invoke(fn, {"a": 1})
    second = lab.invoke(fn, {"b": 2})
    assert first.status_code == 200 and first.function_error is None
    assert first.executed_version == "$LATEST"
    assert body(first)["count"] == 1 and body(second)["count"] == 2
    assert body(first)["pid"] == body(second)["pid"]
    assert body(second)["event"] == {"b": 2}
    assert first.payload.startswith(b'{"count": 1, ')           # Lambda's json.dumps spacing
    assert lab.pool.environment_count(fn) == 1


def test_new_snapshot_gets_fresh_environment(lab):
    v1 = lab.function(COUNTER, version="1")
    v2 = lab.function(COUNTER, version="2")
    lab.invoke(v1)
    assert body(lab.invoke(v2))["count"] == 1
    assert body(lab.invoke(v1))["count"] == 2


def test_layers_importable_and_later_layer_wins(lab):
    site = f"python/lib/{RUNTIME}/site-packages"
    first = lab.layer({"python/shared.py": "WHO = 'first'\n", "python/only_first.py": "X = 1\n",
                       f"{site}/sitepkg.py": "WHERE = 'site'\n", "bin/tool": "#!/bin/sh\n"}, name="a")
    second = lab.layer({"python/shared.py": "WHO = 'second'\n"}, name="b")
    fn = lab.function({"app.py": """
        import os, sys, shared, only_first, sitepkg
        def handler(event, context):
            return {"who": shared.WHO, "x": only_first.X, "site": sitepkg.WHERE, "path": sys.path[:4],
                    "shared_file": shared.__file__, "ld": os.environ["LD_LIBRARY_PATH"],
                    "PATH": os.environ["PATH"]}
    """}, layers=(first, second))
    out = body(lab.invoke(fn))
    assert out["who"] == "second" and out["x"] == 1 and out["site"] == "site"
    task_root, site_dir, opt_python = out["path"][:3]
    assert site_dir.endswith(f"/{site}") and opt_python.endswith("/python")
    assert site_dir.startswith(opt_python[: -len("python")])
    assert out["shared_file"].startswith(opt_python)
    assert not out["shared_file"].startswith("/opt/")
    assert out["ld"].endswith(opt_python[: -len("python")] + "lib")
    assert out["PATH"].endswith(opt_python[: -len("python")] + "bin")
    # the reverse order makes the other layer win, in another merged folder
    swapped = lab.function({"app.py": "import shared\ndef handler(e, c):\n    return shared.WHO\n"},
                           layers=(second, first))
    assert body(lab.invoke(swapped)) == "first"


def test_code_shadows_layer(lab):
    layer = lab.layer({"python/helper.py": "WHO = 'layer'\n"})
    fn = lab.function({"app.py": "import helper\ndef handler(e, c):\n    return helper.WHO\n",
                       "helper.py": "WHO = 'code'\n"}, layers=(layer,))
    assert body(lab.invoke(fn)) == "code"


def test_context_members_and_environment(lab):
    fn = lab.function({"app.py": """
        import os, sys
        def handler(event, context):
            cc = context.client_context
            with open(os.path.join(os.environ["TMPDIR"], "probe"), "w") as fh:
                fh.write("x")
            return {
                "request_id": context.aws_request_id, "name": context.function_name,
                "version": context.function_version, "arn": context.invoked_function_arn,
                "memory": context.memory_limit_in_mb, "group": context.log_group_name,
                "stream": context.log_stream_name, "remaining": context.get_remaining_time_in_millis(),
                "identity": [context.identity.cognito_identity_id, context.identity.cognito_identity_pool_id],
                "custom": cc.custom if cc else None, "app_title": cc.client.app_title if cc and cc.client else None,
                "env": {k: os.environ.get(k) for k in ("AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION",
                        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_REGION",
                        "AWS_DEFAULT_REGION", "_HANDLER", "TZ", "AWS_EXECUTION_ENV", "MY_VAR",
                        "AWS_ACCESS_KEY_ID", "AWS_LAMBDA_INITIALIZATION_TYPE", "LAMBDA_TASK_ROOT")},
                "cwd": os.getcwd(), "stream_env": os.environ["AWS_LAMBDA_LOG_STREAM_NAME"],
                "tmp": os.environ["TMPDIR"], "flags": [sys.flags.isolated, sys.flags.no_site],
            }
    """}, name="ctxfn", memory_size=256, timeout=7, region="eu-west-1",
        environment=(("MY_VAR", "mine"), ("TZ", "Europe/Paris")))
    alias_arn = fn.function_arn + ":live"
    client_context = base64.b64encode(json.dumps({"custom": {"k": "v"}, "client": {"app_title": "t"}}).encode())
    result = lab.invoke(fn, request_id="req-1", invoked_arn=alias_arn, client_context=client_context.decode())
    out = body(result)
    assert out["request_id"] == "req-1" and out["name"] == "ctxfn" and out["version"] == "$LATEST"
    assert out["arn"] == alias_arn
    assert out["memory"] == "256"
    assert out["group"] == "/aws/lambda/ctxfn"
    assert out["stream"] == out["stream_env"] and "/[$LATEST]" in out["stream"]
    assert len(out["stream"]) == len("2026/11/29/[$LATEST]") + 32
    assert 6000 < out["remaining"] <= 7000
    assert out["identity"] == [None, None]
    assert out["custom"] == {"k": "v"} and out["app_title"] == "t"
    env = out["env"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "ctxfn" and env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert env["_HANDLER"] == "app.handler" and env["TZ"] == ":UTC"          # reserved: user value ignored
    assert env["AWS_EXECUTION_ENV"] == f"AWS_Lambda_{RUNTIME}" and env["MY_VAR"] == "mine"
    assert env["AWS_ACCESS_KEY_ID"] and env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert env["LAMBDA_TASK_ROOT"] == out["cwd"] and os.path.isdir(out["cwd"])
    assert out["cwd"].startswith(str(lab.home / "runtime"))
    assert os.path.isfile(os.path.join(out["tmp"], "probe"))
    assert out["flags"] == [1, 1]


def test_bad_client_context_is_a_function_error(lab):
    fn = lab.function(COUNTER)
    result = lab.invoke(fn, request_id="r-cc", client_context=base64.b64encode(b"not json").decode())
    assert result.function_error == "Unhandled"
    error = body(result)
    assert error["errorType"] == "Runtime.LambdaContextUnmarshalError"
    assert error["errorMessage"].startswith("Unable to parse Client Context JSON:")
    assert error["requestId"] == "r-cc"
    assert body(lab.invoke(fn))["count"] == 1                   # handler never ran


def test_undecodable_event_is_unmarshal_error(lab):
    fn = lab.function(COUNTER)
    error = body(lab.invoke(fn, payload=b"{not json"))
    assert error["errorType"] == "Runtime.UnmarshalError"
    assert error["errorMessage"].startswith("Unable to unmarshal input:")


def test_logs_and_tail(lab):
    fn = lab.function(COUNTER)
    cold = lab.invoke(fn, request_id="cold-1", log_type="Tail")
    warm = lab.invoke(fn, request_id="warm-2", log_type="Tail")
    none = lab.invoke(fn)
    assert none.log_result is None
    cold_log = base64.b64decode(cold.log_result).decode()
    warm_log = base64.b64decode(warm.log_result).decode()
    assert cold_log.startswith("INIT_START Runtime Version: ")
    assert "START RequestId: cold-1 Version: $LATEST\ncall 1\nEND RequestId: cold-1\n" in cold_log
    report = cold_log.splitlines()[-1]
    assert report.startswith("REPORT RequestId: cold-1\tDuration: ")
    assert "\tBilled Duration: " in report and "\tMemory Size: 128 MB\tMax Memory Used: " in report
    assert "\tInit Duration: " in report and report.endswith("\t")
    assert warm_log.startswith("START RequestId: warm-2") and "Init Duration" not in warm_log
    stored = lab.logs(fn)
    assert stored.count("START RequestId:") == 3 and cold_log in stored


def test_tail_is_last_4kb(lab):
    fn = lab.function({"app.py": "def handler(e, c):\n    print('y' * 10000)\n"})
    log = base64.b64decode(lab.invoke(fn, log_type="Tail").log_result)
    assert len(log) == 4096 and log.endswith(b"\t\n")


def test_event_invocations_run_in_background(lab):
    fn = lab.function({"app.py": "import time\ndef handler(e, c):\n    time.sleep(0.05)\n    print('event', e['i'])\n"})
    results = [lab.invoke(fn, {"i": i}, invocation_type="Event") for i in range(3)]
    assert all(r.status_code == 202 and r.payload == b"" for r in results)
    assert lab.pool.drain(timeout=30)
    log = lab.logs(fn)
    assert sorted(line for line in log.splitlines() if line.startswith("event")) == ["event 0", "event 1", "event 2"]


def test_failed_event_is_retried(tmp_path):
    from strata.local.runtime.pool import WorkerPool
    with WorkerPool(tmp_path, event_retry_delays=(0.01, 0.01)) as pool:
        lab = Lab(tmp_path, pool)
        fn = lab.function({"app.py": "def handler(e, c):\n    raise ValueError('nope')\n"})
        lab.invoke(fn, request_id="ev-1", invocation_type="Event")
        assert pool.drain(timeout=30)
        assert lab.logs(fn).count("START RequestId: ev-1 ") == 3


def test_dry_run_never_runs(lab):
    fn = lab.function(COUNTER)
    assert lab.invoke(fn, invocation_type="DryRun").status_code == 204
    assert lab.pool.environment_count() == 0


SLOW = {"app.py": """
    import time
    def handler(event, context):
        time.sleep(event.get("sleep", 0))
        return "done"
"""}


def _in_thread(fn, *args, **kwargs):
    box = {}
    thread = threading.Thread(target=lambda: box.setdefault("result", fn(*args, **kwargs)))
    thread.start()
    return thread, box


def test_reserved_concurrency_throttles(lab):
    fn = lab.function(SLOW)
    lab.invoke(fn, limit=1)                                      # warm one environment
    thread, box = _in_thread(lab.invoke, fn, {"sleep": 0.6}, limit=1)
    time.sleep(0.2)
    with pytest.raises(TooManyRequestsException) as info:
        lab.invoke(fn, limit=1)
    assert info.value.message == "Rate Exceeded."
    assert info.value.to_body() == {"Type": "User", "message": "Rate Exceeded.",
                                    "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded"}
    # the limit is per function across versions
    other_version = lab.function(SLOW, version="1")
    with pytest.raises(TooManyRequestsException):
        lab.invoke(other_version, limit=1)
    thread.join()
    assert body(box["result"]) == "done"
    assert body(lab.invoke(fn, limit=1)) == "done"


def test_zero_concurrency_always_throttles(lab):
    fn = lab.function(SLOW)
    with pytest.raises(TooManyRequestsException):
        lab.invoke(fn, limit=0)
    with pytest.raises(TooManyRequestsException):
        lab.invoke(fn, limit=0)


def test_concurrent_invokes_get_separate_environments(lab):
    fn = lab.function(SLOW)
    threads = [_in_thread(lab.invoke, fn, {"sleep": 0.4}) for _ in range(2)]
    for thread, _box in threads:
        thread.join()
    assert [body(box["result"]) for _t, box in threads] == ["done", "done"]
    assert lab.pool.environment_count(fn) == 2


def test_idle_environments_are_reaped(lab):
    fn = lab.function(COUNTER)
    lab.invoke(fn)
    assert lab.pool.reap(now=time.monotonic() + 1) == 0
    assert lab.pool.reap(now=time.monotonic() + lab.pool.idle_timeout + 1) == 1
    assert lab.pool.environment_count() == 0
    assert body(lab.invoke(fn))["count"] == 1


def test_max_environments_evicts_idle(tmp_path):
    from strata.local.runtime.pool import WorkerPool
    with WorkerPool(tmp_path, max_environments=1) as pool:
        lab = Lab(tmp_path, pool)
        a, b = lab.function(COUNTER, name="a"), lab.function(COUNTER, name="b")
        lab.invoke(a)
        lab.invoke(b)
        assert pool.environment_count() == 1 and pool.environment_count(b) == 1


def test_close_stops_workers(tmp_path):
    from strata.local.runtime.pool import WorkerPool
    pool = WorkerPool(tmp_path)
    lab = Lab(tmp_path, pool)
    pid = body(lab.invoke(lab.function(COUNTER)))["pid"]
    pool.close()
    with pytest.raises(ProcessLookupError):
        for _ in range(100):
            os.kill(pid, 0)
            time.sleep(0.01)
