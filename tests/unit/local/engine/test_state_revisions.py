"""The decoded copies of a stack's resources and record (``StackState``) are exact: keyed by the stack's revision
(``stack_revisions``, moved by triggers on every write from any connection or process), never by time; writes to
other tables (the Lambda service's) keep them, and so does this connection's own write; an older database gets
the revisions on its first open."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from strata.local.engine import state as state_module
from strata.local.engine.model import DeployedResource
from strata.local.engine.state import StackState, _dumps, resource_to_json
from strata.paths import database_path
from strata.transform.why import FingerprintInput, FunctionFingerprint


def _res(logical_id: str, value: int = 1) -> DeployedResource:
    return DeployedResource(logical_id, "AWS::IAM::Role", f"arn:{logical_id}", {"Value": value}, {}, (), "Delete",
                            "Delete", True, False)


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The rows decoded from the database (a read that was not served from a decoded copy)."""
    seen: list[str] = []
    real = state_module._resource

    def counting(*row: object) -> DeployedResource:
        seen.append(str(row[0]))
        return real(*row)  # type: ignore[arg-type]

    monkeypatch.setattr(state_module, "_resource", counting)
    return seen


def _fingerprint(value: str) -> FunctionFingerprint:
    return FunctionFingerprint(value, (FingerprintInput("Code", "code", value),), f"FnVersion{value}")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    state = StackState(tmp_path)
    with state.transaction():
        state.put_stack("s", "CREATE_COMPLETE", template={"Resources": {}})
        for name in ("A", "B"):
            state.put_resource("s", _res(name))
        state.put_fingerprint("s", "A", _fingerprint("1"))
    state.close()
    return tmp_path


def test_a_write_from_another_connection_is_seen(home: Path, decodes: list[str]) -> None:
    state, other = StackState(home), StackState(home)
    assert state.resources("s")["A"].properties == {"Value": 1}
    assert state.stack("s").status == "CREATE_COMPLETE"
    with other.transaction():
        other.put_resource("s", _res("A", 2))
        other.put_stack("s", "UPDATE_COMPLETE")
    assert state.resources("s")["A"].properties == {"Value": 2}
    assert state.stack("s").status == "UPDATE_COMPLETE"
    raw = sqlite3.connect(database_path(home))       # a plain connection (another tool, an older strata)
    raw.execute("UPDATE stack_resources SET properties = '{\"Value\": 3}' WHERE logical_id = 'B'")
    raw.execute("UPDATE stack_stacks SET status = 'ELSEWHERE'")
    raw.commit()
    assert state.resources("s")["B"].properties == {"Value": 3}
    assert state.stack("s").status == "ELSEWHERE"
    raw.execute("DELETE FROM stack_resources WHERE logical_id = 'A'")
    raw.commit()
    assert list(state.resources("s")) == ["B"]
    assert state.fingerprints("s") == {"A": _fingerprint("1")}
    with other.transaction():
        other.put_fingerprint("s", "A", _fingerprint("2"))
        other.put_fingerprint("s", "B", _fingerprint("3"))
    assert state.fingerprints("s") == {"A": _fingerprint("2"), "B": _fingerprint("3")}
    raw.execute("DELETE FROM stack_fingerprints WHERE function_id = 'A'")
    raw.commit()
    assert state.fingerprints("s") == {"B": _fingerprint("3")}


def test_a_write_from_another_process_is_seen(home: Path) -> None:
    state = StackState(home)
    assert state.resources("s")["A"].properties == {"Value": 1}
    code = ("import sys; from strata.local.engine.state import StackState; "
            "from strata.local.engine.model import DeployedResource as R; s = StackState(sys.argv[1]); "
            "t = s.transaction(); t.__enter__(); "
            "s.put_resource('s', R('A', 'AWS::IAM::Role', 'arn:A', {'Value': 9}, {}, (), 'Delete', 'Delete', True, "
            "False)); t.__exit__(None, None, None)")
    subprocess.run([sys.executable, "-c", code, str(home)], check=True)
    assert state.resources("s")["A"].properties == {"Value": 9}
    assert StackState(home).resources("s")["A"].properties == {"Value": 9}


def test_writes_elsewhere_and_its_own_writes_keep_the_copy(home: Path, decodes: list[str]) -> None:
    state = StackState(home)
    state.resources("s")
    state.stack("s")
    decodes.clear()
    lambda_side = sqlite3.connect(database_path(home))     # the Lambda service's tables move data_version, not these
    lambda_side.execute("CREATE TABLE IF NOT EXISTS elsewhere (x)")
    lambda_side.execute("INSERT INTO elsewhere VALUES (1)")
    lambda_side.commit()
    assert state.resources("s")["A"].properties == {"Value": 1}
    assert decodes == []
    with state.transaction():
        state.put_resource("s", _res("B", 5))     # decoded once: the row as written
        state.mark_dirty("s", "A")
        state.drop_resource("s", "C")             # no such row: nothing written
    decodes.clear()
    resources = state.resources("s")
    assert resources["B"].properties == {"Value": 5} and resources["A"].dirty
    assert decodes == []
    assert StackState(home).resources("s") == resources     # another StackState of this process: the copy shared
    assert decodes == []


