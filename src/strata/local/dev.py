"""``strata dev``: deploy locally, serve the Lambda API, and turn every save into a deployed version.

The loop: watchfiles (Rust notify, debounced batches) watches the code and layer folders (recursively) and the
template's folder (only the template and samconfig files in it, not recursively: an editor that saves by renaming
replaces the file, and a watch on the file itself would be lost). Each batch of events runs one round on the loop's
thread: transform (the builder re-zips only the folders whose files changed, the translator runs only when the
template's bytes changed) -> the engine's deploy (plan, then apply: a Version only where the fingerprint changed, the
alias moved) -> the warm workers of the versions the aliases left are drained (``WorkerPool.retire``: a request in
flight finishes on its version). A round that changes nothing (a touched file, a saved-as-is template) applies
nothing and prints nothing. A round that fails (a template that no longer validates, a failed apply that the engine
rolled back) prints the located error; the last good versions keep serving.

The server runs on the main thread (``strata.local.server.runner.serve``: SIGINT/SIGTERM stop it, ``server.json``
exists exactly while it serves); the loop stops with it, finishing the round it is in.
"""
from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from strata.errors import StrataError

if TYPE_CHECKING:
    from strata.local.engine.model import Plan
    from strata.local.env_vars import EnvVarsFile
    from strata.local.gateway.jwks import JwksSource
    from strata.local.lambda_service.service import LambdaService
    from strata.model.deploy import DeploySettings

Echo = Callable[[str], None]

# watchfiles: a batch is yielded once no new event came for STEP_MS (an editor's save is a few events within a
# millisecond or two), or after DEBOUNCE_MS of events that keep coming
STEP_MS = 20
DEBOUNCE_MS = 1600
# the files of the template's folder that matter, besides the template itself
PROJECT_FILES = ("samconfig.toml", "samconfig.yaml", "samconfig.yml")
# never a change, wherever they are (caches, state, VCS, editors' swap and backup files)
IGNORED_NAMES = frozenset({"__pycache__", ".strata", ".aws-sam", ".git", ".hg", ".svn", ".mypy_cache",
                           ".pytest_cache", ".ruff_cache", ".idea", ".vscode", "node_modules"})
IGNORED_SUFFIXES = (".swp", ".swx", ".swo", "~", ".tmp", ".pyc")


@dataclass(frozen=True)
class WatchSet:
    """What to watch: folders whose whole tree matters, and single files (watched through their folder)."""

    trees: frozenset[Path]
    files: frozenset[Path]

    @property
    def file_folders(self) -> frozenset[Path]:
        return frozenset(f.parent for f in self.files)


@dataclass(frozen=True)
class Swap:
    """One function changed by one round: its new version (None: only $LATEST changed), why, and how long from the
    save until the alias served it."""

    function: str
    version: str | None
    why: str
    ms: float
    from_save: bool = True        # False: the first deploy (``ms`` is its whole time)

    def text(self) -> str:
        target = f"version {self.version}" if self.version else "$LATEST (no new version)"
        return f"{self.function} -> {target}: {self.why} [{self.ms:.0f} ms{' from save' if self.from_save else ''}]"


@dataclass
class Round:
    """The outcome of one round: the functions it changed, or the error that left the last good versions serving."""

    swaps: list[Swap] = field(default_factory=list)
    error: StrataError | None = None
    changed: bool = False


def watch_set(template_path: Path, sources: Iterable[Path], home: Path) -> WatchSet:
    """The template and its project files, and each code or layer source (a folder: its tree; a .zip: the file).
    A folder inside another watched tree is covered by it; the state home is never watched."""
    template_path = template_path.resolve()
    files = {template_path, *(template_path.parent / name for name in PROJECT_FILES)}
    trees: set[Path] = set()
    for source in sources:
        source = Path(source).resolve()
        if source.is_dir():
            trees.add(source)
        else:
            files.add(source)
    home = home.resolve()
    # by set lookups along each path's parents: comparing every tree with every other was ~0.1 s a round at 50
    # functions (each round re-reads the set)
    kept = {t for t in trees if not _inside(t, home) and not any(p in trees for p in t.parents)}
    files = {f for f in files if not any(p in kept for p in f.parents)}
    return WatchSet(frozenset(kept), frozenset(files))


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


