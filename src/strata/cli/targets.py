"""The option by which ``invoke`` and ``logs`` name a function by logical id within a deployed stack (resolved by
``strata.local.engine.describe.resolve_target``)."""
from __future__ import annotations

import click

stack_name_option = click.option(
    "--stack-name", default=None,
    help="Read TARGET as LOGICAL_ID[:QUALIFIER] of a function in this locally deployed stack.")
