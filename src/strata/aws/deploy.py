"""``strata deploy --target aws``: build + transform, upload, change set, show, execute, follow, verify.

Contract: the only module of the AWS target that changes anything (S3 objects, the change set, the stack), and it
changes them in that order; everything it prints goes through ``out`` (plan and results) and ``progress`` (events).
Steps:
1. transform with code in ``s3://<bucket>/<prefix><sha256>.zip`` (the same content-addressed keys as the store);
2. upload the artifacts S3 does not hold yet (HeadObject), and the packaged local files (``strata.transform.package``:
   definitions, includes, nested stack templates and their code) under content-addressed keys as ``sam package`` does;
3. read the deployed stack; keep deployed Version ids whose content is unchanged (``adoption``); record fingerprint
   inputs in ``Metadata.strata.fingerprints``;
4. create the change set (CREATE for a new stack, UPDATE otherwise); an empty one is deleted and means "no changes";
5. show each resource's action and, for every new Version, which fingerprint inputs changed;
6. execute, follow events to a terminal status (a failure raises with the first failure's reason), read outputs;
7. verify (unless ``verify=False``).
It takes the same ``DeploySettings`` and returns the same ``DeployResult`` as the local orchestrator
(``strata.deploy.local``); the settings come resolved (``strata.deploy.settings``).
"""
from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from strata.aws.adoption import Adoption, adopt_versions, parameter_text
from strata.aws.changeset import (
    TEMPLATE_BODY_LIMIT,
    ChangeSet,
    ChangeSetRequest,
    create_change_set,
    delete_change_set,
    execute_change_set,
)
from strata.aws.errors import DeployFailedError, StackStateError
from strata.aws.events import StackEvent, follow_stack, newest_event_id
from strata.aws.fingerprints import recorded_fingerprints, version_reasons, with_fingerprints
from strata.aws.session import AwsSession
from strata.aws.stack import EMPTY_STATUSES, describe_stack, read_deployed_stack
from strata.aws.upload import check_bucket, normalise_prefix, upload_artifacts, upload_files, upload_template
from strata.errors import StrataError
from strata.model.deploy import AWS, DeployResult, DeploySettings
from strata.template.context import context_for
from strata.template.intrinsics import evaluate
from strata.transform.published import keep_published_descriptions
from strata.transform.versions import VERSION_TYPE
from strata.verify.expected import stack_context
from strata.verify.model import DeployedStack

# Statuses from which an update can start.
UPDATABLE = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE",
                       "IMPORT_ROLLBACK_COMPLETE"})


class VerifyFailedError(StrataError):
    """The deploy finished but a function does not serve what was deployed."""


@dataclass
class VersionPlan:
    function_id: str
    version_id: str | None
    action: str                  # "publish", "keep", "adopt"
    reasons: list[str]


