"""verify on the local target: the deployed stack from the engine's state, the live functions from the local Lambda
service (through the engine's boto3-style ``LocalLambdaClient``), same checker as AWS.

Besides what the functions serve, the bytes behind them: every stored zip the stack's function versions and layer
versions use must exist and hash to its name, and each one unpacked for an invoke must still hold what it unpacked
to (``strata.local.verify_artifacts``); ``repair`` writes a damaged zip again by building ``template_path``, when
that build produces the same bytes, and unpacks a damaged tree again from its zip.

The engine records, per stack, the stack template and parameter values of the last successful deploy and, per
resource, its physical id and GetAtt attributes (``strata.local.engine.state.StackState``); that is the
``DeployedStack``.
"""
from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

from strata.errors import StateError
from strata.verify import verify_stack
from strata.verify.model import DeployedStack, StackResource, VerifyReport

if TYPE_CHECKING:
    from strata.local.engine.client import LambdaClient

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "123456789012"


def local_deployed_stack(home: Path, stack_name: str, *, region: str = DEFAULT_REGION,
                         account_id: str = DEFAULT_ACCOUNT) -> DeployedStack:
    """What the local engine deployed for ``stack_name``."""
    from strata.local.engine.state import StackState

    state = StackState(Path(home))
    try:
        record = state.stack(stack_name)
        if record is None:
            names = ", ".join(s.name for s in state.stacks()) or "none"
            raise StateError(f"stack {stack_name!r} does not exist locally (stacks: {names})",
                             hint="deploy it with `strata deploy`, or pass --stack-name")
        resources = state.resources(stack_name)
    finally:
        state.close()
    if not record.template:
        raise StateError(f"stack {stack_name!r} has no completed deploy to verify ({record.status})",
                         hint="run `strata deploy` first")
    return DeployedStack(
        name=stack_name, template=record.template, parameters=dict(record.parameters or {}),
        resources={lid: StackResource(lid, res.type, res.physical_id, dict(res.attributes))
                   for lid, res in resources.items()},
        region=region, account_id=account_id, status=record.status, outputs=dict(record.outputs or {}))


def verify_local(home: Path, stack_name: str, *, region: str = DEFAULT_REGION, account_id: str = DEFAULT_ACCOUNT,
                 repair: bool = False, client: LambdaClient | None = None,
                 only: Collection[str] | None = None, template_path: Path | None = None) -> VerifyReport:
    """Check (and with ``repair`` fix) every function of a locally deployed stack, or those in ``only``; through
    ``client`` when given (the caller's, left open), else a ``LocalLambdaClient`` of its own. ``template_path`` is
    what ``repair`` builds to restore damaged stored artifacts."""
    from strata.local.engine.client import LocalLambdaClient
    from strata.local.engine.operations import settle_if_free
    from strata.local.preflight import can_run_here
    from strata.local.verify_artifacts import check_bytes, stack_uses
    from strata.local.verify_pins import check_pins, pinned_aliases, without_pinned

    owned = None
    if client is None:
        client = owned = LocalLambdaClient(Path(home), region=region, account_id=account_id)
    reader: LambdaClient = client
    try:
        # an interrupted `strata rollback` / `strata prune` is completed first, so the alias, its pin and the
        # stack's records agree before they are compared (an interrupted deploy is `strata deploy`'s to complete)
        settled = settle_if_free(Path(home), stack_name, reader)
        stack = local_deployed_stack(home, stack_name, region=region, account_id=account_id)
        uses = stack_uses(home, stack.resources, only)
        sound = check_bytes(home, uses, repair=repair, template_path=template_path)
        pins = pinned_aliases(home, stack)       # aliases held by `strata rollback`: checked (never repaired) apart
        report = verify_stack(without_pinned(stack, pins), reader, target="local", repair=repair,
                              sleep=lambda _s: None, only=only, can_run=can_run_here(home))
        report = check_pins(reader, pins, report)
        report.findings[:0] = sound.findings
        report.repairs[:0] = sound.repairs
        report.notes[:0] = sound.notes
        report.artifacts, report.unpacked = len(uses), sound.trees
        report.notes[:0] = [said[:1].upper() + said[1:] for said in settled]
        return report
    finally:
        if owned is not None:
            owned.close()
