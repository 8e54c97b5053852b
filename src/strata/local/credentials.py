"""``<home>/credentials.json``: the key pair every request to the home's ``strata serve`` must be SigV4-signed with.

Why a file: the server is the user's alone. A web page cannot read a file, and another local user cannot read one that
is 0600 and owned by us, so a secret kept there separates "this user" from "anyone who can reach the port" (a browser
via DNS rebinding or a cross-origin POST, another account on the machine). strata's own clients (``strata invoke``,
``strata env``, workers started by the server) read it; nobody has to copy it anywhere.

The file is made once per state home, on first need, with ``secrets``: written to a private temporary file
(``O_EXCL|O_NOFOLLOW``, mode 0600) and linked into place, so a reader never sees half a file and two processes racing
to create it end up using the same pair. A file that is a symlink, is not ours, or is readable by others is refused
(someone else may know or have chosen the secret). No other strata package is imported: the runtime reads it too.
"""
from __future__ import annotations

import json
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from strata.errors import StrataError

FILE_NAME = "credentials.json"
_KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


class CredentialsFileError(StrataError):
    """The home's credentials file cannot be trusted or read."""


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str

    def __repr__(self) -> str:        # never print the secret by accident (logs, tracebacks, pytest diffs)
        return f"Credentials(access_key_id={self.access_key_id!r}, secret_access_key='***')"


def credentials_file(home: Path) -> Path:
    return Path(home) / FILE_NAME


def generate() -> Credentials:
    """A fresh pair in AWS's shapes: a 20-character key id, a 40-character secret."""
    key_id = "AKIA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))
    return Credentials(key_id, secrets.token_urlsafe(30))


def load(home: Path) -> Credentials | None:
    """The home's pair, or None when there is none yet. Raises ``CredentialsFileError`` for a file not to trust."""
    path = credentials_file(home)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CredentialsFileError(f"cannot read the server credentials {path}: {exc.strerror or exc}",
                                   hint="it must be a regular file owned by you, mode 0600; delete it to make a "
                                        "new one (restart `strata serve` afterwards)") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        _check_private(path, info)
        raw = fh.read(64 * 1024)
    try:
        data = json.loads(raw)
        return Credentials(str(data["aws_access_key_id"]), str(data["aws_secret_access_key"]))
    except (ValueError, KeyError, TypeError):
        raise CredentialsFileError(f"the server credentials {path} are not a valid credentials file",
                                   hint="delete it to make a new one (restart `strata serve` afterwards)") from None


def ensure(home: Path) -> Credentials:
    """The home's pair, made (0600, atomically) when there is none yet."""
    found = load(home)
    if found is not None:
        return found
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    fresh = generate()
    body = json.dumps({"aws_access_key_id": fresh.access_key_id,
                       "aws_secret_access_key": fresh.secret_access_key}).encode()
    tmp = home / f".{FILE_NAME}.{os.getpid()}.{secrets.token_hex(6)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), 0o600)        # whatever the umask
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, credentials_file(home))  # fails if another process made one first: use that one
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)
    made = load(home)
    if made is None:
        raise CredentialsFileError(f"the server credentials {credentials_file(home)} vanished as they were made")
    return made


def _check_private(path: Path, info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise CredentialsFileError(f"the server credentials {path} are not a regular file",
                                   hint="delete it to make a new one")
    if info.st_uid != os.geteuid():
        raise CredentialsFileError(f"the server credentials {path} belong to another user (uid {info.st_uid})",
                                   hint="they may know the secret: delete the file to make a new one")
    if info.st_mode & 0o077:
        raise CredentialsFileError(
            f"the server credentials {path} are readable by others (mode {stat.S_IMODE(info.st_mode):04o})",
            hint="anyone who read it can run code as you: delete it to make a new one (chmod 600 is not enough)")
