"""Change sets through the Stubber: pages of changes, the two shapes of "nothing to do", a slow change set."""
from __future__ import annotations

from aws_stubs import STACK, STACK_ID, change, client_error

from strata.aws.changeset import ChangeSetRequest, create_change_set, delete_change_set

CS_ARN = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/strata-1/0b1c2d3e-0000-0000-0000-000000000000"
REQUEST = ChangeSetRequest(stack_name=STACK, template_body="{}", template_url=None, change_set_type="UPDATE",
                           parameters={"Stage": "prod"}, capabilities=("CAPABILITY_IAM",), tags={"team": "web"})


def test_polls_until_ready_and_reads_every_page(stubs):
    cfn = stubs.cfn
    cfn.add_response("create_change_set", {"Id": CS_ARN, "StackId": STACK_ID}, {
        "StackName": STACK, "ChangeSetName": "cs", "ChangeSetType": "UPDATE", "TemplateBody": "{}",
        "Parameters": [{"ParameterKey": "Stage", "ParameterValue": "prod"}], "Capabilities": ["CAPABILITY_IAM"],
        "Description": "Created by strata", "Tags": [{"Key": "team", "Value": "web"}]})
    cfn.add_response("describe_change_set", {"Status": "CREATE_IN_PROGRESS", "Changes": []})
    cfn.add_response("describe_change_set", {"Status": "CREATE_COMPLETE", "NextToken": "t",
                                             "Changes": [change("Add", "A", "AWS::Lambda::Version")]})
    cfn.add_response("describe_change_set", {"Status": "CREATE_COMPLETE",
                                             "Changes": [change("Remove", "B", "AWS::Lambda::Version")]},
                     {"StackName": STACK, "ChangeSetName": CS_ARN, "NextToken": "t"})
    slept: list[float] = []
    result = create_change_set(stubs.client("cloudformation"), REQUEST, name="cs", sleep=slept.append)
    stubs.verify()
    assert slept == [0.5] and not result.empty
    assert [(c.action, c.logical_id) for c in result.changes] == [("Add", "A"), ("Remove", "B")]


def test_no_updates_refused_at_creation_is_an_empty_change_set(stubs):
    client_error(stubs.cfn, "create_change_set", "ValidationError", "No updates are to be performed.")
    result = create_change_set(stubs.client("cloudformation"), REQUEST, name="cs")
    assert result.empty and not result.exists
    delete_change_set(stubs.client("cloudformation"), result)          # nothing to delete: no call
    stubs.verify()


def test_failed_empty_change_set_is_empty_and_deleted(stubs):
    cfn = stubs.cfn
    cfn.add_response("create_change_set", {"Id": CS_ARN, "StackId": STACK_ID})
    cfn.add_response("describe_change_set", {"Status": "FAILED", "Changes": [], "StatusReason":
                                             "The submitted information didn't contain changes. Submit different "
                                             "information to create a change set."})
    cfn.add_response("delete_change_set", {}, {"StackName": STACK, "ChangeSetName": CS_ARN})
    result = create_change_set(stubs.client("cloudformation"), REQUEST, name="cs")
    assert result.empty
    delete_change_set(stubs.client("cloudformation"), result)
    stubs.verify()


def test_parameters_not_given_use_their_previous_values_and_sam_deploys_options_reach_the_call(stubs):
    from dataclasses import replace

    cfn = stubs.cfn
    cfn.add_response("create_change_set", {"Id": CS_ARN, "StackId": STACK_ID}, {
        "StackName": STACK, "ChangeSetName": "cs", "ChangeSetType": "UPDATE", "TemplateBody": "{}",
        "Parameters": [{"ParameterKey": "Stage", "ParameterValue": "prod"},
                       {"ParameterKey": "Secret", "UsePreviousValue": True}],
        "Capabilities": ["CAPABILITY_IAM"], "Description": "Created by strata",
        "Tags": [{"Key": "team", "Value": "web"}], "RoleARN": "arn:aws:iam::123456789012:role/cfn",
        "NotificationARNs": ["arn:aws:sns:us-east-1:123456789012:t"]})
    cfn.add_response("describe_change_set", {"Status": "CREATE_COMPLETE", "Changes": []})
    request = replace(REQUEST, keep_previous=("Secret", "Stage"), role_arn="arn:aws:iam::123456789012:role/cfn",
                      notification_arns=("arn:aws:sns:us-east-1:123456789012:t",))
    create_change_set(stubs.client("cloudformation"), request, name="cs")
    stubs.verify()
