"""Fixtures for engine tests: a state home per test, code zips in the artifact store, hand-written stack templates."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest

from strata.build.store import ArtifactStore
from strata.engine.api import Engine
from strata.transform.result import LOCAL_CODE_BUCKET, FingerprintInput, FunctionVersionInfo, TransformResult

ROLE_ARN = "arn:aws:iam::123456789012:role/test"


def zip_bytes(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in sorted(files.items()):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zf.writestr(info, text)
    return buf.getvalue()


def code(home: Path, files: dict[str, str]) -> dict[str, str]:
    """Store a zip and return the CloudFormation Code/Content pointing at it."""
    art = ArtifactStore(home).put_bytes(zip_bytes(files))
    return {"S3Bucket": LOCAL_CODE_BUCKET, "S3Key": f"code/{art.sha256}.zip"}


def handler_code(home: Path, answer: str) -> dict[str, str]:
    return code(home, {"app.py": f"def handler(event, context):\n    return {answer!r}\n"})


def layer_code(home: Path, answer: str) -> dict[str, str]:
    return code(home, {"python/shared.py": f"ANSWER = {answer!r}\n"})


def result(template: dict[str, Any], parameters: dict[str, Any] | None = None,
           functions: dict[str, FunctionVersionInfo] | None = None) -> TransformResult:
    return TransformResult(template=template, functions=functions or {}, parameters=parameters or {})


def info(function_id: str, version_id: str, fingerprint: str, **inputs: str) -> FunctionVersionInfo:
    return FunctionVersionInfo(function_id, version_id, (), fingerprint, None,
                               tuple(FingerprintInput(k, v, v) for k, v in inputs.items()))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / ".strata"


@pytest.fixture
def engine(home: Path):
    events: list[tuple] = []
    eng = Engine(home, progress=lambda *e: events.append(e))
    eng.events_seen = events  # type: ignore[attr-defined]
    yield eng
    eng.close()
