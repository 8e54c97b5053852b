"""Unpacking goes through the shared archive checker: a damaged or hostile zip already in the store (stored before
the checker existed, or planted) is a clear InvalidParameterValueException naming the entry, never a BadZipFile
surfacing as "Internal error", and nothing is published."""
from __future__ import annotations

import pytest
from hostile_zips import HOSTILE

from strata.artifacts.store import ArtifactStore
from strata.local.runtime.layers import UnsafeArchiveError, unpack


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_unpack_refuses_every_hostile_zip_naming_its_entry(tmp_path, case):
    data, entry, fragment = HOSTILE[case]()
    art = ArtifactStore(tmp_path / "home").put_bytes(data)
    root = tmp_path / "runtime"
    with pytest.raises(UnsafeArchiveError) as info:
        unpack(art.path, art.sha256, root)
    assert info.value.code == "InvalidParameterValueException"
    if case != "truncated-file":
        assert fragment in info.value.message
    if entry:
        assert repr(entry)[:40] in info.value.message
    assert not (root / art.sha256).exists() and list((root / ".tmp").iterdir()) == []


def test_a_damaged_zip_through_the_pool_is_a_clear_error(lab):
    data, _entry, _fragment = HOSTILE["bad-crc"]()
    fn = lab.function(data)
    with pytest.raises(UnsafeArchiveError, match="'app.py' that fails its CRC check"):
        lab.invoke(fn)