def deploy_to_aws(config: DeploySettings, *, session: AwsSession | None = None,
                  out: Callable[[str], None] = print, progress: Callable[[str], None] | None = None,
                  warn: Callable[[str], None] | None = None,
                  sleep: Callable[[float], None] = time.sleep,
                  confirm: Callable[[str], bool] | None = None) -> DeployResult:
    """Deploy ``config.template_path`` to the CloudFormation stack ``config.stack_name``; see the module docstring.
    ``outcome``: deployed | no-changes | change-set-created; ``status`` the stack's status. ``confirm`` asks the
    question of ``confirm_changeset`` (no answer: not executed)."""
    from strata.transform.package import S3Packaging
    from strata.transform.pipeline import transform

    progress = progress or out
    if not config.s3_bucket and not config.resolve_s3:
        raise StrataError("no S3 bucket for the code artifacts", hint="pass --s3-bucket or --resolve-s3, or set "
                          "s3_bucket or resolve_s3 in samconfig.toml [default.deploy.parameters]")
    session = session or AwsSession(config.region, config.profile, config.endpoint_url)
    cfn, s3 = session.client("cloudformation"), session.client("s3")
    prefix = normalise_prefix(config.s3_prefix)

    description = describe_stack(cfn, config.stack_name)
    status = description.get("StackStatus") if description else None
    _check_status(config.stack_name, status)
    account_id = session.account_id()
    bucket = config.s3_bucket
    if not bucket:
        from strata.aws.managed_bucket import managed_bucket

        bucket = managed_bucket(cfn, out=progress, sleep=sleep)
    check_bucket(s3, bucket)

    previous = {} if status is None or status in EMPTY_STATUSES else previous_parameters(description or {})
    kept = {k: v for k, v in previous.items() if k not in config.parameter_overrides}
    result = transform(config.template_path, parameter_overrides=config.parameter_overrides,
                       region=session.region_name, account_id=account_id, stack_name=config.stack_name,
                       home=config.home, code_bucket=bucket, code_prefix=prefix, previous_parameters=kept,
                       packaging=S3Packaging(bucket, prefix, config.endpoint_url or
                                             f"https://s3.{session.region_name}.amazonaws.com"))
    uploads = upload_artifacts(s3, result.artifacts, bucket, prefix, progress=progress, kms_key_id=config.kms_key_id)
    upload_files(s3, result.uploads, bucket, uploads, progress=progress, kms_key_id=config.kms_key_id)
    out(f"Artifacts: {len(uploads.uploaded)} uploaded, {len(uploads.present)} already in "
        f"s3://{bucket}/{prefix}")

    deployed = read_deployed_stack(cfn, config.stack_name, region=session.region_name, account_id=account_id,
                                   partition=session.partition, description=description)
    template = result.template
    adoptions: list[Adoption] = []
    if deployed is not None:
        template, adoptions = adopt_versions(template, result.functions, result.parameters, deployed,
                                             session.client("lambda"))
    functions = _after_adoption(result.functions, adoptions)
    notes: tuple[str, ...] = ()
    if deployed is not None:
        template, notes = keep_published(template, functions, result.parameters, deployed)
    template = with_fingerprints(template, functions)
    versions = plan_versions(functions, adoptions, deployed.template if deployed else None, notes)

    body = json.dumps(template, indent=1, sort_keys=False)
    url = None
    if len(body.encode()) > TEMPLATE_BODY_LIMIT:
        url = upload_template(s3, body, bucket, prefix, region=session.region_name,
                              endpoint_url=config.endpoint_url)
    request = ChangeSetRequest(
        stack_name=config.stack_name, template_body=None if url else body, template_url=url,
        change_set_type="UPDATE" if deployed is not None else "CREATE",
        parameters=_stack_parameters(template, config.parameter_overrides), capabilities=tuple(config.capabilities),
        tags=dict(config.tags), role_arn=config.role_arn, notification_arns=tuple(config.notification_arns),
        keep_previous=tuple(k for k in kept if k in (template.get("Parameters") or {})) if deployed else ())
    change_set = create_change_set(cfn, request, sleep=sleep)
    outcome = DeployResult(AWS, config.stack_name, "no-changes", status=status, change_set=change_set,
                           uploads=uploads, versions=versions, adoptions=adoptions)
    if change_set.empty:
        delete_change_set(cfn, change_set)
        out(f"No changes: stack {config.stack_name} already matches the template.")
        _show_adoptions(adoptions, out)
        for note in notes:        # a non-empty change set says them with its Versions
            out(f"note: {note}")
        if config.fail_on_empty_changeset:
            raise StrataError(f"no changes to deploy: stack {config.stack_name} is up to date "
                              "(--fail-on-empty-changeset)", hint="drop --fail-on-empty-changeset (or "
                              "fail_on_empty_changeset in samconfig.toml) to make this a success")
    else:
        show_plan(change_set, versions, out)
        if config.execute and config.confirm_changeset and not (confirm or _decline)("Deploy this changeset?"):
            out(f"Change set {change_set.name} created, not executed (not confirmed). Execute it with:\n"
                f"  aws cloudformation execute-change-set --stack-name {config.stack_name} "
                f"--change-set-name {change_set.name}")
            outcome.outcome = "change-set-created"
            return outcome
        if not config.execute:
            out(f"Change set {change_set.name} created, not executed (--no-execute-changeset). Execute it with:\n"
                f"  aws cloudformation execute-change-set --stack-name {config.stack_name} "
                f"--change-set-name {change_set.name}")
            outcome.outcome = "change-set-created"
            return outcome
        try:
            outcome.status = _execute(cfn, change_set, progress, sleep, disable_rollback=config.disable_rollback
                                      or config.on_failure == "DO_NOTHING")
        except DeployFailedError:
            if config.on_failure == "DELETE" and change_set.change_set_type == "CREATE":
                _delete_failed_stack(cfn, config.stack_name, progress, sleep)
            raise
        outcome.outcome = "deployed"
    final = describe_stack(cfn, config.stack_name) or {}
    outcome.outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in final.get("Outputs") or []}
    if outcome.outputs:
        out("Outputs:")
        for key, value in sorted(outcome.outputs.items()):
            out(f"  {key} = {value}")
    if config.verify:
        from strata.aws.verify import verify_aws

        report = verify_aws(session, config.stack_name, sleep=sleep)
        outcome.verify = report
        if not report.ok:
            for finding in report.findings:
                out(f"  {finding}")
            raise VerifyFailedError(
                f"stack {config.stack_name} deployed, but {len(report.findings)} "
                f"{'function setting does' if len(report.findings) == 1 else 'function settings do'} not match "
                "what was deployed", hint=f"run `strata verify --target aws --stack-name {config.stack_name} --repair`")
        out(f"Verified: every function of {config.stack_name} serves what was deployed.")
    return outcome


