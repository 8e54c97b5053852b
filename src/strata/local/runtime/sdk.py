"""What Lambda's Python runtime puts beside a function's code, as folders in strata's user-level cache.

- The SDK Lambda bundles with each runtime (boto3, botocore and what they need: s3transfer, jmespath, python-dateutil,
  six, urllib3; Lambda's ``/var/lang/lib/python3.X/site-packages``). Installed once per runtime (``pythonX.Y``), by
  copying the distributions strata's own environment already has (pure Python; the files ``importlib.metadata``
  lists for each), offline. Once recorded, a runtime keeps its SDK (as a Lambda runtime version does) until asked
  otherwise: ``STRATA_RUNTIME_BOTO3=<version>`` installs that boto3 with pip, ``STRATA_RUNTIME_BOTO3=host`` copies
  strata's current ones again. The versions are recorded in a manifest (``sdk/<runtime>.json``) and said in every
  cold start's INIT_START line.
- The runtime's own modules (Lambda's ``/var/runtime``): the worker's bootstrap modules (worker, context, loader,
  protocol) copied under the private top-level name ``_strata_runtime``, one folder per content, so a worker starts
  without strata's source folder ever being on its ``sys.path`` (``import strata`` fails in a handler, as on Lambda).

Why the user-level cache (``paths.user_cache_dir``) rather than a home's ``cache/``: these folders depend only on this
machine's packages and strata's sources, never on a project; botocore alone is ~25 MB in 2,000+ files, which every
project's home (``.strata`` beside each template) would otherwise copy again on its first cold start.

Safe under parallel processes: a folder is filled under a temporary name beside its final one and renamed into place;
a rename onto a folder already there fails, and then the other process's copy is used and ours removed. Manifests are
written to a temporary file and ``os.replace``d. A folder in place is never changed (except gaining byte-code for
another interpreter version) nor removed by strata: a later install gets a new folder, so a running worker never sees
the files it imports change.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from strata.errors import StrataError
from strata.paths import move_into_place, user_cache_dir

# What Lambda bundles with its Python runtimes, boto3 first (the version a user asks about).
DISTRIBUTIONS = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3")
ENV_BOTO3 = "STRATA_RUNTIME_BOTO3"
HOST = "host"                   # STRATA_RUNTIME_BOTO3=host: copy strata's own boto3 and botocore again
BOOTSTRAP_PACKAGE = "_strata_runtime"
_BOOTSTRAP_MODULES = ("worker.py", "context.py", "loader.py", "protocol.py")
_HERE = Path(__file__).resolve().parent

_lock = threading.Lock()
_memo: dict[tuple[str, str, tuple[int, int], str | None], Installed | None] = {}
_bootstrap_memo: dict[tuple, Path] = {}


@dataclass(frozen=True)
class Installed:
    """One runtime's SDK folder and what it holds."""

    runtime: str
    folder: Path                    # goes on the worker's sys.path
    packages: tuple[tuple[str, str], ...]   # (distribution, version), boto3 first
    source: str                     # "host <folder copied from>" or "pip"

    def version(self, name: str) -> str | None:
        return dict(self.packages).get(name)

    @property
    def manifest(self) -> Path:
        """Where the versions are recorded (``sdk/<runtime>.json`` beside the folder)."""
        return self.folder.parent / f"{self.runtime}.json"

    def summary(self) -> str:
        """``boto3 1.35.0, botocore 1.35.0``: what the INIT_START line says."""
        return ", ".join(f"{name} {self.version(name)}" for name in ("boto3", "botocore") if self.version(name))


def manifest_path(runtime: str, root: Path | None = None) -> Path:
    return (root or user_cache_dir()) / "sdk" / f"{runtime}.json"


def ensure(runtime: str, interpreter: str, interpreter_version: tuple[int, int],
           root: Path | None = None) -> Installed | None:
    """The SDK folder for ``runtime``, installed on first use and compiled for the interpreter that will import it;
    None when strata's environment has no boto3 to copy (the handler then has no boto3, and INIT_START says so)."""
    root = root or user_cache_dir()
    wanted = os.environ.get(ENV_BOTO3) or None
    key = (str(root), runtime, interpreter_version, wanted)
    with _lock:
        if key in _memo:
            hit = _memo[key]
            if hit is None or hit.folder.is_dir():
                return hit
        installed = _current(runtime, root, wanted)
        if installed is None:
            installed = _install(runtime, interpreter_version, root, wanted)
        if installed is not None:
            _compile(installed.folder, interpreter, interpreter_version)
        _memo[key] = installed
        return installed


