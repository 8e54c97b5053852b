"""Cleanup's delete order over records written under different templates: it must finish even when they disagree."""
from __future__ import annotations

from strata.local.engine.apply import Executor
from strata.local.engine.model import DeployedResource
from strata.local.engine.state import StackState

FN = "AWS::Lambda::Function"


class _Lambda:
    """Records which functions were deleted, in order."""

    def __init__(self) -> None:
        self.deleted: list[str] = []

    def delete_function(self, FunctionName: str) -> None:  # noqa: N803 - the boto3 spelling
        self.deleted.append(FunctionName)


def _fn(logical_id: str, physical_id: str, *depends_on: str) -> DeployedResource:
    return DeployedResource(logical_id, FN, physical_id, {}, {"Ref": physical_id}, depends_on)


def _cleanup(tmp_path, resources, orphans) -> tuple[list[str], list[str], StackState]:
    state = StackState(tmp_path)
    client = _Lambda()
    with state.transaction():
        deploy_id = state.start_deploy("s", "deploy", {}, {"resources": []})
        for res in resources:
            state.put_resource("s", res)
        for res in orphans:
            state.put_orphan("s", res, deploy_id, False)
    executor = Executor(state, client, stack_name="s", region="us-east-1", account_id="123456789012",
                        deploy_id=deploy_id)
    return executor.cleanup(set()), client.deleted, state


def test_cleanup_deletes_dependents_first_including_old_physical_resources(tmp_path):
    # B refers to A; the old A (replaced, its delete failed earlier) is still recorded as an orphan
    failures, deleted, state = _cleanup(tmp_path, [_fn("A", "a-2"), _fn("B", "b-1", "A")], [_fn("A", "a-1")])
    try:
        assert failures == []
        assert deleted.index("b-1") < deleted.index("a-1") and deleted.index("b-1") < deleted.index("a-2")
        assert state.resources("s") == {} and state.orphans("s") == []
    finally:
        state.close()


def test_cleanup_finishes_when_old_and_new_records_disagree_about_the_order(tmp_path):
    # the old A depended on B; the template then turned it round (B refers to A) and replaced A: by logical id the
    # records form a loop, A(old) -> B -> A(old). Cleanup used to crash with a TypeError naming that loop.
    failures, deleted, state = _cleanup(tmp_path, [_fn("A", "a-2"), _fn("B", "b-1", "A")], [_fn("A", "a-1", "B")])
    try:
        assert failures == []
        assert sorted(deleted) == ["a-1", "a-2", "b-1"]
        assert state.resources("s") == {} and state.orphans("s") == []
    finally:
        state.close()