class Watcher:
    """watchfiles over one ``WatchSet``, on its own threads (a recursive watch for the trees, a flat one for the files'
    folders), putting ``(received at, changed paths)`` batches on ``batches``. ``stop`` ends both."""

    def __init__(self, watched: WatchSet, home: Path, batches: queue.Queue) -> None:
        self.watched = watched
        self.home = home.resolve()
        self.batches = batches
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        trees = sorted(str(t) for t in self.watched.trees if t.is_dir())
        folders = sorted(str(f) for f in self.watched.file_folders if f.is_dir())
        files = {str(f) for f in self.watched.files}
        if trees:
            self._spawn(trees, True, self._tree_filter)
        if folders:
            self._spawn(folders, False, lambda _change, path: path in files)
        deadline = time.monotonic() + 5      # the watches are set up before the first save can be missed
        for thread in self._threads:
            while not getattr(thread, "watching", False) and thread.is_alive() and time.monotonic() < deadline:
                time.sleep(0.005)

    def _tree_filter(self, _change: Any, path: str) -> bool:
        parts = Path(path).parts
        return not (any(part in IGNORED_NAMES for part in parts) or path.endswith(IGNORED_SUFFIXES)
                    or _inside(Path(path), self.home))

    def _spawn(self, paths: list[str], recursive: bool, accept: Callable[[Any, str], bool]) -> None:
        thread = threading.Thread(target=self._run, args=(paths, recursive, accept), daemon=True,
                                  name=f"strata-dev-watch-{'tree' if recursive else 'files'}")
        self._threads.append(thread)
        thread.start()

    def _run(self, paths: list[str], recursive: bool, accept: Callable[[Any, str], bool]) -> None:
        from watchfiles import watch

        this = threading.current_thread()
        try:
            changes = watch(*paths, recursive=recursive, watch_filter=accept, stop_event=self._stop,
                            step=STEP_MS, debounce=DEBOUNCE_MS, rust_timeout=200, yield_on_timeout=True,
                            raise_interrupt=False)
            for batch in changes:
                this.watching = True      # type: ignore[attr-defined]
                if batch:
                    self.batches.put((time.time(), {path for _change, path in batch}))
        except (OSError, RuntimeError) as exc:           # a watched folder vanished: the next round re-reads the set
            self.batches.put((time.time(), {f"<watch failed: {exc}>"}))
        finally:
            this.watching = True          # type: ignore[attr-defined]

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)


def saved_at(paths: Iterable[str], received: float) -> float:
    """When the batch was saved: the earliest modification time among its files (a save's own time, epoch
    seconds), else (only deletions, or times that cannot be the save: older than a minute, in the future) when the
    batch arrived."""
    times = []
    for path in paths:
        try:
            mtime = os.stat(path).st_mtime
        except OSError:
            continue
        if received - 60 < mtime <= received + 0.01:
            times.append(mtime)
    return min(times) if times else received


