"""The AWS target of rollback, prune and logs, against botocore's Stubber (responses validated by the model)."""
from __future__ import annotations

import sys
from typing import Any

import botocore.session
import pytest
from botocore.stub import Stubber

from strata.aws.errors import AwsError
from strata.aws.logs import parse_since, show_logs
from strata.aws.session import AwsSession
from strata.ops.prune import prune_aws
from strata.ops.rollback import RollbackRefused, rollback_aws

REGION, ACCOUNT, STACK = "us-east-1", "123456789012", "shop"
FN = "shop-Fn-1A2B3C"
FN_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FN}"
LAYER_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:shared"


class Stubs:
    def __init__(self) -> None:
        session = botocore.session.Session()
        self.session = AwsSession(REGION)
        self.stub: dict[str, Stubber] = {}
        for service in ("cloudformation", "lambda", "logs"):
            client = session.create_client(service, region_name=REGION, aws_access_key_id="k",
                                           aws_secret_access_key="s")
            self.stub[service] = Stubber(client)
            self.stub[service].activate()
            self.session.set_client(service, client)

    def verify(self) -> None:
        for stubber in self.stub.values():
            stubber.assert_no_pending_responses()


@pytest.fixture
def stubs() -> Stubs:
    return Stubs()


def config(version: str, layers: tuple[str, ...] = (), size: int = 300) -> dict[str, Any]:
    out: dict[str, Any] = {"FunctionName": FN, "FunctionArn": f"{FN_ARN}:{version}", "Version": version,
                           "CodeSha256": "abc=", "CodeSize": size, "Runtime": "python3.12", "Handler": "app.handler"}
    if layers:
        out["Layers"] = [{"Arn": arn, "CodeSize": 10} for arn in layers]
    return out


def alias(version: str, weights: dict[str, float] | None = None, name: str = "live") -> dict[str, Any]:
    out: dict[str, Any] = {"AliasArn": f"{FN_ARN}:{name}", "Name": name, "FunctionVersion": version}
    if weights:
        out["RoutingConfig"] = {"AdditionalVersionWeights": weights}
    return out


def _resource(stubs: Stubs) -> None:
    stubs.stub["cloudformation"].add_response(
        "describe_stack_resource",
        {"StackResourceDetail": {"LogicalResourceId": "Fn", "PhysicalResourceId": FN,
                                 "ResourceType": "AWS::Lambda::Function", "ResourceStatus": "UPDATE_COMPLETE",
                                 "LastUpdatedTimestamp": "2026-01-01T00:00:00Z"}},
        {"StackName": STACK, "LogicalResourceId": "Fn"})


def test_rollback_aws_moves_the_alias_through_update_alias(stubs):
    _resource(stubs)
    lam = stubs.stub["lambda"]
    lam.add_response("get_alias", alias("3"), {"FunctionName": FN, "Name": "live"})
    lam.add_response("list_versions_by_function",
                     {"Versions": [config("$LATEST"), config("1"), config("2", (f"{LAYER_ARN}:2",)), config("3")]},
                     {"FunctionName": FN})
    lam.add_response("get_function_configuration", config("2", (f"{LAYER_ARN}:2",)),
                     {"FunctionName": FN, "Qualifier": "2"})
    lam.add_response("get_layer_version_by_arn", {"LayerVersionArn": f"{LAYER_ARN}:2", "Version": 2},
                     {"Arn": f"{LAYER_ARN}:2"})
    lam.add_response("update_alias", alias("2"),
                     {"FunctionName": FN, "Name": "live", "FunctionVersion": "2",
                      "RoutingConfig": {"AdditionalVersionWeights": {}}})
    lam.add_response("get_alias", alias("2"), {"FunctionName": FN, "Name": "live"})
    report = rollback_aws(stubs.session, STACK, "Fn")
    stubs.verify()
    assert (report.from_version, report.to_version, report.pinned, report.target) == ("3", "2", False, "aws")
    assert any("next `strata deploy --target aws` moves the alias forward" in n for n in report.notes)
    assert "now routes all traffic to version 2" in report.text()


def test_rollback_aws_refuses_a_version_whose_layer_was_deleted(stubs):
    _resource(stubs)
    lam = stubs.stub["lambda"]
    lam.add_response("get_alias", alias("3"), {"FunctionName": FN, "Name": "live"})
    lam.add_response("get_function_configuration", config("1", (f"{LAYER_ARN}:1",)),
                     {"FunctionName": FN, "Qualifier": "1"})
    lam.add_client_error("get_layer_version_by_arn", "ResourceNotFoundException",
                         "The resource you requested does not exist.", 404)
    with pytest.raises(RollbackRefused, match="uses layer .*:shared:1, which was deleted"):
        rollback_aws(stubs.session, STACK, "Fn", to_version="1")
    stubs.verify()                                   # no UpdateAlias was called


