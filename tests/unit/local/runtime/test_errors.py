"""Lambda's error outcomes, exact payloads, and the pool working again afterwards."""
from __future__ import annotations

import json

import pytest
from runtime_lab import body

OK_AFTER = "def handler(e, c):\n    return 'ok'\n"


def test_unhandled_exception_payload(lab):
    fn = lab.function({"app.py": """
        def helper():
            raise ValueError("Handler fails")
        def handler(event, context):
            print("before")
            helper()
    """})
    result = lab.invoke(fn, request_id="req-err")
    assert result.status_code == 200 and result.function_error == "Unhandled"
    error = json.loads(result.payload)
    assert list(error) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert error["errorMessage"] == "Handler fails" and error["errorType"] == "ValueError"
    assert error["requestId"] == "req-err"
    trace = error["stackTrace"]
    assert len(trace) == 2                                  # handler + helper, no bootstrap frames
    assert trace[0].startswith('  File "') and "app.py\", line 6, in handler\n    helper()\n" in trace[0]
    assert 'raise ValueError("Handler fails")' in trace[1]
    log = lab.logs(fn)
    assert "before\n[ERROR] ValueError: Handler fails\nTraceback (most recent call last):\n" in log
    assert lab.invoke(fn).function_error == "Unhandled"     # the same environment serves the next invoke
    assert lab.pool.environment_count(fn) == 1


@pytest.mark.parametrize("files,handler,error_type,message", [
    ({"app.py": OK_AFTER}, "nodot", "Runtime.MalformedHandlerName",
     "Bad handler 'nodot': not enough values to unpack (expected 2, got 1)"),
    ({"app.py": OK_AFTER}, "missing.handler", "Runtime.ImportModuleError",
     "Unable to import module 'missing': No module named 'missing'"),
    ({"app.py": OK_AFTER}, "app.nothere", "Runtime.HandlerNotFound", "Handler 'nothere' missing on module 'app'"),
    ({"app.py": "def handler(e, c)\n    return 1\n"}, "app.handler", "Runtime.UserCodeSyntaxError",
     "Syntax error in module 'app': "),
    ({"app.py": OK_AFTER}, "sys.handler", "Runtime.BuiltInModuleConflict",
     "Cannot use built-in module sys as a handler module"),
    ({"app.py": "raise KeyError('boom at import')\n"}, "app.handler", "KeyError", "'boom at import'"),
])
def test_init_errors(lab, files, handler, error_type, message):
    fn = lab.function(files, handler)
    result = lab.invoke(fn, request_id="req-init")
    assert result.function_error == "Unhandled"
    error = json.loads(result.payload)
    assert list(error) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert error["errorType"] == error_type and error["errorMessage"].startswith(message)
    assert error["requestId"] == ""
    assert lab.pool.environment_count() == 0                # discarded
    assert f"[ERROR] {error_type}: " in lab.logs(fn)
    again = json.loads(lab.invoke(fn).payload)              # init is attempted again
    assert again["errorType"] == error_type


def test_nested_handler_module(lab):
    fn = lab.function({"pkg/__init__.py": "", "pkg/sub/__init__.py": "", "pkg/sub/mod.py": OK_AFTER},
                      "pkg/sub/mod.handler")
    assert body(lab.invoke(fn)) == "ok"


def test_timeout_kills_and_next_invoke_is_cold(lab):
    fn = lab.function({"app.py": """
        import os, time
        count = 0
        def handler(event, context):
            global count
            count += 1
            path = os.path.join(os.environ["TMPDIR"], "kept")
            if event.get("sleep"):
                open(path, "w").write("x")
                print("sleeping")
                time.sleep(30)
            return {"count": count, "tmp_kept": os.path.exists(path)}
    """}, timeout=1)
    assert body(lab.invoke(fn))["count"] == 1
    result = lab.invoke(fn, {"sleep": True}, request_id="req-slow")
    assert result.function_error == "Unhandled"
    assert json.loads(result.payload) == {
        "errorType": "Sandbox.Timedout", "errorMessage": "RequestId: req-slow Error: Task timed out after 1.00 seconds"}
    log = lab.logs(fn)
    assert "sleeping\n" in log and " req-slow Task timed out after 1.00 seconds\n" in log
    after = body(lab.invoke(fn))
    assert after == {"count": 1, "tmp_kept": True}          # fresh module state, same /tmp


