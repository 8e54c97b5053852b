"""``strata deploy`` on the local target: transform -> plan -> apply -> verify -> prune -> report.

Contract (the mirror of ``strata.aws.deploy``): the settings come resolved (``strata.deploy.settings``); a function
the local target cannot run as declared stops plan and deploy before anything changes (``preflight``); the engine
(``strata.local.engine``) is the only thing that changes the stack, and it is built here with its traffic shifter
(``strata.local.shift``, imported only when an alias shifts); after a deploy that changed something, verify checks
the functions it changed (``settings.verify``) and the automatic prune runs when the template's Metadata or
samconfig.toml asks for it (``strata.ops.prune``). Everything printed goes through ``out`` (plan, results),
``progress`` (each resource step; default ``out``) and ``warn`` (cleanup warnings, verify mismatches).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

from strata.errors import StrataError
from strata.model.deploy import DEFAULT_ACCOUNT, DEFAULT_REGION, LOCAL, DeployResult, DeploySettings

if TYPE_CHECKING:
    from strata.local.env_vars import EnvVarsFile

Echo = Callable[[str], None]

# the engine's status -> the outcome both targets report
OUTCOMES = {"complete": "deployed", "no-changes": "no-changes", "not-executed": "not-executed",
            "rolled-back": "rolled-back", "failed": "failed"}


def transform_for(settings: DeploySettings) -> Any:
    """Build and transform the template for these settings (the ``TransformResult``), the values from outside the
    template resolved from this home (``strata.local.external``): what cannot be is an error before any change."""
    from strata.local.external import external_values
    from strata.transform.pipeline import transform

    assert settings.home is not None
    external = external_values(settings.home, settings.stack_name, account_id=settings.account_id,
                               layer_sources=settings.layer_sources)
    return transform(settings.template_path, parameter_overrides=settings.parameter_overrides,
                     region=settings.local_region, account_id=settings.account_id,
                     stack_name=settings.stack_name, home=settings.home, progress=settings.build_progress,
                     previous_parameters=previous_parameters(settings), external=external)


def previous_parameters(settings: DeploySettings) -> dict[str, str]:
    """The parameter values the stack was last deployed with: SAM keeps them for the parameters a deploy does not
    override (``sam deploy`` sends UsePreviousValue), and so does the local target. Empty for a new stack."""
    from strata.local.engine.state import StackState
    from strata.paths import database_path
    from strata.template.parameters import previous_texts

    assert settings.home is not None
    if not database_path(settings.home).is_file():
        return {}
    state = StackState(settings.home)
    try:
        record = state.stack(settings.stack_name)
    finally:
        state.close()
    if record is None or record.status.startswith("DELETE"):
        return {}
    return previous_texts(record.parameters or {})


def _engine(settings: DeploySettings, progress: Any = None, shifter: Any = None) -> Any:
    assert settings.home is not None
    return _engine_at(settings.home, region=settings.local_region, account_id=settings.account_id,
                      progress=progress, shifter=shifter)


def _engine_at(home: Any, *, region: str = DEFAULT_REGION, account_id: str = DEFAULT_ACCOUNT,
               progress: Any = None, shifter: Any = None) -> Any:
    """The engine over ``home``, its per-resource progress lines sent to ``progress`` (a ``ProgressLines``, which
    counts the steps of a big plan, as it is; any other callable gets one line per step)."""
    from strata.local.engine.api import Engine
    from strata.local.engine.render import ProgressLines, progress_line

    lines = progress if isinstance(progress, ProgressLines) or progress is None else \
        (lambda *event: progress(progress_line(*event)))
    return Engine(home, region=region, account_id=account_id, progress=lines, shifter=shifter)


def preflight(settings: DeploySettings, result: Any, *, deploying: bool) -> Any:
    """The local target's check before apply (``strata.local.preflight``): a function it cannot run as declared is an
    error here, before anything changes; a missing Python is one for a deploy (a warning of the plan)."""
    from strata.local.preflight import check

    found = check(result, settings)
    found.raise_if_refused(deploying=deploying)
    return found


def plan_local(settings: DeploySettings, env_vars: EnvVarsFile | None = None) -> Any:
    """What ``deploy_local`` would change (the engine's ``Plan``); changes nothing but the artifact store. With
    ``env_vars`` the plan also shows which of the stack's functions those local overrides reach (never a change)."""
    result = transform_for(settings)
    checked = preflight(settings, result, deploying=False)
    engine = _engine(settings)
    try:
        plan = engine.deploy(settings.stack_name, result, execute=False, strict=settings.strict,
                             force=settings.force, notes=checked.warnings(), parsed_by=checked.request).plan
    finally:
        engine.close()
    if env_vars is not None:
        import dataclasses

        from strata.local.env_vars import match, template_entries

        entries = template_entries(settings.stack_name, result.template, settings.home)
        plan = dataclasses.replace(plan, local_overrides=match(env_vars, entries).view())
    return plan


def deploy_local(settings: DeploySettings, *, out: Echo = print, progress: Echo | None = None,
                 warn: Echo | None = None) -> DeployResult:
    """Deploy ``settings.template_path`` as the local stack ``settings.stack_name``; see the module docstring."""
    from strata.local.engine.render import ProgressLines, outputs_text, plan_text

    progress = progress or out
    steps = ProgressLines(progress)     # a big plan's steps are counted, not listed
    warn = warn or out
    name = settings.stack_name
    restored, lost, result = _build_restoring(settings)
    checked = preflight(settings, result, deploying=settings.execute)
    for line in restored:
        out(line)
    from strata.artifacts.twins import ensure_twins

    assert settings.home is not None
    for line in ensure_twins(result.artifacts, settings.home):   # native code this machine cannot run: one line each
        out(line)

    def show_plan(plan: Any) -> None:
        text = plan_text(plan)
        if restored:     # the resources are up to date, but the deploy did change something: the artifacts
            text = text.replace(f"No changes: stack {name} is up to date.",
                                f"Stack {name}: resources up to date; {len(restored)} stored artifact(s) restored.")
        out(text)
        if not settings.execute:
            out("Not executed (--no-execute).")
        steps.planned(plan)

    engine = _engine(settings, steps, LazyShifter(settings.shift_speed, settings.error_threshold, out))
    try:
        report = engine.deploy(name, result, execute=settings.execute, strict=settings.strict,
                               disable_rollback=settings.disable_rollback, wait=settings.wait, force=settings.force,
                               on_plan=show_plan, notes=checked.warnings(), parsed_by=checked.request)
    finally:
        engine.close()
    if report.status in ("complete", "no-changes"):     # what the invokes that follow run on
        from strata.local.runtime.interpreter import record

        assert settings.home is not None
        record(settings.home, settings.python)
    outcome = DeployResult(LOCAL, name, OUTCOMES.get(report.status, report.status), report.status,
                           dict(report.outputs), engine=report, substitutions=list(checked.substitutions))
    if report.recovered:
        out(report.recovered[:1].upper() + report.recovered[1:] + ".")
    if lost and report.error is None:
        outcome.failure = _still_damaged(settings, lost, warn if report.status == "not-executed" else None)
    if report.status in ("no-changes", "not-executed"):
        return outcome
    for failure in report.cleanup_failures:
        warn(f"warning: could not clean up {failure} (see `strata events`)")
    if report.error is not None:
        verb = "rolled back" if report.status == "rolled-back" else "left as it is (--disable-rollback)" \
            if settings.disable_rollback else "could not be rolled back"
        outcome.failure = StrataError(f"deploy of stack {name} failed and was {verb}: {report.error.message}",
                                      hint="`strata events --stack-name " + name + "` shows every step")
        return outcome
    out(f"Stack {name} deployed.")
    from strata.local.gateway.addresses import endpoints, endpoints_text, localize_outputs

    found = endpoints(settings.home, name)          # its APIs' local URLs (chosen once, kept)
    text = outputs_text(localize_outputs(dict(report.outputs), found))
    if text:
        out(text)
    if found:
        out(endpoints_text(found))
    if settings.verify:
        outcome.verified = tuple(sorted(touched_functions(report.plan, result.template)))
        outcome.verify = _verify(settings, set(outcome.verified), out, warn,
                                 known={str(f.expected) for f in lost} if outcome.failure else set())
    outcome.pruned = auto_prune(settings, result.template, out)
    return outcome


def _build_restoring(settings: DeploySettings) -> tuple[list[str], list[Any], Any]:
    """Build and transform with the deployed stack's damaged stored artifacts moved aside, so the build writes them
    again (``strata.local.verify_artifacts``): a deploy never says "No changes" over bytes that are gone. Returns
    (what was restored, the damaged artifacts the build did not reproduce, the ``TransformResult``)."""
    from strata.local.verify_artifacts import Quarantine, restore_text, stack_damage

    assert settings.home is not None
    found = stack_damage(settings.home, settings.stack_name)
    if not found:
        return [], [], transform_for(settings)
    quarantine = Quarantine(settings.home, found)
    try:
        result = transform_for(settings)
    finally:
        restored, lost = quarantine.settle()
    return [restore_text(settings.home, f, None) for f in restored], lost, result


def _still_damaged(settings: DeploySettings, lost: list[Any], warn: Echo | None) -> StrataError | None:
    """After the deploy: the damaged artifacts the build did not reproduce that the stack still uses; an error
    naming them (``warn`` instead, for a deploy that executed nothing)."""
    from strata.local.verify_artifacts import stack_damage

    assert settings.home is not None
    still = {f.expected for f in lost}
    found = [f for f in stack_damage(settings.home, settings.stack_name) if f.expected in still]
    if not found:
        return None
    text = "\n".join(f"  {f}" for f in found)
    if warn is not None:
        warn(f"warning: damaged stored artifacts the build does not reproduce:\n{text}")
        return None
    return StrataError(f"stack {settings.stack_name}: {len(found)} stored artifact(s) it uses are damaged and the "
                       f"build does not reproduce them (their sources changed since):\n{text}",
                       hint="`strata prune` deletes the old versions no alias routes to; `strata verify` lists every "
                            "damaged artifact and who uses it")


def touched_functions(plan: Any, template: dict[str, Any]) -> set[str]:
    """Logical ids of the functions this deploy changed: the function itself, or one of its Versions or Aliases."""
    resources = template.get("Resources") or {}
    touched: set[str] = set()
    for change in plan.effective:
        if change.type == "AWS::Lambda::Function":
            touched.add(change.logical_id)
        elif change.type in ("AWS::Lambda::Version", "AWS::Lambda::Alias"):
            target = ((resources.get(change.logical_id) or {}).get("Properties") or {}).get("FunctionName")
            if isinstance(target, dict) and isinstance(target.get("Ref"), str):
                touched.add(target["Ref"])
    return touched


def _verify(settings: DeploySettings, functions: set[str], out: Echo, warn: Echo, known: Collection[str] = ()
            ) -> Any:
    """After a deploy that changed something: do the functions it changed serve what was just deployed, on
    $LATEST, every alias and every routed version, from sound stored bytes? (``--no-verify`` skips it; a no-op
    deploy skips it too, so that path stays cheap; ``strata verify`` checks the whole stack any time.) Damaged
    artifacts whose digests are in ``known`` are already the deploy's reported failure."""
    from strata.local.verify import verify_local

    if not functions:
        return None
    assert settings.home is not None
    name = settings.stack_name
    report = verify_local(settings.home, name, region=settings.local_region,
                          account_id=settings.account_id, only=functions)
    if not report.ok and all(f.setting == "artifact" and f.expected in known for f in report.findings):
        return report
    if not report.ok:
        warn(report.text())
        raise StrataError(f"stack {name} deployed, but verify found {len(report.findings)} mismatch(es)",
                          hint="`strata verify --repair --stack-name " + name + "` fixes them")
    from strata.model.listing import names_or_count

    names = names_or_count(sorted(functions), "function")
    out(f"Verified: {names} serve{'s' if len(functions) == 1 else ''} what was deployed.")
    return report


def auto_prune(settings: DeploySettings, template: dict[str, Any], out: Echo) -> Any:
    """After a deploy: prune as the template's Metadata or samconfig.toml asks (None when neither does)."""
    from strata.ops.prune import prune_local, prune_settings

    wanted = prune_settings(template, settings.samconfig)
    if wanted is None:
        return None
    assert settings.home is not None
    report = prune_local(settings.home, settings.stack_name, keep=wanted.keep, include_layers=wanted.include_layers,
                         region=settings.local_region, account_id=settings.account_id)
    if report.deleted or report.failures:
        out(f"Automatic prune ({wanted.source}):\n" + report.text())
    return report


class LazyShifter:
    """The engine's traffic shifter (``AliasShifter``), built on first use: a deploy without DeploymentPreference
    never imports ``strata.local.shift``. ``echo`` shows its progress live: phase or weight changes at once, counts
    at most once a second."""

    def __init__(self, speed: float, error_threshold_percent: float, echo: Echo | None) -> None:
        self.speed, self.error_threshold = speed, error_threshold_percent / 100
        self.echo = echo
        self._shifter: Any = None
        self._last: tuple[Any, float] = (None, 0.0)

    def _show(self, progress: Any) -> None:
        if self.echo is None:
            return
        if progress.hook is not None:          # a hook's verdict, and where it came from: always shown
            self.echo(progress.text())
            return
        key, now = (progress.phase, progress.weight), time.monotonic()
        if key != self._last[0] or now - self._last[1] >= 1.0 or progress.phase in ("complete", "failed"):
            self.echo(progress.text())
            self._last = (key, now)

    def update_alias(self, *args: Any) -> Any:
        if self._shifter is None:
            from strata.local.shift.shifter import Shifter

            self._shifter = Shifter(speed=self.speed, error_threshold=self.error_threshold, on_progress=self._show)
        return self._shifter.update_alias(*args)


def delete_local(home: Any, stack_name: str, *, wait: bool = False, progress: Echo | None = None) -> dict[str, Any]:
    """Delete a locally deployed stack (Retain keeps resources); the engine's result document. A big stack's steps
    are counted, not listed (``ProgressLines``)."""
    from strata.local.engine.render import ProgressLines

    steps = ProgressLines(progress) if progress is not None else None
    engine = _engine_at(home, progress=steps)
    try:
        if steps is not None:
            steps.expect(len(engine.state.resources(stack_name)))
        return engine.delete(stack_name, wait=wait)
    finally:
        engine.close()


__all__ = ["LazyShifter", "delete_local", "deploy_local", "plan_local", "touched_functions"]