def test_a_rolled_back_transaction_leaves_nothing_cached(home: Path) -> None:
    state = StackState(home)
    state.resources("s")
    with pytest.raises(RuntimeError), state.transaction():
        state.put_resource("s", _res("A", 7))
        raise RuntimeError("step failed")
    assert state.resources("s")["A"].properties == {"Value": 1}
    assert StackState(home).resources("s")["A"].properties == {"Value": 1}


def test_a_replaced_database_file_is_read_again(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    for folder, value in ((first, 1), (second, 2)):
        state = StackState(folder)
        with state.transaction():
            state.put_resource("s", _res("A", value))
        state.close()
    reader = StackState(first)
    assert reader.resources("s")["A"].properties == {"Value": 1}
    reader.close()
    database_path(first).unlink()
    database_path(first).write_bytes(database_path(second).read_bytes())
    assert StackState(first).resources("s")["A"].properties == {"Value": 2}


def test_an_older_database_gets_its_revisions_on_first_open(home: Path) -> None:
    raw = sqlite3.connect(database_path(home))
    triggers = [row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")]
    assert len(triggers) == 9
    raw.executescript("DROP TABLE stack_revisions;" + "".join(f"DROP TRIGGER {name};" for name in triggers))
    raw.close()
    state = StackState(home)
    assert sorted(state.db.execute("SELECT stack, part FROM stack_revisions").fetchall()) == [
        ("s", "fingerprints"), ("s", "record"), ("s", "resources")]
    assert state.resources("s")["A"].properties == {"Value": 1}
    raw = sqlite3.connect(database_path(home))
    raw.execute("UPDATE stack_resources SET properties = '{\"Value\": 4}' WHERE logical_id = 'A'")
    raw.commit()
    assert state.resources("s")["A"].properties == {"Value": 4}


def test_a_deploy_record_holds_the_request_and_snapshot_as_given(home: Path) -> None:
    """The request's template and the snapshot's resources are written from text made once (the template's, the
    stored columns): the record reads back as given, byte for byte what encoding it whole would write."""
    state = StackState(home)
    with state.transaction():
        state.put_resource("s", DeployedResource("Fn", "AWS::Lambda::Function", "s-Fn", {
            "Environment": {"Variables": {"Z": "é ✓", "A": "1"}}, "Layers": ["x", "y"], "Timeout": 3.5},
            {"Arn": "arn:fn"}, ("A", "B"), "Retain", "Delete", True, False))
        state.mark_dirty("s", "B")
    resources = state.resources("s")
    snapshot = {"resources": [resource_to_json(r) for r in resources.values()], "stack_status": "UPDATE_COMPLETE"}
    template = {"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Handler": "ü.handler"}}}}
    request = {"stack_name": "s", "template": template, "parameters": {"P": "v"}, "region": "us-east-1"}
    with state.transaction():
        deploy_id = state.start_deploy("s", "deploy", request, snapshot)
        state.put_stack("s", "UPDATE_IN_PROGRESS", template=template)
    record = state.deploy(deploy_id)
    assert record is not None and record.snapshot == snapshot and record.request == request
    stored = state.db.execute("SELECT request, snapshot FROM stack_deploy_documents WHERE deploy_id = ?",
                              (deploy_id,)).fetchone()
    assert stored == (_dumps(request), _dumps(snapshot))
    assert StackState(home).stack("s").template == template
    other = {"resources": snapshot["resources"][:1], "stack_status": None}    # not the stack as it stands
    with state.transaction():
        again = state.start_deploy("s", "deploy", request, other)
    assert state.deploy(again).snapshot == other


def test_a_deploy_record_made_before_the_documents_table_is_read_as_it_was(home: Path) -> None:
    """An interrupted deploy recorded by an earlier strata holds its request and snapshot in its own row: the next
    deploy still completes it from them; status updates leave the documents alone."""
    request = {"stack_name": "s", "template": {"Resources": {}}}
    snapshot = {"resources": [], "stack_status": None}
    raw = sqlite3.connect(database_path(home))
    raw.execute("INSERT INTO stack_deploys (stack, kind, status, started_at, request, snapshot) "
                "VALUES ('s', 'deploy', 'IN_PROGRESS', 1.0, ?, ?)", (_dumps(request), _dumps(snapshot)))
    raw.commit()
    raw.close()
    state = StackState(home)
    found = state.unfinished_deploy("s")
    assert found is not None and (found.request, found.snapshot) == (request, snapshot)
    with state.transaction():
        state.set_deploy_status(found.id, "CLEANUP_IN_PROGRESS")
    again = state.deploy(found.id)
    assert again is not None and (again.status, again.request, again.snapshot) == (
        "CLEANUP_IN_PROGRESS", request, snapshot)
