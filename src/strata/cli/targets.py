"""The option by which ``invoke`` and ``logs`` name a function by logical id within a deployed stack (resolved by
``strata.local.engine.describe.resolve_target``), and the stack they try when none is named: the one ``deploy``
would name here (samconfig.toml, else the folder's name), as SAM CLI's ``sam logs``/``sam remote invoke`` do."""
from __future__ import annotations

import click

stack_name_option = click.option(
    "--stack-name", default=None,
    help="Read TARGET as LOGICAL_ID[:QUALIFIER] of a function in this deployed stack (default: the stack deploy "
         "names here, when TARGET is one of its logical ids).")


def default_stack(target: str = "local") -> str | None:
    """The stack name ``deploy`` defaults to in the current folder (None when there is no template here)."""
    from pathlib import Path

    from strata.deploy.settings import resolve_stack

    if not Path("template.yaml").is_file() and not Path("samconfig.toml").is_file():
        return None
    return resolve_stack(template_file="template.yaml", target=target).name
