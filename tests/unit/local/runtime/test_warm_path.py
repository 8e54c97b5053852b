"""The warm path's shortcuts keep every behaviour: queued log writes, the REPORT format, output attribution without a
drain poll, the worker's cached JSON encoder, the fast ``InvokeResult``, and the service's resolved-snapshot cache."""
from __future__ import annotations

import decimal
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from runtime_lab import RUNTIME
from strata_testkit import zip_bytes

from strata.local.runtime.api import InvokeResult
from strata.local.runtime.environment import _result
from strata.local.runtime.logs import LogStore, end_line, invocation_block, report_line, start_line
from strata.local.runtime.worker import _decimal_default, _Encode

SRC = str(Path(__file__).resolve().parents[4] / "src")


# -- logs ------------------------------------------------------------------------------------------------------------

def test_invocation_block_matches_the_line_functions():
    body = "hello\n"
    assert invocation_block("", "id", "$LATEST", body, 0.3, 128, 40) == (
        start_line("id", "$LATEST") + body + end_line("id") + report_line("id", 0.3, 128, 40))
    assert invocation_block("INIT_START x\n", "id", "3", "", 12.01, 256, 50, 20.5) == (
        "INIT_START x\n" + start_line("id", "3") + end_line("id") + report_line("id", 12.01, 256, 50, 20.5))


def test_queued_blocks_are_written_in_order_by_read_append_and_close(tmp_path):
    store = LogStore(tmp_path, flush_delay=60)            # the writer thread would wait a minute: flushes must do it
    other = LogStore(tmp_path)                             # another process's view: only what is on disk
    store.append_later("fn", "$LATEST", "one\n")
    store.append_later("fn", "1", "v1\n")
    store.append_later("fn", "$LATEST", "two\n")
    assert other.read("fn") == ""
    assert store.read("fn") == "one\ntwo\n"               # read writes the queue first
    store.append_later("fn", "$LATEST", "three\n")
    store.append("fn", "$LATEST", "four\n")               # a direct append comes after what was queued
    assert other.read("fn") == "one\ntwo\nthree\nfour\n"
    store.append_later("fn", "$LATEST", "five\n")
    store.close()
    assert other.read("fn") == "one\ntwo\nthree\nfour\nfive\n" and other.read("fn", "1") == "v1\n"
    store.append_later("fn", "$LATEST", "six\n")           # after close: written at once
    assert other.read("fn").endswith("five\nsix\n")
    other.close()


def test_warm_blocks_queued_unformatted_read_as_formatted_and_in_order(tmp_path):
    store = LogStore(tmp_path, flush_delay=60)
    other = LogStore(tmp_path)
    store.append_later("fn", "$LATEST", "one\n")
    store.append_warm_later("fn", "$LATEST", "rid-2", "printed\n", 1.234, 128, 40)
    store.append_later("fn", "$LATEST", "three\n")
    assert store.read("fn") == ("one\n" + invocation_block("", "rid-2", "$LATEST", "printed\n", 1.234, 128, 40)
                                + "three\n")
    store.close()
    store.append_warm_later("fn", "$LATEST", "rid-4", "", 0.5, 256, 50)     # after close: written at once
    assert other.read("fn").endswith(invocation_block("", "rid-4", "$LATEST", "", 0.5, 256, 50))
    other.close()


def test_a_warm_block_that_fills_the_batch_writes_the_queue(tmp_path):
    store = LogStore(tmp_path, flush_delay=60)            # the writer thread would wait a minute
    other = LogStore(tmp_path)                             # another process's view: only what is on disk
    store.append_warm_later("fn", "$LATEST", "rid-1", "", 0.5, 128, 40, 2)
    assert other.read("fn") == ""                          # one of two: still queued
    store.append_warm_later("fn", "$LATEST", "rid-2", "", 0.7, 128, 40, 2)
    assert other.read("fn") == (invocation_block("", "rid-1", "$LATEST", "", 0.5, 128, 40)
                                + invocation_block("", "rid-2", "$LATEST", "", 0.7, 128, 40))
    store.close()
    other.close()


