"""What differs for a ``nodejsN.x`` function: which ``node`` runs it, the worker's command line, ``NODE_PATH``.

Everything else is the Python workers' own: the pool, the process (two pipes, the GO byte, marshal frames:
``protocol.py``), deadlines, the memory watchdog, logs (``environment.py``). The worker is ``node/worker.js``, package
data beside this module, run from where strata is installed (Lambda's ``/var/runtime``).

Discovery, for runtime ``nodejsN.x``, first hit wins (the Python rules of ``interpreter.py``, for a Node major):
1. the user's path for N (``--node N=PATH``, ``STRATA_NODE``, samconfig.toml ``node``): the only candidate when given;
   a binary there that is another major is an error naming both;
2. ``node`` in each folder of ``PATH``, in order (skipped, and said, when it is another major);
3. nvm: ``$NVM_DIR`` (default ``~/.nvm``) ``/versions/node/vN.*/bin/node``, newest first;
4. volta: ``$VOLTA_HOME`` (default ``~/.volta``) ``/tools/image/node/N.*/bin/node``;
5. fnm: ``$FNM_DIR``, ``~/.local/share/fnm`` (``$XDG_DATA_HOME``) and ``~/.fnm``:
   ``node-versions/vN.*/installation/bin/node``;
6. asdf: ``$ASDF_DATA_DIR`` (default ``~/.asdf``) ``/installs/nodejs/N.*/bin/node``.
Each candidate is probed once (``node -e``: its real binary and version; cached with the Python probes). No major N:
the function cannot run, unless ``--allow-node-substitute N=M`` (``STRATA_ALLOW_NODE_SUBSTITUTE``, samconfig.toml
``allow_node_substitute``) names a stand-in, said wherever the Python substitution is.
"""
from __future__ import annotations

import glob
import os
import re
from pathlib import Path

from strata.local.runtime.interpreter import Choice, Interpreter, decide, probe_cached, run_probe
from strata.model.python import NODE_SUBSTITUTE_FLAG, PythonSettings, Setting

_RUNTIME = re.compile(r"^nodejs(\d+)\.x$")
_PROBE = "console.log(process.execPath);console.log(process.versions.node)"
WORKER = Path(__file__).resolve().parent / "node" / "worker.js"
RUNTIME_DIR = WORKER.parent          # LAMBDA_RUNTIME_DIR (Lambda's /var/runtime)


def runtime_major(runtime: str) -> int | None:
    """``nodejs20.x`` -> 20; None for any other runtime."""
    match = _RUNTIME.match(runtime or "")
    return int(match.group(1)) if match else None


# ---- discovery ------------------------------------------------------------------------------------------------------

def choose(runtime: str, home: Path, settings: PythonSettings) -> Choice:
    """The ``node`` for ``runtime`` under ``settings`` (see the module docstring), or why there is none."""
    major = runtime_major(runtime)
    if major is None:
        return Choice(runtime, None, f"runtime {runtime!r} is not nodejsN.x", "deploy it with --target aws")
    return decide(runtime, str(major), "Node.js", settings, user_path=lambda own: _user_path(own, major, home),
                  find_one=lambda: find(major, home),
                  substitute=lambda setting: _substitute(setting, major, home, settings),
                  install_hint=lambda: _install_hint(major, home))


def _substitute(setting: Setting, major: int, home: Path, settings: PythonSettings) -> Interpreter | str:
    other = int(setting.value)
    own = settings.paths.get(setting.value)
    if own is not None:
        found, problem = _user_path(own, other, home)
        if found is None:
            return f"{setting.value}: {problem}"
    else:
        found, tried = find(other, home)
        if found is None:
            return f"Node.js {other} is not found either ({'; '.join(tried)})"
    note = f"Node.js {other} substituted for nodejs{major}.x, allowed by {setting.said(str(major))}; {found.note}"
    return Interpreter(found.path, found.version, note, wanted=(major, 0))


def _user_path(setting: Setting, major: int, home: Path) -> tuple[Interpreter | None, str]:
    probed = probe_cached(setting.value, home, node=True)
    if "error" in probed:
        return None, f"{setting.said(str(major))}: {setting.value} does not run: {probed['error']}"
    version = _version(probed["version"])
    if version[0] != major:
        return None, f"{setting.said(str(major))}: {setting.value} is Node.js {probed['version']}, not Node.js {major}"
    return Interpreter(probed["executable"], version,
                       f"Node.js {probed['version']} from {setting.source} ({setting.value} -> "
                       f"{probed['executable']})"), ""


def find(major: int, home: Path) -> tuple[Interpreter | None, list[str]]:
    """The first discovered ``node`` that really is major ``major``, and what was tried (for the message)."""
    tried: list[str] = []
    for where, path in candidates(major):
        if path == "":
            tried.append(f"{where}: none")
            continue
        probed = probe_cached(path, home, node=True)
        if "error" in probed:
            tried.append(f"{where} {path} does not run ({probed['error']})")
            continue
        version = _version(probed["version"])
        if version[0] != major:
            tried.append(f"{where} {path} is Node.js {probed['version']}")
            continue
        shown = path if path == probed["executable"] else f"{path} -> {probed['executable']}"
        return Interpreter(probed["executable"], version, f"Node.js {probed['version']} from {where} ({shown})"), tried
    return None, tried