def test_memory_blowup_is_out_of_memory(lab):
    fn = lab.function({"app.py": """
        def handler(event, context):
            if event.get("grow"):
                hoard = []
                while True:
                    hoard.append(bytearray(8 * 1024 * 1024))
            return "ok"
    """}, memory_size=128, timeout=20)
    result = lab.invoke(fn, {"grow": True}, request_id="req-oom")
    assert result.function_error == "Unhandled"
    assert json.loads(result.payload) == {
        "errorType": "Runtime.OutOfMemory",
        "errorMessage": "RequestId: req-oom Error: Runtime exited with error: signal: killed"}
    assert "Max Memory Used: 128 MB" in lab.logs(fn)
    assert body(lab.invoke(fn)) == "ok"


def test_huge_single_allocation_is_out_of_memory(lab):
    fn = lab.function({"app.py": "def handler(e, c):\n    return len(bytearray(64 << 30)) if e else 'ok'\n"})
    error = json.loads(lab.invoke(fn, {"big": 1}).payload)
    assert error["errorType"] == "Runtime.OutOfMemory"
    assert body(lab.invoke(fn)) == "ok"


@pytest.mark.parametrize("code,message", [
    ("import sys\nsys.exit()", "Runtime exited without providing a reason"),
    ("import sys\nsys.exit(3)", "Runtime exited with error: exit status 3"),
    ("import os\nos._exit(7)", "Runtime exited with error: exit status 7"),
    ("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)",
     "Runtime exited with error: signal: segmentation fault"),
])
def test_runtime_exit(lab, code, message):
    fn = lab.function({"app.py": "def handler(e, c):\n    if e:\n" + "".join(
        f"        {line}\n" for line in code.splitlines()) + "    return 'ok'\n"})
    result = lab.invoke(fn, {"exit": 1}, request_id="req-exit")
    assert result.function_error == "Unhandled"
    assert json.loads(result.payload) == {"errorType": "Runtime.ExitError",
                                          "errorMessage": f"RequestId: req-exit Error: {message}"}
    assert body(lab.invoke(fn)) == "ok"


def test_exit_during_init(lab):
    fn = lab.function({"app.py": "import sys\nsys.exit(2)\n"})
    error = json.loads(lab.invoke(fn, request_id="r").payload)
    assert error == {"errorType": "Runtime.ExitError", "errorMessage": "RequestId: r Error: Runtime exited with "
                                                                       "error: exit status 2"}


def test_endless_output_is_capped_and_times_out(lab):
    fn = lab.function({"app.py": """
        import sys
        def handler(event, context):
            if event:
                while True:
                    print("spam " * 40)
            return "ok"
    """}, timeout=1)
    result = lab.invoke(fn, {"spam": 1}, request_id="req-spam")
    assert json.loads(result.payload)["errorType"] == "Sandbox.Timedout"
    log = lab.logs(fn)
    assert "bytes of output dropped" in log
    assert len(log) < 2 * (1 << 20) + 10_000
    assert body(lab.invoke(fn)) == "ok"


def test_unserialisable_result_is_marshal_error(lab):
    fn = lab.function({"app.py": "def handler(e, c):\n    return {1, 2} if e else {'ok': True}\n"})
    error = json.loads(lab.invoke(fn, {"x": 1}, request_id="req-m").payload)
    assert error == {"errorMessage": "Unable to marshal response: Object of type set is not JSON serializable",
                     "errorType": "Runtime.MarshalError", "requestId": "req-m", "stackTrace": []}
    assert body(lab.invoke(fn)) == {"ok": True}


def test_decimal_bytes_and_none_results(lab):
    fn = lab.function({"app.py": """
        from decimal import Decimal
        def handler(e, c):
            return {"dec": Decimal("2"), "f": Decimal("1.5")} if e == 1 else (b"raw" if e == 2 else None)
    """})
    assert body(lab.invoke(fn, 1)) == {"dec": 2, "f": 1.5}
    assert lab.invoke(fn, 2).payload == b"raw"
    assert lab.invoke(fn, 3).payload == b"null"


def test_response_too_large(lab):
    fn = lab.function({"app.py": "def handler(e, c):\n    return 'x' * 7_000_000\n"})
    result = lab.invoke(fn)
    assert result.function_error == "Unhandled"
    assert json.loads(result.payload)["errorType"] == "Function.ResponseSizeTooLarge"


def test_large_payload_round_trip(lab):
    fn = lab.function({"app.py": "def handler(e, c):\n    return e\n"})
    event = {"blob": "z" * 5_000_000}
    assert body(lab.invoke(fn, event)) == event
