"""Warm invokes through the server's hot path (answered from the worker's reply callback, log block formatted after
the answer) keep Lambda's log: each invocation's output inside its own START/END/REPORT block, in order."""
from __future__ import annotations

import time

import boto3
from strata_testkit import zip_bytes

from strata.local.lambda_service.service import LambdaService
from strata.local.runtime.logs import LogStore
from strata.local.server.app import LambdaApp
from strata.local.server.operations import ServiceDispatch
from strata.local.server.runner import run_in_thread

HANDLER = "def handler(event, context):\n    print('hello from', context.aws_request_id)\n    return event\n"


def test_warm_invokes_over_http_log_their_output_in_their_own_blocks(tmp_path, spec):
    home = tmp_path / "home"
    service = LambdaService(home)
    served, stop = run_in_thread(LambdaApp(ServiceDispatch(service), spec))
    try:
        lam = boto3.client("lambda", endpoint_url=served.url, region_name="us-east-1", aws_access_key_id="x",
                           aws_secret_access_key="x")
        lam.create_function(FunctionName="f", Runtime="python3.12", Role="arn:aws:iam::123456789012:role/r",
                            Handler="app.handler", Code={"ZipFile": zip_bytes({"app.py": HANDLER})})
        ids = []
        for n in range(4):                            # the first is a cold start, the others take the hot path
            out = lam.invoke(FunctionName="f", Payload=b'{"n": %d}' % n)
            assert out["Payload"].read() == b'{"n": %d}' % n and out["ExecutedVersion"] == "$LATEST"
            ids.append(out["ResponseMetadata"]["RequestId"])
        reader = LogStore(home)                       # another process's view: what is on disk
        deadline = time.monotonic() + 5
        while ids[-1] not in (text := reader.read("f")) and time.monotonic() < deadline:
            time.sleep(0.01)                          # the server's writer writes within its flush delay
        positions = []
        for rid in ids:
            block = (f"START RequestId: {rid} Version: $LATEST\nhello from {rid}\nEND RequestId: {rid}\n"
                     f"REPORT RequestId: {rid}")
            assert block in text, text
            positions.append(text.index(block))
        assert positions == sorted(positions)
    finally:
        stop()
        service.close()


def test_invokes_waiting_in_line_for_one_slot_run_on_the_one_warm_worker_with_their_own_logs(tmp_path, spec):
    """``invoke_threads=1`` and 8 clients at once: the line is served by the one warm environment (each next
    invocation is sent to its worker as the previous one is answered), every answer is the caller's own, and every
    invocation's output is in its own block."""
    import http.client
    import json
    from concurrent.futures import ThreadPoolExecutor

    home = tmp_path / "home"
    service = LambdaService(home)
    served, stop = run_in_thread(LambdaApp(ServiceDispatch(service), spec, invoke_threads=1))
    try:
        lam = boto3.client("lambda", endpoint_url=served.url, region_name="us-east-1", aws_access_key_id="x",
                           aws_secret_access_key="x")
        lam.create_function(FunctionName="f", Runtime="python3.12", Role="arn:aws:iam::123456789012:role/r",
                            Handler="app.handler", Code={"ZipFile": zip_bytes({"app.py": HANDLER})})
        lam.invoke(FunctionName="f", Payload=b"{}")   # warm

        def client(c: int) -> list[tuple[bytes, bytes, str]]:
            conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
            out = []
            for n in range(25):
                body = json.dumps({"client": c, "n": n}).encode()
                conn.request("POST", "/2015-03-31/functions/f/invocations", body=body)
                response = conn.getresponse()
                out.append((body, response.read(), response.getheader("x-amzn-RequestId")))
            conn.close()
            return out

        with ThreadPoolExecutor(8) as pool:
            results = [r for rs in pool.map(client, range(8)) for r in rs]
        assert all(sent == got for sent, got, _ in results)
        ids = [rid for _, _, rid in results]
        assert len(set(ids)) == 200
        assert service.runtime.environment_count() == 1  # waited in line for the warm one: no cold start
        reader = LogStore(home)
        deadline = time.monotonic() + 5
        while (not all(f"REPORT RequestId: {rid}" in (text := reader.read("f")) for rid in ids)
               and time.monotonic() < deadline):
            time.sleep(0.01)                          # the server's writer writes within its flush delay
        for rid in ids:
            assert (f"START RequestId: {rid} Version: $LATEST\nhello from {rid}\nEND RequestId: {rid}\n"
                    f"REPORT RequestId: {rid}") in text
    finally:
        stop()
        service.close()
