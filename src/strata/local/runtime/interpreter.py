"""Which Python binary runs a function's workers, and why: said in every cold start's log, never silently.

Rule: ``pythonX.Y`` found on PATH when the function's runtime is ``pythonX.Y`` and that binary really is X.Y, else
strata's own interpreter. What is on PATH is often a launcher (a pyenv shim is a bash script costing 100+ ms per start,
and may even fail for versions not selected), so it is run once to learn the real binary
(``sys.executable``), and the answer is cached in ``<home>/cache/interpreters.json`` keyed by the PATH entry and its
mtime. Workers always exec the real binary.
"""
from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from strata.paths import cache_dir

_PROBE = "import sys;print(sys.executable);print('%d.%d' % sys.version_info[:2])"
_RUNTIME = re.compile(r"^python(\d+)\.(\d+)$")
_memo: dict[tuple[str, str], Interpreter] = {}
_memo_lock = threading.Lock()
log = logging.getLogger("strata.local.runtime")


@dataclass(frozen=True)
class Interpreter:
    path: str                  # the real binary to exec
    version: tuple[int, int]
    note: str                  # one line for the log: where it came from


def current() -> Interpreter:
    """strata's own interpreter, as a real path (a venv's python is a symlink to it)."""
    path = os.path.realpath(sys.executable)
    return Interpreter(path, sys.version_info[:2], f"strata's interpreter {path}")


def resolve(runtime: str, home: Path) -> Interpreter:
    """The interpreter for a function whose Runtime is ``runtime`` (e.g. ``python3.12``)."""
    key = (runtime, os.environ.get("PATH", ""))
    with _memo_lock:
        found = _memo.get(key)
    if found is None:
        found = _resolve(runtime, Path(home))
        log.info("%s functions run on %s (%s)", runtime, found.path, found.note)
        with _memo_lock:
            _memo[key] = found
    return found


def _resolve(runtime: str, home: Path) -> Interpreter:
    own = current()
    match = _RUNTIME.match(runtime)
    if not match:
        return Interpreter(own.path, own.version, f"runtime {runtime!r} is not pythonX.Y; using {own.note}")
    wanted = (int(match.group(1)), int(match.group(2)))
    launcher = shutil.which(runtime)
    if launcher is None:
        return Interpreter(own.path, own.version, f"{runtime} not found on PATH; using {own.note}")
    probed = _probe_cached(launcher, home)
    if "error" in probed:
        return Interpreter(own.path, own.version,
                           f"{runtime} on PATH ({launcher}) does not run: {probed['error']}; using {own.note}")
    version = tuple(int(part) for part in probed["version"].split("."))
    if version != wanted:
        return Interpreter(own.path, own.version, f"{runtime} on PATH ({launcher}) is Python "
                                                  f"{probed['version']}; using {own.note}")
    return Interpreter(probed["executable"], wanted, f"{runtime} from PATH ({launcher} -> {probed['executable']})")


def _probe_cached(launcher: str, home: Path) -> dict[str, str]:
    try:
        mtime = os.stat(launcher).st_mtime_ns
    except OSError as exc:
        return {"error": str(exc)}
    cache_file = cache_dir(home) / "interpreters.json"
    key = f"{launcher}:{mtime}"
    cache = _read_cache(cache_file)
    hit = cache.get(key)
    if hit is not None and ("error" in hit or os.access(hit.get("executable", ""), os.X_OK)):
        return hit
    result = _probe(launcher)
    cache = _read_cache(cache_file)
    cache[key] = result
    _write_cache(cache_file, cache)
    return result


def _probe(launcher: str) -> dict[str, str]:
    try:
        done = subprocess.run([launcher, "-I", "-S", "-c", _PROBE], capture_output=True, text=True, timeout=30,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"error": str(exc)}
    lines = done.stdout.split()
    if done.returncode != 0 or len(lines) != 2:
        detail = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[0]
        return {"error": detail}
    return {"executable": os.path.realpath(lines[0]), "version": lines[1]}


def _read_cache(path: Path) -> dict[str, dict[str, str]]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_cache(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(tmp, path)
