"""pip, run for a Lambda target rather than for the interpreter running it: wheels for the runtime's CPython and the
function's architecture, pure sdists built, and every failure said in terms of the package and the runtime.

The semantics follow aws-lambda-builders' python_pip workflow (what ``sam build`` does), done with pip's own target
options instead of its download-then-sort passes:
1. ``pip install --target`` with ``PythonTarget.pip_args`` (``--platform`` manylinux tags up to the runtime's glibc,
   ``--implementation cp --python-version X.Y --abi cpXY --only-binary=:all:``): binary wheels for the target only.
2. A requirement with no wheel for the target: its sdist is built into a wheel with ``pip wheel --no-deps
   --no-binary <name>`` and accepted only when pure (``py3-none-any``), like aws-lambda-builders; then step 1 again,
   with the built wheels as a ``--find-links`` folder.
3. An sdist that builds native code is a ``BuildError`` naming the package, the runtime and the architecture, unless
   the user opts in with ``STRATA_BUILD_ON_HOST=1`` and this machine matches the target (Linux, same machine, the
   runtime's Python installed): then it is built with that Python and this machine's compiler.
4. A requirement whose every candidate needs a newer Python (``Requires-Python``) is a ``BuildError`` naming the
   package, what it needs and the runtime (pip's resolver message, parsed).
Index options in the requirements file (``--index-url``, ``--find-links`` ...) apply to every pip run; pip runs from
the requirements' folder, so relative paths work.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from strata.artifacts.python_target import PythonTarget, host_glibc, host_machine, is_pure
from strata.errors import BuildError

TAIL_LINES = 15
MAX_ROUNDS = 25          # sdists built per install, at most (each round builds one)
BUILD_ON_HOST = "STRATA_BUILD_ON_HOST"
INDEX_OPTIONS = ("-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--no-index", "--trusted-host",
                 "--pre")
_REQUIRES_PYTHON = re.compile(r"Package '([^']+)' requires a different Python: (\S+) not in '([^']*)'")
_IGNORED = re.compile(r"Ignored the following versions that require a different python version: (.*)")
_NOT_FOUND = re.compile(r"Could not find a version that satisfies the requirement (\S+)")


@dataclass(frozen=True)
class _Pip:
    """One pip run's outcome: return code and its output (stdout + stderr)."""

    returncode: int
    output: str

    def tail(self) -> str:
        return "\n    ".join(self.output.strip().splitlines()[-TAIL_LINES:])


def install_for_target(requirements: Path, dest: Path, target: PythonTarget, work: Path, *, what: str) -> None:
    """Install ``requirements`` into ``dest`` for ``target``; ``work`` holds built wheels (the caller removes it)."""
    built = work / "built"
    built.mkdir(parents=True, exist_ok=True)
    options = index_options(requirements)
    tried: set[str] = set()
    for _round in range(MAX_ROUNDS):
        if dest.exists():
            shutil.rmtree(dest)
        cmd = ["install", "--target", str(dest), "-r", str(requirements), *target.pip_args(),
               "--find-links", str(built), "--no-compile", "--no-warn-script-location"]
        if any(not is_pure(wheel.name) for wheel in built.glob("*.whl")):   # the opt-in built one on this machine
            cmd += ["--platform", f"linux_{target.machine}"]
        result = _pip(cmd, requirements.parent)
        if result.returncode == 0:
            return
        _raise_if_needs_newer_python(result, target, what)
        spec = _missing(result)
        if spec is None or _name(spec) in tried:
            raise BuildError(f"{what}: pip could not install {requirements} for {target.label}:\n    {result.tail()}",
                             hint="fix requirements.txt (pip's last lines are above), or install offline with "
                                  "--no-index and --find-links in the file")
        tried.add(_name(spec))
        _build_sdist(spec, options, requirements, target, built, work, what=what)
    raise BuildError(f"{what}: more than {MAX_ROUNDS} requirements of {requirements} needed a build from source",
                     hint="pin versions that have wheels for " + target.label)


def index_options(requirements: Path) -> list[str]:
    """The index options of a requirements file (its lines that start with one), as pip arguments."""
    found: list[str] = []
    try:
        lines = requirements.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return found
    for line in lines:
        line = line.split(" #", 1)[0].strip()
        if not line.startswith("-"):
            continue
        try:
            tokens = shlex.split(line)
        except ValueError:
            continue
        if tokens and tokens[0].split("=", 1)[0] in INDEX_OPTIONS:
            found += tokens
    return found


def _pip(args: list[str], cwd: Path, python: str | None = None) -> _Pip:
    cmd = [python or sys.executable, "-m", "pip", *args, "--disable-pip-version-check", "--no-input"]
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env={**os.environ, "PIP_NO_INPUT": "1"})
    return _Pip(proc.returncode, proc.stdout + proc.stderr)


