"""``deploy_to_aws`` with stubbed CloudFormation, S3, Lambda and STS: the AWS behaviour moto does not reproduce
(reference lambda.md 12.6): the Version that fails with "A version for this Lambda function exists", change set
contents with the reason for each new Version, adoption of a SAM-deployed Version, a CREATE change set on a stack in
REVIEW_IN_PROGRESS, stack outputs after a change set."""
from __future__ import annotations

import json
from typing import Any

import pytest
from aws_stubs import (
    ACCOUNT,
    BUCKET,
    FUNCTION,
    STACK,
    STACK_ID,
    alias,
    change,
    client_error,
    configuration,
    event,
    events,
    resources,
    stack,
    template_body,
    transformed,
)
from botocore.stub import ANY

from strata.aws.deploy import deploy_to_aws
from strata.aws.errors import DeployFailedError, StackStateError
from strata.aws.fingerprints import with_fingerprints
from strata.model.deploy import DeploySettings

CS_ARN = f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:changeSet/strata-1/0b1c2d3e-0000-0000-0000-000000000000"
STACK_TYPE = "AWS::CloudFormation::Stack"


def _config(template, **extra) -> DeploySettings:
    return DeploySettings(template_path=template, stack_name=STACK, target="aws", s3_bucket=BUCKET, region="us-east-1",
                          **extra)


def _run(stubs, config) -> tuple[Any, str]:
    lines: list[str] = []
    result = deploy_to_aws(config, session=stubs.session, out=lines.append, sleep=lambda _s: None)
    return result, "\n".join(lines)


def _capture_change_set(stubs) -> dict[str, Any]:
    """Record the CreateChangeSet parameters (the template strata sends)."""
    seen: dict[str, Any] = {}

    def capture(params: dict[str, Any], **_: Any) -> None:
        seen.update(params)

    stubs.client("cloudformation").meta.events.register("provide-client-params.cloudformation.CreateChangeSet",
                                                        capture)
    return seen


def _identity_and_bucket(stubs, *, uploaded: bool) -> None:
    stubs.sts.add_response("get_caller_identity", {"Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/u",
                                                   "UserId": "AIDA"})
    stubs.s3.add_response("head_bucket", {}, {"Bucket": BUCKET})
    if uploaded:
        stubs.s3.add_response("head_object", {"ContentLength": 321}, {"Bucket": BUCKET, "Key": ANY})
    else:
        client_error(stubs.s3, "head_object", "404", "Not Found", 404, {"Bucket": BUCKET, "Key": ANY})
        stubs.s3.add_response("put_object", {"ETag": '"abc"'}, {"Bucket": BUCKET, "Key": ANY, "Body": ANY,
                                                                "ContentType": "application/zip", "Metadata": ANY})


def _deployed_sam_template(result, old_version: str, *, sam_style: bool) -> dict[str, Any]:
    """The template as SAM would have deployed it: another Version id, no CodeSha256, no strata metadata."""
    template = json.loads(json.dumps(result.template))
    new_version = result.functions["HelloFunction"].version_id
    text = json.dumps(template).replace(new_version, old_version)
    template = json.loads(text)
    if sam_style:
        version = template["Resources"][old_version]
        version["Properties"].pop("CodeSha256", None)
        version["DeletionPolicy"] = "Retain"
    return template


