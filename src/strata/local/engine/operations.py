"""Operations on a deployed stack besides deploy, through the deploy journal: ``strata rollback`` moving an alias (and
pinning it), ``strata prune`` deleting function versions and layer versions.

Why: each changes the Lambda service and then the stack state; a process killed in between would leave the alias (or
the service's versions) and the state (alias resource, history, pins, version records) disagreeing. So each runs as
a record in the deploys table (kind ``rollback`` / ``prune``, its request the operation), and each Lambda call is
bracketed like an apply step: intent committed before, outcome committed after in one transaction together with what
the state records of it. The crash points are the deploy's (``journal.POINTS``: ``before-intent``, ``after-intent``,
``after-call``, ``after-done``).

Recovery (``recover_operation``, run by the engine wherever it completes an interrupted deploy, and by every command
that opens the stack): an intent without its outcome is completed (its call is idempotent: UpdateAlias to the same
version, a delete of what is already gone), then the record is closed; an operation killed before its first intent
changed nothing in the service and is closed as abandoned. The decisions (which version, which deletions) are made
by ``strata.ops`` before anything is journaled; nothing here decides.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from strata.local.engine.history import ROLLBACK, AliasHistory, AliasMove, Pin
from strata.local.engine.journal import OPERATIONS, PRUNE_OP, ROLLBACK_OP, CrashPoints, Journal
from strata.local.engine.state import DeployRecord, StackState
from strata.model.lambda_errors import is_not_found
from strata.model.naming import LayerVersionRef, function_and_qualifier
from strata.model.routing import AliasRouting

ALIAS = "AWS::Lambda::Alias"
VERSION = "AWS::Lambda::Version"
LAYER = "AWS::Lambda::LayerVersion"


@dataclass(frozen=True)
class AliasRollback:
    """Move alias ``alias`` of ``function_name`` (the stack's Alias resource ``logical_id``) from ``from_version`` to
    ``to_version`` (routing cleared) and pin it there; ``expected`` is what ``to_version`` was deployed with."""

    stack: str
    logical_id: str
    function_name: str
    alias: str
    from_version: str
    to_version: str
    from_routing: dict[str, float] = field(default_factory=dict)
    expected: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AliasRollback:
        return cls(**data)


@dataclass(frozen=True)
class Deletion:
    """One version prune deletes: ``kind`` function (a function version) or layer (a layer version)."""

    kind: str
    name: str
    version: str

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}:{self.version}"


@dataclass(frozen=True)
class DeletionOutcome:
    deletion: Deletion
    error: str | None                   # the service's refusal, or None when deleted
    dropped: tuple[str, ...] = ()       # stack-state records dropped with it


# ---- rollback --------------------------------------------------------------------------------------------------------

def roll_back_alias(state: StackState, client: Any, move: AliasRollback, *, crash: CrashPoints | None = None) -> int:
    """Move the alias and record the move, the pin and the alias resource's new properties; returns the record id."""
    crash = crash or CrashPoints()
    with state.transaction():
        op_id = state.start_deploy(move.stack, ROLLBACK_OP, {"rollback": move.to_json()}, {})
    journal = Journal(state, op_id, crash)
    seq = journal.intent(move.logical_id, ROLLBACK_OP, move.to_json())
    _move_alias(client, move)
    crash("after-call")
    with state.transaction():
        _record_rollback(state, move, f"strata rollback: version {move.from_version} -> {move.to_version} (pinned)")
        journal.done(seq)
        state.set_deploy_status(op_id, "COMPLETE", finished=True)
    crash("after-done")
    return op_id


def _move_alias(client: Any, move: AliasRollback) -> None:
    client.update_alias(FunctionName=move.function_name, Name=move.alias, **AliasRouting(move.to_version).to_api())


def _record_rollback(state: StackState, move: AliasRollback, reason: str) -> None:
    """Within the caller's transaction: the alias resource, a history row (cause "rollback"), a pin, an event."""
    history = AliasHistory(state.db)
    now = state.clock()
    alias_res = state.resources(move.stack).get(move.logical_id)
    if alias_res is not None:
        props = {k: v for k, v in alias_res.properties.items() if k != "RoutingConfig"}
        props["FunctionVersion"] = move.to_version
        state.put_resource(move.stack, replace(alias_res, properties=props))
    move_id = history.add(AliasMove(move.stack, move.logical_id, move.function_name, move.alias, move.from_version,
                                    move.to_version, {}, ROLLBACK, None, now, move.expected))
    history.pin(Pin(move.stack, move.logical_id, move.function_name, move.alias, move.to_version, now), move_id)
    state.add_event(move.stack, None, move.logical_id, ALIAS, alias_res.physical_id if alias_res else None,
                    "UPDATE_COMPLETE", reason)


# ---- prune -----------------------------------------------------------------------------------------------------------

def delete_versions(state: StackState, client: Any, stack: str, deletions: list[Deletion], *,
                    crash: CrashPoints | None = None) -> list[DeletionOutcome]:
    """Delete each version (one journaled step each: a refusal is reported and the rest go on), dropping the stack's
    records of what went in the same transaction as the step's outcome."""
    crash = crash or CrashPoints()
    with state.transaction():
        op_id = state.start_deploy(stack, PRUNE_OP, {"prune": [asdict(d) for d in deletions]}, {})
    journal = Journal(state, op_id, crash)
    outcomes: list[DeletionOutcome] = []
    for item in deletions:
        seq = journal.intent(item.label, "delete", asdict(item))
        try:
            _delete(client, item)
        except Exception as exc:  # noqa: BLE001 - one refusal (an alias moved meanwhile) must not stop the rest
            with state.transaction():
                journal.done(seq)
            outcomes.append(DeletionOutcome(item, getattr(exc, "message", None) or str(exc)))
            continue
        crash("after-call")
        with state.transaction():
            dropped = _forget(state, stack, item)
            journal.done(seq)
        crash("after-done")
        outcomes.append(DeletionOutcome(item, None, dropped))
    with state.transaction():
        state.set_deploy_status(op_id, "COMPLETE", finished=True)
    return outcomes


def _delete(client: Any, item: Deletion) -> None:
    if item.kind == "function":
        client.delete_function(FunctionName=item.name, Qualifier=item.version)
    else:
        client.delete_layer_version(LayerName=item.name, VersionNumber=int(item.version))


def _forget(state: StackState, stack: str, item: Deletion) -> tuple[str, ...]:
    """Within the caller's transaction: drop stack-state records (resources, pending-cleanup orphans) of ``item``."""
    type_ = VERSION if item.kind == "function" else LAYER

    def pruned(res: Any) -> bool:
        if res.type != type_:
            return False
        if type_ == VERSION:
            return function_and_qualifier(res.physical_id) == (item.name, item.version)
        layer = LayerVersionRef.parse(res.physical_id)
        return (layer.name, str(layer.version)) == (item.name, item.version)

    dropped: list[str] = []
    for res in state.resources(stack).values():
        if pruned(res):
            state.drop_resource(stack, res.logical_id)
            dropped.append(f"{res.logical_id} ({res.physical_id})")
    for orphan, _ in state.orphans(stack):
        if pruned(orphan):
            state.drop_orphan(stack, orphan.logical_id, orphan.physical_id)
            dropped.append(f"{orphan.logical_id} ({orphan.physical_id}, pending cleanup)")
    return tuple(dropped)


# ---- recovery --------------------------------------------------------------------------------------------------------

def recover_operation(state: StackState, client: Any, record: DeployRecord) -> str:
    """Settle the interrupted ``record`` (kind rollback or prune; the caller holds the stack's lock): complete its
    open intent, close it. Returns a sentence saying what was done."""
    recover = _RECOVERY.get(record.kind)
    if recover is None:
        raise KeyError(f"no recovery for a {record.kind!r} record")
    return recover(state, client, record)


def _recover_rollback(state: StackState, client: Any, record: DeployRecord) -> str:
    move = AliasRollback.from_json(record.request["rollback"])
    open_intents = state.open_intents(record.id)
    what = f"rollback of alias {move.alias} of {move.function_name} to version {move.to_version}"
    if not open_intents:
        with state.transaction():
            state.set_deploy_status(record.id, "ABANDONED", error="interrupted before it changed anything",
                                    finished=True)
        return f"closed the interrupted {what} (it had changed nothing)"
    _move_alias(client, move)
    with state.transaction():
        _record_rollback(state, move, f"strata rollback: version {move.from_version} -> {move.to_version} (pinned; "
                                      "completed after an interruption)")
        for seq, *_ in open_intents:
            state.finish_intent(record.id, seq)
        state.set_deploy_status(record.id, "COMPLETE", finished=True)
    return f"completed the interrupted {what}"


def _recover_prune(state: StackState, client: Any, record: DeployRecord) -> str:
    stack = record.stack
    done: list[str] = []
    for seq, _, _, payload in state.open_intents(record.id):
        item = Deletion(**payload)
        try:
            _delete(client, item)
        except Exception as exc:  # noqa: BLE001 - gone already is what we wanted; a refusal leaves it in place
            if not is_not_found(exc):
                with state.transaction():
                    state.finish_intent(record.id, seq)
                continue
        with state.transaction():
            _forget(state, stack, item)
            state.finish_intent(record.id, seq)
        done.append(item.label)
    with state.transaction():
        state.set_deploy_status(record.id, "COMPLETE", finished=True)
    finished = f": deleted {', '.join(done)}" if done else ""
    return f"completed the interrupted prune of stack {stack}{finished} (`strata prune` again deletes what it left)"


def settle(state: StackState, client: Any, stack: str) -> list[tuple[DeployRecord, str]]:
    """Recover every interrupted rollback or prune of ``stack`` (the caller holds its lock), newest first; stops at
    an interrupted deploy (``Engine.recover`` completes those). Returns each record settled and what was done."""
    settled: list[tuple[DeployRecord, str]] = []
    while (record := state.unfinished_deploy(stack)) is not None and record.kind in OPERATIONS:
        settled.append((record, recover_operation(state, client, record)))
    return settled


def settle_if_free(home: Path, stack: str, client: Any) -> list[str]:
    """For commands that read a stack (verify): settle an interrupted rollback or prune when the stack's lock is free
    (a held lock means the operation is still running, not interrupted). Returns what was done."""
    from strata.errors import StateError
    from strata.local.engine.lock import StackLock

    state = StackState(home)
    try:
        record = state.unfinished_deploy(stack)
        if record is None or record.kind not in OPERATIONS:
            return []
        lock = StackLock(home, stack)
        try:
            lock.__enter__()
        except StateError:
            return []
        try:
            return [said for _, said in settle(state, client, stack)]
        finally:
            lock.__exit__()
    finally:
        state.close()


_RECOVERY: dict[str, Callable[[StackState, Any, DeployRecord], str]] = {
    ROLLBACK_OP: _recover_rollback,
    PRUNE_OP: _recover_prune,
}


__all__ = ["AliasRollback", "Deletion", "DeletionOutcome", "OPERATIONS", "delete_versions", "recover_operation",
           "roll_back_alias", "settle", "settle_if_free"]
