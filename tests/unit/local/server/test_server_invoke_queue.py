"""Invokes waiting for a slot (``invoke_threads`` all busy) wait in line as callbacks: each starts on the warm worker
the moment the one before it ends, in arrival order, answered with its own result; a start that fails answers that
request and hands the slot on (however long the line); one whose request was aborted never runs."""
from __future__ import annotations

import asyncio

import pytest

from strata.local.server.app import LambdaApp
from strata.model.lambda_errors import TooManyRequestsException

PATH = "/2015-03-31/functions/f/invocations"


class HoldingDispatch:
    """``start_invoke`` that keeps each invocation running until ``finish()``; payloads in ``fail`` raise a throttle,
    in ``refuse`` cannot start on the hot path (then ``invoke_async`` runs them)."""

    def __init__(self) -> None:
        self.running: list = []
        self.started: list[bytes] = []
        self.async_calls: list[bytes] = []
        self.fail: set[bytes] = set()
        self.refuse: set[bytes] = set()

    def __call__(self, operation, params):  # noqa: ANN001
        raise AssertionError(f"{operation} should not reach the blocking dispatch")

    def start_invoke(self, params, on_done, executor=None) -> bool:  # noqa: ANN001
        payload = params["Payload"]
        if payload in self.fail:
            raise TooManyRequestsException("Rate Exceeded.", Reason="ReservedFunctionConcurrentInvocationLimitExceeded")
        if payload in self.refuse:
            return False
        self.started.append(payload)
        self.running.append((payload, on_done))
        on_done.started("rid-" + payload.decode(), "$LATEST")
        return True

    async def invoke_async(self, params, executor=None):  # noqa: ANN001
        self.async_calls.append(params["Payload"])
        return {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": params["Payload"],
                "ResponseMetadata": {"RequestId": "from-invoke-async"}}

    def finish(self) -> None:
        """The oldest running invocation ends with its payload as the result (a plain success)."""
        payload, on_done = self.running.pop(0)
        assert on_done.succeeded(payload)


def _app(spec, dispatch: HoldingDispatch) -> LambdaApp:
    return LambdaApp(dispatch, spec, invoke_threads=1)


def _invoke(app: LambdaApp, payload: bytes):
    admitted = app.admit("POST", PATH, "", {"content-length": str(len(payload))})
    return app.respond(admitted, payload)


def _body(answer) -> bytes:  # noqa: ANN001 - a Deferred or a Response
    response = answer.answer if hasattr(answer, "answer") else answer
    assert response is not None, "not answered yet"
    return response[2]


def test_queued_invokes_start_in_arrival_order_each_with_its_own_answer(spec):
    dispatch = HoldingDispatch()
    app = _app(spec, dispatch)
    answers = [_invoke(app, b"%d" % n) for n in range(6)]
    assert dispatch.started == [b"0"]                    # one slot: the rest wait in line
    assert all(a.answer is None for a in answers)
    for n in range(6):
        dispatch.finish()                                # the next one starts as this one is answered
        assert _body(answers[n]) == b"%d" % n
        assert dispatch.started == [b"%d" % k for k in range(min(n + 2, 6))]
    assert dispatch.async_calls == [] and app.invoke_slots.free == 1
    status, headers = answers[3].expected                # the head expected once it started: its own request id
    assert status == 200 and (b"x-amzn-requestid", b"rid-3") in headers


def test_failed_starts_answer_their_request_and_hand_the_slot_on_without_recursion(spec):
    dispatch = HoldingDispatch()
    app = _app(spec, dispatch)
    first = _invoke(app, b"first")
    throttled = [_invoke(app, b"t%d" % n) for n in range(3000)]   # deeper than Python's recursion limit
    dispatch.fail = {b"t%d" % n for n in range(3000)}
    last = _invoke(app, b"last")
    dispatch.finish()
    assert _body(first) == b"first"
    assert {a.answer[0] for a in throttled} == {429}
    assert all(b"Rate Exceeded." in _body(a) for a in throttled)
    assert dispatch.started == [b"first", b"last"]       # the slot reached the end of the line
    dispatch.finish()
    assert _body(last) == b"last" and app.invoke_slots.free == 1


def test_an_aborted_queued_invoke_never_runs(spec):
    dispatch = HoldingDispatch()
    app = _app(spec, dispatch)
    _invoke(app, b"a")
    gone = _invoke(app, b"b")
    kept = _invoke(app, b"c")
    gone.cancel()                                        # what the HTTP server does when it aborts the request
    dispatch.finish()
    assert dispatch.started == [b"a", b"c"]
    dispatch.finish()
    assert _body(kept) == b"c" and gone.answer is None and app.invoke_slots.free == 1


def test_a_queued_invoke_that_cannot_start_warm_runs_through_invoke_async_with_its_slot(spec):
    async def scenario() -> None:
        dispatch = HoldingDispatch()
        dispatch.refuse = {b"cold"}
        app = _app(spec, dispatch)
        _invoke(app, b"warm")
        queued = _invoke(app, b"cold")
        after = _invoke(app, b"after")
        dispatch.finish()
        assert dispatch.async_calls == [] and queued.answer is None   # its task runs on the next loop pass
        for _ in range(5):
            await asyncio.sleep(0)
        assert _body(queued) == b"cold" and dispatch.async_calls == [b"cold"]
        assert dispatch.started == [b"warm", b"after"]  # the slot went on once the cold one was done
        dispatch.finish()
        assert _body(after) == b"after" and app.invoke_slots.free == 1

    asyncio.run(scenario())


@pytest.mark.parametrize("queued", [1, 5])
def test_a_throttled_first_start_gives_its_slot_to_the_line(spec, queued):
    dispatch = HoldingDispatch()
    dispatch.fail = {b"x"}
    app = _app(spec, dispatch)
    assert _invoke(app, b"x")[0] == 429                 # answered at once; the slot is free again
    answers = [_invoke(app, b"%d" % n) for n in range(queued)]
    assert dispatch.started == [b"0"]
    for n in range(queued):
        dispatch.finish()
        assert _body(answers[n]) == b"%d" % n
    assert app.invoke_slots.free == 1