def _current(runtime: str, root: Path, wanted: str | None) -> Installed | None:
    """What the manifest records, if its folder is still there (and holds the asked boto3 version, if any)."""
    try:
        data = json.loads(manifest_path(runtime, root).read_text())
        folder = manifest_path(runtime, root).parent / data["folder"]
        packages = tuple((str(name), str(version)) for name, version in data["packages"])
        source = str(data["source"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    installed = Installed(runtime, folder, packages, source)
    if folder.name != data["folder"] or not folder.name.startswith(f"{runtime}-") or not folder.is_dir():
        return None
    if wanted == HOST:
        host = [(name, version) for name, version in _host_versions() if name in ("boto3", "botocore")]
        if not source.startswith("host") or any(installed.version(name) != version for name, version in host):
            return None
    elif wanted is not None and installed.version("boto3") != wanted:
        return None
    return installed


def _host_versions() -> list[tuple[str, str]]:
    found = []
    for name in DISTRIBUTIONS:
        try:
            found.append((name, importlib.metadata.version(name)))
        except importlib.metadata.PackageNotFoundError:
            pass
    return found


def _install(runtime: str, interpreter_version: tuple[int, int], root: Path, wanted: str | None) -> Installed | None:
    sdk_root = root / "sdk"
    sdk_root.mkdir(parents=True, exist_ok=True)
    tmp = sdk_root / f".{runtime}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        if wanted is None or wanted == HOST:
            packages = _copy_host(tmp)
            if packages is None:
                return None
            source = f"host {_host_folder()}"
        else:
            packages = _pip(tmp, interpreter_version, wanted)
            source = "pip"
        digest = hashlib.sha256(json.dumps([source, packages]).encode()).hexdigest()[:12]
        folder = sdk_root / f"{runtime}-{digest}"
        move_into_place(tmp, folder)     # another process installed the same content first: use its folder
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    installed = Installed(runtime, folder, tuple(packages), source)
    write_json(manifest_path(runtime, root), {
        "runtime": runtime, "folder": folder.name, "source": source, "packages": [list(p) for p in packages],
        "installed": datetime.now(UTC).isoformat(timespec="seconds")})
    return installed


def _host_folder() -> str:
    return str(Path(str(importlib.metadata.distribution("boto3").locate_file(""))))


def _copy_host(tmp: Path) -> list[tuple[str, str]] | None:
    """Copy each distribution's installed files (its package and its ``.dist-info``, so ``importlib.metadata`` works
    in the handler), with their byte-code for this interpreter when present (copy2 keeps the source's mtime, so that
    byte-code stays valid). Scripts installed outside the package (``../../bin``) are left out, as on Lambda."""
    tag = sys.implementation.cache_tag
    packages: list[tuple[str, str]] = []
    tmp.mkdir()
    for name in DISTRIBUTIONS:
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            if name == "boto3":
                return None
            continue
        packages.append((name, dist.version))
        for member in dist.files or ():
            if member.parts[0] == ".." or member.suffix == ".pyc":
                continue
            source = Path(str(dist.locate_file(member)))
            if not source.is_file():
                continue
            target = tmp / member
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
            if member.suffix == ".py" and tag:
                cached = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
                if cached.is_file():
                    (target.parent / "__pycache__").mkdir(exist_ok=True)
                    shutil.copy2(cached, target.parent / "__pycache__" / cached.name)
    return packages


def _pip(tmp: Path, interpreter_version: tuple[int, int], wanted: str) -> list[tuple[str, str]]:
    """``pip install boto3==<wanted>`` into ``tmp`` for the runtime's Python (wheels only: all are pure Python)."""
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
               "--target", str(tmp), "--only-binary=:all:", "--python-version", "%d.%d" % interpreter_version,
               f"boto3=={wanted}"]
    done = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        raise StrataError(f"could not install boto3=={wanted} for the local runtime ({ENV_BOTO3}): {detail}",
                          hint=f"check the version exists and pip can reach its index; unset {ENV_BOTO3} to keep the "
                               f"runtime's recorded SDK, or set it to '{HOST}' to copy the boto3 strata runs with")
    shutil.rmtree(tmp / "bin", ignore_errors=True)
    found = {dist.metadata["Name"].lower(): dist.version
             for dist in importlib.metadata.distributions(path=[str(tmp)])}
    return [(name, found[name]) for name in DISTRIBUTIONS if name in found]


def _compile(folder: Path, interpreter: str, version: tuple[int, int]) -> None:
    """Byte-code for the interpreter that imports the folder: workers write none (``dont_write_bytecode``), and
    compiling botocore at every cold start would cost a second. Once per interpreter version (a marker file)."""
    marker = folder / f".compiled-{version[0]}.{version[1]}"
    if marker.exists():
        return
    subprocess.run([interpreter, "-I", "-S", "-m", "compileall", "-q", "-j", "0", str(folder)],
                   capture_output=True, stdin=subprocess.DEVNULL, check=False)
    marker.touch()


def bootstrap_folder(root: Path | None = None) -> Path:
    """The folder holding ``_strata_runtime`` (the worker's modules), one per content of those modules. Asked at every
    cold start's preparation: once found, only the sources' stat and the copy's presence are checked again."""
    root = root or user_cache_dir()
    signature = (str(root), *((st.st_mtime_ns, st.st_size) for st in (os.stat(_HERE / n) for n in _BOOTSTRAP_MODULES)))
    folder = _bootstrap_memo.get(signature)
    if folder is not None and (folder / BOOTSTRAP_PACKAGE / "worker.py").is_file():
        return folder
    contents = _bootstrap_contents()
    digest = hashlib.sha256(b"".join(name.encode() + b"\0" + data for name, data in contents)).hexdigest()[:12]
    folder = root / "bootstrap" / digest
    if (folder / BOOTSTRAP_PACKAGE / "worker.py").is_file():
        _bootstrap_memo[signature] = folder
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.parent / f".{digest}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        package = tmp / BOOTSTRAP_PACKAGE
        package.mkdir(parents=True)
        (package / "__init__.py").write_text('"""The local runtime\'s own modules (strata.local.runtime\'s)."""\n')
        for name, data in contents:
            (package / name).write_bytes(data)
        move_into_place(tmp, folder, (folder / BOOTSTRAP_PACKAGE / "worker.py").is_file)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _bootstrap_memo[signature] = folder
    return folder


def _bootstrap_contents() -> tuple[tuple[str, bytes], ...]:
    return tuple((name, (_HERE / name).read_bytes()) for name in _BOOTSTRAP_MODULES)


def write_json(path: Path, data: dict) -> None:
    """Replace ``path`` with ``data`` in one step (a reader sees the old manifest or the new one, never half)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    os.replace(tmp, path)
