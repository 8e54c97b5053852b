"""``render_invoke`` (the hot path's Invoke response, straight from the runtime's ``InvokeResult``) answers exactly
what the generic path does: ``render(Invoke, wire.invoke_result(result))``."""
from __future__ import annotations

import base64

from hypothesis import given, settings
from hypothesis import strategies as st

from strata.local.lambda_service.wire import invoke_result
from strata.local.runtime.api import InvokeResult
from strata.local.server.model import service_spec
from strata.local.server.response import render, render_invoke


def generic(result: InvokeResult):  # noqa: ANN201 - (status, headers, body)
    return render(service_spec().operations["Invoke"], invoke_result(result))


results = st.builds(
    InvokeResult,
    status_code=st.sampled_from([200, 202, 204]),
    payload=st.binary(max_size=256),
    executed_version=st.one_of(st.just("$LATEST"), st.integers(1, 10**6).map(str)),
    request_id=st.uuids().map(str),
    function_error=st.sampled_from([None, "Unhandled"]),
    log_result=st.one_of(st.none(), st.binary(max_size=128).map(lambda raw: base64.b64encode(raw).decode())),
)


@settings(max_examples=300, deadline=None)
@given(results)
def test_render_invoke_matches_the_generic_rendering(result):
    assert render_invoke(result) == generic(result)


def test_render_invoke_of_a_function_error_with_tail_log():
    log = base64.b64encode(b"START RequestId: r Version: 3\nboom\n").decode()
    result = InvokeResult(status_code=200, payload=b'{"errorMessage":"boom","errorType":"Exception"}',
                          executed_version="3", request_id="r-1", function_error="Unhandled", log_result=log)
    status, headers, body = render_invoke(result)
    assert status == 200
    assert headers == [(b"X-Amz-Function-Error", b"Unhandled"), (b"X-Amz-Log-Result", log.encode()),
                       (b"X-Amz-Executed-Version", b"3"), (b"content-type", b"application/json")]
    assert body == b'{"errorMessage":"boom","errorType":"Exception"}'
    assert (status, headers, body) == generic(result)


def test_render_invoke_of_event_and_dry_run_has_no_executed_version():
    event = InvokeResult(status_code=202, payload=b"", executed_version="$LATEST", request_id="r-2")
    dry = InvokeResult(status_code=204, payload=b"", executed_version="$LATEST", request_id="r-3")
    assert render_invoke(event) == generic(event) == (202, [(b"content-type", b"application/json")], b"")
    assert render_invoke(dry) == generic(dry) == (204, [], b"")
