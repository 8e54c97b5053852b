"""``strata serve``: the local Lambda service over Lambda's REST API, so boto3 and the AWS CLI work with
``--endpoint-url``. Loopback only unless credentials are configured; then every request must be SigV4-signed."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from strata.cli.options import region_option


@click.command(short_help="Serve the local Lambda service over Lambda's REST API.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback requires --access-key-id/--secret-access-key.")
@click.option("--port", default=3001, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0 picks a free one; server.json in the state folder names it).")
@click.option("--stack-name", default=None, help="Stack whose functions this server is for (recorded in server.json).")
@click.option("-t", "--template-file", "template_file", default=None, type=click.Path(dir_okay=False),
              help="Template whose .strata/ state folder to serve (default: $STRATA_HOME or ./.strata).")
@click.option("--access-key-id", envvar="STRATA_SERVER_ACCESS_KEY_ID", default=None, show_envvar=True,
              help="Access key id clients must sign with (required for a non-loopback --host).")
@click.option("--secret-access-key", envvar="STRATA_SERVER_SECRET_ACCESS_KEY", default=None, show_envvar=True,
              help="Secret access key clients must sign with.")
@click.option("--invoke-threads", default=64, show_default=True, type=click.IntRange(1, 4096),
              help="Invocations served at once (each waits on one warm worker).")
@region_option
def serve(host: str, port: int, stack_name: str | None, template_file: str | None, access_key_id: str | None,
          secret_access_key: str | None, invoke_threads: int, region: str | None) -> None:
    """Serve Lambda's REST API (routes from botocore's model) on the local Lambda service and its warm workers."""
    from strata.paths import cache_dir, state_home
    from strata.local.server.app import LambdaApp
    from strata.local.server.auth import Credentials, Verifier
    from strata.local.server.model import service_spec
    from strata.local.server.runner import ServerConfigError, is_loopback, serve as run

    if bool(access_key_id) != bool(secret_access_key):
        raise ServerConfigError("--access-key-id and --secret-access-key go together: one of them is missing",
                                hint="set both (or STRATA_SERVER_ACCESS_KEY_ID and STRATA_SERVER_SECRET_ACCESS_KEY)")
    if not is_loopback(host) and not access_key_id:
        raise ServerConfigError(
            f"refusing to listen on {host} without credentials: anyone who can reach it could run code",
            hint="set --access-key-id and --secret-access-key (or STRATA_SERVER_ACCESS_KEY_ID / "
                 "STRATA_SERVER_SECRET_ACCESS_KEY) and sign requests with them, or keep --host 127.0.0.1")
    verifier = (Verifier(Credentials(access_key_id, secret_access_key))
                if access_key_id and secret_access_key else None)     # both or neither (checked above)
    home = state_home(template_file)
    spec = service_spec(cache_dir(home))

    from strata.local.lambda_service.service import LambdaService
    from strata.local.server.operations import ServiceDispatch

    service = LambdaService(home, region=region) if region else LambdaService(home)
    app = LambdaApp(ServiceDispatch(service), spec, verifier=verifier, invoke_threads=invoke_threads)

    def ready(url: str) -> None:
        auth = "SigV4 required" if verifier else "no authentication (loopback only)"
        click.echo(f"strata serve: Lambda API on {url} ({auth}); state {home}. Ctrl+C stops.", err=True)
        sys.stderr.flush()

    try:
        run(app, Path(home), host, port, stack_name=stack_name, on_ready=ready)
    finally:
        close = getattr(service, "close", None)
        if close is not None:
            close()
