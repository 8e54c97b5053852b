"""Request ids: version 4 UUIDs, never the same twice, across threads and across a fork (the CLI daemon forks per
command; a child must not hand out the ids its parent had drawn the randomness for)."""
from __future__ import annotations

import os
import threading
import uuid

from strata.local.lambda_service.context import random_uuid


def test_ids_are_version_4_uuids_in_canonical_form():
    for _ in range(500):
        text = random_uuid()
        parsed = uuid.UUID(text)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == text


def test_threads_never_draw_the_same_id():
    drawn: list[list[str]] = [[] for _ in range(4)]

    def draw(slot: int) -> None:
        drawn[slot].extend(random_uuid() for _ in range(5000))
    threads = [threading.Thread(target=draw, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = [i for ids in drawn for i in ids]
    assert len(set(everything)) == len(everything) == 20000


def test_a_forked_child_does_not_repeat_its_parents_next_ids():
    random_uuid()                                   # the parent holds a batch with ids still to hand out
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(write, ",".join(random_uuid() for _ in range(20)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 100_000).decode().split(",")
    os.close(read)
    parent = [random_uuid() for _ in range(20)]
    assert not set(child) & set(parent)
