"""``strata invoke`` and ``strata logs`` end to end through the CLI's error boundary, on a real local service."""
from __future__ import annotations

import base64
import functools
import json

import pytest
from strata_testkit import run_cli, zip_bytes

from strata.cli.main import main

pytest.importorskip("strata.local.runtime.pool")

ROLE = "arn:aws:iam::123456789012:role/r"
CODE = ("def handler(event, context):\n    print('handled', event)\n    return {'got': event}\n"
        "def fail(event, context):\n    raise ValueError('boom')\n")


@pytest.fixture
def home(tmp_path, monkeypatch):
    from strata.local.lambda_service.service import LambdaService
    from strata.local.lambda_service.shapes import FunctionCode

    monkeypatch.setenv("STRATA_HOME", str(tmp_path / "home"))
    with LambdaService(tmp_path / "home") as service:
        for name, handler in (("fn", "app.handler"), ("bad", "app.fail")):
            service.create_function(function_name=name, role=ROLE, runtime="python3.12", handler=handler,
                                    code=FunctionCode(zip_file=zip_bytes({"app.py": CODE})), publish=True)
        service.create_alias(function_name="fn", name="live", function_version="1")
    return tmp_path / "home"


def test_invoke_prints_only_the_payload_on_stdout(home, tmp_path, capsys):
    event = tmp_path / "event.json"
    event.write_text('{"a": 1}')
    code, out, err = run_cli(main, ["invoke", "fn:live", "--event", str(event)], capsys)
    assert code == 0 and json.loads(out) == {"got": {"a": 1}}
    assert err == ""


def test_invoke_default_event_and_tail(home, capsys):
    code, out, err = run_cli(main, ["invoke", "fn", "--log-type", "Tail"], capsys)
    assert code == 0 and json.loads(out) == {"got": {}}
    assert "handled {}" in err and "REPORT RequestId:" in err


def test_function_error_exits_1_with_the_message(home, capsys):
    code, out, err = run_cli(main, ["invoke", "bad"], capsys)
    assert code == 1
    assert json.loads(out)["errorType"] == "ValueError"
    assert "Error: function error (Unhandled): ValueError: boom" in err
    assert "Traceback" not in err


def test_lambda_error_exits_1_without_traceback(home, capsys):
    code, out, err = run_cli(main, ["invoke", "nope"], capsys)
    assert code == 1 and out == ""
    assert "ResourceNotFoundException: Function not found:" in err and "Traceback" not in err


def test_bad_event_json_is_a_usage_error(home, tmp_path, capsys):
    event = tmp_path / "event.json"
    event.write_text("{not json")
    code, out, err = run_cli(main, ["invoke", "fn", "--event", str(event)], capsys)
    assert code == 2 and out == ""


def test_event_invocation_runs_before_exit_and_logs_show_it(home, capsys):
    code, out, err = run_cli(main, ["invoke", "fn:1", "--invocation-type", "Event"], capsys)
    assert code == 0 and out == "" and "queued" in err
    code, out, err = run_cli(main, ["logs", "fn:1"], capsys)
    assert code == 0 and "handled {}" in out and "START RequestId:" in out


def test_dry_run(home, capsys):
    code, out, err = run_cli(main, ["invoke", "fn", "--invocation-type", "DryRun"], capsys)
    assert code == 0 and out == ""


def test_logs_per_version_and_alias(home, capsys):
    run_cli(main, ["invoke", "fn"], capsys)
    run_cli(main, ["invoke", "fn:live"], capsys)
    code, out, _ = run_cli(main, ["logs", "fn:$LATEST"], capsys)
    assert code == 0 and out.count("START RequestId:") == 1 and "Version: $LATEST" in out
    code, out, _ = run_cli(main, ["logs", "fn:live"], capsys)
    assert code == 0 and out.count("START RequestId:") == 1 and "Version: 1" in out
    code, out, err = run_cli(main, ["logs", "fn"], capsys)
    assert code == 0 and out.count("START RequestId:") == 2


def test_logs_of_unknown_function(home, capsys):
    code, out, err = run_cli(main, ["logs", "nope"], capsys)
    assert code == 1 and "Function not found" in err


def test_logs_follow_prints_new_text(home, capsys):
    from strata.local.logs import follow
    from strata.local.runtime.logs import LogStore

    store = LogStore(home)
    store.append("fn", "$LATEST", "first\n")
    offsets: dict[str, int] = {}
    emit = functools.partial(print, end="")
    follow(store, "fn", ["$LATEST"], offsets, emit=emit, interval=0, rounds=1)
    store.append("fn", "$LATEST", "second\n")
    follow(store, "fn", ["$LATEST"], offsets, emit=emit, interval=0, rounds=1)
    out, _ = capsys.readouterr()
    assert out == "first\nsecond\n"
    store.close()


def test_tail_log_result_is_base64(home):
    from strata.local.lambda_service.service import LambdaService

    with LambdaService(home) as service:
        result = service.invoke("fn", payload=b"{}", log_type="Tail")
    assert "END RequestId:" in base64.b64decode(result.log_result).decode()


def test_invoke_output_ends_with_a_newline(home, capsys):
    """So a shell prompt (or the next command's output) starts on its own line; the payload itself is unchanged."""
    code, out, _err = run_cli(main, ["invoke", "fn"], capsys)
    assert code == 0 and out.endswith("}\n") and not out.endswith("\n\n")
    assert json.loads(out) == {"got": {}}
    code, out, _err = run_cli(main, ["invoke", "bad"], capsys)
    assert code == 1 and out.endswith("}\n")