def _check_status(stack_name: str, status: str | None) -> None:
    if status is None or status in EMPTY_STATUSES or status in UPDATABLE:
        return
    if status == "ROLLBACK_COMPLETE":
        raise StackStateError(
            f"stack {stack_name} is in ROLLBACK_COMPLETE: its first creation failed, and it cannot be updated",
            hint=f"delete it (aws cloudformation delete-stack --stack-name {stack_name}) and deploy again")
    if status.endswith("_IN_PROGRESS"):
        raise StackStateError(f"stack {stack_name} is busy ({status})",
                              hint="wait until the running operation finishes, then deploy again")
    raise StackStateError(f"stack {stack_name} is in {status} and cannot be updated",
                          hint="fix it in the CloudFormation console (continue rollback, or delete it), then deploy")


def _after_adoption(functions: dict[str, Any], adoptions: list[Adoption]) -> dict[str, Any]:
    kept = {a.function_id: a.kept_version_id for a in adoptions if a.kept_version_id}
    return {fid: dataclasses.replace(info, version_id=kept[fid]) if fid in kept else info
            for fid, info in functions.items()}


def keep_published(template: dict[str, Any], functions: dict[str, Any], parameters: dict[str, Any],
                   deployed: DeployedStack) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Every deployed Version keeps the description it was published with (``strata.transform.published``):
    CloudFormation replaces a Version whose Description changes, and that publish fails while $LATEST is unchanged.
    Returns the template and the plan's notes."""
    old = deployed.template.get("Resources") or {}
    before = stack_context(deployed)
    published = {lid: evaluate((res.get("Properties") or {}).get("Description"), before,
                               ("Resources", lid, "Properties", "Description"))
                 for lid, res in old.items() if isinstance(res, dict) and res.get("Type") == VERSION_TYPE
                 and lid in deployed.resources}
    if not published:
        return template, ()
    after = context_for(template, parameter_text(parameters), region=deployed.region, account_id=deployed.account_id,
                        stack_name=deployed.name, partition=deployed.partition, stack_id=deployed.stack_id)
    kept = keep_published_descriptions(template, functions, published,
                                       resolve=lambda value, path: evaluate(value, after, path))
    return kept.template, kept.notes


def plan_versions(functions: dict[str, Any], adoptions: list[Adoption],
                  deployed_template: dict[str, Any] | None, notes: tuple[str, ...] = ()) -> list[VersionPlan]:
    """Per function with a Version: publish (with the inputs that changed), keep, or adopt (and why); ``notes``:
    ``keep_published``'s, said with the Version they are about."""
    recorded = recorded_fingerprints(deployed_template)
    old_resources = (deployed_template or {}).get("Resources") or {}
    adopted = {a.function_id: a for a in adoptions}
    plans = []
    for function_id in sorted(functions):
        info = functions[function_id]
        if not info.version_id:
            continue
        adoption = adopted.get(function_id)
        if adoption and adoption.kept_version_id:
            plans.append(VersionPlan(function_id, info.version_id, "adopt", [adoption.reason]))
        elif info.version_id in old_resources and old_resources[info.version_id].get("Type") == VERSION_TYPE:
            said = [n.split(": ", 1)[1] for n in notes if n.startswith(f"{info.version_id}: ")]
            plans.append(VersionPlan(function_id, info.version_id, "keep",
                                     ["; ".join(["version content unchanged", *said])]))
        else:
            reasons = version_reasons(info, recorded.get(function_id), deployed_stack=deployed_template is not None)
            if adoption:
                reasons.append(f"not adopted: {adoption.reason}")
            plans.append(VersionPlan(function_id, info.version_id, "publish", reasons))
    return plans


