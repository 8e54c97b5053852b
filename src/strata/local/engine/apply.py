"""apply: the only stage that changes a target. Executes a deploy against the Lambda service, step by step.

Order: creates/updates/replaces in dependency order (each resource's properties resolved right before its step,
with the attributes of what was just done), outputs, then cleanup: resources that left the template and old
physical resources of replacements are deleted in reverse dependency order (Retain keeps them). A failing step
stops the forward pass; rollback then converges the stack back to the snapshot taken before the deploy (dependents
first), unless rollback is disabled. Failures during cleanup are reported, never rolled back (as CloudFormation).

It executes the ``Plan`` it is given (``Executor.forward(request, plan)``): ``planned_steps`` checks first that the
plan covers exactly this stack, and each step takes the plan's action; a conditional change (decided on values known
only during apply) may turn out smaller (an update a no-op, a replace an update), anything else fails the step. What
ran is listed in ``Executor.executed``. Completing an interrupted deploy has no plan: it converges from the state.

Every Lambda call is bracketed by the journal (intent committed before, outcome committed with the resource's new
state after), and every phase is a convergence from what the state says, so a process killed at any point is
completed by re-running the same phase (see ``recover``).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from strata.errors import StrataError
from strata.local.engine.desired import apply_order, edges
from strata.local.engine.handlers import handler_for, is_emulated
from strata.local.engine.handlers.base import AliasShifter, HandlerContext, Outcome, ResourceFailed
from strata.local.engine.journal import CrashPoints, Journal
from strata.local.engine.model import (
    STACK_TYPE,
    Action,
    Change,
    DeployedResource,
    DesiredResource,
    DesiredStack,
    Plan,
)
from strata.local.engine.planner import Decision, decide
from strata.local.engine.request import Request
from strata.local.engine.state import CLEANUP, ROLLBACK, StackState, resource_from_json
from strata.template.graph import topological_order
from strata.template.intrinsics import contains_unresolved, to_plain
from strata.template.parameters import mask, secret_values

Progress = Callable[[str, str, str | None, str, str | None], None]   # logical id, type, physical, status, reason


class StepFailed(StrataError):
    """The first resource that failed: which one, doing what, and Lambda's (or CloudFormation's) message."""

    def __init__(self, logical_id: str, resource_type: str, action: str, message: str) -> None:
        super().__init__(f"{logical_id} ({resource_type}) failed to {action}: {message}")
        self.logical_id, self.resource_type, self.action, self.reason = logical_id, resource_type, action, message


class Executor:
    """Runs the phases of one deploy (or delete) record."""

    def __init__(self, state: StackState, client: Any, *, stack_name: str, region: str, account_id: str,
                 deploy_id: int, crash: CrashPoints | None = None, progress: Progress | None = None) -> None:
        self.state = state
        self.stack = stack_name
        self.crash = crash or CrashPoints()
        self.journal = Journal(state, deploy_id, self.crash)
        self.deploy_id = deploy_id
        self.ctx = HandlerContext(client, stack_name, region, account_id, deploy_id, checkpoint=self.crash)
        self.progress = progress or (lambda *a: None)
        self.shifter: AliasShifter | None = None   # alias updates under a CodeDeploy UpdatePolicy (injected)
        self._update_policies: dict[str, Any] = {}
        self._secrets: frozenset[str] = frozenset()   # the NoEcho values of the request: masked in every event
        self._history: Any = None
        self.executed: list[Change] = []          # the changes this run made, in the order it made them

    # ---- events ---------------------------------------------------------------------------------------------------
    def _event(self, logical_id: str, type_: str, physical: str | None, status: str, reason: str | None = None) -> None:
        """Record an event (inside the caller's transaction) and report it (NoEcho values masked)."""
        reason = mask(reason, self._secrets)
        self.state.add_event(self.stack, self.deploy_id, logical_id, type_, physical, status, reason)
        self.progress(logical_id, type_, physical, status, reason)

    def stack_event(self, status: str, reason: str | None = None) -> None:
        with self.state.transaction():
            self._event(self.stack, STACK_TYPE, None, status, reason)

    # ---- forward --------------------------------------------------------------------------------------------------
    def forward(self, request: Request, plan: Plan | None = None) -> dict[str, Any]:
        """Execute the creates/updates/replaces of ``plan`` in dependency order; returns the resolved outputs.

        Without a plan (completing an interrupted deploy) each resource converges on what the state says now."""
        resolver = request.resolver()
        stored = self.state.stack(self.stack)
        self._secrets = resolver.secrets | (secret_values(stored.template or {}, stored.parameters or {})
                                            if stored is not None else frozenset())
        desired = request.desired()
        deployed = self.state.resources(self.stack)
        planned = planned_steps(plan, desired, deployed) if plan is not None else None
        self._update_policies = {lid: body.get("UpdatePolicy") for lid, body in request.template["Resources"].items()
                                 if isinstance(body, dict) and body.get("UpdatePolicy")}
        graph = edges(desired)
        for logical_id in apply_order(desired):
            res = desired.resources[logical_id]
            change = planned[logical_id] if planned is not None else None
            current = deployed.get(logical_id)
            if change is not None and change.untouched and current is not None:
                resolver.set_known(logical_id, current.attributes, current.emulated)    # as planned: not resolved
                continue
            emulated = is_emulated(res.type)
            path = ("Resources", logical_id, "Properties")
            try:
                props = resolver.resolve(res.properties, path)
            except StrataError as exc:
                raise StepFailed(logical_id, res.type, "resolve its properties", exc.message) from None
            if contains_unresolved(props):
                if emulated:
                    raise StepFailed(logical_id, res.type, "resolve its properties",
                                     f"cannot be resolved locally: {mask(to_plain(props), resolver.secrets)}")
                props = to_plain(props)
            record = self._step(res, props, current, graph[logical_id], change)
            resolver.set_known(logical_id, record.attributes, record.emulated)
        outputs: dict[str, Any] = {}
        for name, spec in desired.outputs.items():
            value = resolver.resolve(spec.get("Value"), ("Outputs", name, "Value"))
            if contains_unresolved(value):
                raise StepFailed(name, "Output", "resolve", f"cannot be resolved locally: {to_plain(value)}")
            outputs[name] = {"Value": value, "Description": spec.get("Description")}
            if isinstance(spec.get("Export"), dict):
                outputs[name]["ExportName"] = resolver.resolve(spec["Export"].get("Name"))
        return outputs

    def _step(self, res: DesiredResource, props: dict[str, Any], current: DeployedResource | None,
              deps: tuple[str, ...], change: Change | None = None) -> DeployedResource:
        decision = decide(res, props, current, secrets=self._secrets)
        if change is not None:
            decision = _as_planned(change, decision)
        action = decision.action
        emulated = is_emulated(res.type)
        handler = handler_for(res.type, emulated=emulated)
        if action is Action.NOOP:
            assert current is not None
            if current.depends_on != deps:
                with self.state.transaction():
                    self.state.put_resource(self.stack, replace(current, depends_on=deps))
            return current
        verb = "create" if action is Action.CREATE else "replace" if action is Action.REPLACE else "update"
        status = "UPDATE" if action is Action.UPDATE else "CREATE"
        if action is Action.UPDATE:
            assert current is not None
            seq = self.journal.intent(res.logical_id, "update", {"type": res.type, "props": props},
                                      dirty_stack=self.stack,
                                      also=lambda: self._event(res.logical_id, res.type, current.physical_id,
                                                               "UPDATE_IN_PROGRESS", "; ".join(decision.reasons)))
            try:
                outcome = self._updater(res, handler)(self.ctx, current, props)
            except Exception as exc:  # noqa: BLE001 - every failure becomes the resource's failure
                message = _message(exc)
                with self.state.transaction():
                    self.journal.done(seq)
                    self._event(res.logical_id, res.type, current.physical_id, "UPDATE_FAILED", message)
                raise StepFailed(res.logical_id, res.type, "update", message) from None
        else:
            nonce = "" if action is Action.CREATE else f"d{self.deploy_id}"
            try:
                intent = handler.intent(self.ctx, res.logical_id, props, nonce)
            except Exception as exc:  # noqa: BLE001
                raise StepFailed(res.logical_id, res.type, verb, _message(exc)) from None
            seq = self.journal.intent(res.logical_id, verb, {"type": res.type, "props": props, "intent": intent,
                                                             "emulated": emulated, "deps": list(deps),
                                                             "deletion_policy": res.deletion_policy,
                                                             "update_replace_policy": res.update_replace_policy},
                                      also=lambda: self._event(res.logical_id, res.type, None, "CREATE_IN_PROGRESS",
                                                               "; ".join(decision.reasons)))
            try:
                outcome = handler.create(self.ctx, res.logical_id, props, intent)
            except Exception as exc:  # noqa: BLE001
                message = _message(exc)
                self._fail_create(res, props, intent, current, seq, deps, emulated, message)
                raise StepFailed(res.logical_id, res.type, verb, message) from None
        self.crash("after-call")
        self.executed.append(Change(res.logical_id, res.type, action, decision.reasons, decision.changed,
                                    current.physical_id if current else None, emulated, decision.conditional))
        record = DeployedResource(res.logical_id, res.type, outcome.physical_id, props, outcome.attributes, deps,
                                  res.deletion_policy, res.update_replace_policy, emulated)
        with self.state.transaction():
            self.journal.done(seq)
            self.state.put_resource(self.stack, record)
            if action is Action.REPLACE and current is not None and current.physical_id != record.physical_id:
                self.state.put_orphan(self.stack, current, self.deploy_id, res.update_replace_policy == "Retain")
            self._record_alias(record, "deploy")
            self._event(res.logical_id, res.type, record.physical_id, f"{status}_COMPLETE")
        self.crash("after-done")
        return record

    def _fail_create(self, res: DesiredResource, props: dict[str, Any], intent: dict[str, Any],
                     current: DeployedResource | None, seq: int, deps: tuple[str, ...], emulated: bool,
                     message: str) -> None:
        """A create failed: if it got half-way (the resource exists), record it so rollback removes it."""
        handler = handler_for(res.type, emulated=emulated)
        try:
            outcome = handler.reconcile(self.ctx, res.logical_id, props, intent)
        except Exception:  # noqa: BLE001 - best effort; the failure itself is what gets reported
            outcome = None
        with self.state.transaction():
            self.journal.done(seq)
            if outcome is not None and (current is None or outcome.physical_id != current.physical_id):
                self._adopt(res.logical_id, res.type, props, outcome, current, deps, emulated,
                            res.deletion_policy, res.update_replace_policy)
            self._event(res.logical_id, res.type, outcome.physical_id if outcome else None, "CREATE_FAILED", message)

    def _adopt(self, logical_id: str, type_: str, props: dict[str, Any], outcome: Outcome,
               current: DeployedResource | None, deps: tuple[str, ...], emulated: bool, deletion_policy: str,
               update_replace_policy: str) -> None:
        """Record a resource found in the service after a crash or a half-done create; dirty: re-converge it."""
        record = DeployedResource(logical_id, type_, outcome.physical_id, props, outcome.attributes, deps,
                                  deletion_policy, update_replace_policy, emulated, dirty=True)
        self.state.put_resource(self.stack, record)
        if current is not None and current.physical_id != outcome.physical_id:
            self.state.put_orphan(self.stack, current, self.deploy_id, update_replace_policy == "Retain")

    # ---- cleanup --------------------------------------------------------------------------------------------------
    def cleanup(self, desired_ids: set[str]) -> list[str]:
        """Delete what left the template and the old physical resources of replacements; returns failure texts."""
        self.crash("before-cleanup")
        with self.state.transaction():
            self.state.set_deploy_status(self.deploy_id, CLEANUP)
        failures: list[str] = []
        current = self.state.resources(self.stack)
        # removed resources and old physical resources of replacements, in one reverse dependency order (an old
        # alias must go before the version it pointed at, that version before its function); keyed by the text a
        # failure reports, "LogicalId (physical id)", as a logical id may stand for a current and an old resource
        doomed: dict[str, tuple[DeployedResource, bool, bool]] = {
            _label(r): (r, r.deletion_policy == "Retain", False)
            for r in current.values() if r.logical_id not in desired_ids}
        for old, retain in self.state.orphans(self.stack):
            doomed[_label(old)] = (old, retain, True)
        graph = {key: tuple(k for k, (other, _, _) in doomed.items()
                            if k != key and other.logical_id in res.depends_on)
                 for key, (res, _, _) in doomed.items()}
        for key in reversed(_deletion_order(graph)):
            res, retain, orphan = doomed[key]
            if not self._delete(res, retain=retain, orphan=orphan):
                failures.append(key)
        return failures

    def _delete(self, res: DeployedResource, *, retain: bool, orphan: bool) -> bool:
        def forget() -> None:
            if orphan:
                self.state.drop_orphan(self.stack, res.logical_id, res.physical_id)
            else:
                self.state.drop_resource(self.stack, res.logical_id)

        if retain:
            with self.state.transaction():
                forget()
                self._event(res.logical_id, res.type, res.physical_id, "DELETE_SKIPPED", "Retain")
            if not orphan:
                self.executed.append(Change(res.logical_id, res.type, Action.RETAIN, (), (), res.physical_id,
                                            res.emulated))
            return True
        seq = self.journal.intent(res.logical_id, "delete", {"type": res.type, "physical_id": res.physical_id},
                                  also=lambda: self._event(res.logical_id, res.type, res.physical_id,
                                                           "DELETE_IN_PROGRESS"))
        try:
            handler_for(res.type, emulated=res.emulated).delete(self.ctx, res)
        except Exception as exc:  # noqa: BLE001
            with self.state.transaction():
                self.journal.done(seq)
                self._event(res.logical_id, res.type, res.physical_id, "DELETE_FAILED", _message(exc))
            return False
        self.crash("after-call")
        if not orphan:
            self.executed.append(Change(res.logical_id, res.type, Action.DELETE, (), (), res.physical_id,
                                        res.emulated))
        with self.state.transaction():
            self.journal.done(seq)
            forget()
            self._event(res.logical_id, res.type, res.physical_id, "DELETE_COMPLETE")
        self.crash("after-done")
        return True

    # ---- rollback -------------------------------------------------------------------------------------------------
    def rollback(self, snapshot: dict[str, Any]) -> list[str]:
        """Converge the stack back to ``snapshot`` (dependents first); returns failure texts."""
        self.crash("before-rollback")
        with self.state.transaction():
            self.state.set_deploy_status(self.deploy_id, ROLLBACK)
        before = {d["logical_id"]: resource_from_json(d) for d in snapshot["resources"]}
        current = self.state.resources(self.stack)
        graph = {lid: tuple(d for d in res.depends_on if d in current) for lid, res in current.items()}
        failures: list[str] = []
        for logical_id in reversed(topological_order(graph)):
            now, then = current[logical_id], before.get(logical_id)
            try:
                if then is None:
                    self._undo_create(now, restore=None)
                elif then.physical_id != now.physical_id or then.type != now.type:
                    self._undo_create(now, restore=then)
                elif then.properties != now.properties or now.dirty or then.depends_on != now.depends_on or \
                        (then.deletion_policy, then.update_replace_policy) != \
                        (now.deletion_policy, now.update_replace_policy):
                    self._undo_update(now, then)
            except Exception as exc:  # noqa: BLE001
                message = _message(exc)
                with self.state.transaction():
                    self._event(logical_id, now.type, now.physical_id, "UPDATE_FAILED" if then else "DELETE_FAILED",
                                f"rollback: {message}")
                failures.append(f"{logical_id}: {message}")
                break
        if not failures:
            with self.state.transaction():
                for orphan, _ in self.state.orphans(self.stack):
                    restored = before.get(orphan.logical_id)
                    if restored is not None and restored.physical_id == orphan.physical_id:
                        self.state.drop_orphan(self.stack, orphan.logical_id, orphan.physical_id)
        return failures

    def _undo_create(self, now: DeployedResource, restore: DeployedResource | None) -> None:
        seq = self.journal.intent(now.logical_id, "rollback-delete", {"type": now.type,
                                                                     "physical_id": now.physical_id})
        with self.state.transaction():
            self._event(now.logical_id, now.type, now.physical_id, "DELETE_IN_PROGRESS", "rollback")
        handler_for(now.type, emulated=now.emulated).delete(self.ctx, now)
        self.crash("after-call")
        with self.state.transaction():
            self.journal.done(seq)
            if restore is None:
                self.state.drop_resource(self.stack, now.logical_id)
            else:
                self.state.put_resource(self.stack, restore)
                self.state.drop_orphan(self.stack, restore.logical_id, restore.physical_id)
                self._record_alias(restore, "stack-rollback")
            self._event(now.logical_id, now.type, now.physical_id, "DELETE_COMPLETE", "rollback")
        self.crash("after-done")

    def _undo_update(self, now: DeployedResource, then: DeployedResource) -> None:
        seq = self.journal.intent(now.logical_id, "rollback-update", {"type": now.type}, dirty_stack=self.stack)
        with self.state.transaction():
            self._event(now.logical_id, now.type, now.physical_id, "UPDATE_IN_PROGRESS", "rollback")
        handler_for(now.type, emulated=now.emulated).update(self.ctx, now, then.properties)
        self.crash("after-call")
        with self.state.transaction():
            self.journal.done(seq)
            self.state.put_resource(self.stack, then)
            self._record_alias(then, "stack-rollback")
            self._event(now.logical_id, now.type, now.physical_id, "UPDATE_COMPLETE", "rollback")
        self.crash("after-done")

    # ---- alias moves (history, traffic shifting) ------------------------------------------------------------------
    def _record_alias(self, record: DeployedResource, cause: str) -> None:
        """Within the caller's transaction: an alias move goes into the alias history (``engine.history``)."""
        if record.type != "AWS::Lambda::Alias":
            return
        from strata.local.engine.history import AliasHistory, record_alias_step

        if self._history is None:
            self._history = AliasHistory(self.state.db)

        def records(name: str) -> dict[str, DeployedResource]:
            return self.state.function_resources(self.stack, name, self.ctx.function_arn(name))

        record_alias_step(self._history, self.stack, records, record, cause=cause, deploy_id=self.deploy_id,
                          at=self.state.clock())

    def _updater(self, res: DesiredResource, handler: Any) -> Callable[..., Any]:
        """``handler.update``, or the traffic shifter for an alias under
        ``UpdatePolicy: CodeDeployLambdaAliasUpdate``."""
        policy = (self._update_policies.get(res.logical_id) or {}).get("CodeDeployLambdaAliasUpdate")
        if res.type != "AWS::Lambda::Alias" or not isinstance(policy, dict):
            return handler.update
        shifter = self.shifter
        if shifter is None:
            raise ResourceFailed(f"alias {res.logical_id} has a CodeDeployLambdaAliasUpdate policy, but this engine "
                                 "was given no traffic shifter (strata.local.shift.Shifter)")
        return lambda ctx, current, props: shifter.update_alias(self, res.logical_id, policy, handler, current, props)

    # ---- recovery ---------------------------------------------------------------------------------------------------
    def reconcile_open_intents(self) -> None:
        """Settle every intent of this deploy that has no outcome, by reading the Lambda service."""
        current = self.state.resources(self.stack)
        for seq, logical_id, action, payload in self.state.open_intents(self.deploy_id):
            outcome = None
            if action in ("create", "replace"):
                handler = handler_for(payload["type"], emulated=payload.get("emulated", True))
                outcome = handler.reconcile(self.ctx, logical_id, payload["props"], payload["intent"])
            with self.state.transaction():
                if outcome is not None:
                    now = current.get(logical_id)
                    if now is None or now.physical_id != outcome.physical_id:
                        self._adopt(logical_id, payload["type"], payload["props"], outcome, now,
                                    tuple(payload.get("deps", ())), payload.get("emulated", True),
                                    payload.get("deletion_policy", "Delete"),
                                    payload.get("update_replace_policy", "Delete"))
                        self._event(logical_id, payload["type"], outcome.physical_id, "CREATE_COMPLETE",
                                    "found in the Lambda service after an interrupted deploy")
                self.journal.done(seq)


class PlanMismatch(StrataError):
    """The plan does not describe the stack it is applied to (caught before anything changes)."""


# a conditional change (decided on values known only during apply) may turn out smaller than planned
_REFINES = {Action.UPDATE: (Action.NOOP,), Action.REPLACE: (Action.UPDATE, Action.NOOP)}


def planned_steps(plan: Plan, desired: DesiredStack, deployed: dict[str, DeployedResource]) -> dict[str, Change]:
    """The plan's change per desired resource, after checking the plan covers exactly this stack: every desired
    resource once, in apply order, and a delete (or retain) for each deployed resource that left the template."""
    forward = [c for c in plan.changes if c.action not in (Action.DELETE, Action.RETAIN)]
    removed = {c.logical_id for c in plan.changes if c.action in (Action.DELETE, Action.RETAIN)}
    order = apply_order(desired)
    problems: list[str] = []
    if [c.logical_id for c in forward] != order:
        problems.append(f"it plans {', '.join(c.logical_id for c in forward) or 'nothing'} where the template has "
                        f"{', '.join(order) or 'nothing'}")
    leaving = set(deployed) - set(desired.resources)
    if removed != leaving:
        problems.append(f"it removes {', '.join(sorted(removed)) or 'nothing'} where "
                        f"{', '.join(sorted(leaving)) or 'nothing'} left the template")
    for change in forward:
        current = deployed.get(change.logical_id)
        if (change.action is Action.CREATE) != (current is None) or \
                (current is not None and change.physical_id != current.physical_id):
            has = current.physical_id if current else "none"
            problems.append(f"{change.logical_id}: planned to {change.action.value} "
                            f"{change.physical_id or 'a new resource'}, the stack has {has}")
    if problems:
        raise PlanMismatch(f"the plan of stack {plan.stack_name} does not match the stack: " + "; ".join(problems),
                           hint="plan again")
    return {c.logical_id: c for c in forward}


def _as_planned(change: Change, decision: Decision) -> Decision:
    """The decision apply takes for a planned change: the plan's action, or (for a conditional change) what the
    values known now make of it; anything else means the plan no longer holds, and the step fails."""
    if decision.action is change.action or (change.conditional and decision.action in _REFINES.get(change.action, ())):
        return decision
    raise StepFailed(change.logical_id, change.type, change.action.value,
                     f"the plan says {change.action.value}, but the stack now needs {decision.action.value} "
                     f"({'; '.join(decision.reasons) or 'no change'}); plan again")


def _label(res: DeployedResource) -> str:
    return f"{res.logical_id} ({res.physical_id})"


def _deletion_order(graph: dict[str, tuple[str, ...]]) -> list[str]:
    """Dependencies first. The records left for cleanup were written under different templates and can disagree
    (an old resource depending on one that now depends on its replacement's logical id): cleanup must still finish,
    so a loop among them falls back to recorded order (current resources, then old ones oldest first)."""
    try:
        return topological_order(graph)
    except StrataError:
        return list(graph)


def _message(exc: BaseException) -> str:
    if isinstance(exc, StrataError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"
