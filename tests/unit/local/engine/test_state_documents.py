"""A stack's deploy records stay, but only the last ``KEEP_DOCUMENTS`` finished deploys keep their request and
snapshot (megabytes each for a big stack): the database stops growing with every deploy of a `strata dev` session,
and an unfinished deploy keeps what recovery reads back."""
from __future__ import annotations

from pathlib import Path

from strata.local.engine.state import IN_PROGRESS, KEEP_DOCUMENTS, StackState
from strata.paths import database_path

BIG = {"template": {"Resources": {f"R{i}": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "x" * 200}}
                                  for i in range(500)}}}


def _deploy(state: StackState, stack: str, finish: bool = True) -> int:
    with state.transaction():
        deploy_id = state.start_deploy(stack, "deploy", BIG, {"resources": {}, "orphans": []})
        if finish:
            state.set_deploy_status(deploy_id, "COMPLETE", finished=True)
    return deploy_id


def test_old_finished_deploys_forget_their_documents_and_keep_their_records(tmp_path: Path) -> None:
    state = StackState(tmp_path)
    try:
        ids = [_deploy(state, "app") for _ in range(KEEP_DOCUMENTS + 5)]
        other = _deploy(state, "other")
        assert [d["Id"] for d in state.deploys("app")] == ids                # every record stays
        kept = [i for i in ids if (state.deploy(i) or None) and state.deploy(i).request]  # type: ignore[union-attr]
        assert kept == ids[-KEEP_DOCUMENTS:]
        old = state.deploy(ids[0])
        assert old is not None and old.status == "COMPLETE" and old.request == {} and old.snapshot == {}
        assert state.deploy(other) is not None and state.deploy(other).request == BIG   # type: ignore[union-attr]
    finally:
        state.close()


def test_the_database_stops_growing_and_an_unfinished_deploy_keeps_what_recovery_reads(tmp_path: Path) -> None:
    state = StackState(tmp_path)
    try:
        for _ in range(KEEP_DOCUMENTS + 2):
            _deploy(state, "app")
        state.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = database_path(tmp_path).stat().st_size
        for _ in range(3 * KEEP_DOCUMENTS):
            _deploy(state, "app")
        state.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert database_path(tmp_path).stat().st_size < size * 1.3       # freed pages are reused
        running = _deploy(state, "app", finish=False)
        for _ in range(KEEP_DOCUMENTS + 1):       # other stacks' deploys never touch it
            _deploy(state, "other")
        record = state.unfinished_deploy("app")
        assert record is not None and record.id == running and record.status == IN_PROGRESS
        assert record.request == BIG
    finally:
        state.close()
