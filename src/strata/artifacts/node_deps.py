"""Node.js dependencies from ``package.json``, installed with npm for the function's runtime and architecture, cached.

What ``sam build``'s nodejs_npm workflow (aws-lambda-builders) does, and what strata does instead:
- SAM copies ``.npmrc`` and the lock file beside ``package.json`` and runs ``npm install --omit=dev`` (``npm ci``
  only with its ``UseNpmCi`` option); strata runs ``npm ci --omit=dev`` whenever ``package-lock.json`` or
  ``npm-shrinkwrap.json`` is there, so the install is exactly the lock's, and ``npm install --omit=dev
  --no-package-lock`` without one (the build says so in a note: versions may drift between machines).
- SAM removes ``node_modules/.package-lock.json`` (npm's hidden lock, which records the install) and ``.npmrc`` from
  the artifact; so does strata (the builder leaves ``.npmrc`` out of the zip: it may hold a registry token).
- ``yarn.lock`` and ``pnpm-lock.yaml`` are not read by SAM's npm workflow (npm resolves from ``package.json``);
  strata does the same, and says so in a note when one is found without an npm lock.
- SAM runs ``npm test --if-present`` and the packages' install scripts; strata runs neither (``--ignore-scripts``):
  a build runs no package code, so two builds give the same bytes. A native addon (``binding.gyp`` or a ``.node``
  file) is accepted only when it is prebuilt for the target (its ``package.json`` names ``os``/``cpu`` that
  include linux and the target's cpu, or it ships ``prebuilds/linux-<cpu>/``); any other is a ``BuildError`` naming
  the package, unless ``STRATA_BUILD_ON_HOST=1`` on a Linux machine of the target's architecture, where npm runs
  the install scripts (node-gyp) and builds it with this machine's compiler.
- npm is told the target's platform (``--os=linux --cpu=x64|arm64``), so optional per-platform packages
  (``@esbuild/linux-arm64``, ``@img/sharp-linux-x64`` ...) are the function's, never the host's.

The install lands in ``<home>/cache/deps/<key>/node_modules``. The key: the bytes of ``package.json``, the lock and
``.npmrc`` (their sha256), the runtime and architecture, whether install scripts ran, and npm's settings from the
environment (``npm_config_*``: the registry, ``omit``, ``legacy-peer-deps`` ... may change what npm installs). A
``file:`` dependency on a tarball is resolved from the project's folder (its path is made absolute for the install);
the lock's ``integrity`` pins its bytes. Caveat, as for pip: npm's user config (``~/.npmrc``) is not in the key.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

from strata.artifacts.deps import deps_dir
from strata.artifacts.python_target import host_machine
from strata.errors import BuildError
from strata.paths import move_into_place

FORMAT = "node-1"
PACKAGE_JSON = "package.json"
LOCK_FILES = ("package-lock.json", "npm-shrinkwrap.json")
NPMRC = ".npmrc"
MANIFESTS = (PACKAGE_JSON, *LOCK_FILES, NPMRC)   # what decides the install (the builder hashes these)
OTHER_LOCKS = ("yarn.lock", "pnpm-lock.yaml", "bun.lockb", "bun.lock")
HIDDEN_LOCK = ".package-lock.json"
CPUS = {"x86_64": "x64", "arm64": "arm64"}      # Lambda's architecture -> Node's process.arch
MACHINES = {"x86_64": "x86_64", "arm64": "aarch64"}
BUILD_ON_HOST = "STRATA_BUILD_ON_HOST"
TAIL_LINES = 15


def build_on_host() -> bool:
    return os.environ.get(BUILD_ON_HOST, "").lower() in ("1", "true", "yes")


def deps_key(manifests: dict[str, bytes], runtime: str | None, architecture: str) -> str:
    """The cache key of an install: ``manifests`` maps each of ``MANIFESTS`` present to its sha256."""
    npm_env = sorted(f"{k.lower()}={v}" for k, v in os.environ.items() if k.lower().startswith("npm_config_"))
    parts = [FORMAT, *(f"{name}={manifests[name].hex()}" for name in MANIFESTS if name in manifests),
             runtime or "", architecture, f"scripts={int(build_on_host())}", *npm_env]
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()[:32]


def notes(source: str, label: str) -> tuple[str, ...]:
    """What the user may expect but the build does not do: install without a lock, read a yarn/pnpm lock."""
    if not os.path.isfile(os.path.join(source, PACKAGE_JSON)):
        return ()
    if any(os.path.isfile(os.path.join(source, name)) for name in LOCK_FILES):
        return ()
    others = [name for name in OTHER_LOCKS if os.path.isfile(os.path.join(source, name))]
    text = (f"note: {label}: no package-lock.json: dependencies are resolved by `npm install --omit=dev` at build "
            "time, so another machine may get other versions; run `npm install` and commit package-lock.json")
    if others:
        text += (f" ({', '.join(others)} found but not read: sam build's npm workflow installs with npm, and so "
                 "does strata)")
    return (text,)


def ensure_node_deps(home: Path, key: str, source: Path, *, what: str, runtime: str | None,
                     architecture: str) -> Path:
    """The folder holding ``node_modules`` for ``key``, running npm for the target first when it is not cached."""
    final = deps_dir(home, key)
    if final.is_dir():
        return final
    import tempfile

    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=".tmp-"))
    try:
        work = tmp / "install"
        work.mkdir()
        _prepare(source, work)
        scripts = _scripts_allowed(architecture)
        _npm_install(work, architecture, scripts=scripts, what=what, source=source)
        modules = work / "node_modules"
        if not modules.is_dir():
            modules.mkdir()
        (modules / HIDDEN_LOCK).unlink(missing_ok=True)
        if not scripts:
            _refuse_native(modules, runtime, architecture, what=what)
        out = tmp / "out"
        out.mkdir()
        os.rename(modules, out / "node_modules")
        move_into_place(out, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def _scripts_allowed(architecture: str) -> bool:
    """Install scripts run only with the user's opt-in on a Linux machine of the target's architecture."""
    if not build_on_host():
        return False
    import sys

    return sys.platform.startswith("linux") and host_machine() == MACHINES.get(architecture, architecture)


def _prepare(source: Path, work: Path) -> None:
    """Copy the manifests into ``work``, each ``file:`` path made absolute (it was relative to ``source``)."""
    for name in MANIFESTS:
        path = source / name
        if not path.is_file():
            continue
        if name == NPMRC:
            shutil.copyfile(path, work / name)
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BuildError(f"cannot read {path}: {exc}", hint=f"fix {name} (it must be JSON)") from None
        (work / name).write_text(json.dumps(_absolute_files(data, source), indent=2), encoding="utf-8")


def _absolute_files(value: object, base: Path) -> object:
    """Every ``file:<relative path>`` string in a manifest, as ``file:<absolute path>``."""
    if isinstance(value, dict):
        return {k: _absolute_files(v, base) for k, v in value.items()}
    if isinstance(value, list):
        return [_absolute_files(v, base) for v in value]
    if isinstance(value, str) and value.startswith("file:") and not os.path.isabs(value[5:]):
        return "file:" + os.path.normpath(base / value[5:])
    return value


def _npm_install(work: Path, architecture: str, *, scripts: bool, what: str, source: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise BuildError(f"{what}: npm is not installed, and {source / PACKAGE_JSON} names dependencies",
                         hint="install Node.js (it brings npm), e.g. from https://nodejs.org or with nvm")
    locked = any((work / name).is_file() for name in LOCK_FILES)
    cmd = [npm, "ci"] if locked else [npm, "install", "--no-package-lock", "--no-save"]
    cmd += ["--omit=dev", "--no-audit", "--no-fund", "--no-update-notifier", "--loglevel=error", "--os=linux",
            f"--cpu={CPUS.get(architecture, 'x64')}", "--install-links"]
    if not scripts:
        cmd.append("--ignore-scripts")
    proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True,
                          env={**os.environ, "npm_config_update_notifier": "false"})
    if proc.returncode != 0:
        tail = "\n    ".join((proc.stdout + proc.stderr).strip().splitlines()[-TAIL_LINES:])
        verb = "npm ci" if locked else "npm install"
        hint = ("package.json and the lock file disagree: run `npm install` and commit package-lock.json"
                if locked and "in sync" in proc.stderr else
                "fix package.json (npm's last lines are above); offline, name dependencies as file: tarballs or "
                "fill npm's cache first")
        raise BuildError(f"{what}: {verb} failed for {source / PACKAGE_JSON}:\n    {tail}", hint=hint)


def native_packages(modules: Path, architecture: str) -> list[tuple[str, str]]:
    """(package, file) for each package under ``modules`` with native code not prebuilt for linux ``architecture``."""
    cpu = CPUS.get(architecture, "x64")
    found: dict[Path, str] = {}
    for dirpath, dirnames, filenames in os.walk(modules):
        dirnames.sort()
        for name in sorted(filenames):
            if name == "binding.gyp" or name.endswith(".node"):
                package = _package_root(Path(dirpath), modules)
                if package is not None and package not in found:
                    found[package] = os.path.relpath(os.path.join(dirpath, name), modules)
    refused = []
    for package, file in found.items():
        if not _prebuilt_for(package, cpu):
            refused.append((_package_name(package, modules), file))
    return refused


def _package_root(folder: Path, modules: Path) -> Path | None:
    """The package folder (the one right under a ``node_modules``, or ``@scope/name``) holding ``folder``."""
    parts = folder.relative_to(modules).parts
    root: Path | None = None
    index = 0
    while index < len(parts):
        if index == 0 or parts[index - 1] == "node_modules":
            take = 2 if parts[index].startswith("@") else 1
            base = modules.joinpath(*parts[:index + take])
            root = base
            index += take
            continue
        index += 1
    return root


def _package_name(package: Path, modules: Path) -> str:
    try:
        return str(json.loads((package / "package.json").read_text(encoding="utf-8"))["name"])
    except (OSError, ValueError, KeyError, TypeError):
        return package.relative_to(modules).as_posix()


def _prebuilt_for(package: Path, cpu: str) -> bool:
    try:
        meta = json.loads((package / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = {}
    if not isinstance(meta, dict):
        meta = {}
    oses, cpus = meta.get("os"), meta.get("cpu")
    if isinstance(oses, list) and isinstance(cpus, list) and "linux" in oses and cpu in cpus:
        return True
    prebuilds = package / "prebuilds" / f"linux-{cpu}"
    return prebuilds.is_dir() and any(p.suffix == ".node" for p in prebuilds.rglob("*.node"))


def _refuse_native(modules: Path, runtime: str | None, architecture: str, *, what: str) -> None:
    refused = native_packages(modules, architecture)
    if not refused:
        return
    package, file = refused[0]
    others = f" (and {', '.join(p for p, _f in refused[1:])})" if len(refused) > 1 else ""
    target = f"{runtime or 'nodejs'} {architecture}"
    raise BuildError(f"{what}: {package} is a native addon ({file}){others} with no build for {target}; strata runs "
                     "no install scripts, and a build made for this machine may not load on Lambda",
                     hint=f"use a version of {package} that ships a prebuilt linux-{CPUS.get(architecture, 'x64')} "
                          f"binary, or a pure-JavaScript alternative; or, on a Linux {MACHINES.get(architecture)} "
                          f"machine, set {BUILD_ON_HOST}=1 to let npm build it there (node-gyp)")
