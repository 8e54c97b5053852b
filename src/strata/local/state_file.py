"""The state database file (``strata.paths.database_path``): created whole and private, checked before use, and its
damage reported as a ``StorageError`` naming the file and the fix, never as an internal error or a silent reset.

Why each rule:
- Created under a temporary name with a marker table, fsync'd, then linked into place: a crash while creating never
  leaves a 0-byte ``state.db``, so a 0-byte (or table-less) file in a home that holds other state (artifacts, locks,
  logs, unpacked code, a write-ahead log) is damage, not a fresh start; taking it as empty would restart every
  function's versions at 1.
- Mode 0600 whatever the umask: the database holds every function's environment variables. SQLite gives its
  ``-wal``/``-shm`` files the database's own mode. An older database readable by others is narrowed on open, and
  the folder that receives a new database becomes 0700 (``strata.paths.ensure_home`` creates it so).
- Both the stack engine (``engine.state``) and the Lambda service (``lambda_service.store``) open the file through
  ``connect`` and run their statements inside ``guarded``, so corrupt, read-only and full storage read the same.
"""
from __future__ import annotations

import errno
import os
import sqlite3
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self

from strata.errors import StorageError
from strata.paths import artifacts_dir, database_path, ensure_home, locks_dir, logs_dir, runtime_dir

MAGIC = b"SQLite format 3\x00"
MODE = 0o600
META_TABLE = "strata_meta"
META = f"CREATE TABLE IF NOT EXISTS {META_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL);"

# databases this process has checked (path, device, inode): the check runs once per process and file
_checked: set[tuple[str, int, int]] = set()
# the database this process opened last: named by errors that reach the CLI without a path (``translate``)
_last: list[Path] = []


def connect(path: Path, *, timeout: float) -> sqlite3.Connection:
    """A connection to the state database at ``path``, creating it whole (0600) when the home has none."""
    path = Path(path)
    with guarded(path):
        prepare(path)
        return sqlite3.connect(str(path), timeout=timeout, isolation_level=None, check_same_thread=False)


class TableStore:
    """A store kept in its own table of a home's state file (SSM parameters, hook executions): one connection that
    waits for other writers, the table made on first use; each call its own transaction."""

    schema = ""

    def __init__(self, home: Path) -> None:
        self.path = database_path(Path(home))
        self.db = connect(self.path, timeout=60)
        with guarded(self.path):
            self.db.execute("PRAGMA busy_timeout = 60000")
            self.db.execute(self.schema)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def prepare(path: Path) -> None:
    """Make sure ``path`` is a usable strata database: create it if absent, refuse it (``StorageError``) if damaged."""
    path = Path(path)
    if not _last or _last[-1] != path:
        _last[:] = [path]
    ensure_home(path.parent)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        _create(path)
        return
    key = (str(path), st.st_dev, st.st_ino)
    if key in _checked:
        return
    problem = _inspect(path, st.st_size)
    if problem == "empty":
        if _other_state(path):
            raise damaged(path, "is empty (0 bytes, or no tables) although this state folder holds deployed "
                                "state (artifacts, locks, logs or a write-ahead log)")
        _initialise(path)               # an older strata died while creating it in a fresh home: nothing to lose
    elif problem:
        raise damaged(path, problem)
    _narrow(path, st)
    _checked.add(key)


@contextmanager
def guarded(path: Path) -> Iterator[None]:
    """Turn storage failures (damaged database, read-only folder, full disk) inside the block into ``StorageError``."""
    try:
        yield
    except (sqlite3.Error, OSError) as exc:
        error = translate(exc, path)
        if error is None:
            raise
        raise error from exc


def translate(exc: BaseException, path: Path | None = None) -> StorageError | None:
    """The ``StorageError`` a storage failure means, or None when ``exc`` is not one (a bug stays a bug).
    The file named: the one an ``OSError`` names, else ``path``, else the database this process opened (if any)."""
    if isinstance(exc, OSError):
        where = Path(exc.filename) if exc.filename else path or _last_path()
        return _os_error(exc.errno, where, exc.strerror or str(exc))
    if not isinstance(exc, sqlite3.Error):
        return None
    target = Path(path) if path else _last_path() or Path("state.db")   # sqlite3: only ever the state database
    text = str(exc).lower()
    if isinstance(exc, sqlite3.DatabaseError) and ("not a database" in text or "malformed" in text
                                                   or "corrupt" in text):
        return damaged(target, f"is damaged (SQLite: {exc})")
    extended = getattr(exc, "sqlite_errorcode", None)
    code = None if extended is None else extended & 0xFF      # the primary result code
    if "disk is full" in text or code == 13:                                        # SQLITE_FULL
        return _os_error(errno.ENOSPC, target, str(exc))
    if "readonly" in text or code == 8:                                             # SQLITE_READONLY
        return _os_error(_cannot_open_cause(target), target, str(exc))
    if "unable to open" in text or code == 14:                                      # SQLITE_CANTOPEN
        return _os_error(_cannot_open_cause(target), target, str(exc))
    if "disk i/o error" in text or code == 10:                                      # SQLITE_IOERR_*
        cause = _device_cause(target)
        if cause is not None:       # e.g. growing the -shm or -wal file on a full disk reads as an I/O error
            return _os_error(cause, target, str(exc))
        return StorageError(f"cannot write {target}: SQLite reported a disk I/O error ({exc})",
                            hint="the disk may be full, over quota, read-only or failing: free space or fix the "
                                 "device and run the command again (the step that failed was rolled back)")
    return None