def test_rollback_aws_translates_errors(stubs):
    _resource(stubs)
    stubs.stub["lambda"].add_client_error("get_alias", "AccessDeniedException", "not allowed", 403)
    with pytest.raises(AwsError, match="access denied while rolling back alias live of Fn"):
        rollback_aws(stubs.session, STACK, "Fn")


def test_prune_aws_keeps_routed_versions_and_deletes_the_rest(stubs):
    cfn, lam = stubs.stub["cloudformation"], stubs.stub["lambda"]
    cfn.add_response("list_stack_resources", {"StackResourceSummaries": [
        {"LogicalResourceId": "Fn", "PhysicalResourceId": FN, "ResourceType": "AWS::Lambda::Function",
         "ResourceStatus": "UPDATE_COMPLETE", "LastUpdatedTimestamp": "2026-01-01T00:00:00Z"},
        {"LogicalResourceId": "FnVersionX", "PhysicalResourceId": f"{FN_ARN}:5",
         "ResourceType": "AWS::Lambda::Version", "ResourceStatus": "CREATE_COMPLETE",
         "LastUpdatedTimestamp": "2026-01-01T00:00:00Z"}]}, {"StackName": STACK})
    lam.add_response("list_versions_by_function", {"Versions": [config("$LATEST")] + [
        config(str(n), size=100 * n) for n in range(1, 6)]}, {"FunctionName": FN})
    lam.add_response("list_aliases", {"Aliases": [alias("5"), alias("2", {"3": 0.1}, name="beta")]},
                     {"FunctionName": FN})
    for n in ("1", "4"):
        lam.add_response("delete_function", {}, {"FunctionName": FN, "Qualifier": n})
    report = prune_aws(stubs.session, STACK, keep=0)
    stubs.verify()
    assert sorted(i.version for i in report.deleted) == ["1", "4"] and report.bytes_freed == 500
    reasons = {i.version: i.reason for i in report.kept}
    assert reasons["3"] == "alias beta routes 10% of its traffic to it" and reasons["5"] == "alias live routes to it"


def _event(n: int, version: str, message: str) -> dict[str, Any]:
    return {"logStreamName": f"2026/01/01/[{version}]abc", "timestamp": 1_700_000_000_000 + n,
            "message": message, "ingestionTime": 1_700_000_000_000 + n, "eventId": f"e{n}"}


def logs_aws(target: str, tail: bool, stack_name: str | None, since: str, **extra: Any) -> None:
    """``strata logs --target aws`` as the CLI runs it: log text on stdout, notes on stderr."""
    show_logs(target, emit=lambda text: print(text, end=""), note=lambda text: print(text, file=sys.stderr),
              tail=tail, stack_name=stack_name, since=since, **extra)


def test_logs_aws_filters_by_alias_versions_and_tails(stubs, capsys):
    _resource(stubs)
    lam, logs = stubs.stub["lambda"], stubs.stub["logs"]
    lam.add_response("get_alias", alias("2", {"3": 0.1}), {"FunctionName": FN, "Name": "live"})
    start = int((1_700_000_600 - 600) * 1000)
    logs.add_response("filter_log_events", {"events": [_event(1, "2", "START v2\n"), _event(2, "1", "old\n")],
                                            "nextToken": "t"},
                      {"logGroupName": f"/aws/lambda/{FN}", "startTime": start, "interleaved": True})
    logs.add_response("filter_log_events", {"events": [_event(3, "3", "START v3\n")]},
                      {"logGroupName": f"/aws/lambda/{FN}", "startTime": start, "interleaved": True,
                       "nextToken": "t"})
    logs.add_response("filter_log_events", {"events": [_event(3, "3", "START v3\n"), _event(4, "2", "again")]},
                      {"logGroupName": f"/aws/lambda/{FN}", "startTime": 1_700_000_000_003, "interleaved": True})
    logs_aws("Fn:live", True, STACK, "10m", session=stubs.session, rounds=1, sleep=lambda s: None,
             now=lambda: 1_700_000_600)
    stubs.verify()
    assert capsys.readouterr().out == "START v2\nSTART v3\nagain\n"


def test_logs_aws_without_a_log_group_says_so(stubs, capsys):
    stubs.stub["logs"].add_client_error("filter_log_events", "ResourceNotFoundException",
                                        "The specified log group does not exist.", 400)
    logs_aws(FN, False, None, "1h", session=stubs.session)
    assert "no logs for" in capsys.readouterr().err


def test_logs_aws_errors_are_translated(stubs):
    stubs.stub["logs"].add_client_error("filter_log_events", "AccessDeniedException", "nope", 403)
    with pytest.raises(AwsError, match="access denied while reading CloudWatch Logs group /aws/lambda/"):
        logs_aws(FN, False, None, "1h", session=stubs.session)


def test_parse_since():
    assert parse_since("10m") == 600 and parse_since("2h") == 7200 and parse_since("30s") == 30
    assert parse_since("5") == 300
    with pytest.raises(Exception, match="not a duration"):
        parse_since("yesterday")
