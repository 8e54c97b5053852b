"""``--debug FUNCTION``: that function's worker runs under debugpy, listening on 127.0.0.1 only, and waits for a
debugger to attach before the handler's module is imported (so breakpoints at import time work).

What changes for that one worker, and why:
- its ``sys.path`` gets a folder holding debugpy and nothing else (a link to the installed package): no other worker
  sees debugpy, and the debug worker sees no other package of strata's environment;
- its code and layer folders are reached through links with stable names, ``<home>/runtime/debug/<FUNCTION>/code``
  and ``.../opt`` (the unpacked folders are named by content digest and move with every edit), so an editor's
  ``pathMappings`` from the source folder to that ``code`` folder keeps working from one save to the next;
- Lambda's timeout is not enforced (a debugger paused at a breakpoint would otherwise be killed); the handler's
  ``context.get_remaining_time_in_millis()`` still counts down from the function's timeout;
- its memory limit is MemorySize plus ``DEBUGGER_MEMORY_MB`` (the debugger's own share of the process);
- the pool never reaps it for idleness (that would end the attached debug session);
- one invocation at a time: a second concurrent one would need a second port, so it is refused (the pool's
  ``TooManyRequestsException`` says why), and an idle debug worker of another version of the function is stopped
  before a new one starts on the port.
The worker itself reads ``PORT_VARIABLE`` (removed from its environment before any handler code runs).
"""
from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from strata.errors import StrataError
from strata.local.runtime.sandbox import Prepared
from strata.paths import runtime_dir

HOST = "127.0.0.1"
DEFAULT_PORT = 5678
PORT_VARIABLE = "_STRATA_DEBUG_PORT"
DEBUGGER_MEMORY_MB = 256


@dataclass(frozen=True)
class DebugTarget:
    """Which function's workers run under debugpy, and on which port."""

    label: str                  # as the user named it (logical id or function name): names the stable links
    function_name: str          # the Lambda function name whose environments are debugged
    port: int = DEFAULT_PORT

    def matches(self, function_name: str) -> bool:
        return function_name == self.function_name

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    def links(self, home: Path) -> Path:
        """The folder of this function's stable links (``code``, ``opt``)."""
        return runtime_dir(home) / "debug" / _safe(self.label)


def _safe(name: str) -> str:
    """``name`` as one folder name (an ARN's colons and slashes replaced; never ``.`` or ``..``)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name).lstrip(".") or "function"


def debugpy_folder(home: Path) -> str:
    """A folder under the home holding only a link to the installed debugpy package (made once)."""
    spec = importlib.util.find_spec("debugpy")
    if spec is None or not spec.submodule_search_locations:
        raise StrataError("--debug needs debugpy, which is not installed",
                          hint="pip install debugpy (strata depends on it: reinstall strata)")
    package = Path(list(spec.submodule_search_locations)[0]).resolve()
    folder = runtime_dir(home) / "debugpy"
    _link(folder / "debugpy", package)
    return str(folder)


def _link(link: Path, target: Path) -> None:
    """``link`` -> ``target``, replaced atomically when it points elsewhere."""
    try:
        if os.readlink(link) == str(target):
            return
    except OSError:
        pass
    link.parent.mkdir(parents=True, exist_ok=True)
    tmp = link.with_name(f".{link.name}.{os.getpid()}")
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    os.replace(tmp, link)


def launch(target: DebugTarget, prepared: Prepared, env: dict[str, str],
           memory_mb: int) -> tuple[list[str], list[str], int]:
    """The debug worker's command, ``sys.path`` entries and memory limit (MB, the function's ``memory_mb`` plus the
    debugger's share); tells it the port through ``env``.
    ``-Xfrozen_modules=off``: the debugger can stop in standard-library code (ignored by interpreters before 3.11)."""
    if prepared.home is None:
        raise StrataError("--debug needs the state home the runtime was prepared in")
    if prepared.family != "python":
        raise StrataError(f"--debug runs Python functions under debugpy; {target.label} is a {prepared.family} "
                          "function, which --debug cannot run yet")
    command = [prepared.command[0], "-Xfrozen_modules=off", *prepared.command[1:]]
    env[PORT_VARIABLE] = str(target.port)
    return (command, worker_paths(target, prepared.home, prepared.python_paths, prepared.code_dir, prepared.opt_dir),
            memory_mb + DEBUGGER_MEMORY_MB)


def worker_paths(target: DebugTarget, home: Path, paths: tuple[str, ...], code_dir: Path,
                 opt_dir: Path | None) -> list[str]:
    """The debug worker's ``sys.path`` entries: ``paths`` (the environment's own), with the code and layer folders
    reached through the stable links, then the debugpy folder (last: the function's own modules win)."""
    links = target.links(home)
    swaps = [(str(code_dir), links / "code")] + ([(str(opt_dir), links / "opt")] if opt_dir is not None else [])
    for real, link in swaps:
        _link(link, Path(real))
    out = []
    for entry in paths:
        for real, link in swaps:
            if entry == real or entry.startswith(real + os.sep):
                entry = str(link) + entry[len(real):]
                break
        out.append(entry)
    return [*out, debugpy_folder(home)]


def attach_note(target: DebugTarget, home: Path) -> str:
    """What the CLI prints: where to attach, what a launch configuration maps, what is not enforced."""
    return (f"debug: {target.label} runs under debugpy and waits for a debugger on {target.address} before its "
            f"code is imported (VS Code: a \"debugpy\" \"attach\" configuration, connect {target.address}; "
            f"pathMappings remoteRoot {target.links(home) / 'code'}). Lambda's timeout is not enforced while "
            f"debugging; one invocation of it at a time.")
