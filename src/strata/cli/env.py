"""``strata env [--stack-name S]``: the shell exports that point boto3 and the AWS CLI at the running ``strata serve``
of this state home, signed with the home's credentials: ``eval "$(strata env)"`` and nothing else to set up.

Only Lambda's endpoint is set (``AWS_ENDPOINT_URL_LAMBDA``): other services keep going wherever they went. No server
running for the home is an error (exit 1), not empty output an ``eval`` would silently accept."""
from __future__ import annotations

import shlex

import click

from strata.cli.options import echo_json, output_option

EXPORT_ORDER = ("AWS_ENDPOINT_URL_LAMBDA", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION",
                "AWS_REGION")


def sdk_environment(url: str, access_key_id: str, secret_access_key: str, region: str) -> dict[str, str]:
    """What an AWS SDK reads to reach the server and sign for it."""
    return {"AWS_ENDPOINT_URL_LAMBDA": url, "AWS_ACCESS_KEY_ID": access_key_id,
            "AWS_SECRET_ACCESS_KEY": secret_access_key, "AWS_DEFAULT_REGION": region, "AWS_REGION": region}


def exports(values: dict[str, str]) -> str:
    """``export NAME=value`` lines, shell-quoted, in a fixed order."""
    return "\n".join(f"export {name}={shlex.quote(values[name])}" for name in EXPORT_ORDER if name in values)


@click.command(help="Print the shell exports (endpoint, credentials, region) that make boto3 and the AWS CLI talk to "
                    "the running `strata serve`: eval \"$(strata env)\".")
@click.option("--stack-name", default=None,
              help="A stack deployed in this state home (checked; the server serves every stack of the home).")
@click.option("-t", "--template-file", "--template", "template_file", default=None, type=click.Path(dir_okay=False),
              help="Template whose .strata/ state folder the server serves (default: $STRATA_HOME or ./.strata).")
@output_option
def env(stack_name: str | None, template_file: str | None, output: str) -> None:
    from strata.errors import StrataError
    from strata.local.discovery import connect
    from strata.paths import state_home

    home = state_home(template_file)
    server = connect(home)
    if server is None:
        raise StrataError(f"no `strata serve` is running for the state folder {home}",
                          hint="start one (`strata serve`, with the same -t or STRATA_HOME), then run this again")
    if server.credentials is None:
        raise StrataError(f"the server of {home} has no credentials file ({home / 'credentials.json'})",
                          hint="restart `strata serve`: it makes one")
    if stack_name:
        from strata.local.engine.describe import describe

        describe(home, stack_name)          # an unknown stack is the usual StrataError
    values = sdk_environment(server.url, server.credentials.access_key_id, server.credentials.secret_access_key,
                             server.region)
    if output == "json":
        echo_json({**values, **({"StackName": stack_name} if stack_name else {})})
        return
    click.echo(exports(values))
