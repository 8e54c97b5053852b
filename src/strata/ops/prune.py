"""``strata prune``: delete function versions (and, asked, layer versions) that nothing needs, and say what it frees.

A function version of the stack is deleted only when all of these hold: it is not among the newest ``keep``; no alias
routes to it (primary or weighted, read live from Lambda); no rollback pins it (local); the stack's current template
does not name it (a Version resource of the stack). A layer version (with ``include_layers``, layers of the stack's
own LayerVersion resources only) is deleted only when the template does not name it, no function version that
remains, nor any ``$LATEST``, of any function the service lists uses it, and (local) the stack created it and still
holds it (``local.engine.layer_owners``: another stack's versions of the same layer name, and versions a stack's
delete retained, are kept). Bytes are Lambda's own accounting: a
version's ``CodeSize``, a layer version's ``Content.CodeSize``.

``plan_prune`` is pure (inventory in, ``PruneReport`` out); ``execute`` deletes through a boto3-style client, so the
same code serves the local service and AWS. Local: ``prune_local`` deletes through the engine's journal (each deletion
one step, ``local.engine.operations``) and drops, with each step's outcome, the records of the pruned version the stack
state still holds (pending-cleanup orphans, leftovers of a failed cleanup), so later deploys do not trip over them.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from strata.errors import StrataError
from strata.model.naming import LayerVersionRef, function_and_qualifier
from strata.model.routing import AliasRouting

FUNCTION = "AWS::Lambda::Function"
VERSION = "AWS::Lambda::Version"
ALIAS = "AWS::Lambda::Alias"
LAYER = "AWS::Lambda::LayerVersion"


@dataclass(frozen=True)
class PruneItem:
    kind: str                 # "function" | "layer"
    name: str                 # function name or layer name
    version: str
    bytes: int
    reason: str               # why it goes, or why it stays

    def to_dict(self) -> dict[str, Any]:
        return {"Kind": self.kind, "Name": self.name, "Version": self.version, "Bytes": self.bytes,
                "Reason": self.reason}


@dataclass
class PruneReport:
    """What prune deletes (or would, in a dry run) and what it keeps, with reasons; ``bytes_freed`` sums the
    deleted items (for a dry run: what a real run would free)."""

    target: str
    stack: str
    keep: int
    include_layers: bool
    dry_run: bool
    deleted: list[PruneItem] = field(default_factory=list)
    kept: list[PruneItem] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    dropped_from_state: list[str] = field(default_factory=list)

    @property
    def bytes_freed(self) -> int:
        return sum(i.bytes for i in self.deleted)

    def to_dict(self) -> dict[str, Any]:
        return {"Target": self.target, "StackName": self.stack, "Keep": self.keep,
                "IncludeLayers": self.include_layers, "DryRun": self.dry_run,
                "Deleted": [i.to_dict() for i in self.deleted], "Kept": [i.to_dict() for i in self.kept],
                "BytesFreed": self.bytes_freed, "Failures": self.failures,
                "DroppedFromState": self.dropped_from_state}

    def text(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        lines = [f"Prune stack {self.stack} ({self.target}, keep {self.keep}"
                 f"{', layers too' if self.include_layers else ''}){' - dry run' if self.dry_run else ''}:"]
        for item in self.deleted:
            lines.append(f"  {verb} {item.kind} {item.name}:{item.version}  {_size(item.bytes)}  ({item.reason})")
        for item in self.kept:
            lines.append(f"  kept {item.kind} {item.name}:{item.version}  ({item.reason})")
        lines += [f"  FAILED {f}" for f in self.failures]
        lines += [f"  dropped from the stack state: {d}" for d in self.dropped_from_state]
        lines.append(f"{'Would free' if self.dry_run else 'Freed'} {_size(self.bytes_freed)} "
                     f"({self.bytes_freed} bytes) in {len(self.deleted)} version(s).")
        return "\n".join(lines)


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


# ---- inventory (read through a boto3-style client) -------------------------------------------------------------------

@dataclass(frozen=True)
class VersionInfo:
    function_name: str
    version: str
    code_size: int
    layers: tuple[str, ...]


@dataclass
class Inventory:
    """What prune decides on: the stack's functions' versions and the routes and names protecting them."""

    versions: list[VersionInfo]                                    # numbered versions of the stack's functions
    protected: dict[tuple[str, str], str]                          # (function, version) -> reason
    layer_versions: list[tuple[str, int, int, str]] = field(default_factory=list)   # name, number, bytes, arn
    layer_protected: dict[str, str] = field(default_factory=dict)  # layer version arn -> reason
    layer_users: dict[str, set[tuple[str, str]]] = field(default_factory=dict)   # arn -> {(function, version)}


def _pages(call: Any, key: str, **params: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    marker = None
    while True:
        page = call(**params, **({"Marker": marker} if marker else {}))
        out += page.get(key, [])
        marker = page.get("NextMarker")
        if not marker:
            return out


def _layer_arns(config: dict[str, Any]) -> tuple[str, ...]:
    return tuple(layer["Arn"] if isinstance(layer, dict) else str(layer) for layer in config.get("Layers") or [])


def inventory(client: Any, functions: Iterable[str], *, named_versions: dict[tuple[str, str], str],
              pins: dict[tuple[str, str], str] | None = None, layer_names: Iterable[str] = (),
              named_layers: dict[str, str] | None = None) -> Inventory:
    """Read versions and aliases of ``functions``; with ``layer_names``, their layer versions and every function
    version in the service that uses one."""
    protected: dict[tuple[str, str], str] = {}
    versions: list[VersionInfo] = []
    for name in functions:
        for config in _pages(client.list_versions_by_function, "Versions", FunctionName=name):
            if config["Version"] != "$LATEST":
                versions.append(VersionInfo(name, config["Version"], int(config.get("CodeSize") or 0),
                                            _layer_arns(config)))
        for alias in _pages(client.list_aliases, "Aliases", FunctionName=name):
            routing = AliasRouting.from_api(alias)
            protected.setdefault((name, routing.primary), f"alias {alias['Name']} routes to it")
            for number, weight in routing.weights:
                protected.setdefault((name, number), f"alias {alias['Name']} routes {weight:.0%} of its traffic to it")
    for key, reason in (pins or {}).items():
        protected.setdefault(key, reason)
    for key, reason in named_versions.items():
        protected.setdefault(key, reason)
    inv = Inventory(versions, protected, layer_protected=dict(named_layers or {}))
    layer_names = sorted(set(layer_names))
    if not layer_names:
        return inv
    for layer in layer_names:
        for item in _pages(client.list_layer_versions, "LayerVersions", LayerName=layer):
            detail = client.get_layer_version(LayerName=layer, VersionNumber=int(item["Version"]))
            size = int((detail.get("Content") or {}).get("CodeSize") or 0)
            inv.layer_versions.append((layer, int(item["Version"]), size, item["LayerVersionArn"]))
    ours = {arn for _, _, _, arn in inv.layer_versions}
    for config in _pages(client.list_functions, "Functions", FunctionVersion="ALL"):
        for arn in _layer_arns(config):
            if arn in ours:
                inv.layer_users.setdefault(arn, set()).add((config["FunctionName"], config["Version"]))
    return inv


# ---- the decision (pure) ---------------------------------------------------------------------------------------------

def plan_prune(inv: Inventory, *, keep: int, include_layers: bool, target: str, stack: str,
               dry_run: bool) -> PruneReport:
    if keep < 0:
        raise StrataError("--keep must be 0 or more")
    report = PruneReport(target, stack, keep, include_layers, dry_run)
    doomed: set[tuple[str, str]] = set()
    by_function: dict[str, list[VersionInfo]] = {}
    for info in inv.versions:
        by_function.setdefault(info.function_name, []).append(info)
    for name, infos in by_function.items():
        newest = sorted(infos, key=lambda i: int(i.version), reverse=True)
        for rank, info in enumerate(newest):
            why = inv.protected.get((name, info.version))
            if why is None and rank < keep:
                why = f"one of the newest {keep}"
            if why is None:
                doomed.add((name, info.version))
                report.deleted.append(PruneItem("function", name, info.version, info.code_size,
                                                f"older than the newest {keep}, no alias, pin or template needs it"))
            else:
                report.kept.append(PruneItem("function", name, info.version, info.code_size, why))
    if include_layers:
        for layer, number, size, arn in sorted(inv.layer_versions):
            users = {u for u in inv.layer_users.get(arn, set()) if u not in doomed}
            why = inv.layer_protected.get(arn)
            if why is None and users:
                fn, version = sorted(users)[0]
                more = f" (+{len(users) - 1} more)" if len(users) > 1 else ""
                why = f"used by {fn}:{version}{more}"
            if why is None:
                report.deleted.append(PruneItem("layer", layer, str(number), size,
                                                "no remaining function version or $LATEST uses it"))
            else:
                report.kept.append(PruneItem("layer", layer, str(number), size, why))
    return report


def execute(client: Any, report: PruneReport) -> PruneReport:
    """Delete what ``report`` lists (functions first, so layers they used are free); failures are listed, and the
    items that failed move to ``kept``."""
    done: list[PruneItem] = []
    for item in _execution_order(report.deleted):
        try:
            if item.kind == "function":
                client.delete_function(FunctionName=item.name, Qualifier=item.version)
            else:
                client.delete_layer_version(LayerName=item.name, VersionNumber=int(item.version))
        except Exception as exc:  # noqa: BLE001 - one refusal (an alias moved meanwhile) must not stop the rest
            message = getattr(exc, "message", None) or str(exc)
            report.failures.append(f"{item.kind} {item.name}:{item.version}: {message}")
            report.kept.append(PruneItem(item.kind, item.name, item.version, item.bytes, f"delete failed: {message}"))
            continue
        done.append(item)
    report.deleted = done
    return report


# ---- settings: template Metadata or samconfig ----------------------------------------------------------------------

@dataclass(frozen=True)
class PruneSettings:
    keep: int
    include_layers: bool = False
    source: str = ""


def prune_settings(template: dict[str, Any], samconfig: dict[str, Any] | None = None) -> PruneSettings | None:
    """Automatic pruning after deploy: ``Metadata: strata: prune: {keep: N, include_layers: bool}`` in the template,
    else ``strata_prune_keep = N`` (and ``strata_prune_include_layers``) in samconfig.toml's deploy parameters."""
    spec = ((template.get("Metadata") or {}).get("strata") or {}).get("prune") \
        if isinstance(template.get("Metadata"), dict) else None
    if isinstance(spec, dict) and spec.get("keep") is not None:
        return PruneSettings(_int(spec["keep"], "Metadata.strata.prune.keep"), _bool(spec.get("include_layers")),
                             "template Metadata strata.prune")
    sam = samconfig or {}
    if sam.get("strata_prune_keep") is not None:
        return PruneSettings(_int(sam["strata_prune_keep"], "samconfig strata_prune_keep"),
                             _bool(sam.get("strata_prune_include_layers")), "samconfig.toml strata_prune_keep")
    return None


