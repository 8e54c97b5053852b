"""What every Lambda operation needs: where it runs (region, account), its storage, and injectable clock/ids/dice."""
from __future__ import annotations

import os
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from strata.artifacts.store import ArtifactStore
from strata.local.lambda_service.store import Database
from strata.model import naming

if TYPE_CHECKING:
    from strata.local.lambda_service.overrides import EnvOverrides


def utc_now() -> datetime:
    return datetime.now(UTC)


def lambda_timestamp(moment: datetime) -> str:
    """AWS's format for LastModified/CreatedDate: ``2020-04-10T19:06:32.563+0000`` (reference 1.1)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


_RANDOM_BATCH = 16 * 128
_random_local = threading.local()       # each thread its own batch: no lock, no id made twice


def _fresh_random_after_fork() -> None:
    """A forked child (the CLI daemon forks per command) must not hand out its parent's unused random bytes: both
    would then make the same request ids."""
    global _random_local
    _random_local = threading.local()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_fresh_random_after_fork)


def random_uuid() -> str:
    """A random (version 4) UUID string, as ``str(uuid.uuid4())`` gives, at a fraction of its cost: request ids are
    made on every invoke. The random bytes come from ``os.urandom`` 128 ids at a time, per thread (one system call
    per batch, not per id); the uuid module's object is not needed."""
    local = _random_local
    at = getattr(local, "at", _RANDOM_BATCH)
    if at >= _RANDOM_BATCH:
        local.pool = os.urandom(_RANDOM_BATCH)
        at = 0
    local.at = at + 16
    raw = bytearray(local.pool[at:at + 16])
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass
class Context:
    region: str
    account_id: str
    db: Database
    artifacts: ArtifactStore
    clock: Callable[[], datetime] = utc_now
    new_id: Callable[[], str] = random_uuid
    rng: random.Random = field(default_factory=random.Random)
    env_overrides: EnvOverrides | None = None     # local --env-vars: applied to snapshots, never to a version

    def now(self) -> str:
        return lambda_timestamp(self.clock())

    def function_arn(self, name: str, qualifier: str | None = None) -> str:
        return naming.function_arn(self.region, self.account_id, name, qualifier)

    def layer_arn(self, name: str) -> str:
        return naming.layer_arn(self.region, self.account_id, name)

    def layer_version_arn(self, name: str, version: int) -> str:
        return naming.layer_version_arn(self.region, self.account_id, name, version)
