"""Walking a source folder: excludes, symlink rules, no reads."""
from __future__ import annotations

import os

import pytest
from build_helpers import write_tree

from strata.artifacts.walk import walk_tree
from strata.errors import BuildError


def _rels(root) -> list[str]:
    return sorted(walk_tree(str(root)).stats)


def test_default_excludes_and_no_directory_entries(tmp_path):
    write_tree(tmp_path, {
        "app.py": "", "pkg/mod.py": "", "pkg/__pycache__/mod.cpython-311.pyc": "", "stale.pyc": "",
        ".git/HEAD": "", ".strata/cache/x": "", ".aws-sam/build/y": "", "deep/.git/config": "",
        "keep/.gitignore": "",
    })
    (tmp_path / "empty").mkdir()
    assert _rels(tmp_path) == ["app.py", "keep/.gitignore", "pkg/mod.py"]


def test_symlinks_inside_are_followed_and_stored_under_the_link_name(tmp_path):
    write_tree(tmp_path, {"real/a.py": "A", "b.py": "B"})
    os.symlink("real", tmp_path / "alias")
    os.symlink("b.py", tmp_path / "c.py")
    tree = walk_tree(str(tmp_path))
    assert sorted(tree.stats) == ["alias/a.py", "b.py", "c.py", "real/a.py"]
    assert open(tree.path("c.py")).read() == "B" and open(tree.path("alias/a.py")).read() == "A"
    assert len(tree.stats["c.py"]) == 7  # the link's own inode and ctime are part of its key


def test_symlink_leaving_the_folder_names_link_and_target(tmp_path):
    outside = write_tree(tmp_path / "outside", {"secret.txt": "s"})
    src = write_tree(tmp_path / "src", {"a.py": ""})
    os.symlink(outside / "secret.txt", src / "leak.txt")
    with pytest.raises(BuildError) as info:
        walk_tree(str(src))
    assert "leak.txt" in info.value.message and str(outside / "secret.txt") in info.value.message
    assert "outside" in info.value.message


def test_directory_symlink_leaving_the_folder_is_an_error(tmp_path):
    write_tree(tmp_path / "outside", {"x.py": ""})
    src = write_tree(tmp_path / "src", {"a.py": ""})
    os.symlink("../outside", src / "vendor")
    with pytest.raises(BuildError, match="vendor"):
        walk_tree(str(src))


def test_broken_symlink_is_an_error(tmp_path):
    src = write_tree(tmp_path / "src", {"a.py": ""})
    os.symlink("missing.py", src / "gone.py")
    with pytest.raises(BuildError, match="gone.py.*broken"):
        walk_tree(str(src))


def test_symlink_loop_is_an_error(tmp_path):
    src = write_tree(tmp_path / "src", {"pkg/a.py": ""})
    os.symlink("..", src / "pkg" / "up")
    with pytest.raises(BuildError, match="loop"):
        walk_tree(str(src))


def test_special_files_are_skipped(tmp_path):
    write_tree(tmp_path, {"a.py": ""})
    os.mkfifo(tmp_path / "pipe")
    assert _rels(tmp_path) == ["a.py"]


def test_walk_reads_no_file(tmp_path, monkeypatch):
    write_tree(tmp_path, {"a.py": "x", "b/c.py": "y"})
    import builtins

    def no_open(*args, **kwargs):
        raise AssertionError(f"walk opened {args[0]}")

    monkeypatch.setattr(builtins, "open", no_open)
    assert len(walk_tree(str(tmp_path)).stats) == 2


# ---- bounds applied while walking (a hostile tree costs at most the limit's worth of work) -----------------------
def test_two_link_loop_is_a_clear_error(tmp_path):
    src = write_tree(tmp_path / "src", {"a.py": ""})
    os.symlink("b", src / "a")
    os.symlink("a", src / "b")
    with pytest.raises(BuildError, match=r"symlink .*/src/[ab] -> [ab] makes a loop"):
        walk_tree(str(src))


def test_deeply_nested_folders_are_refused_not_a_crash(tmp_path):
    src = str(tmp_path / "src")
    folders = [src + "/d" * i for i in range(1501)]
    for folder in folders:
        os.mkdir(folder)
    try:
        with pytest.raises(BuildError, match="nested more than 126 levels deep") as info:
            walk_tree(src)
        assert info.value.hint
    finally:  # bottom up: pytest's recursive clean-up of old temp folders would overflow on 1,500 levels
        for folder in reversed(folders):
            os.rmdir(folder)


def test_symlink_fan_out_is_refused(tmp_path):
    # level0 holds a file; each level has ten links to the one below: 10**4 paths to one file without a loop
    src = write_tree(tmp_path / "src", {"level0/x.py": ""})
    for level in range(1, 5):
        (src / f"level{level}").mkdir()
        for i in range(10):
            os.symlink(f"../level{level - 1}", src / f"level{level}" / f"l{i}")
    with pytest.raises(BuildError, match="reached through symlinks more than 16 times") as info:
        walk_tree(str(src))
    assert "symlink fan-out" in info.value.message


def test_a_few_links_to_one_folder_are_fine(tmp_path):
    src = write_tree(tmp_path / "src", {"real/a.py": ""})
    for i in range(16):
        os.symlink("real", src / f"alias{i}")
    assert len(walk_tree(str(src)).stats) == 17


def test_file_and_folder_counts_stop_the_walk_early(tmp_path, monkeypatch):
    import strata.artifacts.walk as walk

    src = write_tree(tmp_path / "src", {f"d{i:03}/f.py": "" for i in range(100)})
    entered = []
    real_scandir = os.scandir
    monkeypatch.setattr(walk.os, "scandir", lambda path: entered.append(path) or real_scandir(path))
    monkeypatch.setattr(walk, "MAX_FILES", 10)
    with pytest.raises(BuildError, match="holds more than 10 files"):
        walk_tree(str(src))
    assert len(entered) <= 12                      # refused during the walk, not after it
    entered.clear()
    monkeypatch.setattr(walk, "MAX_FILES", 1000)
    monkeypatch.setattr(walk, "MAX_FOLDERS", 20)
    with pytest.raises(BuildError, match="holds more than 20 folders"):
        walk_tree(str(src))
    assert len(entered) <= 20