def show_plan(change_set: ChangeSet, versions: list[VersionPlan], out: Callable[[str], None]) -> None:
    out(f"Change set {change_set.name} ({change_set.change_set_type}) for stack {change_set.stack_name}:")
    width = max((len(c.logical_id) for c in change_set.changes), default=0)
    for change in change_set.changes:
        extra = f"  (replacement: {change.replacement})" if change.action == "Modify" and change.replacement else ""
        out(f"  {change.action:<7} {change.logical_id:<{width}}  {change.resource_type}{extra}")
    if versions:
        out("Versions:")
        _show_versions(versions, out)


def _show_versions(versions: list[VersionPlan], out: Callable[[str], None]) -> None:
    for plan in versions:
        if plan.action == "publish":
            out(f"  {plan.function_id}: publish a new version ({plan.version_id}) because")
            for reason in plan.reasons:
                out(f"      {reason}")
        elif plan.action == "adopt":
            out(f"  {plan.function_id}: keep the deployed version {plan.version_id} ({plan.reasons[0]})")
        else:
            out(f"  {plan.function_id}: no new version ({plan.version_id}: {plan.reasons[0]})")


def _show_adoptions(adoptions: list[Adoption], out: Callable[[str], None]) -> None:
    for adoption in adoptions:
        if adoption.kept_version_id:
            out(f"  {adoption.function_id}: kept deployed version {adoption.kept_version_id} ({adoption.reason})")


def _execute(cfn: Any, change_set: ChangeSet, progress: Callable[[str], None],
             sleep: Callable[[float], None], *, disable_rollback: bool = False) -> str:
    after = newest_event_id(cfn, change_set.stack_name)
    execute_change_set(cfn, change_set, disable_rollback=disable_rollback)
    progress(f"Executing change set {change_set.name}...")

    def show(event: StackEvent) -> None:
        when = event.timestamp.strftime("%H:%M:%S") if event.timestamp else "--:--:--"
        reason = f"  {event.reason}" if event.reason and "FAILED" in event.status else ""
        progress(f"  {when} {event.status:<28} {event.resource_type:<28} {event.logical_id}{reason}")

    followed = follow_stack(cfn, change_set.stack_name, after=after, show=show, sleep=sleep)
    if not followed.ok:
        first = followed.first_failure()
        cause = f"{first.logical_id} ({first.resource_type}): {first.reason}" if first else "no reason given"
        hint = ("see the events above, or "
                f"`aws cloudformation describe-stack-events --stack-name {change_set.stack_name}`")
        if first and "A version for this Lambda function exists" in (first.reason or ""):
            hint = ("the function's $LATEST was not changed by this deploy, so Lambda had no new version to publish; "
                    f"run `strata verify --target aws --stack-name {change_set.stack_name}` to see what it serves")
        elif followed.status == "ROLLBACK_COMPLETE":
            hint = (f"the stack was never created; delete it (aws cloudformation delete-stack --stack-name "
                    f"{change_set.stack_name}), fix the cause and deploy again")
        raise DeployFailedError(f"deploy of stack {change_set.stack_name} failed ({followed.status}): {cause}",
                                hint=hint)
    progress(f"Stack {change_set.stack_name}: {followed.status}")
    return followed.status


def _decline(_question: str) -> bool:
    """No one to ask (``confirm_changeset`` without a terminal): the change set is left for later."""
    return False


def _delete_failed_stack(cfn: Any, stack_name: str, progress: Callable[[str], None],
                         sleep: Callable[[float], None]) -> None:
    """``--on-failure DELETE``: a stack whose creation failed is deleted (SAM's behaviour), not left rolled back."""
    from strata.aws.delete import delete_stack

    progress(f"--on-failure DELETE: deleting stack {stack_name}")
    delete_stack(cfn, stack_name, sleep=sleep)


def previous_parameters(description: Mapping[str, Any]) -> dict[str, str | None]:
    """The parameter values a deployed stack holds (DescribeStacks), for the parameters a deploy does not override:
    CloudFormation keeps them (UsePreviousValue). A NoEcho value reads back as ``****``: None (kept, not known)."""
    from strata.template.parameters import MASK

    out: dict[str, str | None] = {}
    for item in description.get("Parameters") or []:
        value = item.get("ParameterValue")
        out[str(item.get("ParameterKey"))] = None if value == MASK or value is None else str(value)
    return out


def _stack_parameters(template: dict[str, Any], overrides: Mapping[str, str]) -> dict[str, str]:
    """The overrides CloudFormation gets: only parameters the stack template declares (others use defaults)."""
    declared = template.get("Parameters") or {}
    return {k: v for k, v in overrides.items() if k in declared}
