"""Which Python binary runs a function's workers, and why: the Python its ``Runtime`` names, never silently another.

Discovery, for runtime ``pythonX.Y``, first hit wins:
1. the user's path for X.Y (``--python X.Y=PATH``, ``STRATA_PYTHON``, samconfig.toml ``python``): the only candidate
   when given; a binary there that is another version is an error naming both;
2. ``pythonX.Y`` in each folder of ``PATH``, in order;
3. pyenv: ``$PYENV_ROOT`` (default ``~/.pyenv``) ``/versions/X.Y.*/bin/python``, newest first;
4. uv: ``$UV_PYTHON_INSTALL_DIR`` and ``~/.local/share/uv/python`` (``$XDG_DATA_HOME``), ``cpython-X.Y.*/bin/python3``;
5. asdf: ``$ASDF_DATA_DIR`` (default ``~/.asdf``) ``/installs/python/X.Y.*/bin/python``;
6. strata's own interpreter, when it is X.Y.
Every candidate is run once to learn its real binary and version (what is on PATH is often a launcher: a pyenv shim is
a bash script costing 100+ ms per start, and fails for versions not selected); a candidate that is not X.Y is
skipped and said. Answers are cached in ``<home>/cache/interpreters.json`` keyed by the candidate and its mtime.
Workers always exec the real binary.

When none is X.Y, the function cannot run, unless the user allows a named substitution (``--allow-python-substitute
X.Y=A.B``): then Python A.B, found the same way, runs it, and the choice says so (``Interpreter.wanted``), in the
cold start's INIT_START line, ``strata deploy``/``plan`` and ``strata describe``. The settings in force at run time
are those the last local deploy recorded in the home (``record``), under ``STRATA_PYTHON`` /
``STRATA_ALLOW_PYTHON_SUBSTITUTE``, under a command's own flags (``use``, for ``strata invoke``/``serve``).
"""
from __future__ import annotations

import glob
import json
import logging
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from strata.model.lambda_errors import ServiceException
from strata.model.python import SUBSTITUTE_FLAG, PythonSettings, Setting, from_environment
from strata.paths import cache_dir

_PROBE = "import sys;print(sys.executable);print('%d.%d' % sys.version_info[:2])"
_RUNTIME = re.compile(r"^python(\d+)\.(\d+)$")
SETTINGS_FILE = "python.json"           # <home>/python.json: the settings the last local deploy was given
_WHERE = ("PATH", "HOME", "PYENV_ROOT", "UV_PYTHON_INSTALL_DIR", "XDG_DATA_HOME", "ASDF_DATA_DIR")  # discovery's inputs
_memo: dict[tuple[str, str, str], Choice] = {}
_memo_lock = threading.Lock()
_override = PythonSettings()           # this process's own flags (strata invoke / serve --python ...)
log = logging.getLogger("strata.local.runtime")


@dataclass(frozen=True)
class Interpreter:
    path: str                               # the real binary to exec
    version: tuple[int, int]
    note: str                               # one line for the log: where it came from
    wanted: tuple[int, int] | None = None   # the runtime's version, when this one stands in for it (a substitution)

    @property
    def substituted(self) -> bool:
        return self.wanted is not None and self.wanted != self.version


@dataclass(frozen=True)
class Choice:
    """The interpreter for a runtime, or why there is none (``problem``, with the fix in ``hint``)."""

    runtime: str
    interpreter: Interpreter | None
    problem: str | None = None
    hint: str | None = None
    user_error: bool = False                # the user's own path is wrong: an error wherever it is seen
    tried: tuple[str, ...] = field(default=(), compare=False)


class PythonUnavailable(ServiceException):
    """An invoke of a function whose runtime's Python cannot be found here (nor a substitute the user allowed)."""


def current() -> Interpreter:
    """strata's own interpreter, as a real path (a venv's python is a symlink to it)."""
    path = os.path.realpath(sys.executable)
    return Interpreter(path, sys.version_info[:2], f"strata's interpreter {path}")


