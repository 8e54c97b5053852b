"""``ArtifactStore.check`` (does a stored zip hash to its name?) and ``quarantine`` (move a damaged one aside so a
build stores it again)."""
from __future__ import annotations

from strata.artifacts.store import ArtifactStore


def test_check_tells_intact_missing_and_overwritten_apart(tmp_path):
    store = ArtifactStore(tmp_path)
    artifact = store.put_bytes(b"zip bytes")
    intact = store.check(artifact.sha256)
    assert intact.ok and intact.problem == "" and intact.path == artifact.path

    artifact.path.write_bytes(b"other bytes")
    corrupt = store.check(artifact.sha256)
    assert not corrupt.ok and corrupt.actual is not None and corrupt.actual != artifact.sha256
    assert corrupt.problem.startswith("does not match its digest (its bytes hash to ")

    artifact.path.unlink()
    missing = store.check(artifact.sha256)
    assert not missing.ok and missing.actual is None and missing.problem == "is missing"


def test_quarantine_moves_the_damaged_file_out_of_its_name_so_a_put_stores_it_again(tmp_path):
    store = ArtifactStore(tmp_path)
    artifact = store.put_bytes(b"zip bytes")
    artifact.path.write_bytes(b"garbage")
    assert store.put_bytes(b"zip bytes").path == artifact.path and not store.check(artifact.sha256).ok

    aside = store.quarantine(artifact.sha256)
    assert aside is not None and aside.read_bytes() == b"garbage" and aside.parent == store.root / ".corrupt"
    assert not store.has(artifact.sha256)
    store.put_bytes(b"zip bytes")
    assert store.check(artifact.sha256).ok
    store.path_for(artifact.sha256).unlink()
    assert store.quarantine(artifact.sha256) is None
