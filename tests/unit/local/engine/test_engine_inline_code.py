"""Inline code (CloudFormation's Code.ZipFile) is packaged by the same deterministic writer as built code."""
from __future__ import annotations

import io
import zipfile

from strata.artifacts.archive import zip_bytes
from strata.local.engine.handlers.function import _code


def test_inline_code_is_zipped_by_the_deterministic_writer():
    code = _code({"Runtime": "nodejs20.x", "Code": {"ZipFile": "exports.handler = async () => 1;\n"}})
    assert code["ZipFile"] == zip_bytes({"index.js": b"exports.handler = async () => 1;\n"})
    with zipfile.ZipFile(io.BytesIO(code["ZipFile"])) as zf:
        info = zf.getinfo("index.js")
        assert (info.date_time, info.external_attr >> 16) == ((1980, 1, 1, 0, 0, 0), 0o100644)