def damaged(path: Path, what: str) -> StorageError:
    """The error for a database that cannot be read as strata's: what is wrong, and the two real ways out."""
    aside = path.parent / f"damaged-state-{time.strftime('%Y%m%d-%H%M%S')}"
    return StorageError(
        f"the state database {path} {what}",
        hint=f"restore {path.name} (with its -wal file, if any) from a backup; or set the damaged files aside and "
             f"start from empty local state, which forgets every local stack, function version and alias: "
             f"mkdir {aside} && mv {path}* {aside}/")


_OS_HINTS = {
    errno.ENOSPC: ("there is no space left on the device holding {path}",
                   "free some space and run the command again (the step that failed was rolled back)"),
    errno.EDQUOT: ("the disk quota is exhausted for {path}",
                   "free some space or raise the quota, then run the command again"),
    errno.EFBIG: ("{path} has reached the largest file size allowed (RLIMIT_FSIZE or the file system)",
                  "raise the file size limit (ulimit -f) and run the command again"),
    errno.EROFS: ("cannot write {path}: it is on a read-only file system",
                  "make the state folder writable, or set STRATA_HOME to a writable folder"),
    errno.EACCES: ("cannot open or write {path}: permission denied",
                   "make the state folder and its files readable and writable by you (owner), or set STRATA_HOME "
                   "to a folder of your own"),
    errno.ENOTDIR: ("cannot use {path}: a file stands where a folder of its path should be",
                    "move that file away, or set STRATA_HOME to a folder of your own"),
}
_OS_HINTS[errno.EPERM] = _OS_HINTS[errno.EACCES]


def _os_error(code: int | None, path: Path | None, detail: str) -> StorageError | None:
    if code not in _OS_HINTS:
        return None
    message, hint = _OS_HINTS[code]
    where = str(path) if path else "a file strata was writing (the state folder or an output)"
    return StorageError(f"{message.format(path=where)} ({detail})", hint=hint)


def _cannot_open_cause(path: Path) -> int:
    """SQLite says only "unable to open" or "readonly": a read-only file system, else permissions (its -wal/-shm
    need a writable folder even to read)."""
    try:
        if os.statvfs(path.parent).f_flag & os.ST_RDONLY:
            return errno.EROFS
    except OSError:
        pass
    return errno.EACCES


def _device_cause(path: Path) -> int | None:
    """ENOSPC when the device holding ``path`` has no free block left, EROFS when it is mounted read-only."""
    try:
        info = os.statvfs(path.parent)
    except OSError:
        return None
    if info.f_flag & os.ST_RDONLY:
        return errno.EROFS
    if info.f_bavail == 0 if os.geteuid() != 0 else info.f_bfree == 0:
        return errno.ENOSPC
    return None


def _last_path() -> Path | None:
    return _last[-1] if _last else None


def _inspect(path: Path, size: int) -> str | None:
    """"empty", a description of the damage, or None when ``path`` is a database with tables."""
    if size == 0:
        return "empty"
    with open(path, "rb") as fh:
        head = fh.read(len(MAGIC))
    if head != MAGIC:
        return "is not a SQLite database (its first bytes are not SQLite's header)"
    try:
        conn = sqlite3.connect(str(path), timeout=60, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout = 60000")
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        if isinstance(exc, sqlite3.OperationalError) and "not a database" not in str(exc):
            raise                                          # locked, read-only, cannot open: not damage, say so
        return f"is damaged (SQLite: {exc})"
    return None if tables else "empty"


def _other_state(path: Path) -> bool:
    """Whether the home holds anything that exists only after a deploy, a served function or an invoke."""
    home = path.parent
    for folder in (artifacts_dir(home), locks_dir(home), logs_dir(home), runtime_dir(home)):
        try:
            if any(os.scandir(folder)):
                return True
        except OSError:
            pass
    try:
        return os.stat(f"{path}-wal").st_size > 0
    except OSError:
        return False


def _create(path: Path) -> None:
    """Create the database whole: build it under a private temporary name, fsync, then link it into place (a
    concurrent creator may win; its database is as good as ours)."""
    try:
        if os.stat(f"{path}-wal").st_size > 0:   # SQLite would replay another database's pages into the new one
            raise damaged(path, "is missing although its write-ahead log is present")
    except FileNotFoundError:
        pass
    tmp = path.with_name(f".{path.name}.new-{os.getpid()}-{os.urandom(4).hex()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, MODE)
    os.close(fd)
    try:
        _initialise(tmp)
        fd = os.open(tmp, os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        _fsync_folder(path.parent)
        _private_folder(path.parent)
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm"), Path(f"{tmp}-journal")):
            try:
                os.unlink(leftover)
            except FileNotFoundError:
                pass


def _initialise(path: Path) -> None:
    """Write the marker table in one transaction (WAL mode, as every user of the file sets it)."""
    conn = sqlite3.connect(str(path), timeout=60, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(META)
        conn.execute(f"INSERT OR IGNORE INTO {META_TABLE} VALUES ('created_at', ?)", (str(time.time()),))
        conn.execute("COMMIT")
    finally:
        conn.close()


def _narrow(path: Path, st: os.stat_result) -> None:
    """An existing database (and its -wal/-shm) readable by others becomes 0600: it holds environment variables."""
    if st.st_uid != os.getuid():
        return
    for name in (str(path), f"{path}-wal", f"{path}-shm"):
        try:
            mode = os.stat(name, follow_symlinks=False).st_mode
        except FileNotFoundError:
            continue
        if stat.S_ISREG(mode) and mode & 0o077:
            os.chmod(name, MODE)


def _private_folder(folder: Path) -> None:
    """The home gets its database now: it becomes 0700 if strata (a build, say) made it with the umask's mode.
    Through a descriptor opened without following links: a planted symlink is not chmod'ed through."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return
    try:
        st = os.fstat(fd)
        if st.st_uid == os.getuid() and st.st_mode & 0o077:
            os.fchmod(fd, 0o700)
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
