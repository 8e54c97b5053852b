"""The zip writer: valid for zipfile and unzip, and free of every source of variation."""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from build_helpers import write_tree

from strata.artifacts.archive import DEFLATED, STORED, Member, write_zip, zip_bytes
from strata.errors import BuildError


def _zip(tmp_path: Path, files: dict, level: int = 6, executable: set[str] = frozenset()) -> bytes:
    root = write_tree(tmp_path / "src", files)
    members = [Member(rel, str(root / rel), rel in executable) for rel in files]
    buf = io.BytesIO()
    sha, size = write_zip(members, buf, level=level, workers=2)
    data = buf.getvalue()
    assert size == len(data)
    import hashlib

    assert sha == hashlib.sha256(data).hexdigest()
    return data


def test_entries_sorted_fixed_and_attribute_normalised(tmp_path):
    data = _zip(tmp_path, {"b.py": "x = 1\n" * 50, "a/z.txt": "z", "a/b.sh": "#!/bin/sh\n", "a.txt": "a"},
                executable={"a/b.sh"})
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None
        infos = zf.infolist()
        assert [i.filename for i in infos] == ["a.txt", "a/b.sh", "a/z.txt", "b.py"]
        for info in infos:
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.create_system == 3
            assert info.extra == b"" and info.comment == b""
            assert not info.is_dir()
        modes = {i.filename: i.external_attr >> 16 for i in infos}
        assert modes == {"a.txt": 0o100644, "a/b.sh": 0o100755, "a/z.txt": 0o100644, "b.py": 0o100644}
        assert zf.getinfo("b.py").compress_type == DEFLATED
        assert zf.getinfo("a.txt").compress_type == STORED  # deflate would not shrink one byte
        assert zf.read("b.py") == b"x = 1\n" * 50


def test_precompressed_suffixes_are_stored_without_deflate(tmp_path):
    data = _zip(tmp_path, {"model.gz": b"\0" * 4096, "plain.bin": b"\0" * 4096})
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.getinfo("model.gz").compress_type == STORED
        assert zf.getinfo("plain.bin").compress_type == DEFLATED


def test_levels_differ_and_both_are_valid(tmp_path):
    text = "".join(f"line {i} {i * i} {i % 7}\n" for i in range(20000))
    fast = _zip(tmp_path / "1", {"t.txt": text}, level=1)
    default = _zip(tmp_path / "6", {"t.txt": text}, level=6)
    assert fast != default and len(default) < len(fast)
    for data in (fast, default):
        assert zipfile.ZipFile(io.BytesIO(data)).read("t.txt") == text.encode()


def test_non_ascii_name_sets_utf8_flag(tmp_path):
    data = _zip(tmp_path, {"données/é.txt": "é"})
    info = zipfile.ZipFile(io.BytesIO(data)).infolist()[0]
    assert info.filename == "données/é.txt" and info.flag_bits & 0x800


def test_empty_archive_is_valid(tmp_path):
    buf = io.BytesIO()
    write_zip([], buf)
    assert zipfile.ZipFile(buf).namelist() == []


def test_large_multi_chunk_member_round_trips(tmp_path):
    payload = os.urandom(1 << 20) + b"a" * (3 << 20)  # several read chunks, mixed compressibility
    data = _zip(tmp_path, {"big.bin": payload})
    assert zipfile.ZipFile(io.BytesIO(data)).read("big.bin") == payload


@pytest.mark.skipif(shutil.which("unzip") is None, reason="Info-ZIP unzip not installed")
def test_unzip_accepts_it(tmp_path):
    data = _zip(tmp_path, {"a/b.py": "print(1)\n" * 100, "c.txt": "c"}, executable={"c.txt"})
    path = tmp_path / "out.zip"
    path.write_bytes(data)
    result = subprocess.run(["unzip", "-t", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    dest = tmp_path / "x"
    subprocess.run(["unzip", "-q", str(path), "-d", str(dest)], check=True)
    assert (dest / "a/b.py").read_text() == "print(1)\n" * 100
    assert os.access(dest / "c.txt", os.X_OK)


def test_unencodable_name_is_a_build_error(tmp_path):
    target = tmp_path / "f"
    target.write_text("x")
    with pytest.raises(BuildError, match="cannot be stored"):
        write_zip([Member("bad\udcff.txt", str(target), False)], io.BytesIO())


def test_content_in_memory_zips_to_the_same_bytes_as_files(tmp_path):
    files = {"index.py": "def handler(event, context):\n    return 1\n" * 20, "data/ü.json": "{}", "pic.png": "x"}
    assert zip_bytes({k: v.encode() for k, v in files.items()}) == _zip(tmp_path, files)
    assert zip_bytes({"index.py": b""}) == zip_bytes({"index.py": b""})



def test_one_batch_packed_inline_and_many_batches_through_the_pool_give_the_same_bytes(tmp_path, monkeypatch):
    """Most code fits one batch and is packed without a thread pool; forcing a batch per file (the pool, several
    workers) must not change a byte, nor what ``on_member`` sees."""
    from strata.artifacts import archive

    files = {f"pkg/m{i}.py": f"VALUE = {i}\n" * (i + 1) for i in range(12)}
    seen_inline: list[str] = []
    inline = io.BytesIO()
    root = write_tree(tmp_path / "src", files)
    members = [Member(rel, str(root / rel), False) for rel in files]
    write_zip(members, inline, workers=3, on_member=lambda m, p: seen_inline.append(m.arcname))
    monkeypatch.setattr(archive, "BATCH_FILES", 1)
    seen_pooled: list[str] = []
    pooled = io.BytesIO()
    write_zip(members, pooled, workers=3, on_member=lambda m, p: seen_pooled.append(m.arcname))
    assert inline.getvalue() == pooled.getvalue() and seen_inline == seen_pooled == sorted(files)