def test_create_from_review_in_progress_shows_plan_follows_events_reads_outputs_and_verifies(stubs, project):
    result = transformed(project)
    info = result.functions["HelloFunction"]
    sent = with_fingerprints(result.template, result.functions)
    code_sha = result.artifacts[0].artifact.code_sha256
    alias_arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{FUNCTION}:live"

    cfn = stubs.cfn
    cfn.add_response("describe_stacks", stack("REVIEW_IN_PROGRESS"), {"StackName": STACK})
    _identity_and_bucket(stubs, uploaded=False)
    cfn.add_response("create_change_set", {"Id": CS_ARN, "StackId": STACK_ID}, {
        "StackName": STACK, "ChangeSetName": ANY, "ChangeSetType": "CREATE", "TemplateBody": ANY,
        "Parameters": [], "Capabilities": ["CAPABILITY_IAM"], "Description": ANY, "Tags": []})
    cfn.add_response("describe_change_set", {"ChangeSetId": CS_ARN, "Status": "CREATE_COMPLETE", "Changes": [
        change("Add", "HelloFunctionRole", "AWS::IAM::Role"), change("Add", "HelloFunction", "AWS::Lambda::Function"),
        change("Add", info.version_id, "AWS::Lambda::Version"),
        change("Add", "HelloFunctionAliaslive", "AWS::Lambda::Alias")]}, {"StackName": STACK, "ChangeSetName": CS_ARN})
    before = event(0, STACK, STACK_TYPE, "REVIEW_IN_PROGRESS", "User Initiated")
    cfn.add_response("describe_stack_events", events(before))
    cfn.add_response("execute_change_set", {}, {"StackName": STACK, "ChangeSetName": CS_ARN})
    run = [before, event(1, STACK, STACK_TYPE, "CREATE_IN_PROGRESS", "User Initiated"),
           event(2, "HelloFunction", "AWS::Lambda::Function", "CREATE_COMPLETE"),
           event(3, info.version_id, "AWS::Lambda::Version", "CREATE_COMPLETE"),
           event(4, STACK, STACK_TYPE, "CREATE_COMPLETE")]
    cfn.add_response("describe_stack_events", events(*run))
    cfn.add_response("describe_stacks", stack("CREATE_COMPLETE"))
    cfn.add_response("describe_stack_events", events(*run))
    cfn.add_response("describe_stacks", stack("CREATE_COMPLETE", {"HelloAlias": alias_arn}))
    # verify
    cfn.add_response("describe_stacks", stack("CREATE_COMPLETE", {"HelloAlias": alias_arn}))
    cfn.add_response("get_template", template_body(sent), {"StackName": STACK, "TemplateStage": "Processed"})
    cfn.add_response("list_stack_resources", resources(info.version_id, "1"), {"StackName": STACK})
    stubs.lam.add_response("get_function_configuration", configuration(code_sha), {"FunctionName": FUNCTION})
    stubs.lam.add_response("get_alias", alias("live", "1"), {"FunctionName": FUNCTION, "Name": "live"})
    stubs.lam.add_response("get_function_configuration", configuration(code_sha, version="1"),
                           {"FunctionName": FUNCTION, "Qualifier": "1"})

    outcome, text = _run(stubs, _config(project))
    stubs.verify()
    assert outcome.outcome == "deployed" and outcome.status == "CREATE_COMPLETE"
    assert outcome.outputs == {"HelloAlias": alias_arn}
    assert outcome.verify.ok
    assert f"  Add     {info.version_id}" in text
    assert f"HelloFunction: publish a new version ({info.version_id}) because\n      first deploy of the stack" in text
    assert "CREATE_COMPLETE" in text and f"HelloAlias = {alias_arn}" in text
    assert "REVIEW_IN_PROGRESS" not in text.split("Executing change set", 1)[1]   # only events of this run


