"""The archive checker: every hostile or damaged zip is refused naming its entry; real zips pass; a fuzzer finds
no zip that slips past it or breaks it with another exception."""
from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import pytest
from hostile_zips import CENTRAL, HANDLER, HOSTILE, LOCAL, make, offsets, patch, patch_at
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strata.artifacts.archive import Member, write_zip
from strata.artifacts.archive_check import (
    BAD_ENTRY,
    NOT_A_ZIP,
    TOO_LARGE,
    TOO_MANY,
    ArchiveError,
    ArchiveLimits,
    check_archive,
)
from strata.errors import BuildError


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_zip_is_refused_naming_its_entry(case, tmp_path):
    data, entry, fragment = HOSTILE[case]()
    for source in (data, _file(tmp_path, data)):
        with pytest.raises(ArchiveError) as info:
            check_archive(source)
        assert fragment in info.value.message, info.value.message
        if entry:
            assert info.value.entry == entry and repr(entry)[:40] in info.value.message
        assert isinstance(info.value, BuildError) and info.value.exit_code == 1 and info.value.hint


def test_kinds_let_each_door_word_the_error():
    assert _kind(HOSTILE["truncated-file"]()[0]) == NOT_A_ZIP
    assert _kind(HOSTILE["ratio-bomb"]()[0]) == TOO_LARGE
    assert _kind(HOSTILE["bad-crc"]()[0]) == BAD_ENTRY
    assert _kind(make({f"m{i}.py": b"" for i in range(11)}), ArchiveLimits(entries=10)) == TOO_MANY


def test_entry_count_is_bounded_before_zipfile_parses_the_directory(monkeypatch):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:   # 65,536 entries: zipfile writes zip64 end records
        for i in range(65_536):
            zf.writestr(f"{i:x}", b"")
    monkeypatch.setattr(zipfile, "ZipFile", None)   # refused by the count alone
    with pytest.raises(ArchiveError, match="more than 65535 entries") as info:
        check_archive(buf.getvalue())
    assert info.value.kind == TOO_MANY
    monkeypatch.undo()
    with pytest.raises(ArchiveError, match="more than 3 entries"):
        check_archive(b"prepended" + make({f"m{i}.py": b"" for i in range(4)}), limits=ArchiveLimits(entries=3))


def test_a_real_bomb_is_refused_before_anything_is_inflated():
    bomb = make({"zeros.bin": bytes(10_000_000)})
    assert len(bomb) < 20_000
    with pytest.raises(ArchiveError, match="Unzipped size must be smaller than 262144000 bytes"):
        check_archive(bomb, limits=ArchiveLimits(total_size=1_000_000))


def test_symlinks_that_stay_inside_pass_even_through_chains():
    data = make({"lib/libfoo.so.1": b"ELF", "v1/app.py": HANDLER},
                {"lib/libfoo.so": "libfoo.so.1", "current": "v1", "s": ".", "t": "s/current/../lib",
                 "dangling": "nowhere/yet"})
    summary = check_archive(data)
    kinds = {"/".join(e.parts): (e.kind, e.link) for e in summary.entries}
    assert kinds["t"] == ("link", "s/current/../lib") and kinds["lib/libfoo.so.1"] == ("file", None)
    assert summary.total_size == 3 + len(HANDLER) + sum(len(t) for t in ("libfoo.so.1", "v1", ".", "s/current/../lib",
                                                                        "nowhere/yet"))


@pytest.mark.parametrize("links, entry", [
    ({"current": "v1", "up": "current/../.."}, "up"),            # '..' after a followed link: parent of v1 is root
    ({"deep": "a/b", "a": ".", "out": "deep/../../.."}, "out"),
    ({"x": "y/../..", "y": "."}, "x"),                            # the link it passes through sorts after it
])
def test_symlink_chains_that_leave_are_refused(links, entry):
    with pytest.raises(ArchiveError, match="escapes the extraction folder") as info:
        check_archive(make({"v1/app.py": HANDLER}, links))
    assert info.value.entry == entry


def test_entry_inside_a_symlink_is_refused_whatever_the_order():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        link = zipfile.ZipInfo("s")
        link.external_attr = 0o120777 << 16
        zf.writestr(link, ".")
        zf.writestr("s/evil.py", b"x")
    with pytest.raises(ArchiveError, match="inside the symlink 's'"):
        check_archive(buf.getvalue())


def test_real_zips_pass(tmp_path):
    # strata's own writer, zipfile with explicit folders and a root entry, zip64 records, data descriptors
    src = tmp_path / "a.py"
    src.write_bytes(HANDLER)
    with open(tmp_path / "own.zip", "wb") as fh:
        write_zip([Member("a.py", str(src), False, len(HANDLER)), Member("bin/x", str(src), True, 1)], fh)
    assert [e.parts for e in check_archive(tmp_path / "own.zip").entries] == [("a.py",), ("bin", "x")]

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("./", b"")
        zf.writestr("pkg/", b"")
        zf.writestr("pkg/__init__.py", b"")
        with zf.open("pkg/big.bin", "w", force_zip64=True) as out:
            out.write(b"\1" * 100_000)
    summary = check_archive(buf.getvalue())
    assert [(e.parts, e.kind) for e in summary.entries] == [
        (("pkg",), "dir"), (("pkg", "__init__.py"), "file"), (("pkg", "big.bin"), "file")]
    assert summary.total_size == 100_000

    class Unseekable(io.RawIOBase):  # zipfile writes data descriptors (flag bit 3) to a stream it cannot seek
        def __init__(self) -> None:
            self.data = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, b) -> int:  # noqa: ANN001 - io's signature
            self.data += b
            return len(b)

    stream = Unseekable()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("app.py", HANDLER * 100)
        zf.writestr("b.py", HANDLER)
    assert offsets(bytes(stream.data)) and check_archive(bytes(stream.data)).total_size == len(HANDLER) * 101


