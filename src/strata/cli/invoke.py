"""``strata invoke NAME[:QUALIFIER]``: invoke a function on the local Lambda service under ``state_home()``.

stdout carries the returned payload and nothing else; the log tail (``--log-type Tail``) and status notes go to
stderr. Function errors and Lambda errors exit 1 with their message. An ``Event`` invocation is queued, and the
command waits for it to run before exiting (there is no long-lived process to finish it otherwise).
"""
from __future__ import annotations

import base64
import json
import sys

import click

from strata.cli.options import region_option
from strata.cli.targets import resolve_target, stack_name_option


@click.command(help="Invoke a function (NAME, NAME:VERSION, NAME:ALIAS or an ARN) on the local Lambda service.")
@click.argument("target")
@click.option("-e", "--event", "event_file", type=click.File("rb"), default=None,
              help="Event JSON file, or - for stdin (default: {}).")
@click.option("--log-type", type=click.Choice(["None", "Tail"]), default="None", show_default=True,
              help="Tail prints the end of the invocation's log on stderr.")
@click.option("--invocation-type", type=click.Choice(["RequestResponse", "Event", "DryRun"]),
              default="RequestResponse", show_default=True)
@region_option
@stack_name_option
def invoke(target: str, event_file, log_type: str, invocation_type: str, region: str | None,
           stack_name: str | None) -> int:
    from strata.paths import state_home

    payload = event_file.read() if event_file is not None else b"{}"
    _check_json(payload)
    home = state_home()
    target = resolve_target(home, target, stack_name)
    server = _running_server(home)
    if server is not None:  # a `strata serve` owns this state: use its warm workers instead of a cold start here
        from strata.local.server.client import invoke_via_server

        name, _, qualifier = _split_qualifier(target)
        result = invoke_via_server(server, name, qualifier or None, payload, invocation_type, log_type)
        if invocation_type == "Event":
            click.echo(f"queued on {server} (RequestId: {result.request_id})", err=True)
            return 0
    else:
        from strata.local.lambda_service.service import LambdaService

        with LambdaService(home, region=region or "us-east-1") as service:
            result = service.invoke(target, payload=payload, invocation_type=invocation_type, log_type=log_type)
            if invocation_type == "Event":
                click.echo(f"queued (RequestId: {result.request_id}); waiting for it to run...", err=True)
                service.drain()
                click.echo("done", err=True)
                return 0
    if invocation_type == "DryRun":
        click.echo("dry run: the invocation would be accepted", err=True)
        return 0
    if result.log_result:
        click.echo(base64.b64decode(result.log_result).decode("utf-8", "replace"), err=True, nl=False)
    click.echo(result.payload, nl=not result.payload.endswith(b"\n"))  # bytes: written as they are
    if result.function_error:
        click.echo(f"Error: function error ({result.function_error}): {_summary(result.payload)}", err=True)
        return 1
    return 0


def _running_server(home) -> str | None:
    from strata.local.server.discovery import running_server

    return running_server(home)


def _split_qualifier(target: str) -> tuple[str, str, str]:
    """``name:qualifier`` -> (name, ":", qualifier); an ARN keeps its own colons (qualifier after the 7th field)."""
    if target.startswith("arn:"):
        parts = target.split(":")
        return (":".join(parts[:7]), ":", parts[7]) if len(parts) > 7 else (target, "", "")
    return target.partition(":")


def _check_json(payload: bytes) -> None:
    try:
        json.loads(payload or b"null")
    except ValueError as exc:
        raise click.BadParameter(f"the event is not valid JSON ({exc})", param_hint="--event") from None


def _summary(payload: bytes) -> str:
    """``ValueError: boom`` from Lambda's error object, else the raw text."""
    try:
        error = json.loads(payload)
    except ValueError:
        return payload.decode("utf-8", "replace")
    if isinstance(error, dict) and "errorMessage" in error:
        kind = error.get("errorType")
        return f"{kind}: {error['errorMessage']}" if kind else str(error["errorMessage"])
    return payload.decode("utf-8", "replace")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(invoke())
