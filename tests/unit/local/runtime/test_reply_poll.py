"""The callback path's reply poll: a caller that runs nothing else (``on_done.sole``) has a quick reply answered
before ``start_invoke`` returns (the loop never sleeps for it); any other caller hears the reply from the loop's
reader; an environment whose last reply took longer than the poll is not polled for again until one is quick."""
from __future__ import annotations

import asyncio
import json
import uuid

import pytest

import strata.local.runtime.environment as environment
from strata.local.runtime.api import InvokeRequest

HANDLER = {"app.py": """
    import time
    def handler(event, context):
        time.sleep(event.get("sleep", 0))
        return event
"""}


class Answer:
    """An ``on_done`` with the hooks the server's answer has; records what it heard, in order."""

    def __init__(self, sole: bool) -> None:
        self.sole = sole
        self.heard: list = []
        self.done = asyncio.get_running_loop().create_future()

    def started(self, request_id: str, version: str) -> None:
        self.heard.append(("started", version))

    def __call__(self, result, error) -> None:  # noqa: ANN001
        self.heard.append(("done", error))
        self.done.set_result(result)


def _start(pool, fn, event: dict, *, sole: bool):  # noqa: ANN001, ANN202
    """Start one invocation from the loop: (answered before start_invoke returned, its payload)."""
    async def run():
        answer = Answer(sole)
        request = InvokeRequest(payload=json.dumps(event).encode(), request_id=str(uuid.uuid4()),
                                invoked_arn=fn.function_arn)
        assert pool.start_invoke(fn, request, answer)
        at_once = answer.done.done()
        result = await asyncio.wait_for(answer.done, 20)
        assert answer.heard == [("started", "$LATEST"), ("done", None)]
        return at_once, json.loads(result.payload)
    return run()


def test_a_sole_callers_quick_reply_is_answered_before_start_returns(lab, monkeypatch) -> None:
    monkeypatch.setattr(environment, "REPLY_POLL", 2.0)    # generous: a loaded test machine still replies within it
    fn = lab.function(HANDLER)
    lab.invoke(fn, {})                                     # cold start on the blocking path; warm from here on

    async def scenario():
        assert await _start(lab.pool, fn, {"n": 1}, sole=True) == (True, {"n": 1})
        assert await _start(lab.pool, fn, {"n": 2}, sole=False) == (False, {"n": 2})   # read by the loop instead
        assert await _start(lab.pool, fn, {"n": 3}, sole=True) == (True, {"n": 3})
    asyncio.run(scenario())


def test_an_environment_whose_last_reply_was_slow_is_not_polled_for(lab, monkeypatch) -> None:
    monkeypatch.setattr(environment, "REPLY_POLL", 0.3)
    fn = lab.function(HANDLER)
    lab.invoke(fn, {})

    async def scenario():
        assert await _start(lab.pool, fn, {"sleep": 0.6}, sole=True) == (False, {"sleep": 0.6})  # polled, gave up
        assert await _start(lab.pool, fn, {"n": 1}, sole=True) == (False, {"n": 1})   # not polled: the last was slow
        assert await _start(lab.pool, fn, {"n": 2}, sole=True) == (True, {"n": 2})    # the last was quick again
    asyncio.run(scenario())


@pytest.mark.parametrize("sole", [True, False])
def test_the_pool_counts_the_invocation_done_either_way(lab, monkeypatch, sole) -> None:
    monkeypatch.setattr(environment, "REPLY_POLL", 2.0)
    fn = lab.function(HANDLER)
    lab.invoke(fn, {})

    async def scenario():
        for n in range(5):
            assert (await _start(lab.pool, fn, {"n": n}, sole=sole))[1] == {"n": n}
    asyncio.run(scenario())
    assert lab.pool.environment_count(fn) == 1 and lab.pool._in_flight[fn.function_arn] == 0
