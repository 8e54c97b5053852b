"""``strata rollback``: move an alias back to the version it served before (or to a given one), after checking that
version is still fit to serve; on the local target record it as a pin the next deploy respects.

Local: under the stack's lock, the alias history (``engine.history``) says what the alias served before: the newest
version it served that is older than the current one and was not itself rolled back from. The target is checked
(``ops.checks``: exists, layers not deleted, code and settings as recorded, code bytes still stored), the alias
moved with UpdateAlias (routing cleared) through the engine's journal (``local.engine.operations``: intent, call,
then in one transaction the Alias resource's properties, a history row (cause "rollback"), a pin and an event), so a
rollback killed at any point is completed by the next command that opens the stack. Then the stack is verified (pins
included).

AWS (``rollback_aws``): CloudFormation keeps no history or pin, so "previous" is the highest existing version below
the current one, and the next deploy moves the alias forward again (the report says so).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from strata.errors import StrataError
from strata.local.engine.history import ROLLBACK, AliasMove
from strata.model.naming import function_and_qualifier, sha256_hex_of
from strata.model.routing import AliasRouting
from strata.ops.checks import VersionCheck, check_version

ALIAS = "AWS::Lambda::Alias"


@dataclass
class RollbackReport:
    """What a rollback did (a value: printed as text or JSON)."""

    target: str                       # local | aws
    stack: str
    function: str                     # logical id (or the name given)
    function_name: str
    alias: str
    from_version: str
    to_version: str
    from_routing: dict[str, float] = field(default_factory=dict)
    pinned: bool = False
    checks: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    verify: Any = None                # VerifyReport (local) or None

    def to_dict(self) -> dict[str, Any]:
        return {"Target": self.target, "StackName": self.stack, "Function": self.function,
                "FunctionName": self.function_name, "Alias": self.alias, "FromVersion": self.from_version,
                "FromRouting": self.from_routing, "ToVersion": self.to_version, "Pinned": self.pinned,
                "Checks": self.checks, "Notes": self.notes,
                "Verify": self.verify.to_json() if self.verify is not None else None}

    def text(self) -> str:
        routing = "".join(f" (+{w:.0%} to {v})" for v, w in self.from_routing.items())
        lines = [f"Rolled back alias {self.alias} of {self.function} ({self.function_name}): "
                 f"version {self.from_version}{routing} -> {self.to_version}"]
        lines += [f"  checked: {c}" for c in self.checks]
        if self.pinned:
            lines.append(f"  pinned: the next `strata deploy` leaves {self.alias} on version {self.to_version} "
                         "(`strata deploy --force` moves it forward)")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


class RollbackRefused(StrataError):
    """The target version is not fit to serve (or there is none)."""


def previous_version(moves: list[AliasMove], current: str, existing: list[str]) -> str | None:
    """The version the alias served before ``current``: newest first among the versions it served (by the history)
    that are older than ``current``, still exist, and were not rolled back from; without history, the highest
    existing version below ``current``."""
    numbers = {v for v in existing if v.isdigit()}
    bad = {m.from_version for m in moves if m.cause == ROLLBACK and m.from_version}
    def older(v: str) -> bool:
        return v.isdigit() and current.isdigit() and int(v) < int(current)
    for move in reversed(moves):
        v = move.to_version
        if v != current and older(v) and v not in bad and v in numbers:
            return v
    below = sorted((int(v) for v in numbers if older(v) and v not in bad), reverse=True)
    return str(below[0]) if below else None


def refuse_unless_fit(check: VersionCheck, function_name: str, alias: str) -> None:
    if not check.ok:
        raise RollbackRefused(f"refusing to move alias {alias} of {function_name} to version {check.version}: "
                              + "; ".join(check.problems),
                              hint="pick another version with --to-version, or deploy a fixed version")


def _versions(client: Any, function_name: str) -> list[str]:
    out: list[str] = []
    marker = None
    while True:
        page = client.list_versions_by_function(FunctionName=function_name, **({"Marker": marker} if marker else {}))
        out += [v["Version"] for v in page.get("Versions", [])]
        marker = page.get("NextMarker")
        if not marker:
            return out


def _target_version(logical_id: str, alias: str, current: str, routing: dict[str, float], to_version: str | None,
                    candidates: Callable[[], tuple[list, list[str]]]) -> str:
    """The version to move ``alias`` to: ``to_version``, else the one before ``current`` (``candidates()`` gives the
    alias's recorded moves and the published versions, asked only then). Refuses a no-op move."""
    if to_version is None:
        moves, versions = candidates()
        to_version = previous_version(moves, current, versions)
        if to_version is None:
            raise RollbackRefused(f"alias {alias} of {logical_id} has no earlier version to go back to "
                                  f"(it serves version {current})", hint="pass --to-version N")
    to_version = str(to_version)
    if to_version == current and not routing:
        raise RollbackRefused(f"alias {alias} of {logical_id} already serves version {to_version}")
    return to_version


def _routing(alias: dict[str, Any]) -> dict[str, float]:
    return AliasRouting.from_api(alias).weight_map()


# ---- local ----------------------------------------------------------------------------------------------------------

def rollback_local(home: Path, stack_name: str, function: str, *, alias: str = "live", to_version: str | None = None,
                   region: str = "us-east-1", account_id: str = "123456789012", client: Any = None,
                   clock: Callable[[], float] = time.time, verify: bool = True,
                   crash: Any = None) -> RollbackReport:
    """Move ``alias`` of ``function`` (logical id or name) in ``stack_name`` back, pin it, verify the stack.

    The move goes through the engine's journal (``local.engine.operations``): an interrupted rollback or prune of
    the stack is completed first, and when that was this same rollback (same alias, and the same ``to_version`` if
    one is given), its completion is this command's result: running the command again after a crash rolls back once.
    """
    from strata.artifacts.store import ArtifactStore
    from strata.local.engine.client import LocalLambdaClient
    from strata.local.engine.describe import stack_function
    from strata.local.engine.history import AliasHistory
    from strata.local.engine.lock import StackLock
    from strata.local.engine.operations import AliasRollback, roll_back_alias, settle
    from strata.local.engine.state import StackState

    home = Path(home)
    owned = client is None
    client = client or LocalLambdaClient(home, region=region, account_id=account_id)
    state = StackState(home, clock=clock)
    try:
        with StackLock(home, stack_name):
            settled = settle(state, client, stack_name)
            if state.has_unfinished_deploy(stack_name):
                raise StrataError(f"stack {stack_name} has an interrupted deploy",
                                  hint="run `strata deploy` to complete it first")
            resources = state.resources(stack_name)
            if state.stack(stack_name) is None:
                raise StrataError(f"stack {stack_name!r} does not exist", hint="`strata stacks` lists the stacks")
            found = stack_function(resources, function, stack_name)
            logical_id, name = found.logical_id, found.physical_id
            alias_res = next((r for r in resources.values() if r.type == ALIAS
                              and function_and_qualifier(r.physical_id) == (name, alias)), None)
            if alias_res is None:
                known = sorted(qualifier for function_name, qualifier in
                               (function_and_qualifier(r.physical_id) for r in resources.values() if r.type == ALIAS)
                               if function_name == name)
                raise StrataError(f"{logical_id} has no alias {alias!r} in stack {stack_name} "
                                  f"(aliases: {', '.join(known) or 'none'})", hint="pass --alias NAME")
            resumed = _resumed(state, settled, name, alias, to_version)
            if resumed is not None:
                move, said = resumed
                report = RollbackReport("local", stack_name, logical_id, name, alias, move.from_version,
                                        move.to_version, dict(move.from_routing), True,
                                        notes=[said[:1].upper() + said[1:]])
            else:
                live = client.get_alias(FunctionName=name, Name=alias)
                current, routing = str(live["FunctionVersion"]), _routing(live)
                history = AliasHistory(state.db)
                to_version = _target_version(logical_id, alias, current, routing, to_version,
                                             lambda: (history.moves(name, alias), _versions(client, name)))
                store = ArtifactStore(home)
                expected = history.expected_for(name, to_version)
                check = check_version(client, name, to_version, expected,
                                      code_present=lambda sha: store.has(sha256_hex_of(sha)))
                refuse_unless_fit(check, name, alias)
                roll_back_alias(state, client, AliasRollback(stack_name, alias_res.logical_id, name, alias, current,
                                                             to_version, routing, expected), crash=crash)
                report = RollbackReport("local", stack_name, logical_id, name, alias, current, to_version, routing,
                                        True, check.checked, notes=[s[:1].upper() + s[1:] for _, s in settled])
        if verify:
            from strata.local.verify import verify_local

            report.verify = verify_local(home, stack_name, region=region, account_id=account_id, client=client)
        return report
    finally:
        state.close()
        if owned:
            client.close()


def _resumed(state: Any, settled: list, name: str, alias: str, to_version: str | None) -> tuple[Any, str] | None:
    """The interrupted rollback of this alias just completed (and, with ``to_version``, to that version), if any."""
    from strata.local.engine.journal import ROLLBACK_OP
    from strata.local.engine.operations import AliasRollback

    for record, said in settled:
        if record.kind != ROLLBACK_OP or "rollback" not in record.request:   # an old record's request is forgotten
            continue
        move = AliasRollback.from_json(record.request["rollback"])
        finished = state.deploy(record.id)
        if (move.function_name, move.alias) == (name, alias) and finished is not None \
                and finished.status == "COMPLETE" and to_version in (None, move.to_version):
            return move, said
    return None


# ---- aws ------------------------------------------------------------------------------------------------------------

def rollback_aws(session: Any, stack_name: str, function: str, *, alias: str = "live",
                 to_version: str | None = None) -> RollbackReport:
    """UpdateAlias through boto3 after the same checks; CloudFormation keeps no pin."""
    from strata.aws.errors import aws_errors
    from strata.aws.stack import stack_function

    lam = session.client("lambda")
    where = f"rolling back alias {alias} of {function} in stack {stack_name}"
    with aws_errors(where, stack=stack_name, profile=session.profile):
        logical_id, name = stack_function(session.client("cloudformation"), stack_name, function, or_name=True)
        live = lam.get_alias(FunctionName=name, Name=alias)
        current, routing = str(live["FunctionVersion"]), _routing(live)
        to_version = _target_version(logical_id, alias, current, routing, to_version,
                                     lambda: ([], _versions(lam, name)))
        check = check_version(lam, name, to_version, None)
        refuse_unless_fit(check, name, alias)
        lam.update_alias(FunctionName=name, Name=alias, **AliasRouting(to_version).to_api())
        after = lam.get_alias(FunctionName=name, Name=alias)
    report = RollbackReport("aws", stack_name, logical_id, name, alias, current, to_version, routing, False,
                            check.checked)
    if str(after.get("FunctionVersion")) != to_version or _routing(after):
        raise StrataError(f"alias {alias} of {name} serves version {after.get('FunctionVersion')} after the rollback "
                          f"to {to_version}", hint="another deployment may be moving it; check CodeDeploy")
    report.checks.append(f"alias {alias} now routes all traffic to version {to_version}")
    report.notes.append("CloudFormation keeps no pin: the next `strata deploy --target aws` moves the alias forward "
                        "to the template's version")
    return report


