"""State damage as a user meets it: a corrupt, truncated (0-byte), read-only or full state folder is a clear error
naming the file and the fix (exit 1, no "Internal error", no traceback), never a silent reset to version 1; the state
folder, database and logs are private whatever the umask."""
from __future__ import annotations

import os
import stat
import subprocess
import uuid
from pathlib import Path

import pytest
from deploy_helpers import change_layer, copy_app, describe, strata


@pytest.fixture
def deployed(tmp_path: Path) -> tuple[Path, Path]:
    """The layered app deployed once (alias live -> version 1)."""
    app, home = copy_app(tmp_path / "demo"), tmp_path / "home"
    strata(app, home, "deploy")
    return app, home


def live_version(app: Path, home: Path) -> str:
    return describe(app, home)["Functions"]["HelloFunction"]["Aliases"][0]["FunctionVersion"]


def refused(proc: subprocess.CompletedProcess, *words: str) -> str:
    """The command failed as a user error, saying each of ``words`` (case-insensitive)."""
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "Internal error" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    for word in words:
        assert word.lower() in proc.stderr.lower(), proc.stderr
    return proc.stderr


@pytest.mark.parametrize("verb", ["deploy", "describe", "invoke"])
def test_a_database_overwritten_with_garbage_is_named_with_the_fix(deployed, verb):
    app, home = deployed
    db = home / "state.db"
    db.write_bytes(os.urandom(8192))
    args = {"deploy": ["deploy"], "describe": ["describe"],
            "invoke": ["invoke", "HelloFunction:live", "--stack-name", "demo"]}[verb]
    err = refused(strata(app, home, *args, check=False), str(db), "not a SQLite database", "backup", "mv ")
    assert "hint:" in err


def test_a_truncated_database_is_damage_not_a_fresh_start(deployed):
    app, home = deployed
    db = home / "state.db"
    db.write_bytes(b"")                                    # truncated to 0 bytes (a crash, a full disk, a bad copy)
    for leftover in (home / "state.db-wal", home / "state.db-shm"):
        leftover.unlink(missing_ok=True)
    refused(strata(app, home, "deploy", check=False), str(db), "empty")
    assert db.stat().st_size == 0                          # nothing was reset behind the user's back
    refused(strata(app, home, "describe", check=False), str(db))


def test_following_the_hint_starts_over_on_purpose(deployed):
    app, home = deployed
    (home / "state.db").write_bytes(b"")
    err = refused(strata(app, home, "deploy", check=False))
    command = err.split("hint:")[1].split(": ", 1)[1].strip().splitlines()[-1].split(": ")[-1]
    assert command.startswith("mkdir ") and " && mv " in command
    subprocess.run(command, shell=True, check=True)        # the user's explicit choice: forget local state
    strata(app, home, "deploy")
    assert live_version(app, home) == "1"


def test_a_malformed_database_is_damage(deployed):
    app, home = deployed
    db = home / "state.db"
    strata(app, home, "describe")                          # checkpointed: every page in the main file
    data = bytearray(db.read_bytes())
    page = 4096
    data[2 * page:] = os.urandom(len(data) - 2 * page)     # the header page intact, the tables' pages garbage
    db.write_bytes(bytes(data))
    for leftover in (home / "state.db-wal", home / "state.db-shm"):
        leftover.unlink(missing_ok=True)
    refused(strata(app, home, "deploy", check=False), str(db), "damaged")


def test_a_fresh_home_is_private_whatever_the_umask(tmp_path):
    app, home = copy_app(tmp_path / "demo"), tmp_path / "home"
    old = os.umask(0o022)
    try:
        strata(app, home, "deploy")
        strata(app, home, "invoke", "HelloFunction:live", "--stack-name", "demo")
    finally:
        os.umask(old)
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    for name in ("state.db", "state.db-wal", "state.db-shm"):
        if (home / name).exists():
            assert stat.S_IMODE((home / name).stat().st_mode) == 0o600, name
    logs = [p for p in (home / "logs").rglob("*") if p.is_file()]
    assert logs and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in logs)   # handlers print secrets too


def test_an_older_world_readable_database_is_narrowed(deployed):
    app, home = deployed
    (home / "state.db").chmod(0o644)
    strata(app, home, "describe")
    assert stat.S_IMODE((home / "state.db").stat().st_mode) == 0o600


def _mount(*args: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a read-only or tiny file system needs root")
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"mount not permitted here: {done.stderr.strip()}")


def test_a_read_only_state_folder_is_named_with_the_fix(deployed):
    app, home = deployed
    _mount("--bind", "-o", "ro", str(home), str(home))
    try:
        change_layer(app, 2)
        err = refused(strata(app, home, "deploy", check=False), str(home), "read-only", "STRATA_HOME")
        assert "hint:" in err
        refused(strata(app, home, "invoke", "HelloFunction:live", check=False), "read-only")
    finally:
        subprocess.run(["umount", "-l", str(home)], check=True)
    strata(app, home, "deploy")                            # writable again: the change deploys, as version 2
    assert live_version(app, home) == "2"


def test_a_full_disk_is_named_and_nothing_is_half_written(tmp_path):
    mount = Path("/tmp") / f"strata-full-{uuid.uuid4().hex[:8]}"
    mount.mkdir()
    _mount("-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount))
    try:
        app, home = copy_app(tmp_path / "demo"), mount / "home"
        strata(app, home, "deploy")
        filler = mount / "filler"
        with open(filler, "wb") as fh:                     # fill the device to the last block
            try:
                while True:
                    fh.write(b"\0" * 65536)
                    fh.flush()
            except OSError:
                pass
        change_layer(app, 2)
        (app / "src" / "hello" / "padding.txt").write_bytes(os.urandom(256 * 1024))   # bytes no compressor shrinks
        failed = strata(app, home, "deploy", check=False)
        refused(failed, "no space left")
        assert str(mount) in failed.stderr
        filler.unlink()
        strata(app, home, "deploy")
        assert live_version(app, home) == "2"              # neither restarted at 1 nor skipped a version
        strata(app, home, "verify")                        # every alias serves what was deployed
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
        mount.rmdir()