def version_text(runtime: str, used: Interpreter) -> str:
    """How the interpreter's version is said: ``3.12`` for a Python, ``20`` (the major) for Node.js."""
    return str(used.version[0]) if runtime.startswith("nodejs") else "%d.%d" % used.version


def runtime_version(runtime: str) -> tuple[int, int] | None:
    """``python3.12`` -> (3, 12); None for any other runtime."""
    match = _RUNTIME.match(runtime or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


# ---- the settings in force ------------------------------------------------------------------------------------------

def use(settings: PythonSettings) -> None:
    """This process's own settings (a command's ``--python`` / ``--allow-python-substitute``), over all others."""
    global _override
    _override = settings


def record(home: Path, settings: PythonSettings) -> None:
    """Keep the settings a local deploy was given, for the invokes that follow (written only when they change)."""
    path = Path(home) / SETTINGS_FILE
    text = json.dumps(settings.to_json(), indent=1, sort_keys=True) + "\n"
    try:
        if path.read_text() == text:
            return
    except OSError:
        if not settings.paths and not settings.substitutes:
            return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def recorded(home: Path) -> PythonSettings:
    try:
        return PythonSettings.from_json(json.loads((Path(home) / SETTINGS_FILE).read_text()))
    except (OSError, ValueError):
        return PythonSettings()


def in_force(home: Path) -> PythonSettings:
    """What runs functions now: the last deploy's settings, under the environment's, under this process's flags."""
    return _override.over(from_environment().over(recorded(home)))


# ---- choosing -----------------------------------------------------------------------------------------------------

def resolve(runtime: str, home: Path) -> Interpreter:
    """The interpreter for a function whose Runtime is ``runtime``, with the settings in force; ``PythonUnavailable``
    when there is none (never another version the user did not allow)."""
    found = choice(runtime, home)
    if found.interpreter is None:
        raise PythonUnavailable(f"the function's runtime {runtime} cannot run here: {found.problem}"
                                + (f". To fix: {found.hint}" if found.hint else ""))
    return found.interpreter


def choice(runtime: str, home: Path, settings: PythonSettings | None = None) -> Choice:
    """``choose`` with the settings in force (or ``settings``), memoised per process by where discovery looks
    (``_WHERE``) and the settings."""
    settings = in_force(home) if settings is None else settings
    key = (runtime, "\0".join(os.environ.get(name, "") for name in _WHERE), settings.key())
    with _memo_lock:
        found = _memo.get(key)
    if found is None:
        found = choose(runtime, Path(home), settings)
        if found.interpreter is not None:
            log.info("%s functions run on %s (%s)", runtime, found.interpreter.path, found.interpreter.note)
        with _memo_lock:
            _memo[key] = found
    return found


def described(runtime: Any, package_type: Any, home: Path) -> dict[str, Any]:
    """What ``strata describe`` shows of a function: the interpreter that runs it (a substitution said), or why
    nothing can."""
    from strata.local.runtime.runtimes import family, refusal

    why = refusal(runtime, package_type)
    if why is not None or family(str(runtime)) is None:
        return {"Runtime": runtime, "Interpreter": None, "Problem": why}
    found = choice(str(runtime), home)
    if found.interpreter is None:
        return {"Runtime": runtime, "Interpreter": None, "Problem": found.problem, "Fix": found.hint}
    used = found.interpreter
    return {"Runtime": runtime, "Interpreter": used.path, "InterpreterVersion": version_text(runtime, used),
            "Substituted": used.substituted, "Note": used.note}


def choose(runtime: str, home: Path, settings: PythonSettings) -> Choice:
    """The interpreter for ``runtime`` under ``settings`` (see the module docstring), or why there is none. A
    ``nodejsN.x`` runtime's ``node`` is found by ``nodejs.choose``, by the same rules."""
    if runtime.startswith("nodejs"):
        from strata.local.runtime import nodejs

        return nodejs.choose(runtime, home, settings)
    wanted = runtime_version(runtime)
    if wanted is None:
        return Choice(runtime, None, f"runtime {runtime!r} is not pythonX.Y", "deploy it with --target aws")
    version = "%d.%d" % wanted
    return decide(runtime, version, "Python", settings, user_path=lambda own: _user_path(own, version, home),
                  find_one=lambda: find(wanted, home),
                  substitute=lambda setting: _substitute(setting, version, home, settings),
                  install_hint=lambda: _install_hint(version, settings))


def decide(runtime: str, key: str, language: str, settings: PythonSettings, *,
           user_path: Callable[[Setting], tuple[Interpreter | None, str]],
           find_one: Callable[[], tuple[Interpreter | None, list[str]]],
           substitute: Callable[[Setting], Interpreter | str], install_hint: Callable[[], str]) -> Choice:
    """The one rule every language's interpreter is chosen by (``key``: the version a runtime names, "3.12" or
    "20"): the user's path for it if given (a broken one is the user's error); else the one found; else the allowed
    substitute, said; else why there is none, with the install hint."""
    own = settings.paths.get(key)
    if own is not None:
        found, problem = user_path(own)
        if found is None:
            return Choice(runtime, None, problem, f"fix or drop {own.said(key)}", user_error=True)
        return Choice(runtime, found)
    found, tried = find_one()
    if found is not None:
        return Choice(runtime, found, tried=tuple(tried))
    problem = f"no {language} {key} found ({'; '.join(tried)})"
    setting = settings.substitutes.get(key)
    if setting is None:
        return Choice(runtime, None, problem, install_hint(), tried=tuple(tried))
    stand_in = substitute(setting)
    if isinstance(stand_in, str):
        return Choice(runtime, None, f"{problem}, and the allowed substitute {stand_in}", install_hint(),
                      tried=tuple(tried))
    return Choice(runtime, stand_in, tried=tuple(tried))


def _substitute(setting: Setting, version: str, home: Path, settings: PythonSettings) -> Interpreter | str:
    """Python ``setting.value`` standing in for ``version`` (the user's path for it counts), or why it cannot."""
    other = tuple(int(p) for p in setting.value.split("."))
    assert len(other) == 2
    own = settings.paths.get(setting.value)
    if own is not None:
        found, problem = _user_path(own, setting.value, home)
        if found is None:
            return f"{setting.value}: {problem}"
    else:
        found, tried = find((other[0], other[1]), home)
        if found is None:
            return f"Python {setting.value} is not found either ({'; '.join(tried)})"
    note = (f"Python {setting.value} substituted for python{version}, allowed by {setting.said(version)}; "
            f"{found.note}")
    return Interpreter(found.path, found.version, note, wanted=tuple(int(p) for p in version.split(".")))  # type: ignore[arg-type]


def _user_path(setting: Setting, version: str, home: Path) -> tuple[Interpreter | None, str]:
    probed = probe_cached(setting.value, home)
    if "error" in probed:
        return None, f"{setting.said(version)}: {setting.value} does not run: {probed['error']}"
    if probed["version"] != version:
        return None, (f"{setting.said(version)}: {setting.value} is Python {probed['version']}, "
                      f"not Python {version}")
    return Interpreter(probed["executable"], _pair(probed["version"]),
                       f"python{version} from {setting.source} ({setting.value} -> {probed['executable']})"), ""


def find(wanted: tuple[int, int], home: Path) -> tuple[Interpreter | None, list[str]]:
    """The first discovered candidate that really is Python ``wanted``, and what was tried (for the message)."""
    version = "%d.%d" % wanted
    tried: list[str] = []
    for where, path in candidates(version):
        if path == "":                      # a place looked in, holding nothing
            tried.append(f"{where}: none")
            continue
        probed = probe_cached(path, home)
        if "error" in probed:
            tried.append(f"{where} {path} does not run ({probed['error']})")
            continue
        if probed["version"] != version:
            tried.append(f"{where} {path} is Python {probed['version']}")
            continue
        shown = path if path == probed["executable"] else f"{path} -> {probed['executable']}"
        return Interpreter(probed["executable"], wanted, f"python{version} from {where} ({shown})"), tried
    if wanted == sys.version_info[:2]:
        return current(), tried
    return None, tried


def candidates(version: str) -> list[tuple[str, str]]:
    """(where, path) in discovery order; a place with nothing in it appears once with path ``""``."""
    home = Path.home()
    found: list[tuple[str, str]] = []
    on_path = [os.path.join(d, f"python{version}") for d in os.environ.get("PATH", "").split(os.pathsep) if d]
    on_path = [p for p in on_path if os.path.isfile(p) and os.access(p, os.X_OK)]
    found += [("PATH", p) for p in _unique(on_path)] or [(f"PATH (python{version})", "")]
    pyenv = Path(os.environ.get("PYENV_ROOT") or home / ".pyenv") / "versions"
    found += _installs("pyenv", pyenv, [f"{version}/bin/python", f"{version}.*/bin/python"], pyenv)
    uv_dirs = [os.environ.get("UV_PYTHON_INSTALL_DIR") or "",
               str(Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share") / "uv" / "python")]
    for folder in _unique([d for d in uv_dirs if d]):
        found += _installs("uv", Path(folder), [f"cpython-{version}.*/bin/python3"], Path(folder))
    asdf = Path(os.environ.get("ASDF_DATA_DIR") or home / ".asdf") / "installs" / "python"
    found += _installs("asdf", asdf, [f"{version}.*/bin/python"], asdf)
    return found


def _installs(tool: str, root: Path, patterns: list[str], shown: Path) -> list[tuple[str, str]]:
    paths = [p for pattern in patterns for p in glob.glob(str(root / pattern))
             if "freethreaded" not in p and os.access(p, os.X_OK)]
    paths.sort(key=_newest_first)
    return [(tool, p) for p in _unique(paths)] or [(f"{tool} ({shown})", "")]


def _newest_first(path: str) -> tuple:
    """Sort key: the install folder's version numbers, highest first (3.12.10 before 3.12.9)."""
    name = Path(path).parent.parent.name
    return tuple(-int(n) for n in re.findall(r"\d+", name)[:3])


def _unique(paths: list[str]) -> list[str]:
    seen: set[str] = set()
    return [p for p in paths if not (p in seen or seen.add(p))]  # type: ignore[func-returns-value]


def _pair(text: str) -> tuple[int, int]:
    major, minor = text.split(".")[:2]
    return int(major), int(minor)


def _install_hint(version: str, settings: PythonSettings) -> str:
    here = "%d.%d" % sys.version_info[:2]
    python_ones = [s for v, s in settings.substitutes.items() if "." in v]     # "X.Y": not a Node.js major
    other = next(iter(sorted(python_ones, key=lambda s: s.value)), None)
    alternative = other.value if other is not None else here
    return (f"install Python {version} (e.g. `pyenv install {version}`, `uv python install {version}` or "
            f"`apt install python{version}`), or pass --python {version}=/path/to/python{version}, or allow running "
            f"these functions on another version: {SUBSTITUTE_FLAG} {version}={alternative}")


# ---- probing ----------------------------------------------------------------------------------------------------

def probe_cached(launcher: str, home: Path, node: bool = False) -> dict[str, str]:
    """What ``launcher`` is (its real binary and version, or why it does not run), probed once per mtime: a Python,
    or with ``node`` a Node.js binary (``nodejs.probe``)."""
    try:
        mtime = os.stat(launcher).st_mtime_ns
    except OSError as exc:
        return {"error": exc.strerror or str(exc)}
    cache_file = cache_dir(home) / "interpreters.json"
    key = f"{'node:' if node else ''}{launcher}:{mtime}"
    cache = _read_cache(cache_file)
    hit = cache.get(key)
    if hit is not None and ("error" in hit or os.access(hit.get("executable", ""), os.X_OK)):
        return hit
    if node:
        from strata.local.runtime.nodejs import probe as probe_node

        result = probe_node(launcher)
    else:
        result = _probe(launcher)
    cache = _read_cache(cache_file)
    cache[key] = result
    _write_cache(cache_file, cache)
    return result


def _probe(launcher: str) -> dict[str, str]:
    return run_probe([launcher, "-I", "-S", "-c", _PROBE])


def run_probe(command: list[str], env: dict[str, str] | None = None) -> dict[str, str]:
    """Run a probe that prints the interpreter's real binary and its version (any language): both, or the error."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
                              env=env)
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
