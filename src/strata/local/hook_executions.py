"""The lifecycle hook executions of local traffic shifts: what CodeDeploy's ``PutLifecycleEventHookExecutionStatus``
reports to, and what the shifter reads its verdict from.

Why here, in the home's state database (table ``hook_executions``): the shift runs in the deploying process, but the
hook's ``boto3.client("codedeploy")`` call may reach any server of the home (the deploy's own on-demand server, or a
``strata serve`` already running in another process). A row per execution id the shifter hands out: ``Pending``
until the hook reports ``Succeeded`` or ``Failed`` (once: a second report is CodeDeploy's
``LifecycleEventAlreadyCompletedException``), or until the shifter stops waiting and settles it itself. Rows older
than a day are dropped when a new one is opened. Errors carry CodeDeploy's error codes; ``strata.local.server
.codedeploy`` answers them on the wire.
"""
from __future__ import annotations

import re
import time

from strata.errors import StrataError
from strata.local import state_file

PENDING = "Pending"
REPORTABLE = ("Succeeded", "Failed")       # the only statuses a hook may report (CodeDeploy's rule)
STATUSES = ("Pending", "InProgress", "Succeeded", "Failed", "Skipped", "Unknown")    # the model's enum
KEEP_SECONDS = 24 * 3600
SCHEMA = """CREATE TABLE IF NOT EXISTS hook_executions (
  execution_id TEXT PRIMARY KEY, deployment_id TEXT NOT NULL, hook TEXT NOT NULL, function TEXT NOT NULL,
  status TEXT NOT NULL, reported INTEGER NOT NULL, opened_at REAL NOT NULL)"""
_DEPLOYMENT_ID = re.compile(r"d-[A-Za-z0-9]{1,64}")


class LifecycleError(StrataError):
    """A report CodeDeploy would refuse; ``code`` is CodeDeploy's error type (a 400)."""

    code = "InvalidInputException"


class DeploymentIdRequiredException(LifecycleError):
    code = "DeploymentIdRequiredException"


class InvalidDeploymentIdException(LifecycleError):
    code = "InvalidDeploymentIdException"


class DeploymentDoesNotExistException(LifecycleError):
    code = "DeploymentDoesNotExistException"


class InvalidLifecycleEventHookExecutionIdException(LifecycleError):
    code = "InvalidLifecycleEventHookExecutionIdException"


class InvalidLifecycleEventHookExecutionStatusException(LifecycleError):
    code = "InvalidLifecycleEventHookExecutionStatusException"


class LifecycleEventAlreadyCompletedException(LifecycleError):
    code = "LifecycleEventAlreadyCompletedException"


class HookExecutions(state_file.TableStore):
    """The hook executions of one state home (one connection; each call its own transaction)."""

    schema = SCHEMA

    def open(self, deployment_id: str, execution_id: str, hook: str, function: str) -> None:
        """The shifter hands ``execution_id`` to a hook of ``deployment_id``: it may now report, once."""
        now = time.time()
        with state_file.guarded(self.path):
            self.db.execute("DELETE FROM hook_executions WHERE opened_at < ?", (now - KEEP_SECONDS,))
            self.db.execute("INSERT OR REPLACE INTO hook_executions VALUES (?, ?, ?, ?, ?, 0, ?)",
                            (execution_id, deployment_id, hook, function, PENDING, now))

    def report(self, deployment_id: str | None, execution_id: str | None, status: str | None) -> str:
        """``PutLifecycleEventHookExecutionStatus``: record the hook's verdict; the execution id. Raises the
        ``LifecycleError`` CodeDeploy answers with."""
        if not deployment_id:
            raise DeploymentIdRequiredException("At least one deployment ID must be specified.")
        if not _DEPLOYMENT_ID.fullmatch(deployment_id):
            raise InvalidDeploymentIdException(f"Specified DeploymentId is not in the valid format: {deployment_id}")
        with state_file.guarded(self.path):
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self._report(deployment_id, execution_id, status)
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
        return str(execution_id)

    def _report(self, deployment_id: str, execution_id: str | None, status: str | None) -> None:
        db = self.db
        if db.execute("SELECT 1 FROM hook_executions WHERE deployment_id = ? LIMIT 1",
                      (deployment_id,)).fetchone() is None:
            raise DeploymentDoesNotExistException(f"Deployment {deployment_id} does not exist")
        row = db.execute("SELECT status FROM hook_executions WHERE execution_id = ? AND deployment_id = ?",
                         (execution_id or "", deployment_id)).fetchone()
        if row is None:
            raise InvalidLifecycleEventHookExecutionIdException(
                f"LifecycleEventHookExecutionId {execution_id!r} is not valid for deployment {deployment_id}")
        if status not in REPORTABLE:
            raise InvalidLifecycleEventHookExecutionStatusException(
                f"Status {status!r} is not valid: a lifecycle hook reports Succeeded or Failed")
        if row[0] != PENDING:
            raise LifecycleEventAlreadyCompletedException(
                f"The lifecycle event of hook execution {execution_id} of deployment {deployment_id} is already "
                f"completed ({row[0]})")
        db.execute("UPDATE hook_executions SET status = ?, reported = 1 WHERE execution_id = ?", (status, execution_id))

    def reported(self, execution_id: str) -> str | None:
        """The status the hook reported for ``execution_id``, or None while it has not."""
        with state_file.guarded(self.path):
            row = self.db.execute("SELECT status, reported FROM hook_executions WHERE execution_id = ?",
                                  (execution_id,)).fetchone()
        return str(row[0]) if row is not None and row[1] else None

    def settle(self, execution_id: str, status: str) -> str | None:
        """The shifter stops waiting: the execution is completed with ``status`` unless the hook reported first.
        Returns what the hook reported (None: it never did, ``status`` stands); a later report is refused."""
        with state_file.guarded(self.path):
            self.db.execute("BEGIN IMMEDIATE")
            try:
                row = self.db.execute("SELECT status, reported FROM hook_executions WHERE execution_id = ?",
                                      (execution_id,)).fetchone()
                if row is not None and not row[1]:
                    self.db.execute("UPDATE hook_executions SET status = ? WHERE execution_id = ?",
                                    (status, execution_id))
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
        return str(row[0]) if row is not None and row[1] else None
