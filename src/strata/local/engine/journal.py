"""The deploy journal: before each Lambda call, its intent (the resource, the action, the physical identity chosen
and what the service held before) is committed; after it, the outcome is committed together with the resource's new
state, in one transaction. An intent without its outcome means the process died in between: recovery asks the
handler to reconcile it by reading the Lambda service.

Crash points (for tests): ``STRATA_CRASH_AT=<point>:<n>`` makes the process ``os._exit(137)`` the n-th time it
reaches ``point`` (one of ``POINTS``), as a SIGKILL would."""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from strata.local.engine.state import StackState

ENV_CRASH = "STRATA_CRASH_AT"
POINTS = ("before-intent", "after-intent", "mid-call", "after-call", "after-done", "before-cleanup",
          "before-rollback", "before-complete")


# kinds of deploys-table records besides a deploy: ``strata rollback`` and ``strata prune`` (``engine.operations``);
# here so that checking a record's kind does not import the operations themselves
ROLLBACK_OP, PRUNE_OP = "rollback", "prune"
OPERATIONS = (ROLLBACK_OP, PRUNE_OP)


class CrashPoints:
    """Counts the points a deploy passes and dies at the configured one."""

    def __init__(self, spec: str | None = None) -> None:
        spec = os.environ.get(ENV_CRASH, "") if spec is None else spec
        self.point, self.nth = None, 0
        if spec:
            point, _, nth = spec.rpartition(":")
            if point not in POINTS or not nth.isdigit():
                raise ValueError(f"{ENV_CRASH}={spec!r}: want <point>:<n>, point one of {', '.join(POINTS)}")
            self.point, self.nth = point, int(nth)
        self.seen: dict[str, int] = {}

    def __call__(self, point: str) -> None:
        self.seen[point] = self.seen.get(point, 0) + 1
        if point == self.point and self.seen[point] == self.nth:
            os._exit(137)


class Journal:
    """Intent/outcome bookkeeping for one deploy (or one ``strata rollback`` / ``strata prune``: ``operations``)."""

    def __init__(self, state: StackState, deploy_id: int, crash: CrashPoints | None = None) -> None:
        self.state = state
        self.deploy_id = deploy_id
        self.crash = crash or CrashPoints()

    def intent(self, logical_id: str, action: str, payload: dict[str, Any], *, dirty_stack: str | None = None,
               also: Callable[[], None] | None = None) -> int:
        """Commit the intent (and, for updates, mark the resource dirty) before the call. ``also`` runs in the same
        transaction (the step's IN_PROGRESS event: one commit per step saved)."""
        self.crash("before-intent")
        with self.state.transaction():
            seq = self.state.add_intent(self.deploy_id, logical_id, action, payload)
            if dirty_stack is not None:
                self.state.mark_dirty(dirty_stack, logical_id)
            if also is not None:
                also()
        self.crash("after-intent")
        return seq

    def done(self, seq: int) -> None:
        """Within the caller's transaction: the intent's outcome is recorded."""
        self.state.finish_intent(self.deploy_id, seq)