def test_failed_version_publish_reports_the_first_failure(stubs, project):
    """$LATEST already matches the new content but a version published outside the stack holds it: CloudFormation's
    PublishVersion returns that version and fails the new Version resource (AWS; moto would report success)."""
    result = transformed(project)
    info = result.functions["HelloFunction"]
    code_sha = result.artifacts[0].artifact.code_sha256
    old_version = "HelloFunctionVersion0123456789"
    deployed = _deployed_sam_template(result, old_version, sam_style=True)
    cfn = stubs.cfn
    cfn.add_response("describe_stacks", stack("UPDATE_COMPLETE"), {"StackName": STACK})
    _identity_and_bucket(stubs, uploaded=True)
    cfn.add_response("get_template", template_body(deployed), {"StackName": STACK, "TemplateStage": "Processed"})
    cfn.add_response("list_stack_resources", resources(old_version, "1"), {"StackName": STACK})
    stubs.lam.add_response("get_function_configuration", configuration(code_sha), {"FunctionName": FUNCTION})
    stubs.lam.add_response("get_function_configuration", configuration(code_sha, version="1", timeout=10),
                           {"FunctionName": FUNCTION, "Qualifier": "1"})
    cfn.add_response("create_change_set", {"Id": CS_ARN, "StackId": STACK_ID})
    cfn.add_response("describe_change_set", {"ChangeSetId": CS_ARN, "Status": "CREATE_COMPLETE", "Changes": [
        change("Add", info.version_id, "AWS::Lambda::Version"),
        change("Modify", "HelloFunctionAliaslive", "AWS::Lambda::Alias", "False"),
        change("Remove", old_version, "AWS::Lambda::Version")]})
    before = event(0, STACK, STACK_TYPE, "UPDATE_COMPLETE")
    cfn.add_response("describe_stack_events", events(before))
    cfn.add_response("execute_change_set", {})
    reason = "A version for this Lambda function exists ( 2 ). Modify the function to create a new version."
    run = [before, event(1, STACK, STACK_TYPE, "UPDATE_IN_PROGRESS", "User Initiated"),
           event(2, info.version_id, "AWS::Lambda::Version", "CREATE_IN_PROGRESS"),
           event(3, info.version_id, "AWS::Lambda::Version", "CREATE_FAILED", reason),
           event(4, "HelloFunctionAliaslive", "AWS::Lambda::Alias", "UPDATE_FAILED", "Resource update cancelled"),
           event(5, STACK, STACK_TYPE, "UPDATE_ROLLBACK_IN_PROGRESS",
                 f"The following resource(s) failed to create: [{info.version_id}]. "),
           event(6, STACK, STACK_TYPE, "UPDATE_ROLLBACK_COMPLETE")]
    cfn.add_response("describe_stack_events", events(*run[:4]))
    cfn.add_response("describe_stacks", stack("UPDATE_ROLLBACK_IN_PROGRESS"))
    cfn.add_response("describe_stack_events", events(*run))
    cfn.add_response("describe_stacks", stack("UPDATE_ROLLBACK_COMPLETE"))
    cfn.add_response("describe_stack_events", events(*run))

    lines: list[str] = []
    with pytest.raises(DeployFailedError) as failure:
        deploy_to_aws(_config(project), session=stubs.session, out=lines.append, sleep=lambda _s: None)
    stubs.verify()
    assert failure.value.message == (f"deploy of stack {STACK} failed (UPDATE_ROLLBACK_COMPLETE): {info.version_id} "
                                     f"(AWS::Lambda::Version): {reason}")
    assert "strata verify --target aws" in failure.value.hint
    text = "\n".join(lines)
    assert "no fingerprint recorded for this function" in text
    assert "not adopted: $LATEST matches the new content but no deployed version does" in text
    assert "CREATE_FAILED" in text and reason in text


def test_adopts_the_deployed_version_when_content_is_unchanged(stubs, project):
    result = transformed(project)
    info = result.functions["HelloFunction"]
    code_sha = result.artifacts[0].artifact.code_sha256
    old_version = "HelloFunctionVersion0a1b2c3d4e"
    deployed = _deployed_sam_template(result, old_version, sam_style=True)
    alias_arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{FUNCTION}:live"
    cfn = stubs.cfn
    cfn.add_response("describe_stacks", stack("UPDATE_COMPLETE"), {"StackName": STACK})
    _identity_and_bucket(stubs, uploaded=True)
    cfn.add_response("get_template", template_body(deployed), {"StackName": STACK, "TemplateStage": "Processed"})
    cfn.add_response("list_stack_resources", resources(old_version, "1"), {"StackName": STACK})
    stubs.lam.add_response("get_function_configuration", configuration(code_sha), {"FunctionName": FUNCTION})
    stubs.lam.add_response("get_function_configuration", configuration(code_sha, version="1"),
                           {"FunctionName": FUNCTION, "Qualifier": "1"})
    sent = _capture_change_set(stubs)
    cfn.add_response("create_change_set", {"Id": CS_ARN, "StackId": STACK_ID})
    cfn.add_response("describe_change_set", {
        "ChangeSetId": CS_ARN, "Status": "FAILED", "Changes": [],
        "StatusReason": "The submitted information didn't contain changes. Submit different information to create "
                        "a change set."})
    cfn.add_response("delete_change_set", {}, {"StackName": STACK, "ChangeSetName": CS_ARN})
    cfn.add_response("describe_stacks", stack("UPDATE_COMPLETE", {"HelloAlias": alias_arn}))

    outcome, text = _run(stubs, _config(project, verify=False))
    stubs.verify()
    assert outcome.outcome == "no-changes"
    body = json.loads(sent["TemplateBody"])
    assert info.version_id not in body["Resources"]
    assert body["Resources"][old_version] == deployed["Resources"][old_version]       # kept verbatim
    alias_props = body["Resources"]["HelloFunctionAliaslive"]["Properties"]
    assert alias_props["FunctionVersion"] == {"Fn::GetAtt": [old_version, "Version"]}
    assert body["Metadata"]["strata"]["fingerprints"]["HelloFunction"]["version"] == old_version
    assert [a.kept_version_id for a in outcome.adoptions] == [old_version]
    assert "No changes: stack shop already matches the template." in text
    assert f"HelloFunction: kept deployed version {old_version} (unchanged: $LATEST and version 1 match" in text


