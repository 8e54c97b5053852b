"""build_targets: cached no-ops, touched trees, the racily-clean case, byte-identical output, shared sources."""
from __future__ import annotations

import os
import time
import zipfile
from pathlib import Path

import pytest
from build_helpers import far_future, write_tree, zip_names, zip_read

from strata.artifacts import builder, digest
from strata.artifacts.builder import build_targets
from strata.artifacts.targets import BuildTarget
from strata.errors import BuildError

FILES = {"app.py": "def handler(e, c):\n    return 1\n", "lib/util.py": "X = 2\n" * 200, "bin/run": "#!/bin/sh\n",
         "data/blob.gz": b"\x1f\x8b" + bytes(range(256)) * 8}


def _fn(source: Path, logical_id: str = "Fn", runtime: str | None = "python3.12") -> BuildTarget:
    return BuildTarget(logical_id, "CodeUri", source, "function", runtime, None)


def _tree(root: Path) -> Path:
    write_tree(root, FILES)
    os.chmod(root / "bin/run", 0o700)
    return root


def _count_hashes(monkeypatch) -> list[str]:
    seen: list[str] = []
    real = digest.hash_file

    def spy(path: str) -> bytes:
        seen.append(path)
        return real(path)

    monkeypatch.setattr(digest, "hash_file", spy)
    return seen


def _forbid_zip(monkeypatch) -> None:
    def boom(*args, **kwargs):
        raise AssertionError("re-zipped")

    monkeypatch.setattr(builder, "_zip_unit", boom)


def test_first_build_writes_a_valid_zip_into_the_store(tmp_path, home):
    src = _tree(tmp_path / "src")
    (built,) = build_targets([_fn(src)], home, clock=far_future)
    assert not built.cached
    assert built.artifact.path.is_file() and built.artifact.path.parent.parent == home / "artifacts"
    import hashlib

    assert built.artifact.sha256 == hashlib.sha256(built.artifact.path.read_bytes()).hexdigest()
    assert zip_names(built.artifact.path) == ["app.py", "bin/run", "data/blob.gz", "lib/util.py"]
    with zipfile.ZipFile(built.artifact.path) as zf:
        assert zf.getinfo("bin/run").external_attr >> 16 == 0o100755
        assert zf.testzip() is None


def test_no_op_build_reads_no_file(tmp_path, home, monkeypatch):
    src = _tree(tmp_path / "src")
    (first,) = build_targets([_fn(src)], home, clock=far_future)
    import builtins

    real_open = builtins.open

    def guarded_open(file, *args, **kwargs):
        assert not str(file).startswith(str(src)), f"no-op build read {file}"
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    _forbid_zip(monkeypatch)
    hashed = _count_hashes(monkeypatch)
    (again,) = build_targets([_fn(src)], home, clock=far_future)
    assert again.cached and again.artifact == first.artifact and hashed == []


def test_touched_files_are_rehashed_not_rezipped(tmp_path, home, monkeypatch):
    src = _tree(tmp_path / "src")
    (first,) = build_targets([_fn(src)], home, clock=far_future)
    later = time.time() + 5
    os.utime(src / "app.py", (later, later))
    os.utime(src / "lib/util.py", (later, later))
    _forbid_zip(monkeypatch)
    hashed = _count_hashes(monkeypatch)
    (again,) = build_targets([_fn(src)], home, clock=far_future)
    assert again.cached and again.artifact == first.artifact
    assert sorted(Path(p).name for p in hashed) == ["app.py", "util.py"]
    hashed.clear()
    (third,) = build_targets([_fn(src)], home, clock=far_future)  # the cache now holds the new stat keys
    assert third.cached and hashed == []