def _int(value: Any, where: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise StrataError(f"{where} must be a whole number, not {value!r}") from None
    if number < 0:
        raise StrataError(f"{where} must be 0 or more, not {number}")
    return number


def _bool(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1", "yes")


# ---- local -----------------------------------------------------------------------------------------------------------

def prune_local(home: Path, stack_name: str, *, keep: int, include_layers: bool = False, dry_run: bool = False,
                region: str = "us-east-1", account_id: str = "123456789012", client: Any = None,
                crash: Any = None) -> PruneReport:
    """Prune the locally deployed ``stack_name`` under its lock. The deletions go through the engine's journal
    (``local.engine.operations``; an interrupted rollback or prune of the stack is completed first)."""
    from strata.local.engine.client import LocalLambdaClient
    from strata.local.engine.history import AliasHistory
    from strata.local.engine.layer_owners import LayerOwners
    from strata.local.engine.lock import StackLock
    from strata.local.engine.operations import settle
    from strata.local.engine.state import StackState

    home = Path(home)
    owned = client is None
    client = client or LocalLambdaClient(home, region=region, account_id=account_id)
    state = StackState(home)
    try:
        with StackLock(home, stack_name):
            settle(state, client, stack_name)
            record = state.stack(stack_name)
            if record is None:
                raise StrataError(f"stack {stack_name!r} does not exist", hint="`strata stacks` lists the stacks")
            if state.has_unfinished_deploy(stack_name):
                raise StrataError(f"stack {stack_name} has an interrupted deploy",
                                  hint="run `strata deploy` to complete it first")
            resources = state.resources(stack_name)
            in_template = set((record.template or {}).get("Resources") or {})
            functions = [r.physical_id for r in resources.values() if r.type == FUNCTION]
            named = {function_and_qualifier(r.physical_id): f"the stack's template names it ({r.logical_id})"
                     for r in resources.values() if r.type == VERSION and r.logical_id in in_template}
            pins = {(p.function_name, p.version): f"alias {p.alias} is pinned to it by rollback"
                    for p in AliasHistory(state.db).pins(stack_name).values()}
            layers = [r for r in resources.values() if r.type == LAYER]
            inv = inventory(client, functions, named_versions=named, pins=pins,
                            layer_names=[LayerVersionRef.parse(r.physical_id).name for r in layers]
                            if include_layers else (),
                            named_layers={r.physical_id: f"the stack's template names it ({r.logical_id})"
                                          for r in layers if r.logical_id in in_template})
            if include_layers:
                _protect_others(inv, LayerOwners(state.db), stack_name)
            report = plan_prune(inv, keep=keep, include_layers=include_layers, target="local", stack=stack_name,
                                dry_run=dry_run)
            if dry_run:
                return report
            return _execute_local(state, client, stack_name, report, crash)
    finally:
        state.close()
        if owned:
            client.close()


def _protect_others(inv: Inventory, owners: Any, stack_name: str) -> None:
    """Keep every listed layer version that ``stack_name`` did not create, or that a delete retained (a layer name
    is the account's: other stacks publish versions of it too)."""
    from strata.local.engine.layer_owners import NO_OWNER

    recorded = owners.owners({layer for layer, _, _, _ in inv.layer_versions})
    for layer, number, _, arn in inv.layer_versions:
        owner = recorded.get((layer, number))
        reason = NO_OWNER if owner is None else owner.reason(stack_name)
        if reason is not None:
            inv.layer_protected.setdefault(arn, reason)


def _execute_local(state: Any, client: Any, stack_name: str, report: PruneReport, crash: Any) -> PruneReport:
    """``execute`` through the engine's journal: each deletion one step, the stack's records of what went (resources,
    pending-cleanup orphans) dropped with its outcome, so later deploys do not trip over them."""
    from strata.local.engine.operations import Deletion, delete_versions

    items = {(i.kind, i.name, i.version): i for i in _execution_order(report.deleted)}
    outcomes = delete_versions(state, client, stack_name, [Deletion(*key) for key in items], crash=crash)
    report.deleted = []
    for outcome in outcomes:
        d = outcome.deletion
        item = items[(d.kind, d.name, d.version)]
        if outcome.error is not None:
            report.failures.append(f"{item.kind} {item.name}:{item.version}: {outcome.error}")
            report.kept.append(PruneItem(item.kind, item.name, item.version, item.bytes,
                                         f"delete failed: {outcome.error}"))
        else:
            report.deleted.append(item)
            report.dropped_from_state += outcome.dropped
    return report


def _execution_order(items: list[PruneItem]) -> list[PruneItem]:
    """Functions first, so the layers they used are free."""
    return sorted(items, key=lambda i: (i.kind != "function", i.name, int(i.version)))


# ---- aws -------------------------------------------------------------------------------------------------------------

def prune_aws(session: Any, stack_name: str, *, keep: int, include_layers: bool = False,
              dry_run: bool = False) -> PruneReport:
    """Prune the CloudFormation stack's functions (and its LayerVersion resources' layers) through boto3."""
    from strata.aws.errors import aws_errors

    cfn, lam = session.client("cloudformation"), session.client("lambda")
    with aws_errors(f"pruning stack {stack_name}", stack=stack_name, profile=session.profile):
        resources: list[dict[str, Any]] = []
        token = None
        while True:
            page = cfn.list_stack_resources(StackName=stack_name, **({"NextToken": token} if token else {}))
            resources += page.get("StackResourceSummaries", [])
            token = page.get("NextToken")
            if not token:
                break
        live = [r for r in resources if r.get("PhysicalResourceId") and "DELETE" not in r.get("ResourceStatus", "")]
        functions = [r["PhysicalResourceId"] for r in live if r["ResourceType"] == FUNCTION]
        named = {function_and_qualifier(r["PhysicalResourceId"]): f"the stack's template names it "
                 f"({r['LogicalResourceId']})" for r in live if r["ResourceType"] == VERSION}
        layers = [r for r in live if r["ResourceType"] == LAYER]
        inv = inventory(lam, functions, named_versions=named,
                        layer_names=[LayerVersionRef.parse(r["PhysicalResourceId"]).name for r in layers]
                        if include_layers else (),
                        named_layers={r["PhysicalResourceId"]: f"the stack's template names it "
                                      f"({r['LogicalResourceId']})" for r in layers})
        report = plan_prune(inv, keep=keep, include_layers=include_layers, target="aws", stack=stack_name,
                            dry_run=dry_run)
        if not dry_run:
            execute(lam, report)
        return report
