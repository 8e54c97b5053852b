"""How ``invoke`` and ``logs`` name a function: a function name/ARN (``NAME[:QUALIFIER]``), or, with
``--stack-name``, a logical id within a deployed stack (``LOGICAL_ID[:QUALIFIER]``)."""
from __future__ import annotations

from pathlib import Path

import click

stack_name_option = click.option(
    "--stack-name", default=None,
    help="Read TARGET as LOGICAL_ID[:QUALIFIER] of a function in this locally deployed stack.")


def resolve_target(home: Path, target: str, stack_name: str | None) -> str:
    """``target`` as the Lambda service names it: unchanged without a stack, else ``physical-name[:qualifier]``."""
    if not stack_name:
        return target
    from strata.local.engine.describe import resolve_function

    logical_id, _, qualifier = target.partition(":")
    physical = resolve_function(home, stack_name, logical_id)
    if qualifier:
        return f"{physical.split(':', 1)[0]}:{qualifier}"
    return physical
