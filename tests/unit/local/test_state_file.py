"""The state database file: created whole (never a 0-byte file a later command takes as fresh), private, and storage
failures translated into errors that name the file."""
from __future__ import annotations

import errno
import sqlite3
import stat
from pathlib import Path

import pytest

from strata.errors import StorageError
from strata.local import state_file
from strata.local.engine.state import StackState


def test_a_crash_while_creating_leaves_no_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"

    def die(path: Path) -> None:
        path.write_bytes(b"")  # as far as a dying process gets
        raise KeyboardInterrupt

    monkeypatch.setattr(state_file, "_initialise", die)
    with pytest.raises(KeyboardInterrupt):
        StackState(home)
    assert sorted(p.name for p in home.iterdir()) == []     # no state.db, empty or not, and no temporary file


def test_created_databases_are_private(tmp_path: Path) -> None:
    home = tmp_path / "home"
    StackState(home).close()
    assert stat.S_IMODE((home / "state.db").stat().st_mode) == 0o600
    assert stat.S_IMODE(home.stat().st_mode) == 0o700


def test_an_empty_file_in_an_empty_home_is_a_fresh_start(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "state.db").write_bytes(b"")                    # an older strata died while creating it
    state = StackState(home)
    try:
        assert state.stacks() == []
    finally:
        state.close()


def test_an_empty_file_beside_other_state_is_damage(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "artifacts" / "ab").mkdir(parents=True)
    (home / "artifacts" / "ab" / "abcd.zip").write_bytes(b"PK")
    (home / "state.db").write_bytes(b"")
    with pytest.raises(StorageError) as info:
        StackState(home)
    assert str(home / "state.db") in info.value.render() and "mv " in info.value.render()
    assert (home / "state.db").stat().st_size == 0


def test_a_missing_database_with_a_write_ahead_log_is_damage(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "state.db-wal").write_bytes(b"\x37\x7f\x06\x82" + b"\0" * 28)   # another database's log
    with pytest.raises(StorageError, match="write-ahead log"):
        StackState(home)


def test_translate_names_the_file_and_leaves_bugs_alone(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    full = state_file.translate(sqlite3.OperationalError("database or disk is full"), db)
    assert full is not None and str(db) in full.message and "no space" in full.message
    readonly = state_file.translate(sqlite3.OperationalError("attempt to write a readonly database"), db)
    assert readonly is not None and str(db) in readonly.message and "writable" in (readonly.hint or "")
    damaged = state_file.translate(sqlite3.DatabaseError("database disk image is malformed"), db)
    assert damaged is not None and "damaged" in damaged.message and damaged.hint and "backup" in damaged.hint
    quota = state_file.translate(OSError(errno.EDQUOT, "Disk quota exceeded", str(tmp_path / "x.zip")))
    assert quota is not None and str(tmp_path / "x.zip") in quota.message
    assert state_file.translate(sqlite3.IntegrityError("UNIQUE constraint failed"), db) is None
    assert state_file.translate(OSError(errno.ECONNRESET, "reset")) is None
    assert state_file.translate(ValueError("x")) is None


def test_a_file_where_the_state_folder_belongs_is_named(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.write_text("not a folder")
    with pytest.raises(StorageError) as info:
        StackState(home)
    assert str(home) in info.value.message and "STRATA_HOME" in (info.value.hint or "")