class DevLoop:
    """The rounds of ``strata dev`` over one stack. ``runtime()`` gives the serving runtime whose workers a swap
    drains (a ``WorkerPool``; anything without ``retire`` is left alone). ``out`` gets one line per changed
    function, ``err`` the errors."""

    def __init__(self, settings: DeploySettings, *, runtime: Callable[[], Any] | None = None,
                 out: Echo = print, err: Echo = print, clock: Callable[[], float] = time.time) -> None:
        assert settings.home is not None
        self.settings = settings
        self.home = Path(settings.home)
        self.runtime = runtime
        self.out, self.err = out, err
        self.clock = clock
        self.watched = watch_set(settings.template_path, (), self.home)
        self.batches: queue.Queue = queue.Queue()
        self._watcher: Watcher | None = None
        self.rounds = 0
        self.after_deploy: Callable[[], None] | None = None     # e.g. re-match --env-vars to what is deployed now

    # -- one round ---------------------------------------------------------------------------------------------------

    def deploy(self, saved: float | None = None) -> Round:
        """Build, plan and apply what is on disk now; print what changed (or the error); drain the old workers.
        ``saved``: when the files were saved (epoch seconds; None: the first deploy, timed from now)."""
        from strata.local.deploy import _engine, preflight, transform_for
        from strata.local.runtime.interpreter import use

        first, saved = saved is None, self.clock() if saved is None else saved
        self.rounds += 1
        try:
            result = transform_for(self.settings)
            preflight(self.settings, result, deploying=True)    # what this machine cannot run is never applied
            use(self.settings.python)                           # the workers here run on the Pythons checked
        except StrataError as exc:
            error = self._located(exc)
            self.err(f"Error: {error.render()}\n  still serving the last good versions")
            return Round(error=error)
        self._rewatch(result)
        engine = _engine(self.settings)
        try:
            try:
                report = engine.deploy(self.settings.stack_name, result, strict=self.settings.strict)
            except StrataError as exc:        # another deploy holds the stack, --strict refused the plan ...
                self.err(f"Error: {exc.render()}\n  still serving the last good versions")
                return Round(error=exc)
            if report.status == "no-changes":
                return Round()
            if report.error is not None:
                error = StrataError(f"deploy of stack {self.settings.stack_name} failed and was rolled back: "
                                    f"{report.error.message}",
                                    hint=f"`strata events --stack-name {self.settings.stack_name}` shows every step")
                self.err(f"Error: {error.render()}\n  still serving the last good versions")
                return Round(error=error, changed=True)
            swaps = self._swaps(report.plan, result.template, engine.state.resources(self.settings.stack_name),
                                saved, not first)
        finally:
            engine.close()
        for swap, name in swaps:
            self._drain(name, swap.version)
            self.out(swap.text())
        return Round(swaps=[swap for swap, _name in swaps], changed=True)

    def _located(self, exc: StrataError) -> StrataError:
        """The transform's error as ``strata validate`` places it (file:line:col) when validation finds the problem
        (the translator's own messages name a property path, not a line), else the error itself."""
        from strata.errors import TemplateError
        from strata.transform.validate import run_validation

        if isinstance(exc, TemplateError) and all(p.location is not None for p in exc.problems):
            return exc
        try:
            found = run_validation(str(self.settings.template_path), self.settings.parameter_overrides,
                                   self.settings.region)
        except StrataError:
            return exc
        return TemplateError(found.problems) if found.problems else exc

    def _swaps(self, plan: Plan, template: dict[str, Any], deployed: dict[str, Any],
               saved: float, from_save: bool = True) -> list[tuple[Swap, str]]:
        """One ``Swap`` per function the plan changed, with the function's deployed name (for draining)."""
        from strata.local.engine.model import Action

        resources = template.get("Resources") or {}
        published: dict[str, tuple[str, str]] = {}     # function id -> (version, why)
        updated: dict[str, str] = {}                   # function id -> why ($LATEST only)
        for change in plan.effective:
            if change.type == "AWS::Lambda::Version" and change.action in (Action.CREATE, Action.REPLACE):
                function = _function_of(resources.get(change.logical_id))
                record = deployed.get(change.logical_id)
                if function and record is not None:
                    published[function] = (str(record.physical_id).rsplit(":", 1)[-1], _why(change.reasons))
            elif change.type == "AWS::Lambda::Function" and change.action is not Action.DELETE:
                updated[change.logical_id] = _why(change.reasons) or ", ".join(change.changed)
        ms = max(0.0, (self.clock() - saved) * 1000)
        swaps = []
        for function in sorted({*published, *updated}):
            record = deployed.get(function)
            name = str(record.physical_id) if record is not None else function
            if function in published:
                version, why = published[function]
                swaps.append((Swap(function, version, why, ms, from_save), name))
            else:
                swaps.append((Swap(function, None, updated[function], ms, from_save), name))
        return swaps

    def _drain(self, function_name: str, keep_version: str | None) -> None:
        """Stop the warm workers of the versions the alias left (a request in flight finishes on its version)."""
        if self.runtime is None or keep_version is None:
            return
        retire = getattr(self.runtime(), "retire", None)
        if retire is not None:
            retire(function_name, keep_version)

    # -- watching ----------------------------------------------------------------------------------------------------

    def _rewatch(self, result: Any) -> None:
        """Watch the sources of this transform (a template edit may add or move code folders)."""
        sources = [b.target.source for b in result.artifacts if getattr(b, "target", None) is not None]
        watched = watch_set(self.settings.template_path, sources, self.home)
        if watched != self.watched:
            self.watched = watched
            if self._watcher is not None:
                self._start_watching()

    def _start_watching(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
        self._watcher = Watcher(self.watched, self.home, self.batches)
        self._watcher.start()

    def run(self, stop: threading.Event, ready: threading.Event | None = None) -> None:
        """Watch and run a round per batch of saves until ``stop`` is set (the round in progress finishes)."""
        self._start_watching()
        if ready is not None:
            ready.set()
        try:
            while not stop.is_set():
                try:
                    received, paths = self.batches.get(timeout=0.1)
                except queue.Empty:
                    continue
                while True:                  # the other watcher's events of the same save: one round
                    try:
                        more_received, more = self.batches.get_nowait()
                    except queue.Empty:
                        break
                    received, paths = max(received, more_received), paths | more
                if stop.is_set():
                    break
                if self.deploy(saved_at(paths, received)).error is None and self.after_deploy is not None:
                    self.after_deploy()
        finally:
            if self._watcher is not None:
                self._watcher.stop()


def _function_of(resource: Any) -> str | None:
    """The logical id a Version's ``FunctionName: {Ref: ...}`` names."""
    props = resource.get("Properties") if isinstance(resource, dict) else None
    target = props.get("FunctionName") if isinstance(props, dict) else None
    ref = target.get("Ref") if isinstance(target, dict) else None
    return ref if isinstance(ref, str) else None


def _why(reasons: Iterable[str]) -> str:
    """The plan's reason, without its "publish a new version of X because" lead."""
    texts = []
    for reason in reasons:
        head, sep, tail = reason.partition(" because ")
        texts.append(tail if sep and head.startswith("publish a new version") else reason)
    return "; ".join(texts)


def run_dev(settings: DeploySettings, *, host: str, port: int, invoke_threads: int = 64, out: Echo = print,
            err: Echo = print, on_ready: Callable[[str], None] | None = None,
            debug: tuple[str, int] | None = None, env_vars: EnvVarsFile | None = None,
            jwks: JwksSource | None = None) -> None:
    """``strata dev``: the first deploy (its error printed, the stack as deployed before keeps serving), then serve
    ``settings.home`` and run the loop until SIGINT/SIGTERM. ``debug`` (function, port): that function's workers run
    under debugpy (``--debug``), resolved after the first deploy, which may be the one that creates it. ``env_vars``
    (``--env-vars``) is matched to the deployed functions after every deploy (a save may add one)."""
    from strata.local.server.runner import home_app, serve

    assert settings.home is not None
    app, service = home_app(settings.home, host=host, invoke_threads=invoke_threads, region=settings.local_region)
    loop = DevLoop(settings, runtime=lambda: service.runtime, out=out, err=err)
    stop = threading.Event()
    thread: threading.Thread | None = None
    try:
        first = loop.deploy()
        if first.error is None:
            out(f"Stack {settings.stack_name} deployed; watching {_watching(loop.watched)}.")
        if debug is not None:
            _debug_workers(service, settings, *debug, err=err)
        if env_vars is not None:
            from strata.local.env_vars import overrides_for_home

            home = settings.home

            def match_env_vars() -> None:
                service.set_env_overrides(overrides_for_home(env_vars, home, err))

            match_env_vars()
            loop.after_deploy = match_env_vars

        def started(url: str) -> None:
            nonlocal thread
            watching = threading.Event()
            thread = threading.Thread(target=loop.run, args=(stop, watching), name="strata-dev", daemon=True)
            thread.start()
            watching.wait(10)
            if on_ready is not None:
                on_ready(url)

        from strata.local.gateway.service import Gateway

        gateway = Gateway(settings.home, base_port=port, announce=err, jwks=jwks)
        serve(app, settings.home, host, port, stack_name=settings.stack_name, on_ready=started,
              companions=[gateway.attach])
    finally:
        stop.set()
        if thread is not None:
            thread.join(timeout=60)
        service.close()


def _debug_workers(service: LambdaService, settings: DeploySettings, function: str, port: int, *, err: Echo) -> None:
    """Put ``function``'s workers under debugpy on ``port`` (``strata.local.debugging``) and say where to attach."""
    from strata.local.debugging import attach_note, debug_target
    from strata.local.runtime.pool import WorkerPool

    assert settings.home is not None
    target = debug_target(settings.home, function, port, stack_name=settings.stack_name)
    pool = service.runtime
    if not isinstance(pool, WorkerPool):
        raise StrataError(f"--debug {function}: this runtime cannot run a debugger")
    pool.debug = target
    err(attach_note(target, settings.home))


def _watching(watched: WatchSet) -> str:
    trees = len(watched.trees)
    return f"the template and {trees} code folder{'' if trees == 1 else 's'}"
