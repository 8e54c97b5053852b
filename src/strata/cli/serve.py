"""``strata serve``: the local Lambda service over Lambda's REST API, so boto3 and the AWS CLI work with
``--endpoint-url``. Every request must be SigV4-signed with the state home's credentials (``<home>/credentials.json``,
0600, made on first start; ``strata env`` prints them as exports) or with ``--access-key-id``/``--secret-access-key``,
which a non-loopback ``--host`` requires."""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from strata.cli.options import (
    debug_options,
    env_vars_option,
    jwks_option,
    python_options,
    region_option,
    use_python_flags,
)

if TYPE_CHECKING:
    from strata.local.env_vars import EnvVarsFile
    from strata.local.gateway.jwks import JwksSource


def _home_args(template_file: str | None) -> str:
    """The ``strata env`` arguments naming the same state home (none when it is the default one)."""
    import shlex

    return f" -t {shlex.quote(template_file)}" if template_file else ""


@click.command(short_help="Serve the local Lambda service over Lambda's REST API.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback requires --access-key-id/--secret-access-key.")
@click.option("--port", default=3001, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0 picks a free one; server.json in the state folder names it).")
@click.option("--stack-name", default=None, help="Stack whose functions this server is for (recorded in server.json).")
@click.option("-t", "--template-file", "template_file", default=None, type=click.Path(dir_okay=False),
              help="Template whose .strata/ state folder to serve (default: $STRATA_HOME or ./.strata).")
@click.option("--access-key-id", envvar="STRATA_SERVER_ACCESS_KEY_ID", default=None, show_envvar=True,
              help="An extra access key id clients may sign with, besides the state home's own (required for a "
                   "non-loopback --host).")
@click.option("--secret-access-key", envvar="STRATA_SERVER_SECRET_ACCESS_KEY", default=None, show_envvar=True,
              help="The secret access key of --access-key-id.")
@click.option("--invoke-threads", default=64, show_default=True, type=click.IntRange(1, 4096),
              help="Invocations served at once (each waits on one warm worker).")
@region_option
@debug_options
@env_vars_option
@python_options
@jwks_option
def serve(host: str, port: int, stack_name: str | None, template_file: str | None, access_key_id: str | None,
          secret_access_key: str | None, invoke_threads: int, region: str | None, debug_function: str | None,
          debug_port: int, env_vars: EnvVarsFile | None, python_paths: tuple[str, ...],
          python_substitutes: tuple[str, ...], jwks: JwksSource, node_paths: tuple[str, ...] = (),
          node_substitutes: tuple[str, ...] = ()) -> None:
    """Serve Lambda's REST API (routes from botocore's model) on the local Lambda service and its warm workers."""
    from strata.local.env_vars import overrides_for_home
    from strata.local.server.runner import serve_home
    from strata.paths import state_home

    home = state_home(template_file)
    use_python_flags(python_paths, python_substitutes, node_paths, node_substitutes)
    debug = None
    if debug_function:
        from strata.cli.targets import default_stack
        from strata.local.debugging import attach_note, debug_target

        debug = debug_target(home, debug_function, debug_port, stack_name=stack_name, default_stack=default_stack())
    overrides = overrides_for_home(env_vars, home, lambda line: click.echo(line, err=True))

    def ready(url: str, signed: bool) -> None:
        from strata.local.credentials import credentials_file

        auth = "SigV4 required" if signed else "no authentication"
        click.echo(f"strata serve: Lambda API on {url} ({auth}); state {home}. Ctrl+C stops.\n"
                   f"  boto3 / AWS CLI: eval \"$(strata env{_home_args(template_file)})\" "
                   f"(credentials in {credentials_file(home)})", err=True)
        if debug is not None:
            click.echo(attach_note(debug, home), err=True)
        if overrides is not None:
            reached = ", ".join(f"{name} ({', '.join(sorted(names))})" for name, names in
                                sorted(overrides.by_name.items()) if names) or "no function"
            click.echo(f"  local overrides from --env-vars {overrides.source}: {reached}", err=True)
        sys.stderr.flush()

    from strata.local.gateway.service import Gateway

    # the deployed APIs and function URLs, each on its own 127.0.0.1 port (announced as they start)
    gateway = Gateway(home, base_port=port, announce=lambda line: click.echo(line, err=True), jwks=jwks)
    serve_home(home, host=host, port=port, stack_name=stack_name, access_key_id=access_key_id,
               secret_access_key=secret_access_key, invoke_threads=invoke_threads, region=region, on_ready=ready,
               debug=debug, env_overrides=overrides, companions=[gateway.attach])
