"""``strata invoke NAME[:QUALIFIER]``: invoke a function on the local Lambda service under ``state_home()``
(``strata.local.invoke``).

stdout carries the returned payload and nothing else (ending in a newline); the log tail (``--log-type Tail``) and
status notes go to stderr. Function errors and Lambda errors exit 1 with their message. An ``Event`` invocation is
queued, and the command waits for it to run before exiting (there is no long-lived process to finish it otherwise).
"""
from __future__ import annotations

import base64
import json
import sys
from typing import IO, TYPE_CHECKING

import click

from strata.cli.options import debug_options, env_vars_option, python_options, region_option, use_python_flags
from strata.cli.targets import default_stack, stack_name_option

if TYPE_CHECKING:
    from strata.local.env_vars import EnvVarsFile


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
@debug_options
@env_vars_option
@python_options
def invoke(target: str, event_file: IO[bytes] | None, log_type: str, invocation_type: str, region: str | None,
           stack_name: str | None, debug_function: str | None, debug_port: int, env_vars: EnvVarsFile | None,
           python_paths: tuple[str, ...], python_substitutes: tuple[str, ...], node_paths: tuple[str, ...] = (),
           node_substitutes: tuple[str, ...] = ()) -> int:
    from strata.local.engine.describe import resolve_target
    from strata.local.env_vars import overrides_for_home
    from strata.local.invoke import invoke_local
    from strata.paths import state_home

    payload = event_file.read() if event_file is not None else b"{}"
    _check_json(payload)
    use_python_flags(python_paths, python_substitutes, node_paths, node_substitutes)
    home = state_home()
    note = lambda line: click.echo(line, err=True)  # noqa: E731
    debug = None
    if debug_function:
        from strata.local.debugging import attach_note, debug_target

        debug = debug_target(home, debug_function, debug_port, stack_name=stack_name, default_stack=default_stack())
        note(attach_note(debug, home))
    result = invoke_local(home, resolve_target(home, target, stack_name, default_stack()), payload,
                          invocation_type=invocation_type, log_type=log_type, region=region, note=note, debug=debug,
                          env_overrides=overrides_for_home(env_vars, home, note))
    if invocation_type == "Event":
        return 0
    if invocation_type == "DryRun":
        click.echo("dry run: the invocation would be accepted", err=True)
        return 0
    if result.log_result:
        click.echo(base64.b64decode(result.log_result).decode("utf-8", "replace"), err=True, nl=False)
    click.echo(result.payload, nl=not result.payload.endswith(b"\n"))  # bytes, as they are, ending the line
    if result.function_error:
        click.echo(f"Error: function error ({result.function_error}): {_summary(result.payload)}", err=True)
        return 1
    return 0


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
