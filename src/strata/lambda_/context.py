"""What every Lambda operation needs: where it runs (region, account), its storage, and injectable clock/ids/dice."""
from __future__ import annotations

import os
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from strata.build.store import ArtifactStore
from strata.lambda_ import names
from strata.lambda_.store import Database


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def lambda_timestamp(moment: datetime) -> str:
    """AWS's format for LastModified/CreatedDate: ``2020-04-10T19:06:32.563+0000`` (reference 1.1)."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


_ID_BATCH = 64
_random_local = threading.local()       # each thread its own ids: no lock, no id made twice


def _fresh_random_after_fork() -> None:
    """A forked child (the CLI daemon forks per command) must not hand out its parent's unused ids: both would
    then make the same request ids."""
    global _random_local
    _random_local = threading.local()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_fresh_random_after_fork)


def random_uuid() -> str:
    """A random (version 4) UUID string, as ``str(uuid.uuid4())`` gives, at a fraction of its cost: request ids are
    made on every invoke. Ids are made ``_ID_BATCH`` at a time per thread, from one ``os.urandom`` call, so an
    invoke usually takes a ready one off a list."""
    ids = getattr(_random_local, "ids", None)
    if ids:
        return ids.pop()
    return _new_ids()


def _new_ids() -> str:
    """Refill this thread's ids; return one of them."""
    raw = bytearray(os.urandom(16 * _ID_BATCH))
    for at in range(6, len(raw), 16):
        raw[at] = (raw[at] & 0x0F) | 0x40              # version 4
        raw[at + 2] = (raw[at + 2] & 0x3F) | 0x80      # RFC 4122 variant
    h = raw.hex()
    ids = [f"{h[i:i + 8]}-{h[i + 8:i + 12]}-{h[i + 12:i + 16]}-{h[i + 16:i + 20]}-{h[i + 20:i + 32]}"
           for i in range(0, len(h), 32)]
    _random_local.ids = ids
    return ids.pop()


@dataclass
class Context:
    region: str
    account_id: str
    db: Database
    artifacts: ArtifactStore
    clock: Callable[[], datetime] = utc_now
    new_id: Callable[[], str] = random_uuid
    rng: random.Random = field(default_factory=random.Random)

    def now(self) -> str:
        return lambda_timestamp(self.clock())

    def function_arn(self, name: str, qualifier: str | None = None) -> str:
        return names.function_arn(self.region, self.account_id, name, qualifier)

    def layer_arn(self, name: str) -> str:
        return names.layer_arn(self.region, self.account_id, name)