def _name(spec: str) -> str:
    """The project name of a requirement specifier (``Foo_Bar[x]>=1`` -> ``foo-bar``), PEP 503-normalised."""
    name = re.split(r"[\s<>=!~\[;(@]", spec, maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def _missing(result: _Pip) -> str | None:
    """The requirement pip found no wheel for, when that is why it failed."""
    match = _NOT_FOUND.search(result.output)
    return match.group(1) if match else None


def _raise_if_needs_newer_python(result: _Pip, target: PythonTarget, what: str) -> None:
    """pip's two ways of saying "this needs another Python", turned into one plain error."""
    hint_for = "pin a version of {name} that supports {runtime} in requirements.txt, or move the function to a " \
               "runtime {name} supports"
    match = _REQUIRES_PYTHON.search(result.output)
    if match:
        name, spec = match.group(1), match.group(3)
        raise BuildError(f"{what}: {name} needs Python {spec} (its Requires-Python), but the function's runtime is "
                         f"{target.runtime}", hint=hint_for.format(name=name, runtime=target.runtime))
    ignored, missing = _IGNORED.search(result.output), _missing(result)
    if ignored and missing:
        name = _name(missing)
        needs = sorted({m.strip() for m in re.findall(r"Requires-Python ([^;]+)", ignored.group(1))})
        versions = [v.split()[0] for v in ignored.group(1).split(";") if v.strip()]
        raise BuildError(f"{what}: {missing} needs a newer Python than the function's runtime {target.runtime}: "
                         f"pip set aside {name} {', '.join(versions[:5])}{' ...' if len(versions) > 5 else ''} "
                         f"(Requires-Python {' / '.join(needs)})",
                         hint=hint_for.format(name=name, runtime=target.runtime))


def _build_sdist(spec: str, options: list[str], requirements: Path, target: PythonTarget, built: Path, work: Path,
                 *, what: str) -> None:
    """Build ``spec``'s sdist into a wheel in ``built``: pure, or native with the user's opt-in on a matching host."""
    name = _name(spec)
    out = work / f"sdist-{name}"
    shutil.rmtree(out, ignore_errors=True)
    args = ["wheel", "--no-deps", "--no-binary", name, "--ignore-requires-python", "--wheel-dir", str(out),
            *options, spec]
    result = _pip(args, requirements.parent)
    wheels = sorted(out.glob("*.whl")) if out.is_dir() else []
    if result.returncode != 0 or not wheels:
        raise BuildError(f"{what}: pip could not install {requirements}: {spec} has no wheel for {target.label} and "
                         f"no source distribution pip could build:\n    {result.tail()}",
                         hint=f"pin a version of {name} that publishes a wheel for {target.label} (manylinux, glibc "
                              f"<= {target.glibc[0]}.{target.glibc[1]}), or fix the requirement")
    wheel = wheels[0]
    if is_pure(wheel.name):
        shutil.move(str(wheel), built / wheel.name)
        return
    _build_native(spec, name, args, wheel.name, requirements, target, built, what=what)


def _build_native(spec: str, name: str, args: list[str], host_wheel: str, requirements: Path, target: PythonTarget,
                  built: Path, *, what: str) -> None:
    """The opt-in: an sdist with native code, built by the runtime's Python on a machine that matches the target."""
    where = f"{sys.platform} {host_machine()}, glibc {'.'.join(map(str, host_glibc() or ())) or 'none'}"
    if os.environ.get(BUILD_ON_HOST, "").lower() not in ("1", "true", "yes"):
        raise BuildError(f"{what}: {spec} has no wheel for {target.label}, and its source distribution builds "
                         f"native code ({host_wheel} on this machine), which Lambda could not import",
                         hint=f"pin a version of {name} with a wheel for {target.label} (manylinux, glibc <= "
                              f"{target.glibc[0]}.{target.glibc[1]}); or, on a Linux {target.machine} machine with "
                              f"{target.runtime}, set {BUILD_ON_HOST}=1 to build it there with that machine's compiler")
    python = host_python(target)
    if python is None or not sys.platform.startswith("linux") or host_machine() != target.machine:
        raise BuildError(f"{what}: {BUILD_ON_HOST} is set, but this machine ({where}"
                         f"{'' if python else ', no ' + target.runtime}) cannot build {spec} for {target.label}",
                         hint=f"build it on a Linux {target.machine} machine with {target.runtime} (e.g. the "
                              f"public.ecr.aws/sam/build-{target.runtime} image) and put the wheel in a --find-links "
                              "folder named in requirements.txt")
    out = built.parent / f"native-{name}"
    shutil.rmtree(out, ignore_errors=True)
    native = [*args[:args.index("--wheel-dir") + 1], str(out), *args[args.index("--wheel-dir") + 2:]]
    result = _pip(native, requirements.parent, python=python)
    wheels = sorted(out.glob("*.whl")) if out.is_dir() else []
    if result.returncode != 0 or not wheels or not target.fits(wheels[0].name):
        raise BuildError(f"{what}: {python} could not build {spec} for {target.label}:\n    {result.tail()}",
                         hint="build the wheel yourself and name its folder with --find-links in requirements.txt")
    shutil.move(str(wheels[0]), built / wheels[0].name)


def host_python(target: PythonTarget) -> str | None:
    """An interpreter on this machine with the target's Python version: strata's own, or ``pythonX.Y`` on PATH."""
    if sys.version_info[:2] == target.version:
        return sys.executable
    return shutil.which(target.runtime)