def test_racily_clean_rewrite_with_same_size_and_mtime_is_caught(tmp_path, home):
    """Write, build, rewrite the same size and put the old mtime back: the real clock makes the entry racy."""
    src = write_tree(tmp_path / "src", {"app.py": "VALUE = 1\n"})
    (first,) = build_targets([_fn(src)], home)
    before = os.stat(src / "app.py")
    (src / "app.py").write_text("VALUE = 2\n")
    os.utime(src / "app.py", ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(src / "app.py")
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    (second,) = build_targets([_fn(src)], home)
    assert not second.cached and second.artifact.sha256 != first.artifact.sha256
    assert zip_read(second.artifact.path, "app.py") == b"VALUE = 2\n"


def test_racy_entries_are_stored_without_stat_key(tmp_path, home, monkeypatch):
    src = write_tree(tmp_path / "src", {"app.py": "x"})
    build_targets([_fn(src)], home)  # real clock: the file is brand new, so racy
    hashed = _count_hashes(monkeypatch)
    (again,) = build_targets([_fn(src)], home)
    assert again.cached and [Path(p).name for p in hashed] == ["app.py"]


def test_changed_content_makes_a_new_artifact(tmp_path, home):
    src = _tree(tmp_path / "src")
    (first,) = build_targets([_fn(src)], home, clock=far_future)
    (src / "lib/util.py").write_text("X = 3\n")
    (second,) = build_targets([_fn(src)], home, clock=far_future)
    assert not second.cached and second.artifact.sha256 != first.artifact.sha256
    (src / "new.py").write_text("")
    (third,) = build_targets([_fn(src)], home, clock=far_future)
    assert "new.py" in zip_names(third.artifact.path)
    (src / "new.py").unlink()
    (fourth,) = build_targets([_fn(src)], home, clock=far_future)
    assert fourth.artifact.sha256 == second.artifact.sha256 and fourth.cached  # the store already held it


def test_exec_bit_change_makes_a_new_artifact(tmp_path, home):
    src = _tree(tmp_path / "src")
    (first,) = build_targets([_fn(src)], home, clock=far_future)
    os.chmod(src / "app.py", 0o755)
    (second,) = build_targets([_fn(src)], home, clock=far_future)
    assert second.artifact.sha256 != first.artifact.sha256
    os.chmod(src / "app.py", 0o600)  # other bits do not matter: back to 0644 in the zip
    (third,) = build_targets([_fn(src)], home, clock=far_future)
    assert third.artifact.sha256 == first.artifact.sha256


def test_same_tree_elsewhere_with_other_mtimes_and_umask_is_byte_identical(tmp_path):
    a = _tree(tmp_path / "a" / "code")
    old = os.umask(0o077)
    try:
        b = _tree(tmp_path / "b" / "nested" / "code")
        for path in b.rglob("*"):
            os.utime(path, (1_000_000_000, 1_000_000_000))
        os.chmod(b / "bin/run", 0o711)
    finally:
        os.umask(old)
    (x,) = build_targets([_fn(a)], tmp_path / "home-a")
    (y,) = build_targets([_fn(b)], tmp_path / "home-b")
    assert x.artifact.path.read_bytes() == y.artifact.path.read_bytes()


def test_rebuild_from_scratch_is_byte_identical(tmp_path):
    src = _tree(tmp_path / "src")
    (x,) = build_targets([_fn(src)], tmp_path / "h1")
    (y,) = build_targets([_fn(src)], tmp_path / "h2")
    assert x.artifact.sha256 == y.artifact.sha256


def test_shared_source_is_built_once(tmp_path, home, monkeypatch):
    src = _tree(tmp_path / "src")
    calls = []
    real = builder._zip_unit

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(builder, "_zip_unit", counting)
    results = build_targets([_fn(src, "A"), _fn(tmp_path / "src/", "B"), _fn(src, "C")], home, clock=far_future)
    assert len(calls) == 1
    assert [r.target.logical_id for r in results] == ["A", "B", "C"]
    assert len({r.artifact for r in results}) == 1


def test_fast_level_gives_another_artifact(tmp_path, home):
    src = _tree(tmp_path / "src")
    (six,) = build_targets([_fn(src)], home, clock=far_future)
    (one,) = build_targets([_fn(src)], home, clock=far_future, level=1)
    assert not one.cached and zip_read(one.artifact.path, "lib/util.py") == zip_read(six.artifact.path, "lib/util.py")


def test_local_zip_is_used_as_is(tmp_path, home, monkeypatch):
    package = tmp_path / "code.zip"
    with zipfile.ZipFile(package, "w") as zf:
        zf.writestr("app.py", "x")
    (built,) = build_targets([_fn(package)], home, clock=far_future)
    assert built.artifact.path.read_bytes() == package.read_bytes() and not built.cached
    hashed = _count_hashes(monkeypatch)
    (again,) = build_targets([_fn(package)], home, clock=far_future)
    assert again.cached and again.artifact == built.artifact and hashed == []


def test_deleted_artifact_is_rebuilt(tmp_path, home):
    src = _tree(tmp_path / "src")
    (first,) = build_targets([_fn(src)], home, clock=far_future)
    first.artifact.path.unlink()
    (again,) = build_targets([_fn(src)], home, clock=far_future)
    assert not again.cached and again.artifact.sha256 == first.artifact.sha256 and again.artifact.path.is_file()


def test_corrupt_cache_is_ignored(tmp_path, home):
    src = _tree(tmp_path / "src")
    (first,) = build_targets([_fn(src)], home, clock=far_future)
    for path in (home / "cache" / "build").glob("*.marshal"):
        path.write_bytes(b"garbage")
    (again,) = build_targets([_fn(src)], home, clock=far_future)
    assert again.artifact.sha256 == first.artifact.sha256


def test_walk_errors_name_the_target(tmp_path, home):
    src = _tree(tmp_path / "src")
    os.symlink("/etc/hostname", src / "leak")
    with pytest.raises(BuildError) as info:
        build_targets([_fn(src, "Hello")], home)
    assert info.value.message.startswith("Hello (CodeUri ") and "leak -> /etc/hostname" in info.value.message


def test_no_temp_files_left_in_the_store(tmp_path, home):
    src = _tree(tmp_path / "src")
    build_targets([_fn(src)], home)
    leftovers = [p for p in (home / "artifacts").rglob("*") if p.name.startswith(".")]
    assert leftovers == []


def test_bad_level_is_rejected(tmp_path, home):
    with pytest.raises(BuildError, match="level"):
        build_targets([], home, level=11)


def test_a_code_folder_holding_the_template_zips_no_project_file(tmp_path):
    """The template, samconfig and state/VCS folders never enter the zip, so a tag-only template edit changes no
    artifact (and publishes no version)."""
    from strata.artifacts.targets import find_build_targets

    app = tmp_path / "app"
    write_tree(app, {"app.py": "x = 1\n", "template.yaml": "Resources: {}\n", "samconfig.toml": "version = 1\n",
                     ".git/HEAD": "ref\n", ".hg/store": "", ".svn/entries": "", ".aws-sam/build/a": "",
                     ".strata/state.db": "", "pkg/mod.py": ""})
    data = {"Resources": {"Fn": {"Type": "AWS::Serverless::Function", "Properties": {"Runtime": "python3.12"}}}}
    targets = find_build_targets(data, app, template_file=app / "template.yaml")
    (first,) = build_targets(targets, tmp_path / "home")
    assert zip_names(first.artifact.path) == ["app.py", "pkg/mod.py"]
    (app / "template.yaml").write_text("Resources: {}\n# Tags: {team: b}\n")
    (app / "samconfig.toml").write_text("version = 0.2\n")
    (again,) = build_targets(find_build_targets(data, app, template_file=app / "template.yaml"),
                             tmp_path / "home")
    assert again.artifact.sha256 == first.artifact.sha256