def test_writer_thread_writes_within_the_delay(tmp_path):
    store = LogStore(tmp_path, flush_delay=0.01)
    other = LogStore(tmp_path)
    store.append_later("fn", "$LATEST", "soon\n")
    deadline = time.monotonic() + 5
    while other.read("fn") != "soon\n" and time.monotonic() < deadline:
        time.sleep(0.005)
    assert other.read("fn") == "soon\n"
    store.close()


def test_queued_blocks_survive_interpreter_exit(tmp_path):
    code = (f"import sys; sys.path.insert(0, {SRC!r})\n"
            "from strata.local.runtime.logs import LogStore\n"
            f"store = LogStore({str(tmp_path)!r}, flush_delay=60)\n"
            "for i in range(100): store.append_later('fn', '$LATEST', f'line {i}\\n')\n"
            "raise SystemExit(3)\n")                       # no close(): the exit hook writes the queue
    assert subprocess.run([sys.executable, "-c", code]).returncode == 3
    assert LogStore(tmp_path).read("fn") == "".join(f"line {i}\n" for i in range(100))


def test_concurrent_queued_blocks_stay_whole(tmp_path):
    store = LogStore(tmp_path, flush_delay=0.001)
    block = "".join(f"line {i}\n" for i in range(50))

    def write(tag: str) -> None:
        for _ in range(200):
            store.append_later("fn", "1", f"BEGIN {tag}\n{block}END {tag}\n")

    threads = [threading.Thread(target=write, args=(str(n),)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = store.read("fn", "1").splitlines()
    assert len(lines) == 4 * 200 * 52
    for start in range(0, len(lines), 52):
        tag = lines[start].split()[1]
        assert lines[start + 51] == f"END {tag}"
    store.close()


# -- output attribution, encoder, result ------------------------------------------------------------------------------

def test_output_before_the_reply_belongs_to_its_invocation(lab):
    fn = lab.function({"app.py": """
        import sys
        def handler(event, context):
            n = event["n"]
            sys.stdout.write(f"out {n}\\n" * event["lines"])
            print(f"partial {n}", end="")            # no newline: the worker's flush before the reply sends it
            sys.stderr.write(f"err {n}\\n")
            return n
    """})
    for n, lines in enumerate([1, 5000, 0, 1, 20000, 2]):
        result = lab.invoke(fn, {"n": n, "lines": lines}, request_id=f"req-{n}", log_type="Tail")
        assert json.loads(result.payload) == n
    text = lab.logs(fn)
    blocks = text.split("START RequestId: ")[1:]
    assert len(blocks) == 6
    for n, (block, lines) in enumerate(zip(blocks, [1, 5000, 0, 1, 20000, 2])):
        assert block.startswith(f"req-{n} ")
        assert block.count(f"out {n}\n") == lines and f"partial {n}\n" in block and f"err {n}\n" in block
        assert f"out {n + 1}" not in block


def test_cached_encoder_matches_json_encoder():
    values = [{"a": 1, "b": [1.5, None, True, "x"]}, "plain", 3, [], {"ü": "é ☃"}, float("inf"),
              decimal.Decimal("1.5"), {"d": decimal.Decimal("2")}, [[[]]], {"k": {"n": list(range(5))}}]
    for ascii_only in (True, False):
        reference = json.JSONEncoder(default=_decimal_default, ensure_ascii=ascii_only)
        encode = _Encode(reference)
        for value in values:
            assert encode(value) == reference.encode(value)
        circular: list = []
        circular.append(circular)
        with pytest.raises(ValueError):
            encode(circular)
        with pytest.raises(TypeError):
            encode({"x": object()})
        for value in values:                               # after errors: fresh marks, same output
            assert encode(value) == reference.encode(value)


def test_context_identity_is_made_when_read_one_per_invocation_and_settable():
    from strata.local.runtime.context import CognitoIdentity, LambdaContext

    first, second = (LambdaContext("id", 0.0, "arn") for _ in range(2))
    assert first.identity.cognito_identity_id is None and first.identity.cognito_identity_pool_id is None
    assert first.identity is first.identity and first.identity is not second.identity
    first.identity = CognitoIdentity({"cognitoIdentityId": "me"})
    assert first.identity.cognito_identity_id == "me" and second.identity.cognito_identity_id is None
    given = LambdaContext("id", 0.0, "arn", None, {"cognitoIdentityPoolId": "pool"})
    assert given.identity.cognito_identity_pool_id == "pool"
    assert "identity=CognitoIdentity([cognito_identity_id=None" in repr(second)


def test_fast_result_equals_the_constructor():
    fast = _result(200, b"{}", "$LATEST", "rid", None, "dGFpbA==")
    slow = InvokeResult(200, b"{}", "$LATEST", "rid", None, "dGFpbA==")
    assert type(fast) is InvokeResult and fast == slow and hash(fast) == hash(slow) and repr(fast) == repr(slow)
    with pytest.raises(AttributeError):
        fast.status_code = 500                              # still frozen


# -- the service's resolved-snapshot cache ---------------------------------------------------------------------------

HANDLER = ("import os\ndef handler(event, context):\n"
           "    return [os.environ.get('COLOR'), context.invoked_function_arn]\n")


@pytest.fixture
def services(tmp_path):
    from strata.local.lambda_service.service import LambdaService
    from strata.local.lambda_service.shapes import Environment, FunctionCode

    home = tmp_path / "home"
    first, second = LambdaService(home), LambdaService(home)     # two doors on one home, as a CLI and a server
    first.create_function(function_name="fn", role="arn:aws:iam::123456789012:role/r", runtime=RUNTIME,
                          handler="app.handler", code=FunctionCode(zip_file=zip_bytes({"app.py": HANDLER})),
                          environment=Environment(variables={"COLOR": "red"}))
    yield first, second
    first.close()
    second.close()


def _run(service, name="fn", qualifier=None):
    return json.loads(service.invoke(name, qualifier=qualifier, payload=b"{}").payload)


def test_warm_invokes_do_not_touch_the_tables(services, monkeypatch):
    first, _ = services
    assert _run(first)[0] == "red"
    opened = []
    real = first.ctx.db.transaction
    monkeypatch.setattr(first.ctx.db, "transaction", lambda **kw: opened.append(kw) or real(**kw))
    for _ in range(5):
        assert _run(first)[0] == "red"
    assert opened == []


def test_a_write_through_another_service_is_seen_by_the_next_invoke(services):
    from strata.local.lambda_service.shapes import Environment

    first, second = services
    assert _run(first)[0] == "red"
    second.update_function_configuration(function_name="fn", environment=Environment(variables={"COLOR": "blue"}))
    assert _run(first)[0] == "blue"
    second.publish_version(function_name="fn")
    second.create_alias(function_name="fn", name="live", function_version="1")
    assert _run(first, qualifier="live") == ["blue", "arn:aws:lambda:us-east-1:123456789012:function:fn:live"]
    second.update_function_configuration(function_name="fn", environment=Environment(variables={"COLOR": "green"}))
    second.publish_version(function_name="fn")
    second.update_alias(function_name="fn", name="live", function_version="2")
    assert _run(first, qualifier="live")[0] == "green"
    second.delete_function(function_name="fn")
    with pytest.raises(Exception, match="Function not found"):
        _run(first)


def test_a_write_from_another_process_is_seen_by_the_next_invoke(services, tmp_path):
    first, _ = services
    assert _run(first)[0] == "red"
    code = (f"import sys; sys.path.insert(0, {SRC!r})\n"
            "from strata.local.lambda_service.service import LambdaService\n"
            "from strata.local.lambda_service.shapes import Environment\n"
            f"with LambdaService({str(tmp_path / 'home')!r}) as s:\n"
            "    s.update_function_configuration(function_name='fn', "
            "environment=Environment(variables={'COLOR': 'x'}))\n")
    subprocess.run([sys.executable, "-c", code], check=True)
    assert _run(first)[0] == "x"


class _CountingCursor:
    def __init__(self, cursor) -> None:
        self.cursor, self.queries = cursor, 0

    def execute(self, *args):
        self.queries += 1
        return self.cursor.execute(*args)


def test_warm_invokes_read_the_wal_index_header_instead_of_asking_sqlite(services):
    from strata.local.lambda_service.invoke import _cache_of
    from strata.local.lambda_service.shapes import Environment

    first, second = services
    for _ in range(3):
        assert _run(first)[0] == "red"
    cache = _cache_of(first.ctx.db)
    counting = cache._cursor = _CountingCursor(cache._cursor)
    for _ in range(5):
        assert _run(first)[0] == "red"
    assert counting.queries == 0                                  # nothing committed: the header stood still
    second.update_function_configuration(function_name="fn", environment=Environment(variables={"COLOR": "blue"}))
    assert _run(first)[0] == "blue" and counting.queries >= 1    # a commit moved it: SQLite was asked again
    assert not cache._shm_broken


def test_a_wal_index_map_that_misses_commits_is_dropped_by_the_recheck(services, monkeypatch):
    from strata.local.lambda_service.invoke import _cache_of, _ResolvedCache
    from strata.local.lambda_service.shapes import Environment

    first, second = services
    for _ in range(3):
        assert _run(first)[0] == "red"
    cache = _cache_of(first.ctx.db)
    cache._shm = bytes(cache._shm[:136])                          # a "map" that never changes
    monkeypatch.setattr(_ResolvedCache, "RECHECK", 0.0)           # the safety net's look is due on every call
    cache._recheck_at = 0.0
    assert _run(first)[0] == "red"
    second.update_function_configuration(function_name="fn", environment=Environment(variables={"COLOR": "blue"}))
    assert _run(first)[0] == "blue"
    assert cache._shm_broken and cache._shm is None               # from now on SQLite is asked every time
    second.update_function_configuration(function_name="fn", environment=Environment(variables={"COLOR": "green"}))
    assert _run(first)[0] == "green"


def test_a_forked_child_neither_repeats_nor_loses_queued_blocks(tmp_path):
    import os

    store = LogStore(tmp_path, flush_delay=60)
    store.append_later("fn", "$LATEST", "parent\n")
    pid = os.fork()
    if pid == 0:                                           # the child: its own block only, then a hard exit
        try:
            store.append_later("fn", "$LATEST", "child\n")
            store.close()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    store.close()
    assert sorted(LogStore(tmp_path).read("fn").splitlines()) == ["child", "parent"]


def test_a_forked_child_gets_its_own_snapshot_cache(services):
    import os

    from strata.local.lambda_service.invoke import _cache_of

    first, _ = services
    assert _run(first)[0] == "red"
    parent_cache = _cache_of(first.ctx.db)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            cache = _cache_of(first.ctx.db)
            ok = cache is not parent_cache and cache.data_version() is not None
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 1) == b"1"
    assert _cache_of(first.ctx.db) is parent_cache and _run(first)[0] == "red"


def test_a_reply_that_came_in_time_is_not_a_timeout_when_noticed_late(lab):
    from strata.local.runtime.process import TIMEOUT

    fn = lab.function({"app.py": "import time\ndef handler(e, c):\n    time.sleep(e.get('sleep', 0))\n    return e\n"})
    lab.invoke(fn, {"warm": 1})
    env = lab.pool._idle[fn.key][-1]
    worker = env.worker
    assert worker.send(("late", b'{"n": 7}', 3000, fn.function_arn, None))
    time.sleep(0.2)                                        # the reply is in; this thread was busy elsewhere
    reply = worker.receive(time.monotonic() - 1)
    assert reply[0] == "ok" and json.loads(reply[1]) == {"n": 7}
    assert worker.send(("slow", b'{"sleep": 2}', 3000, fn.function_arn, None))
    assert worker.receive(time.monotonic() - 1) is TIMEOUT    # nothing in yet: a timeout, the worker is killed
    assert worker.dead
