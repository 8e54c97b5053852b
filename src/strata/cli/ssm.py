"""``strata ssm put|get|list|delete|load``: the local parameter store that SSM-typed template parameters and
``{{resolve:ssm:...}}`` references read on the local target (``strata.local.ssm_store``). A SecureString value is
never printed unless ``--with-decryption`` asks for it."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from strata.cli.options import echo_json, output_option

if TYPE_CHECKING:
    from strata.local.ssm_store import SsmStore

_HOME = click.option("-t", "--template-file", "--template", "template_file", default=None,
                     type=click.Path(dir_okay=False),
                     help="Template whose .strata/ state folder holds the store (default: $STRATA_HOME or ./.strata).")


def _store(template_file: str | None) -> SsmStore:
    from strata.local.ssm_store import SsmStore
    from strata.paths import state_home

    return SsmStore(state_home(template_file))


@click.group(help="The local SSM parameter store: values for AWS::SSM::Parameter::Value<...> parameters and "
                  "{{resolve:ssm:NAME}} on the local target.")
def ssm() -> None:
    pass


@ssm.command(help="Create or overwrite a parameter (each put is a new version).")
@click.argument("name")
@click.argument("value")
@click.option("--type", "type_", type=click.Choice(["String", "StringList", "SecureString"]), default="String",
              show_default=True)
@_HOME
def put(name: str, value: str, type_: str, template_file: str | None) -> None:
    with _store(template_file) as store:
        stored = store.put(name, value, type_)
    click.echo(f"{stored.name} version {stored.version} ({stored.type})")


@ssm.command(help="Print a parameter's value (a SecureString only with --with-decryption).")
@click.argument("name")
@click.option("--with-decryption", is_flag=True, help="Print a SecureString's value.")
@_HOME
@output_option
def get(name: str, with_decryption: bool, template_file: str | None, output: str) -> None:
    from strata.errors import StrataError

    with _store(template_file) as store:
        found = store.get(name)
    if found is None:
        raise StrataError(f"SSM parameter {name} is not in the local store",
                          hint=f"`strata ssm put {name} VALUE` stores it")
    if output == "json":
        echo_json(found.as_json(with_decryption))
    else:
        click.echo(found.shown(with_decryption))


@ssm.command(name="list", help="List the parameters (SecureString values hidden).")
@click.option("--path", "prefix", default="", help="Only names that start with this.")
@click.option("--with-decryption", is_flag=True, help="Show SecureString values.")
@_HOME
@output_option
def list_(prefix: str, with_decryption: bool, template_file: str | None, output: str) -> None:
    with _store(template_file) as store:
        found = store.list(prefix)
    if output == "json":
        echo_json([p.as_json(with_decryption) for p in found])
        return
    if not found:
        click.echo("No parameters.")
    for p in found:
        click.echo(f"{p.name}  {p.type}  v{p.version}  {p.shown(with_decryption)}")


@ssm.command(help="Delete a parameter.")
@click.argument("name")
@_HOME
def delete(name: str, template_file: str | None) -> None:
    from strata.errors import StrataError

    with _store(template_file) as store:
        if not store.delete(name):
            raise StrataError(f"SSM parameter {name} is not in the local store")
    click.echo(f"Deleted {name}.")


@ssm.command(help="Put every parameter of a JSON or YAML file: {name: value} or {name: {Value: v, Type: t}}.")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@_HOME
def load(file: str, template_file: str | None) -> None:
    from strata.local.ssm_store import read_parameter_file

    entries = read_parameter_file(Path(file))
    with _store(template_file) as store:
        for name, value, type_ in entries:
            store.put(name, value, type_)
    click.echo(f"Stored {len(entries)} parameter(s).")
