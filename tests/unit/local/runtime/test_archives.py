"""Safe unpacking: escapes refused with a clear error, atomic publication, the 250 MB cap, layer merging."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from runtime_lab import make_zip

from strata.artifacts.store import ArtifactStore
from strata.local.runtime.layers import Unpacked, UnsafeArchiveError, check_total, merged_opt, unpack


def _store(tmp_path: Path, data: bytes):
    return ArtifactStore(tmp_path / "home").put_bytes(data)


@pytest.mark.parametrize("files,symlinks,fragment", [
    ({"../evil.py": "x = 1\n"}, None, "escapes the extraction folder with '..'"),
    ({"a/../../evil.py": "x = 1\n"}, None, "escapes the extraction folder with '..'"),
    ({"/etc/evil.py": "x = 1\n"}, None, "absolute entry name"),
    ({"app.py": "x = 1\n"}, {"link": "../../outside"}, "symlink 'link' -> '../../outside' that escapes"),
    ({"app.py": "x = 1\n"}, {"sub/link": "../../etc/passwd"}, "that escapes"),
    ({"app.py": "x = 1\n"}, {"abs": "/etc/passwd"}, "that escapes"),
])
def test_malicious_zip_refused(tmp_path, files, symlinks, fragment):
    art = _store(tmp_path, make_zip(files, symlinks))
    root = tmp_path / "runtime"
    with pytest.raises(UnsafeArchiveError) as info:
        unpack(art.path, art.sha256, root)
    assert fragment in info.value.message
    assert not (root / art.sha256).exists()
    assert not (tmp_path / "evil.py").exists() and not (tmp_path / "outside").exists()
    assert list((root / ".tmp").iterdir()) == []            # the work folder is gone too


def test_malicious_zip_through_the_pool(lab):
    fn = lab.function(make_zip({"app.py": "def handler(e, c):\n    return 1\n"}, {"x": "../../../../tmp"}))
    with pytest.raises(UnsafeArchiveError) as info:
        lab.invoke(fn)
    assert info.value.code == "InvalidParameterValueException" and "escapes the extraction folder" in info.value.message


def test_inner_symlink_kept_and_modes(tmp_path):
    data = make_zip({"lib/libfoo.so.1": b"ELF", "bin/tool": "#!/bin/sh\n"}, {"lib/libfoo.so": "libfoo.so.1"})
    art = _store(tmp_path, data)
    out = unpack(art.path, art.sha256, tmp_path / "rt")
    assert os.readlink(out.path / "lib/libfoo.so") == "libfoo.so.1"
    assert (out.path / "lib/libfoo.so").read_bytes() == b"ELF"
    assert out.size == len(b"ELF") + len("#!/bin/sh\n")


def test_size_cap(tmp_path):
    art = _store(tmp_path, make_zip({"big.bin": b"\0" * 5000}))
    with pytest.raises(UnsafeArchiveError, match="Unzipped size must be smaller than 262144000 bytes"):
        unpack(art.path, art.sha256, tmp_path / "rt", limit=4000)
    with pytest.raises(UnsafeArchiveError, match="Unzipped size"):
        check_total([Unpacked(tmp_path, 200_000_000), Unpacked(tmp_path, 70_000_000)])


def test_not_a_zip(tmp_path):
    art = _store(tmp_path, b"definitely not a zip")
    with pytest.raises(UnsafeArchiveError, match="Could not unzip"):
        unpack(art.path, art.sha256, tmp_path / "rt")


def test_concurrent_unpackers_do_not_collide(tmp_path):
    files = {f"pkg/m{i}.py": f"X = {i}\n" for i in range(200)}
    art = _store(tmp_path, make_zip(files))
    root = tmp_path / "rt"
    script = ("import sys; from pathlib import Path; from strata.local.runtime.layers import unpack; "
              "print(unpack(sys.argv[1], sys.argv[2], Path(sys.argv[3])).path)")
    procs = [subprocess.Popen([sys.executable, "-c", script, str(art.path), art.sha256, str(root)],
                              stdout=subprocess.PIPE, text=True) for _ in range(3)]
    results: list[Path] = []
    threads = [threading.Thread(target=lambda: results.append(unpack(art.path, art.sha256, root).path))
               for _ in range(3)]
    for thread in threads:
        thread.start()
    outs = [proc.communicate()[0].strip() for proc in procs]
    for thread in threads:
        thread.join()
    assert all(proc.returncode == 0 for proc in procs)
    assert set(outs) | {str(p) for p in results} == {str(root / art.sha256)}
    assert len(list((root / art.sha256 / "pkg").iterdir())) == 200
    assert list((root / ".tmp").iterdir()) == []


def test_merge_order_and_type_changes(tmp_path):
    store = ArtifactStore(tmp_path / "home")
    a = store.put_bytes(make_zip({"python/x.py": "A\n", "python/d/inner.py": "A\n", "lib/only_a": "a"}))
    b = store.put_bytes(make_zip({"python/x.py": "B\n", "python/d": "now a file"}))
    root = tmp_path / "rt"
    ua, ub = unpack(a.path, a.sha256, root), unpack(b.path, b.sha256, root)
    opt = merged_opt([ua, ub], (a.sha256, b.sha256), root)
    assert (opt / "python/x.py").read_text() == "B\n"
    assert (opt / "python/d").read_text() == "now a file"
    assert (opt / "lib/only_a").read_text() == "a"
    assert merged_opt([ua, ub], (a.sha256, b.sha256), root) == opt          # cached per ordered tuple
    reverse = merged_opt([ub, ua], (b.sha256, a.sha256), root)
    assert reverse != opt and (reverse / "python/x.py").read_text() == "A\n"
    assert (ua.path / "python/x.py").read_text() == "A\n"                 # sources untouched
