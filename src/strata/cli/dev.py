"""``strata dev``: deploy locally, serve the Lambda API (as ``strata serve``), and deploy every save (the loop is
``strata.local.dev``)."""
from __future__ import annotations

import shlex
import sys
from typing import TYPE_CHECKING

import click

from strata.cli.deploy import account_option, layer_source_option, stack_name_option, strict_option
from strata.cli.options import (
    config_options,
    debug_options,
    env_vars_option,
    jwks_option,
    parameter_overrides_option,
    region_option,
    template_option,
)

if TYPE_CHECKING:
    from strata.local.env_vars import EnvVarsFile
    from strata.local.gateway.jwks import JwksSource


@click.command(short_help="Deploy locally, serve the Lambda API, and deploy every save.")
@template_option
@stack_name_option
@parameter_overrides_option
@region_option
@account_option
@strict_option
@layer_source_option
@config_options
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (loopback only: the server signs with the state home's keys).")
@click.option("--port", default=3001, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0 picks a free one; server.json in the state folder names it).")
@debug_options
@env_vars_option
@jwks_option
def dev(template_file: str, host: str, port: int, debug_function: str | None, debug_port: int,
        env_vars: EnvVarsFile | None, jwks: JwksSource, **flags: object) -> None:
    """Deploy the template to the local Lambda service, serve Lambda's REST API (SigV4 with the state home's keys:
    eval "$(strata env)"), then watch the template, code and layer folders: each save builds what changed and
    publishes a version only where a function's fingerprint changed, moves the alias, drains the old version's warm
    workers, and prints one line per changed function. A template that no longer validates prints the located
    error and the last good versions keep serving. Ctrl+C stops."""
    from strata.deploy.settings import resolve_deploy
    from strata.local.dev import run_dev

    settings = resolve_deploy(template_file=template_file, **flags)  # type: ignore[arg-type]

    def say(line: str) -> None:
        click.echo(line)
        sys.stdout.flush()

    def warn(line: str) -> None:
        click.echo(line, err=True)
        sys.stderr.flush()

    def ready(url: str) -> None:
        warn(f"strata dev: Lambda API on {url} (SigV4 required); state {settings.home}. Ctrl+C stops.\n"
             f"  boto3 / AWS CLI: eval \"$(strata env -t {shlex.quote(template_file)})\"")

    run_dev(settings, host=host, port=port, out=say, err=warn, on_ready=ready,
            debug=(debug_function, debug_port) if debug_function else None, env_vars=env_vars, jwks=jwks)
