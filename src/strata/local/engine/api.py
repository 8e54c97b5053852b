"""The stack engine's entry points: plan, deploy, delete, describe, stacks, events, resolve_function.

``plan`` only reads. ``deploy`` = (complete any interrupted deploy) -> plan -> apply, under the stack's lock; a plan
with nothing to change writes nothing and calls nothing. The Lambda client is created on first use, so a no-op
deploy neither opens the Lambda service nor imports boto3.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from strata.errors import StateError, StrataError
from strata.local.engine.journal import OPERATIONS
from strata.local.engine.lock import StackLock
from strata.local.engine.model import Action, Change, Plan
from strata.local.engine.planner import plan as make_plan
from strata.local.engine.request import Request
from strata.local.engine.state import IN_PROGRESS, ROLLBACK, StackRecord, StackState, resource_to_json
from strata.template.parameters import secret_values
from strata.transform.result import FunctionVersionInfo, TransformResult
from strata.transform.why import FunctionFingerprint

if TYPE_CHECKING:       # apply (and the handlers) load only when something is to be done
    from strata.local.engine.apply import Executor, Progress, StepFailed
    from strata.local.engine.handlers.base import AliasShifter
    from strata.local.engine.journal import CrashPoints

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "123456789012"


@dataclass
class DeployReport:
    """What a deploy did: ``status`` is no-changes | not-executed | complete | rolled-back | failed."""

    stack_name: str
    plan: Plan
    status: str
    outputs: dict[str, Any] = field(default_factory=dict)
    error: StepFailed | None = None
    cleanup_failures: list[str] = field(default_factory=list)
    recovered: str | None = None          # what happened to an interrupted deploy found at start
    executed: tuple[Change, ...] = ()     # the changes applied, in the order they ran (deletes at cleanup)

    def to_dict(self) -> dict[str, Any]:
        return {"StackName": self.stack_name, "Status": self.status, "Plan": self.plan.to_dict(),
                "Outputs": self.outputs,
                "Error": None if self.error is None else {
                    "LogicalResourceId": self.error.logical_id, "ResourceType": self.error.resource_type,
                    "Action": self.error.action, "Message": self.error.reason},
                "CleanupFailures": self.cleanup_failures, "Recovered": self.recovered}


class Engine:
    """One stack engine over one state home. ``client_factory`` makes the Lambda client on first need."""

    def __init__(self, home: Path, *, region: str = DEFAULT_REGION, account_id: str = DEFAULT_ACCOUNT,
                 client: Any = None, client_factory: Callable[[], Any] | None = None,
                 progress: Progress | None = None, crash: CrashPoints | None = None,
                 clock: Callable[[], float] = time.time, shifter: AliasShifter | None = None) -> None:
        self.home = Path(home)
        self.region, self.account_id = region, account_id
        self._client = client
        self._client_factory = client_factory
        self._owns_client = client is None and client_factory is None
        self.progress = progress
        self._crash = crash
        self.clock = clock
        # strata.local.shift.Shifter, given by the caller (the engine never imports it)
        self.shifter = shifter
        self._state: StackState | None = None

    @property
    def crash(self) -> CrashPoints:
        if self._crash is None:
            from strata.local.engine.journal import CrashPoints

            self._crash = CrashPoints()
        return self._crash

    @property
    def state(self) -> StackState:
        if self._state is None:
            self._state = StackState(self.home, clock=self.clock)
        return self._state

    @property
    def client(self) -> Any:
        if self._client is None:
            if self._client_factory is not None:
                self._client = self._client_factory()
            else:
                from strata.local.engine.client import LocalLambdaClient

                self._client = LocalLambdaClient(self.home, region=self.region, account_id=self.account_id)
        return self._client

    def close(self) -> None:
        if self._client is not None and self._owns_client and hasattr(self._client, "close"):
            self._client.close()
        if self._state is not None:
            self._state.close()
            self._state = None

    def _executor(self, stack_name: str, deploy_id: int, region: str | None = None,
                  account_id: str | None = None) -> Executor:
        from strata.local.engine.apply import Executor

        executor = Executor(self.state, self.client, stack_name=stack_name, region=region or self.region,
                            account_id=account_id or self.account_id, deploy_id=deploy_id, crash=self.crash,
                            progress=self.progress)
        executor.shifter = self.shifter
        return executor

    # ---- plan -------------------------------------------------------------------------------------------------
    def request_for(self, stack_name: str, result: TransformResult, *, disable_rollback: bool = False) -> Request:
        functions = {fid: FunctionFingerprint.of(f) for fid, f in result.functions.items()}
        return Request(stack_name, result.template, dict(result.parameters), functions,
                       self.region, self.account_id, disable_rollback)

    def plan(self, stack_name: str, result: TransformResult, *, force: bool = False,
             notes: tuple[str, ...] = ()) -> Plan:
        """The change set for deploying ``result`` as ``stack_name``; reads state only. ``notes`` are the caller's
        warnings to show with it (the local target's preflight)."""
        result, pinned = self._pinned(stack_name, result, force)
        request = self.request_for(stack_name, result)
        return _noted(self._plan(request, result.functions), pinned.notes + notes)

    def _pinned(self, stack_name: str, result: TransformResult, force: bool) -> tuple[TransformResult, Any]:
        """Rollback pins applied to the template (``engine.pins``): pinned aliases stay unless ``force``; and every
        deployed Version keeps the description it was published with (``transform.published``). Their notes go
        with the plan."""
        from strata.local.engine.history import AliasHistory
        from strata.local.engine.pins import apply_pins

        result, kept = self._kept_descriptions(stack_name, result)
        pinned = apply_pins(result.template, AliasHistory(self.state.db).pins(stack_name), force=force)
        result = result if pinned.template is result.template else replace(result, template=pinned.template)
        return result, replace(pinned, notes=kept + pinned.notes)

    def _kept_descriptions(self, stack_name: str, result: TransformResult) -> tuple[TransformResult, tuple[str, ...]]:
        """A deployed Version keeps its logical id and the description it was published with while its content is
        unchanged (``strata.transform.published``)."""
        from strata.transform.published import VERSION_TYPE, keep_published_descriptions, keep_unchanged_versions

        resources = self.state.resources(stack_name)
        deployed = {lid: res.properties.get("Description") for lid, res in resources.items()
                    if res.type == VERSION_TYPE}
        if not deployed:
            return result, ()
        carried = keep_unchanged_versions(result.template, result.functions, self.state.fingerprints(stack_name),
                                          set(deployed))
        if carried.template is not result.template:
            result = replace(result, template=carried.template, functions=carried.functions)
        resolver = Request(stack_name, result.template, dict(result.parameters), {}, self.region,
                           self.account_id, False).resolver()
        kept = keep_published_descriptions(result.template, result.functions, deployed, resolve=resolver.resolve)
        if kept.template is not result.template:
            result = replace(result, template=kept.template)
        return result, carried.notes + kept.notes

    def _plan(self, request: Request, functions: dict[str, FunctionVersionInfo], *, basis: bool = True) -> Plan:
        """``basis``: record the state revision and request digest the plan was made from, for a plan that may be
        executed later (``deploy(plan=...)``); a plan made under the stack's lock and executed at once needs neither
        (reading the whole state back to hash it is most of a no-op deploy's engine time)."""
        state = self.state
        resolver = request.resolver()
        desired = request.desired()
        stack = state.stack(request.stack_name)
        if stack is not None:     # the deployed values' NoEcho values are masked too ("old -> new")
            resolver.secrets |= secret_values(stack.template or {}, stack.parameters or {})
        recovering = state.has_unfinished_deploy(request.stack_name)
        made = make_plan(request.stack_name, desired, resolver, state.resources(request.stack_name),
                         functions=functions, previous_fingerprints=state.fingerprints(request.stack_name),
                         stored_outputs=stack.outputs if stack else {}, recovering=recovering,
                         previous_resources=_as_deployed(stack, request) if not recovering else None)
        if not basis:
            return made
        return replace(made, state_revision=state.revision(request.stack_name), request_digest=request.digest())

    # ---- deploy -------------------------------------------------------------------------------------------------
    def deploy(self, stack_name: str, result: TransformResult, *, execute: bool = True, strict: bool = False,
               disable_rollback: bool = False, wait: bool = False, force: bool = False,
               on_plan: Callable[[Plan], None] | None = None, plan: Plan | None = None,
               notes: tuple[str, ...] = (), parsed_by: Request | None = None) -> DeployReport:
        """Plan and (unless ``execute`` is false) apply; ``on_plan`` sees the plan before anything is changed.
        ``force`` moves aliases pinned by ``strata rollback`` forward again.

        ``plan``: a plan made earlier by ``plan()`` for the same ``result`` and ``force``, to be executed as it is;
        when the stack changed since it was made (another deploy, a rollback, a prune, a recovered interruption) or
        it was made for another request, ``StalePlan`` is raised before anything changes. ``notes``: the caller's
        warnings to show with the plan. ``parsed_by``: a request that parsed the same template (the preflight's),
        whose parse is reused (``Request.share_parse``)."""
        if not execute:
            result, pinned = self._pinned(stack_name, result, force)
            request = self.request_for(stack_name, result, disable_rollback=disable_rollback)
            request.share_parse(parsed_by)
            plan = plan or _noted(self._plan(request, result.functions), pinned.notes + notes)
            _check_strict(plan, strict)
            if on_plan is not None:
                on_plan(plan)
            return DeployReport(stack_name, plan, "not-executed")
        with StackLock(self.home, stack_name, wait=wait):
            recovered = self.recover(stack_name)
            result, pinned = self._pinned(stack_name, result, force)     # after recovery: it may have pinned
            request = self.request_for(stack_name, result, disable_rollback=disable_rollback)
            request.share_parse(parsed_by)
            if plan is None:      # made under the lock and executed at once: nothing can change in between
                plan = _noted(self._plan(request, result.functions, basis=False), pinned.notes + notes)
            else:
                _check_basis(plan, self.state.revision(stack_name), request.digest(), recovered)
            _check_strict(plan, strict)
            if on_plan is not None:
                on_plan(plan)
            if plan.is_empty:
                report = DeployReport(stack_name, plan, "no-changes", self._outputs(stack_name), recovered=recovered)
            else:
                report = self._run(request, plan)
                report.recovered = recovered
            if pinned.released and report.status in ("complete", "no-changes"):
                from strata.local.engine.history import AliasHistory

                with self.state.transaction():
                    for logical_id in pinned.released:
                        AliasHistory(self.state.db).unpin(stack_name, logical_id)
            return report

    def _run(self, request: Request, plan: Plan) -> DeployReport:
        from strata.local.engine.apply import planned_steps

        state, name = self.state, request.stack_name
        # the plan must cover this stack: checked before anything changes
        deployed = state.resources(name)     # read once: decoding a big stack's resources is not free
        planned_steps(plan, request.desired(), deployed)
        existing = state.stack(name)
        creating = existing is None or not deployed
        snapshot = {"resources": [resource_to_json(r) for r in deployed.values()],
                    "stack_status": existing.status if existing else None}
        with state.transaction():
            deploy_id = state.start_deploy(name, "deploy", request.to_json(), snapshot)
            state.put_stack(name, "CREATE_IN_PROGRESS" if creating else "UPDATE_IN_PROGRESS", deploy_id=deploy_id)
        executor = self._executor(name, deploy_id)
        executor.stack_event("CREATE_IN_PROGRESS" if creating else "UPDATE_IN_PROGRESS")
        report = self._continue(executor, request, plan, IN_PROGRESS, snapshot, creating, execute=plan)
        report.executed = tuple(executor.executed)
        return report

    def _continue(self, executor: Executor, request: Request, plan: Plan, phase: str, snapshot: dict[str, Any],
                  creating: bool, execute: Plan | None = None) -> DeployReport:
        """Run a deploy from ``phase`` to its end: the forward pass executes ``execute``, or (completing an interrupted
        deploy, no plan) converges on the request."""
        from strata.local.engine.apply import StepFailed

        state, name = self.state, request.stack_name
        prefix = "CREATE" if creating else "UPDATE"
        if phase == ROLLBACK:
            return self._rollback(executor, request, plan, snapshot, creating, None)
        if phase == IN_PROGRESS:
            try:
                outputs = executor.forward(request, execute)
            except StepFailed as failure:
                if request.disable_rollback:
                    with state.transaction():
                        state.set_deploy_status(executor.deploy_id, "FAILED", error=failure.message, finished=True)
                        state.put_stack(name, f"{prefix}_FAILED")
                    executor.stack_event(f"{prefix}_FAILED", failure.message)
                    return DeployReport(name, plan, "failed", error=failure)
                return self._rollback(executor, request, plan, snapshot, creating, failure)
        else:
            outputs = None
        desired = request.desired()
        failures = executor.cleanup(set(desired.resources))
        if outputs is None:       # resumed at cleanup: the outputs were resolved by the interrupted run
            outputs = _resolve_outputs(executor, request, state.resources(name))
        self.crash("before-complete")
        with state.transaction():
            stored = state.fingerprints(name)
            for fid, info in request.functions.items():
                if fid in desired.resources and stored.get(fid) != info:     # the others are stored as they are
                    state.put_fingerprint(name, fid, info)
            for fid in stored:
                if fid not in desired.resources:
                    state.drop_fingerprint(name, fid)
            state.put_stack(name, f"{prefix}_COMPLETE", template=request.template, parameters=request.parameters,
                            outputs=outputs)
            state.set_deploy_status(executor.deploy_id, "COMPLETE", finished=True)
        executor.stack_event(f"{prefix}_COMPLETE")
        return DeployReport(name, plan, "complete", outputs, cleanup_failures=failures)

    def _rollback(self, executor: Executor, request: Request, plan: Plan, snapshot: dict[str, Any],
                  creating: bool, failure: StepFailed | None) -> DeployReport:
        from strata.local.engine.apply import StepFailed

        state, name = self.state, request.stack_name
        if failure is not None:
            with state.transaction():
                state.set_deploy_status(executor.deploy_id, ROLLBACK, error=failure.message)
        label = "ROLLBACK" if creating else "UPDATE_ROLLBACK"
        executor.stack_event(f"{label}_IN_PROGRESS", failure.message if failure else None)
        problems = executor.rollback(snapshot)
        status = f"{label}_FAILED" if problems else f"{label}_COMPLETE"
        with state.transaction():
            state.set_deploy_status(executor.deploy_id, "ROLLBACK_FAILED" if problems else "ROLLED_BACK",
                                    error="; ".join(problems) or None, finished=True)
            state.put_stack(name, status)
        executor.stack_event(status, "; ".join(problems) or None)
        if failure is None:
            record = state.deploy(executor.deploy_id)
            failure = StepFailed(name, "AWS::CloudFormation::Stack", "deploy", (record.error if record else None)
                                 or "interrupted deploy rolled back")
        return DeployReport(name, plan, "rolled-back" if not problems else "failed", error=failure,
                            cleanup_failures=problems)

    # ---- recovery ---------------------------------------------------------------------------------------------------
    def recover(self, stack_name: str) -> str | None:
        """Complete (or finish rolling back) an interrupted deploy or delete of ``stack_name``; caller holds the
        lock. Returns a sentence saying what was done, or None when nothing was interrupted."""
        record = self.state.unfinished_deploy(stack_name)
        if record is None:
            return None
        if record.kind in OPERATIONS:        # an interrupted `strata rollback` / `strata prune`
            from strata.local.engine.operations import recover_operation

            said = recover_operation(self.state, self.client, record)
            more = self.recover(stack_name)
            return said if more is None else f"{said}; {more}"
        request = Request.from_json(record.request) if record.kind == "deploy" else None
        region = request.region if request else record.request.get("region", self.region)
        account = request.account_id if request else record.request.get("account_id", self.account_id)
        executor = self._executor(stack_name, record.id, region, account)
        executor.reconcile_open_intents()
        if record.kind == "delete":
            self._delete(executor, stack_name)
            return f"completed the interrupted delete of stack {stack_name} (deploy {record.id})"
        assert request is not None
        creating = not record.snapshot["resources"]
        empty_plan = Plan(stack_name, ())
        report = self._continue(executor, request, empty_plan, record.status, record.snapshot, creating)
        if report.status == "complete":
            return f"completed the interrupted deploy {record.id} of stack {stack_name}"
        return f"rolled back the interrupted deploy {record.id} of stack {stack_name}"

    # ---- delete -----------------------------------------------------------------------------------------------------
    def delete(self, stack_name: str, *, wait: bool = False) -> dict[str, Any]:
        if self.state.stack(stack_name) is None and not self.state.has_unfinished_deploy(stack_name):
            raise StateError(f"stack {stack_name!r} does not exist", hint="`strata stacks` lists the stacks")
        with StackLock(self.home, stack_name, wait=wait):
            self.recover(stack_name) if self.state.has_unfinished_deploy(stack_name) else None
            if self.state.stack(stack_name) is None:
                return {"StackName": stack_name, "Status": "DELETE_COMPLETE", "Retained": []}
            state = self.state
            snapshot = {"resources": [resource_to_json(r) for r in state.resources(stack_name).values()]}
            with state.transaction():
                deploy_id = state.start_deploy(stack_name, "delete", {"region": self.region,
                                                                      "account_id": self.account_id}, snapshot)
                state.put_stack(stack_name, "DELETE_IN_PROGRESS", deploy_id=deploy_id)
            executor = self._executor(stack_name, deploy_id)
            return self._delete(executor, stack_name)

    def _delete(self, executor: Executor, stack_name: str) -> dict[str, Any]:
        state = self.state
        executor.stack_event("DELETE_IN_PROGRESS")
        retained = [r.logical_id for r in state.resources(stack_name).values() if r.deletion_policy == "Retain"]
        failures = executor.cleanup(set())
        if failures:
            with state.transaction():
                state.set_deploy_status(executor.deploy_id, "FAILED", error="; ".join(failures), finished=True)
                state.put_stack(stack_name, "DELETE_FAILED")
            executor.stack_event("DELETE_FAILED", "; ".join(failures))
            raise StrataError(f"could not delete {', '.join(failures)} of stack {stack_name}",
                              hint="`strata events` shows why; fix it and run `strata delete` again")
        from strata.local.engine.history import AliasHistory
        from strata.local.engine.layer_owners import LayerOwners

        with state.transaction():
            state.drop_stack(stack_name)
            AliasHistory(state.db).forget_stack(stack_name)
            LayerOwners(state.db).retain_stack(stack_name)
            state.set_deploy_status(executor.deploy_id, "COMPLETE", finished=True)
        executor.stack_event("DELETE_COMPLETE")
        return {"StackName": stack_name, "Status": "DELETE_COMPLETE", "Retained": retained}

    # ---- reads ------------------------------------------------------------------------------------------------------
    def _outputs(self, stack_name: str) -> dict[str, Any]:
        stack = self.state.stack(stack_name)
        return stack.outputs if stack else {}


def _noted(plan: Plan, notes: tuple[str, ...]) -> Plan:
    """The plan with rollback-pin notes among its warnings (printed with it, and in its JSON)."""
    if not notes:
        return plan
    return replace(plan, warnings=plan.warnings + notes)


class StalePlan(StrataError):
    """The plan given to ``deploy`` was made over another state of the stack (or for another request)."""


def _check_basis(plan: Plan, revision: str, digest: str, recovered: str | None) -> None:
    """Refuse to execute ``plan`` unless the stack state and the request are the ones it was computed from."""
    if plan.state_revision != revision:
        why = f" ({recovered})" if recovered else ""
        raise StalePlan(f"the stack {plan.stack_name} changed since this plan was made{why}: another deploy, a "
                        "rollback, a prune or a change recorded in its state; nothing was changed",
                        hint="plan again")
    if plan.request_digest != digest:
        raise StalePlan(f"this plan of stack {plan.stack_name} was made for another template, parameters or options "
                        "(--force) than the ones being deployed; nothing was changed", hint="plan again")


def _check_strict(plan: Plan, strict: bool) -> None:
    if strict and (plan.not_emulated or plan.not_emulated_properties):
        changes = {c.logical_id: c.type for c in plan.changes}
        listed = [f"{lid} ({changes.get(lid, '?')})" for lid in plan.not_emulated]
        listed += [prop.split(":", 1)[0] for prop in plan.not_emulated_properties]
        raise StrataError(f"--strict: the local engine does not emulate {', '.join(listed)}",
                          hint="drop --strict to record them without running them, or deploy to AWS")


def _as_deployed(stack: StackRecord | None, request: Request) -> dict[str, Any] | None:
    """The Resources of the template the stack state was made from, when the state is exactly what it made: the
    last deploy completed (not failed, not rolled back: then the state may hold a mix) with the same parameters."""
    if stack is None or stack.status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE") or not stack.template:
        return None
    same = json.dumps(stack.parameters, sort_keys=True, default=str) == json.dumps(
        json.loads(json.dumps(request.parameters, default=str)), sort_keys=True, default=str)
    return stack.template.get("Resources") if same else None


def _resolve_outputs(executor: Executor, request: Request, deployed: dict) -> dict[str, Any]:
    """Outputs from the state alone (every resource is deployed by the time cleanup runs)."""
    resolver = request.resolver()
    desired = request.desired()
    for lid, res in deployed.items():
        resolver.set_known(lid, res.attributes, res.emulated)
    outputs: dict[str, Any] = {}
    for name, spec in desired.outputs.items():
        outputs[name] = {"Value": resolver.resolve(spec.get("Value"), ("Outputs", name, "Value")),
                         "Description": spec.get("Description")}
        if isinstance(spec.get("Export"), dict):      # as the forward pass records it: other stacks import it
            outputs[name]["ExportName"] = resolver.resolve(spec["Export"].get("Name"))
    return outputs


__all__ = ["DeployReport", "Engine", "Action", "StalePlan"]
