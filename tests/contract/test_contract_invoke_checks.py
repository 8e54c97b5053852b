"""Invoke checks that happen before anything runs: resolution, payload limits, DryRun (reference 3.3, 9)."""
from __future__ import annotations

from contract_helpers import arn, create, fails, payload_of


def test_unknown_function_message_ends_in_latest(lam):
    with fails("ResourceNotFoundException", f"Function not found: {arn('nope', '$LATEST')}"):
        lam.invoke(FunctionName="nope", Payload=b"{}")
    create(lam)
    with fails("ResourceNotFoundException", f"Function not found: {arn('fn', '9')}"):
        lam.invoke(FunctionName="fn", Qualifier="9", Payload=b"{}")
    with fails("ResourceNotFoundException", f"Function not found: {arn('fn', 'ghost')}"):
        lam.invoke(FunctionName="fn:ghost", Payload=b"{}")
    with fails("InvalidParameterValueException",
               "The derived qualifier from the function name does not match the specified qualifier."):
        lam.invoke(FunctionName="fn:1", Qualifier="2", Payload=b"{}")


def test_dry_run_validates_without_running(lam):
    create(lam)
    response = lam.invoke(FunctionName="fn", InvocationType="DryRun", Payload=b"{}")
    assert response["StatusCode"] == 204 and payload_of(response) == b""
    assert "FunctionError" not in response


def test_sync_payload_limit(lam):
    create(lam)
    with fails("RequestEntityTooLargeException",
               "Request must be smaller than 6291456 bytes for the InvokeFunction operation"):
        lam.invoke(FunctionName="fn", Payload=b'"' + b"x" * 6291455 + b'"')


def test_async_payload_limit(lam):
    create(lam)
    size = 1048577
    with fails("RequestEntityTooLargeException",
               f"{size} byte payload is too large for the Event invocation type (limit 1048576 bytes)"):
        lam.invoke(FunctionName="fn", InvocationType="Event", Payload=b'"' + b"x" * (size - 2) + b'"')
