"""How text output names many things: every name while a person can read them on a line, a count beyond that.

Why one home: deploy, plan and verify print lists of functions and resources, and a 500-function app turned each into
a line of 500 names. Text output summarises past ``LIST_LIMIT`` names (``PLAN_LIMIT`` plan lines); ``--output json``
always carries the full lists.
"""
from __future__ import annotations

from collections.abc import Sequence

LIST_LIMIT = 10     # names on one line before a count replaces them
PLAN_LIMIT = 60     # plan lines (one per change) before changes are grouped by action and type


def names_or_count(names: Sequence[str], noun: str, plural: str | None = None) -> str:
    """``A, B, C`` up to ``LIST_LIMIT`` names, else ``500 functions``."""
    if len(names) <= LIST_LIMIT:
        return ", ".join(names)
    return f"{len(names)} {plural or noun + 's'}"


def some_names(names: Sequence[str], shown: int = 3) -> str:
    """The first few names and how many more: ``Fn0, Fn1, Fn2 and 497 more``."""
    head = ", ".join(names[:shown])
    return head if len(names) <= shown else f"{head} and {len(names) - shown} more"
