"""Hostile and damaged zips, built with zipfile and byte patching, shared by the unit, contract and CLI tests.

``HOSTILE`` maps a case name to a builder returning ``(zip bytes, entry the error must name, message fragment)``:
each is a zip that strata must refuse where it enters (build, deploy, CreateFunction), never at the first invoke.
"""
from __future__ import annotations

import io
import stat
import struct
import zipfile
from collections.abc import Callable

HANDLER = b"def handler(event, context):\n    return 'ok'\n"

# Field offsets inside a local header (PK\3\4) and a central directory record (PK\1\2).
LOCAL = {"flags": (6, "H"), "method": (8, "H"), "crc": (14, "I"), "csize": (18, "I"), "usize": (22, "I")}
CENTRAL = {"flags": (8, "H"), "method": (10, "H"), "crc": (16, "I"), "csize": (20, "I"), "usize": (24, "I"),
           "offset": (42, "I")}


def make(files: dict[str, bytes], links: dict[str, str] | None = None, *,
         method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A plain zip of ``files`` plus symlink entries ``name -> target``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return buf.getvalue()


def offsets(data: bytes) -> list[tuple[int, int]]:
    """(local header offset, central record offset) of each entry, in central directory order."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        locals_ = [info.header_offset for info in zf.infolist()]
        pos = zf.start_dir  # type: ignore[attr-defined]
    out = []
    for local in locals_:
        assert data[pos:pos + 4] == b"PK\x01\x02"
        out.append((local, pos))
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, pos + 28)
        pos += 46 + name_len + extra_len + comment_len
    return out


def patch(data: bytes, index: int = 0, *, where: str = "both", **fields: int) -> bytes:
    """Overwrite header fields of entry ``index`` in its local header, its central record, or both."""
    return patch_at(data, offsets(data)[index], where=where, **fields)


def patch_at(data: bytes, spot: tuple[int, int], *, where: str = "both", **fields: int) -> bytes:
    """``patch`` at known (local, central) offsets, so a zip already damaged by earlier patches can be patched."""
    out = bytearray(data)
    local, central = spot
    for name, value in fields.items():
        if where in ("both", "local") and name in LOCAL:
            pos, fmt = LOCAL[name]
            struct.pack_into("<" + fmt, out, local + pos, value % (1 << (16 if fmt == "H" else 32)))
        if where in ("both", "central") and name in CENTRAL:
            pos, fmt = CENTRAL[name]
            struct.pack_into("<" + fmt, out, central + pos, value % (1 << (16 if fmt == "H" else 32)))
    return bytes(out)


def rename(data: bytes, old: bytes, new: bytes, *, where: str = "both") -> bytes:
    """Replace an entry's name bytes (same length) in its local header, central record, or both."""
    assert len(old) == len(new)
    out = bytearray(data)
    for local, central in offsets(data):
        for start in ((local + 30,) if where in ("both", "local") else ()) + \
                ((central + 46,) if where in ("both", "central") else ()):
            if out[start:start + len(old)] == old:
                out[start:start + len(old)] = new
    return bytes(out)


def _bad_crc() -> tuple[bytes, str, str]:
    data = make({"app.py": HANDLER})
    return patch(data, crc=zipfile.crc32(b"something else")), "app.py", "fails its CRC check"


def _name_mismatch() -> tuple[bytes, str, str]:
    data = rename(make({"app.py": HANDLER}), b"app.py", b"evl.py", where="local")
    return data, "app.py", "in its local header"


def _truncated_data() -> tuple[bytes, str, str]:
    data = make({"app.py": HANDLER, "big.bin": bytes(range(256)) * 64}, method=zipfile.ZIP_STORED)
    size = 256 * 64 + 5000
    return patch(data, 1, csize=size, usize=size), "big.bin", "runs past the end"


def _truncated_file() -> tuple[bytes, str, str]:
    data = make({"app.py": HANDLER, "lib.py": b"x = 1\n" * 500})
    return data[:len(data) // 2], "", "is not a readable zip"


def _size_too_small() -> tuple[bytes, str, str]:
    return patch(make({"app.py": HANDLER}), usize=10), "app.py", "more than the 10 bytes it declares"


def _size_too_big() -> tuple[bytes, str, str]:
    return patch(make({"app.py": HANDLER}), usize=len(HANDLER) + 7), "app.py", "not the"


def _compressed_size_lies() -> tuple[bytes, str, str]:
    data = make({"app.py": HANDLER, "b.py": b"y = 2\n"})
    real = offsets(data)[1][0] - offsets(data)[0][0] - 30 - len("app.py")
    return patch(data, csize=real - 4), "app.py", "compressed data"


def _deep_path() -> tuple[bytes, str, str]:
    name = "d/" * 200 + "app.py"
    return make({"app.py": HANDLER, name: b"x"}), name, "levels deep"


def _long_name() -> tuple[bytes, str, str]:
    name = "n" * 300 + ".py"
    return make({"app.py": HANDLER, name: b"x"}), name, "longer than 255 bytes"


def _symlink_chain() -> tuple[bytes, str, str]:
    return make({"app.py": HANDLER}, {"s": ".", "t": "s/..", "u": "t/t/t/etc"}), "t", "escapes the extraction folder"


def _symlink_loop() -> tuple[bytes, str, str]:
    return make({"app.py": HANDLER}, {"a": "b", "b": "a"}), "a", "loops"


def _absolute() -> tuple[bytes, str, str]:
    return make({"app.py": HANDLER, "/etc/evil.py": b"x"}), "/etc/evil.py", "absolute entry name"


def _dotdot() -> tuple[bytes, str, str]:
    return make({"app.py": HANDLER, "lib/../../evil.py": b"x"}), "lib/../../evil.py", "with '..'"


def _backslash() -> tuple[bytes, str, str]:
    return make({"app.py": HANDLER, "lib\\evil.py": b"x"}), "lib\\evil.py", "backslash"


def _nul() -> tuple[bytes, str, str]:
    data = rename(make({"app.py": HANDLER, "evil.py.txt": b"x"}), b"evil.py.txt", b"evil.py\0txt")
    return data, "evil.py\0txt", "NUL byte"


def _overlapping() -> tuple[bytes, str, str]:
    """The first entry's data is stretched over the second entry (the overlapping-entries bomb's trick)."""
    data = make({"app.py": HANDLER, "b.py": HANDLER}, method=zipfile.ZIP_STORED)
    (first, _), (second, _) = offsets(data)
    size = second + 30 + len("b.py") + len(HANDLER) - (first + 30 + len("app.py"))
    return patch(data, 0, csize=size, usize=size), "b.py", "overlaps"


def _ratio_bomb() -> tuple[bytes, str, str]:
    """Declares 300 MB unzipped (the bytes behind it never matter: the declared total is refused first)."""
    return patch(make({"app.py": HANDLER, "bomb.bin": bytes(1000)}), 1, usize=300_000_000), "", "Unzipped size"


def _duplicate() -> tuple[bytes, str, str]:
    return make({"app.py": HANDLER, "lib.py": b"a", "./lib.py": b"b"}), "./lib.py", "twice"


def _inside_symlink() -> tuple[bytes, str, str]:
    return make({"app.py": HANDLER, "s/evil.py": b"x"}, {"s": "."}), "s", "both a folder and a symlink"


def _encrypted() -> tuple[bytes, str, str]:
    return patch(make({"app.py": HANDLER}), flags=1), "app.py", "encrypted"


HOSTILE: dict[str, Callable[[], tuple[bytes, str, str]]] = {
    "bad-crc": _bad_crc,
    "name-mismatch": _name_mismatch,
    "truncated-data": _truncated_data,
    "truncated-file": _truncated_file,
    "size-too-small": _size_too_small,
    "size-too-big": _size_too_big,
    "compressed-size-lies": _compressed_size_lies,
    "deep-path": _deep_path,
    "long-name": _long_name,
    "symlink-chain": _symlink_chain,
    "symlink-loop": _symlink_loop,
    "absolute": _absolute,
    "dotdot": _dotdot,
    "backslash": _backslash,
    "nul": _nul,
    "overlapping": _overlapping,
    "ratio-bomb": _ratio_bomb,
    "duplicate": _duplicate,
    "inside-symlink": _inside_symlink,
    "encrypted": _encrypted,
}