def candidates(major: int) -> list[tuple[str, str]]:
    """(where, path) in discovery order; a place with nothing in it appears once with path ``""``."""
    home = Path.home()
    found: list[tuple[str, str]] = []
    on_path = [os.path.join(d, "node") for d in os.environ.get("PATH", "").split(os.pathsep) if d]
    on_path = [p for p in on_path if os.path.isfile(p) and os.access(p, os.X_OK)]
    found += [("PATH", p) for p in _unique(on_path)] or [("PATH (node)", "")]
    nvm = Path(os.environ.get("NVM_DIR") or home / ".nvm") / "versions" / "node"
    found += _installs("nvm", nvm, [f"v{major}.*/bin/node"])
    volta = Path(os.environ.get("VOLTA_HOME") or home / ".volta") / "tools" / "image" / "node"
    found += _installs("volta", volta, [f"{major}.*/bin/node"])
    data = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    for folder in _unique([os.environ.get("FNM_DIR") or "", str(data / "fnm"), str(home / ".fnm")]):
        if folder:
            found += _installs("fnm", Path(folder) / "node-versions", [f"v{major}.*/installation/bin/node"])
    asdf = Path(os.environ.get("ASDF_DATA_DIR") or home / ".asdf") / "installs" / "nodejs"
    found += _installs("asdf", asdf, [f"{major}.*/bin/node"])
    return found


def _installs(tool: str, root: Path, patterns: list[str]) -> list[tuple[str, str]]:
    paths = [p for pattern in patterns for p in glob.glob(str(root / pattern)) if os.access(p, os.X_OK)]
    paths.sort(key=_newest_first)
    return [(tool, p) for p in _unique(paths)] or [(f"{tool} ({root})", "")]


def _newest_first(path: str) -> tuple:
    folder = next((part for part in reversed(Path(path).parts) if re.match(r"^v?\d+\.", part)), "")
    return tuple(-int(n) for n in re.findall(r"\d+", folder)[:3])


def _unique(paths: list[str]) -> list[str]:
    seen: set[str] = set()
    return [p for p in paths if not (p in seen or seen.add(p))]  # type: ignore[func-returns-value]


def _version(text: str) -> tuple[int, int]:
    parts = [int(n) for n in re.findall(r"\d+", text)[:2]] + [0, 0]
    return parts[0], parts[1]


def _install_hint(major: int, home: Path) -> str:
    here = next((found.version[0] for where, path in candidates(major) if where == "PATH" and path
                 for found in [_probed(path, home)] if found is not None), None)
    alternative = f"{major}={here}" if here is not None and here != major else f"{major}=<another major>"
    return (f"install Node.js {major} (e.g. `nvm install {major}`, `fnm install {major}` or `volta install "
            f"node@{major}`), or pass --node {major}=/path/to/node, or allow running these functions on another "
            f"major: {NODE_SUBSTITUTE_FLAG} {alternative}")


def _probed(path: str, home: Path) -> Interpreter | None:
    probed = probe_cached(path, home, node=True)
    if "error" in probed:
        return None
    return Interpreter(probed["executable"], _version(probed["version"]), "")


def probe(launcher: str) -> dict[str, str]:
    """Run ``launcher -e`` once: its real binary and its version (``20.11.1``), or the error."""
    return run_probe([launcher, "-e", _PROBE], env={**os.environ, "NODE_OPTIONS": ""})


# ---- the worker -----------------------------------------------------------------------------------------------------

def command(node: str, memory_mb: int) -> tuple[str, ...]:
    """The worker's command line, with the flags Lambda's Node.js bootstrap gives ``node`` (its ``/var/runtime/
    bootstrap``: new space a tenth of MemorySize, semi space half of that, the old space the rest)."""
    new_space = memory_mb // 10
    return (node, "--expose-gc", "--max-http-header-size", "81920", f"--max-semi-space-size={new_space // 2}",
            f"--max-old-space-size={memory_mb - new_space}", str(WORKER))


def node_path(major: int, code_dir: Path, opt_dir: Path | None, sdk_dir: Path | None) -> str:
    """Lambda's ``NODE_PATH`` (``/opt/nodejs/node<major>/node_modules:/opt/nodejs/node_modules:/var/runtime/
    node_modules:/var/runtime:/var/task``) with the local folders in those roles: the merged layers for ``/opt``, the
    AWS SDK folder (when installed) for ``/var/runtime/node_modules``, the worker's folder for ``/var/runtime``, the
    code folder for ``/var/task``."""
    parts: list[str] = []
    if opt_dir is not None:
        parts += [str(opt_dir / "nodejs" / f"node{major}" / "node_modules"), str(opt_dir / "nodejs" / "node_modules")]
    if sdk_dir is not None:
        parts.append(str(sdk_dir))
    parts += [str(RUNTIME_DIR), str(code_dir)]
    return ":".join(parts)
