"""The Lambda Python environment a dependency build is for: CPython version, ABI, architecture and glibc.

Lambda runs ``python3.8``-``python3.11`` on Amazon Linux 2 (glibc 2.26) and ``python3.12`` onwards on Amazon Linux 2023
(glibc 2.34); ``Architectures: [arm64]`` is aarch64, anything else x86_64. A wheel fits when one of its tags is
``cpXY`` (or ``abi3``/``none``) on a manylinux platform no newer than that glibc for that machine, or pure
(``none-any``). These are the tags pip is given (``--platform``, ``--python-version``, ``--abi``), so the answer
never depends on the interpreter running strata. aws-lambda-builders' python_pip workflow applies the same rule
(``_is_compatible_wheel_filename``); its table stops at glibc 2.26, this one follows the runtimes' Amazon Linux.
"""
from __future__ import annotations

import os
import platform
import re
import sys
from dataclasses import dataclass
from functools import lru_cache

AL2_GLIBC = (2, 26)      # Amazon Linux 2: python3.8 - python3.11
AL2023_GLIBC = (2, 34)   # Amazon Linux 2023: python3.12 onwards
MACHINES = {"x86_64": "x86_64", "arm64": "aarch64"}   # Lambda's architecture name -> the wheel tags' machine
# The legacy manylinux names pip still matches (PEP 600: manylinux2014 = manylinux_2_17 ...)
LEGACY = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}
_RUNTIME = re.compile(r"^python(\d+)\.(\d+)$")


@dataclass(frozen=True)
class PythonTarget:
    """What a ``pythonX.Y`` function on ``architecture`` can import; ``runtime`` names it in messages."""

    version: tuple[int, int]
    architecture: str   # "x86_64" | "arm64" (Lambda's spelling)
    runtime: str

    @classmethod
    def of(cls, runtime: str | None, architecture: str | None = None) -> PythonTarget:
        """The target of a function's ``Runtime`` and first ``Architectures`` entry; a runtime that names no
        Python version (none given) falls back to strata's own interpreter's version, as before."""
        arch = "arm64" if (architecture or "").lower() == "arm64" else "x86_64"
        match = _RUNTIME.match(runtime or "")
        if match:
            return cls((int(match.group(1)), int(match.group(2))), arch, f"python{match.group(1)}.{match.group(2)}")
        version = (sys.version_info[0], sys.version_info[1])
        return cls(version, arch, f"python{version[0]}.{version[1]}")

    @property
    def machine(self) -> str:
        return MACHINES[self.architecture]

    @property
    def abi(self) -> str:
        return f"cp{self.version[0]}{self.version[1]}"

    @property
    def python_version(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"

    @property
    def glibc(self) -> tuple[int, int]:
        return AL2023_GLIBC if self.version >= (3, 12) else AL2_GLIBC

    @property
    def label(self) -> str:
        """``python3.12 x86_64``: how messages name the target."""
        return f"{self.runtime} {self.architecture}"

    def platforms(self) -> list[str]:
        """Every manylinux platform tag this target's glibc runs, newest first (aarch64 wheels start at 2.17)."""
        first = 17 if self.machine == "aarch64" else 5
        tags = []
        for minor in range(self.glibc[1], first - 1, -1):
            tags.append(f"manylinux_2_{minor}_{self.machine}")
            legacy = LEGACY.get((2, minor))
            if legacy is not None:
                tags.append(f"{legacy}_{self.machine}")
        return tags

    def pip_args(self) -> list[str]:
        """pip's options that resolve for this target instead of for the interpreter running pip."""
        args = []
        for tag in self.platforms():
            args += ["--platform", tag]
        return args + ["--implementation", "cp", "--python-version", self.python_version, "--abi", self.abi,
                       "--only-binary=:all:"]

    def key_parts(self) -> list[str]:
        """What goes into a dependency cache key: the target, never the host."""
        return [self.python_version, self.abi, self.architecture, "glibc%d.%d" % self.glibc]

    def host_runs_natively(self) -> bool:
        """Can this machine import native code built for the target? Linux, the same machine and a glibc at least
        the target's; the CPython version is a separate question (``host_python``)."""
        return sys.platform.startswith("linux") and host_machine() == self.machine and \
            (host_glibc() or (0, 0)) >= self.glibc

    def fits(self, wheel_filename: str) -> bool:
        """Would Lambda import this wheel (its file name's tags, PEP 425 compressed sets)?"""
        platforms = set(self.platforms()) | {"any", f"linux_{self.machine}"}
        for _python, abi, plat in wheel_tags(wheel_filename):
            if plat in platforms and abi in ("none", "abi3", self.abi):
                return True
        return False


def wheel_tags(filename: str) -> list[tuple[str, str, str]]:
    """The (python, abi, platform) tags a wheel's file name declares, expanded (``a.b`` means either)."""
    stem = os.path.basename(filename)[:-len(".whl")] if filename.endswith(".whl") else os.path.basename(filename)
    parts = stem.split("-")
    if len(parts) < 5:
        return []
    pythons, abis, plats = parts[-3].split("."), parts[-2].split("."), parts[-1].split(".")
    return [(py, abi, plat) for py in pythons for abi in abis for plat in plats]


def is_pure(wheel_filename: str) -> bool:
    """A wheel any Python 3 on any machine can import: every tag is ``py3*-none-any`` (what aws-lambda-builders
    accepts from a build it made itself)."""
    tags = wheel_tags(wheel_filename)
    return bool(tags) and any(py.startswith("py3") for py, _abi, _plat in tags) and \
        all(abi == "none" and plat == "any" and py.startswith("py") for py, abi, plat in tags)


@lru_cache(maxsize=1)
def host_machine() -> str:
    machine = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)


@lru_cache(maxsize=1)
def host_glibc() -> tuple[int, int] | None:
    """This machine's glibc version, None off glibc (macOS, musl)."""
    name, version = platform.libc_ver()
    match = re.match(r"(\d+)\.(\d+)", version) if name == "glibc" else None
    return (int(match.group(1)), int(match.group(2))) if match else None
