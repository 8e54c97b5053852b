"""The translator cache stays bounded: the entries and bases used last are kept, the rest deleted, on every write."""
from __future__ import annotations

import os
import time
from pathlib import Path

from strata.transform import cache as cache_module
from strata.transform.cache import KEEP_BASES, KEEP_ENTRIES, TranslatorCache


def _aged(cache: TranslatorCache, name: str, seconds_ago: float) -> None:
    stamp = time.time() - seconds_ago
    os.utime(cache.root / f"{name}.json", (stamp, stamp))


def test_writes_keep_only_the_entries_and_bases_used_last(tmp_path: Path) -> None:
    cache = TranslatorCache(tmp_path)
    for i in range(KEEP_ENTRIES):
        cache.put(f"k{i}", {"i": i})
        _aged(cache, f"k{i}", 1000 - i)         # k0 is the oldest
    cache.get("k0")                             # a hit is a use: k0 is now the newest
    for i in range(KEEP_BASES + 3):
        cache.put_base(f"s{i}", {"i": i})
        _aged(cache, f"base-s{i}", 1000 - i)
    cache.put("last", {"i": -1})
    names = {p.name for p in cache.root.iterdir()}
    entries = {n for n in names if not n.startswith("base-")}
    bases = names - entries
    assert len(entries) == KEEP_ENTRIES and len(bases) == KEEP_BASES
    assert {"k0.json", "last.json"} <= entries and "k1.json" not in entries
    assert cache.get("k0") == {"i": 0} and cache.get("k1") is None
    assert f"base-s{KEEP_BASES + 2}.json" in bases and "base-s0.json" not in bases


def test_a_write_cut_short_long_ago_is_cleaned_up(tmp_path: Path) -> None:
    cache = TranslatorCache(tmp_path)
    cache.put("a", {})
    stale, fresh = cache.root / ".tmp-stale", cache.root / ".tmp-fresh"
    stale.write_text("{")
    fresh.write_text("{")     # another process may be writing it right now
    old = time.time() - cache_module.STALE_TMP_SECONDS - 10
    os.utime(stale, (old, old))
    cache.put("b", {})
    assert not stale.exists() and fresh.exists()
