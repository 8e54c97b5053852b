"""Helpers for the build tests (imported as ``build_helpers``): trees, a hand-made wheel, a far-future clock."""
from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Create ``files`` (relative path -> content) under ``root``."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return root


def make_wheel(folder: Path, name: str = "tinypkg", version: str = "1.0", body: str = "VALUE = 1\n",
               requires_python: str | None = None) -> Path:
    """A minimal pure-Python wheel, built by hand so tests never need an index."""
    dist = f"{name}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    if requires_python:
        metadata += f"Requires-Python: {requires_python}\n"
    files = {
        f"{name}/__init__.py": body.encode(),
        f"{dist}/METADATA": metadata.encode(),
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for rel, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{rel},sha256={digest},{len(data)}")
    record.append(f"{dist}/RECORD,,")
    files[f"{dist}/RECORD"] = ("\n".join(record) + "\n").encode()
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for rel, data in files.items():
            zf.writestr(rel, data)
    return wheel


def zip_names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return zf.namelist()


def zip_read(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read(name)


def far_future() -> int:
    """A clock 1000 s ahead: every file looks old, so the racily-clean rule trusts fresh test files."""
    import time

    return time.time_ns() + 1000 * 10**9


_BACKEND = """\
import base64, hashlib, os, platform, sys, zipfile

NAME, VERSION, NATIVE = {name!r}, {version!r}, {native!r}


def _tag():
    if not NATIVE:
        return "py3-none-any"
    v = "%d%d" % sys.version_info[:2]
    return "cp%s-cp%s-linux_%s" % (v, v, platform.machine())


def get_requires_for_build_wheel(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    tag, dist = _tag(), "%s-%s.dist-info" % (NAME, VERSION)
    files = {{NAME + "/__init__.py": b"FROM_SDIST = 1\\n",
             dist + "/METADATA": ("Metadata-Version: 2.1\\nName: %s\\nVersion: %s\\n" % (NAME, VERSION)).encode(),
             dist + "/WHEEL": ("Wheel-Version: 1.0\\nGenerator: t\\nRoot-Is-Purelib: %s\\nTag: %s\\n"
                               % ("false" if NATIVE else "true", tag)).encode()}}
    if NATIVE:
        files[NAME + "/_speedups.so"] = b"\\x7fELF"
    rows = [f + ",sha256=" + base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b"=").decode()
            + "," + str(len(d)) for f, d in files.items()]
    files[dist + "/RECORD"] = ("\\n".join(rows + [dist + "/RECORD,,"]) + "\\n").encode()
    wheel = "%s-%s-%s.whl" % (NAME, VERSION, tag)
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel), "w") as zf:
        for f, d in files.items():
            zf.writestr(f, d)
    return wheel
"""


def make_sdist(folder: Path, name: str, version: str = "1.0", *, native: bool = False) -> Path:
    """A source distribution with an in-tree PEP 517 backend (no setuptools, no index): it builds a pure wheel, or,
    with ``native``, one tagged for the building interpreter and machine holding a stand-in ``.so``."""
    import io
    import tarfile

    root = f"{name}-{version}"
    files = {
        "pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n\n'
                          f'[project]\nname = "{name}"\nversion = "{version}"\n',
        "backend.py": _BACKEND.format(name=name, version=version, native=native),
        "PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
    }
    folder.mkdir(parents=True, exist_ok=True)
    sdist = folder / f"{root}.tar.gz"
    with tarfile.open(sdist, "w:gz") as tf:
        for rel, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{root}/{rel}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return sdist


def wheel_tags_in_zip(path: Path) -> dict[str, list[str]]:
    """Each dist-info in a built zip -> the ``Tag:`` lines of its WHEEL file (what pip installed, and for what)."""
    found: dict[str, list[str]] = {}
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.endswith(".dist-info/WHEEL"):
                text = zf.read(name).decode()
                found[name.split("/")[-2]] = [line[5:].strip() for line in text.splitlines() if line.startswith("Tag:")]
    return found
