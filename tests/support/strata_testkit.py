"""Helpers several test folders need. Test folders have no ``__init__.py`` (their ``conftest``s would clash), so
this folder is put on ``sys.path`` by pytest's ``pythonpath`` setting (pyproject.toml) instead of being imported
relative to a package."""
from __future__ import annotations

import io
import zipfile

import pytest

from strata.local.engine.journal import CrashPoints
from strata.testing.server import start_serve, stop_serve  # noqa: F401 - one home for a real `strata serve`


def zip_bytes(files: dict[str, str]) -> bytes:
    """A zip of ``files``, the same bytes for the same files (sorted names, fixed date, 0644)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in sorted(files.items()):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zf.writestr(info, text)
    return buf.getvalue()


def run_cli(main, argv: list[str], capsys) -> tuple[int, str, str]:  # noqa: ANN001 - the CLI's main
    """Run the CLI in process: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    return info.value.code, out, err


class SimulatedCrash(BaseException):
    """A crash at a journal point, raised in process (a BaseException, so no ``except Exception`` swallows it)."""


def crash_at(point: str | None = None, nth: int = 1) -> CrashPoints:
    """Journal crash points that raise ``SimulatedCrash`` the ``nth`` time ``point`` is reached (never for None);
    ``.seen`` counts every point reached."""
    return _CrashAt(point, nth)


class _CrashAt(CrashPoints):
    def __init__(self, point: str | None, nth: int) -> None:
        super().__init__("")
        self.point, self.nth = point, nth

    def __call__(self, point: str) -> None:
        self.seen[point] = self.seen.get(point, 0) + 1
        if point == self.point and self.seen[point] == self.nth:
            raise SimulatedCrash(f"{point}:{self.nth}")