def test_structure_only_mode_skips_contents_but_not_links():
    damaged = patch(make({"app.py": HANDLER}), crc=1)
    assert check_archive(damaged, verify_data=False).total_size == len(HANDLER)
    with pytest.raises(ArchiveError, match="escapes"):
        check_archive(make({"app.py": HANDLER}, {"s": ".", "t": "s/.."}), verify_data=False)


def test_unreadable_path_is_a_clear_error(tmp_path):
    with pytest.raises(ArchiveError, match="cannot be read") as info:
        check_archive(tmp_path / "missing.zip")
    assert info.value.kind == NOT_A_ZIP and "missing.zip" in info.value.message


# ---- fuzzing --------------------------------------------------------------------------------------------------------
FUZZ_EXAMPLES = 400   # the count the README records; derandomized, so every run tries the same zips


def _seeds() -> list[bytes]:
    return [
        make({"app.py": HANDLER, "lib/x.py": b"X = 1\n" * 40}, {"lib/y.py": "x.py", "cur": "lib"}),
        make({"a/b/c.txt": b"hello" * 100, "d.bin": bytes(range(256))}, method=zipfile.ZIP_STORED),
        make({"s/": b"", "s/t.py": HANDLER}, {"up": "s/..", "u": "up/s"}),
    ]


SEEDS = _seeds()
SPOTS = [offsets(seed) for seed in SEEDS]
FIELDS = sorted({*LOCAL, *CENTRAL})
byte_edit = st.one_of(
    st.tuples(st.just("set"), st.integers(0, 1 << 16), st.integers(0, 255)),
    st.tuples(st.just("set"), st.integers(0, 1 << 16), st.sampled_from([0, 1, 0x2F, 0x2E, 0x5C, 0xFF])),
    st.tuples(st.just("insert"), st.integers(0, 1 << 16), st.integers(0, 255)),
    st.tuples(st.just("cut"), st.integers(0, 1 << 16), st.just(0)),
)
field_edit = st.tuples(st.integers(0, 8), st.sampled_from(FIELDS), st.sampled_from(["local", "central", "both"]),
                       st.one_of(st.sampled_from([0, 1, 8, 12, 0xFFFF, 0xFFFFFFFF]), st.integers(0, 0xFFFF)))


@settings(max_examples=FUZZ_EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(range(len(SEEDS))), fields=st.lists(field_edit, max_size=2),
       edits=st.lists(byte_edit, max_size=3))
def test_fuzz_mutated_zips_are_refused_cleanly_or_unpack_inside_the_root(seed, fields, edits):
    from strata.local.runtime.layers import UnsafeArchiveError, unpack

    data = SEEDS[seed]
    spots = SPOTS[seed]
    for index, name, where, value in fields:   # header fields of the seed (sizes, CRC, method, flags, offset)
        data = patch_at(data, spots[index % len(spots)], where=where, **{name: value})
    data = bytearray(data)
    for op, pos, value in edits:
        pos %= len(data) + 1
        if op == "set" and pos < len(data):
            data[pos] = value
        elif op == "cut":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = bytes([value])
    try:
        summary = check_archive(bytes(data), limits=ArchiveLimits(total_size=1 << 20))
    except ArchiveError as exc:
        assert exc.message.startswith("the zip ") and exc.hint
        return
    work = Path(tempfile.mkdtemp(prefix="fuzz-"))
    try:
        (work / "store").mkdir()
        zip_path = work / "store" / "in.zip"
        zip_path.write_bytes(bytes(data))
        root = work / "runtime"
        try:
            out = unpack(zip_path, hashlib.sha256(data).hexdigest(), root, limit=1 << 20)
        except UnsafeArchiveError:  # pragma: no cover - the checker passed it, so unpacking must too
            raise AssertionError("the checker accepted a zip that unpacking refused") from None
        real_root = os.path.realpath(out.path)
        for folder, dirs, files in os.walk(out.path):
            for name in dirs + files:
                resolved = os.path.realpath(os.path.join(folder, name))
                assert resolved == real_root or resolved.startswith(real_root + os.sep), (name, resolved)
        assert len(summary.entries) >= sum(len(f) for _d, _s, f in os.walk(out.path))
    finally:
        for folder, dirs, _files in os.walk(work):
            for name in dirs:
                os.chmod(os.path.join(folder, name), 0o755)
        shutil.rmtree(work, ignore_errors=True)


def _file(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "case.zip"
    path.write_bytes(data)
    return path


def _kind(data: bytes, limits: ArchiveLimits | None = None) -> str:
    with pytest.raises(ArchiveError) as info:
        check_archive(data, **({"limits": limits} if limits else {}))
    return info.value.kind
