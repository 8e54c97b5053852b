"""The Python 2.7 key order of the translator's Resources map, replayed without importing the translator.

Why: an incremental translation puts every resource where a whole translation would (``strata.transform.incremental``)
by replaying the recorded operations on the Resources map's key list with renamed ids. aws-sam-translator's
``Py27Keys`` does that, but importing it imports the translator's parser and models (~80 ms), which an edit carried
without the translator (environment values) should not pay. ``Py27KeyOrder`` is the same table, operation for
operation (CPython 2.7's dict probing, growth and re-insertion, as ``samtranslator.utils.py27hash_fix`` models it),
hashed with the translator's own Python 2.7 hash; a hypothesis test compares it with ``Py27Keys`` on random
operation sequences. ``fresh_layout`` is its fast path for the one table ``strata.transform.py27_copy`` needs per
copied key list (distinct keys into a fresh table), looked up by key sequence.
"""
from __future__ import annotations

import ctypes
from typing import Any

MINSIZE = 8
PERTURB_SHIFT = 5
_LARGE = 50000
_DUMMY = object()      # a removed key's slot
_hashes: dict[str, int] = {}
# Fresh layouts by key tuple; bounded so a long-lived process (``strata dev``) does not grow without end.
_MAX_LAYOUTS = 50_000
_layouts: dict[tuple[str, ...], tuple[tuple[int, ...], int, int, int]] = {}


def _hash(key: str) -> int:
    found = _hashes.get(key)
    if found is None:
        from samtranslator.third_party.py27hash.hash import Hash  # a small module: the hash alone

        if len(_hashes) > 100_000:
            _hashes.clear()
        found = _hashes[key] = ctypes.c_size_t(Hash.hash(key)).value
    return found


class Py27KeyOrder:
    """A Python 2.7 dict's key table: which slot each key holds; iteration is slot order."""

    def __init__(self) -> None:
        self.table: dict[int, Any] = {}
        self.size = 0
        self.fill = 0
        self.mask = MINSIZE - 1

    def _slot(self, key: str) -> int:
        h = _hash(key)
        table = self.table
        i = h & self.mask
        if i not in table or table[i] == key:
            return i
        freeslot = i if table[i] is _DUMMY else None
        walker, perturb = i, h
        while i in table and table[i] != key:
            walker = (walker << 2) + walker + perturb + 1
            i = walker & self.mask
            if i not in table:
                return i if freeslot is None else freeslot
            if table[i] == key:
                return i
            if freeslot is None and table[i] is _DUMMY:
                freeslot = i
            perturb >>= PERTURB_SHIFT
        return i

    def _resize(self, request: int) -> None:
        newsize = MINSIZE
        while newsize <= request:
            newsize <<= 1
        self.mask = newsize - 1
        old = self.table
        self.table = {}
        self.fill = self.size = 0
        for slot in sorted(old):
            if old[slot] is not _DUMMY:
                self.add(old[slot])

    def add(self, key: str) -> None:
        start = self.size
        i = self._slot(key)
        if i not in self.table:
            self.size += 1
            self.fill += 1
            self.table[i] = key
        else:
            if self.table[i] is _DUMMY:
                self.size += 1
            if self.table[i] != key:
                self.table[i] = key
        if self.size > start and self.fill * 3 >= (self.mask + 1) * 2:
            self._resize(self.size * (2 if self.size > _LARGE else 4))

    def remove(self, key: str) -> None:
        i = self._slot(key)
        if i in self.table and self.table[i] is not _DUMMY:
            self.table[i] = _DUMMY
            self.size -= 1

    def merge(self, keys: list[str]) -> None:
        if not keys:
            return
        if (self.fill + len(keys)) * 3 >= (self.mask + 1) * 2:
            self._resize((self.size + len(keys)) * 2)
        for key in keys:
            self.add(key)

    def keys(self) -> list[str]:
        return [self.table[slot] for slot in sorted(self.table) if self.table[slot] is not _DUMMY]

    def deep_copied(self) -> Py27KeyOrder:
        """What ``copy.deepcopy`` of a ``Py27Keys`` gives: a fresh table, each key added in this one's order."""
        new = Py27KeyOrder()
        for key in self.keys():
            new.add(key)
        return new

    def copied(self) -> Py27KeyOrder:
        """What ``Py27Keys.copy`` gives: a fresh table with this one's keys merged in."""
        new = Py27KeyOrder()
        new.merge(self.keys())
        return new


def fresh_layout(names: tuple[str, ...]) -> tuple[tuple[int, ...], int, int, int]:
    """Where a fresh table puts ``names`` added in this order: (each name's slot, size, fill, mask). What a deep copy
    of a key list comes to (``strata.transform.py27_copy``), looked up once per key sequence; the fast path of
    ``Py27KeyOrder.add`` for distinct keys into a fresh table, without its per-call cost."""
    found = _layouts.get(names)
    if found is not None:
        return found
    found = _fresh_table([_hash(name) for name in names])
    if len(_layouts) >= _MAX_LAYOUTS:
        _layouts.clear()
    _layouts[names] = found
    return found


def _fresh_table(hashes: list[int]) -> tuple[tuple[int, ...], int, int, int]:
    """``Py27Keys.add`` of distinct keys with these hashes into a fresh table, resizes included (the same probing,
    growth and re-insertion as the translator's code, without its per-call overhead: a hypothesis test compares)."""
    mask = 7
    table: dict[int, int] = {}      # slot -> index into hashes
    fill = 0

    def place(index: int) -> None:
        h = hashes[index]
        slot = h & mask
        if slot in table:
            walker, perturb = slot, h
            while slot in table:
                walker = (walker << 2) + walker + perturb + 1
                slot = walker & mask
                perturb >>= 5
        table[slot] = index

    for index in range(len(hashes)):
        place(index)
        fill += 1
        if fill * 3 >= (mask + 1) * 2:
            size = len(table)
            request = size * (2 if size > 50000 else 4)
            newsize = 8
            while newsize <= request:
                newsize <<= 1
            mask = newsize - 1
            old = table
            table = {}
            for slot in sorted(old):
                place(old[slot])
            fill = len(table)
    slots = [0] * len(hashes)
    for slot, index in table.items():
        slots[index] = slot
    return tuple(slots), len(table), fill, mask


def replay_order(trace: list[list[Any]], rename: dict[str, str]) -> list[str]:
    """The py27 iteration order the recorded operations (``strata.transform.sam.Recording``) give, with ``rename``
    applied to every key they name. A str and a Py27UniStr of the same text take the same slot, so keys are texts."""
    keys = Py27KeyOrder()
    for op in trace:
        if op[0] == "a":
            keys.add(rename.get(op[1][0], op[1][0]))
        elif op[0] == "r":
            keys.remove(rename.get(op[1][0], op[1][0]))
        elif op[0] == "m":
            keys.merge([rename.get(item[0], item[0]) for item in op[1]])
        elif op[0] == "c":
            keys = keys.deep_copied()
        else:
            keys = keys.copied()
    return keys.keys()
