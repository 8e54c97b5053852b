"""The pieces of ``strata dev``'s loop that need no process: what is watched, when a batch was saved, the line."""
from __future__ import annotations

import os
import time

from strata.local.dev import Swap, _why, saved_at, watch_set


def test_watch_set_covers_code_folders_once_and_never_the_state_home(tmp_path):
    template = tmp_path / "template.yaml"
    template.write_text("Resources: {}\n")
    for folder in ("src/a", "src/a/inner", "layers/l", ".strata/artifacts"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "prebuilt.zip").write_bytes(b"PK")
    watched = watch_set(template, [tmp_path / "src/a", tmp_path / "src/a/inner", tmp_path / "layers/l",
                                   tmp_path / ".strata/artifacts", tmp_path / "prebuilt.zip"], tmp_path / ".strata")
    assert watched.trees == {tmp_path / "src/a", tmp_path / "layers/l"}
    assert {template, tmp_path / "prebuilt.zip", tmp_path / "samconfig.toml"} <= watched.files
    assert watched.file_folders == {tmp_path}


def test_a_code_folder_holding_the_template_watches_it_through_the_tree(tmp_path):
    template = tmp_path / "template.yaml"
    template.write_text("Resources: {}\n")
    watched = watch_set(template, [tmp_path], tmp_path / ".strata")
    assert watched.trees == {tmp_path} and watched.files == frozenset()


def test_saved_at_is_the_earliest_save_of_the_batch_else_when_it_arrived(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    first.write_text("1")
    second.write_text("2")
    now = time.time()
    os.utime(first, (now - 2, now - 2))
    os.utime(second, (now - 1, now - 1))
    assert saved_at([str(first), str(second), str(tmp_path / "deleted")], now) == now - 2
    os.utime(first, (now - 3600, now - 3600))               # an old time (a copied file) is not the save
    assert saved_at([str(first), str(tmp_path / "deleted")], now) == now


def test_the_line_says_version_why_and_time():
    why = _why(["publish a new version of Fn because Code changed (sha256:aa -> sha256:bb)"])
    assert why == "Code changed (sha256:aa -> sha256:bb)"
    assert Swap("Fn", "3", why, 41.6).text() == \
        "Fn -> version 3: Code changed (sha256:aa -> sha256:bb) [42 ms from save]"
    assert Swap("Fn", None, "Tags.app: a -> b", 7, from_save=False).text() == \
        "Fn -> $LATEST (no new version): Tags.app: a -> b [7 ms]"
