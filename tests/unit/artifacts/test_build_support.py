"""Small pieces: the racily-clean rule, the targets cache, the progress bar, parallel hashing."""
from __future__ import annotations

import hashlib
import os

from build_helpers import far_future, write_tree

from strata.artifacts import cache, digest, progress
from strata.artifacts.targets_cache import cached_targets

TEMPLATE = {"Resources": {"Fn": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "src"}}}}


def test_racy_rule_boundaries():
    start = 10 * 10**9
    assert cache.is_racy(start, start)
    assert cache.is_racy(start + 1, start)  # changed after the build began
    assert cache.is_racy(start - cache.RACY_SLACK_NS, start)
    assert not cache.is_racy(start - cache.RACY_SLACK_NS - 1, start)


def test_cache_record_round_trip_and_corruption(tmp_path):
    path = str(tmp_path / "c" / "r.marshal")
    cache.save(path, {"stats": {"a": (1, 2)}}, {"a": (b"x" * 32, True)})
    record = cache.load(path)
    assert record["stats"] == {"a": (1, 2)} and record.content == {"a": (b"x" * 32, True)}
    for garbage in (b"", b"\xff" * 3, (5).to_bytes(8, "little") + b"junk"):
        with open(path, "wb") as fh:
            fh.write(garbage)
        assert cache.load(path) is None
    assert cache.load(str(tmp_path / "missing")) is None


def test_targets_cache_skips_the_loader_until_the_template_changes(tmp_path):
    write_tree(tmp_path, {"src/app.py": "", "template.yaml": "x"})
    calls = []

    def load(path):
        calls.append(path)
        return TEMPLATE

    home = tmp_path / ".strata"
    first = cached_targets(tmp_path / "template.yaml", home, load, clock=far_future)
    again = cached_targets(tmp_path / "template.yaml", home, load, clock=far_future)
    assert first == again and len(calls) == 1 and first[0].source == tmp_path / "src"
    (tmp_path / "template.yaml").write_text("xy")
    cached_targets(tmp_path / "template.yaml", home, load, clock=far_future)
    assert len(calls) == 2


def test_targets_cache_does_not_trust_a_fresh_template(tmp_path):
    write_tree(tmp_path, {"src/app.py": "", "template.yaml": "x"})
    calls = []

    def load(path):
        calls.append(path)
        return TEMPLATE

    for _ in range(2):
        cached_targets(tmp_path / "template.yaml", tmp_path / ".strata", load)  # real clock: racy
    assert len(calls) == 2


def test_progress_stays_silent_without_a_terminal(monkeypatch):
    bar = progress.Progress(True, "Fn", 100)
    assert not bar.enabled  # pytest captures stderr: not a TTY
    bar.advance(50)
    bar.close()


def test_progress_shows_rich_bar_on_a_slow_tty_build(monkeypatch):
    monkeypatch.setattr(progress, "_stderr_is_tty", lambda: True)
    monkeypatch.setattr(progress, "DELAY_S", 0.0)
    bar = progress.Progress(True, "Fn", 100)
    bar.advance(10)
    assert bar._bar is not None
    bar.advance(90)
    bar.close()
    assert bar._bar is None


def test_parallel_hashing_matches_serial(tmp_path, monkeypatch):
    monkeypatch.setattr(digest, "PARALLEL_BYTES", 0)
    paths, sizes = [], []
    for i in range(7):
        data = os.urandom(1000 * (i + 1))
        (tmp_path / f"f{i}").write_bytes(data)
        paths.append(str(tmp_path / f"f{i}"))
        sizes.append(len(data))
    expected = [hashlib.sha256(open(p, "rb").read()).digest() for p in paths]
    assert digest.hash_files(paths, sizes, 2) == expected
    assert digest.hash_files(paths, sizes, 3) == expected
    assert digest.hash_files(paths, sizes, 1) == expected