def test_version_reasons_name_the_changed_inputs(stubs, project):
    """A stack strata deployed records its fingerprint inputs; the next plan says which one changed."""
    result = transformed(project)
    code_sha = result.artifacts[0].artifact.code_sha256
    deployed = with_fingerprints(result.template, result.functions)
    old_version = result.functions["HelloFunction"].version_id
    (project.parent / "template.yaml").write_text(project.read_text().replace("Runtime: python3.12",
                                                                              "Runtime: python3.12\n      Timeout: 9"))
    new = transformed(project)
    new_version = new.functions["HelloFunction"].version_id
    cfn = stubs.cfn
    cfn.add_response("describe_stacks", stack("UPDATE_COMPLETE"))
    _identity_and_bucket(stubs, uploaded=True)
    cfn.add_response("get_template", template_body(deployed))
    cfn.add_response("list_stack_resources", resources(old_version, "1"))
    stubs.lam.add_response("get_function_configuration", configuration(code_sha))   # Timeout 3 live: changed
    cfn.add_response("create_change_set", {"Id": CS_ARN, "StackId": STACK_ID})
    cfn.add_response("describe_change_set", {"ChangeSetId": CS_ARN, "Status": "CREATE_COMPLETE", "Changes": [
        change("Add", new_version, "AWS::Lambda::Version"),
        change("Modify", "HelloFunction", "AWS::Lambda::Function", "False")]})

    outcome, text = _run(stubs, _config(project, execute=False))
    stubs.verify()
    assert outcome.outcome == "change-set-created"
    assert f"HelloFunction: publish a new version ({new_version}) because\n      Timeout added (9)" in text
    assert "  Modify  HelloFunction" in text and "(replacement: False)" in text
    assert "--no-execute-changeset" in text


def test_change_set_failure_says_why(stubs, project):
    cfn = stubs.cfn
    cfn.add_response("describe_stacks", stack("REVIEW_IN_PROGRESS"))
    _identity_and_bucket(stubs, uploaded=True)
    cfn.add_response("create_change_set", {"Id": CS_ARN, "StackId": STACK_ID})
    cfn.add_response("describe_change_set", {"ChangeSetId": CS_ARN, "Status": "FAILED", "Changes": [],
                                             "StatusReason": "Template format error: Unresolved resource dependencies"})
    with pytest.raises(DeployFailedError) as failure:
        _run(stubs, _config(project))
    assert "Template format error: Unresolved resource dependencies" in failure.value.message


def test_rollback_complete_stack_must_be_deleted_first(stubs, project):
    stubs.cfn.add_response("describe_stacks", stack("ROLLBACK_COMPLETE"))
    with pytest.raises(StackStateError) as failure:
        _run(stubs, _config(project))
    stubs.verify()
    assert "ROLLBACK_COMPLETE" in failure.value.message
    assert f"aws cloudformation delete-stack --stack-name {STACK}" in failure.value.hint
