"""The stack engine against the in-process Lambda service, on hand-written CloudFormation templates."""
from __future__ import annotations

import pytest
from engine_helpers import app, info, result, service_snapshot, stack_snapshot

from strata.errors import StrataError
from strata.local.engine.describe import describe, resolve_function
from strata.local.engine.model import Action


def test_first_deploy_creates_and_second_changes_nothing(engine, home):
    report = engine.deploy("s", result(app(home)))
    assert report.status == "complete", report.error
    assert report.outputs["Version"]["Value"] == "1"
    assert report.outputs["LiveArn"]["Value"].endswith(":live")
    calls = len(engine.client.calls)
    again = engine.deploy("s", result(app(home)))
    assert again.status == "no-changes" and again.plan.is_empty
    assert len(engine.client.calls) == calls          # not a single Lambda call
    assert engine.state.deploys("s")[-1]["Status"] == "COMPLETE" and len(engine.state.deploys("s")) == 1


def test_layer_change_publishes_one_version_and_moves_the_alias(engine, home):
    engine.deploy("s", result(app(home)))
    report = engine.deploy("s", result(app(home, layer="b", version_id="FnVersionB")))
    assert report.status == "complete", report.error
    actions = {c.logical_id: c.action for c in report.plan.effective}
    assert actions == {"Shared": Action.REPLACE, "Fn": Action.UPDATE, "FnVersionB": Action.CREATE,
                       "Live": Action.UPDATE, "FnVersionA": Action.RETAIN}
    snap = service_snapshot(engine.client)
    fn = resolve_function(home, "s", "Fn")
    assert sorted(snap["functions"][fn]["versions"]) == ["$LATEST", "1", "2"]     # v1 retained
    assert snap["functions"][fn]["aliases"]["live"]["FunctionVersion"] == "2"
    assert snap["layers"]["shared"] == [1, 2]                                     # UpdateReplacePolicy: Retain
    assert engine.client.calls.count("PublishVersion") == 2
    plain = resolve_function(home, "s", "Plain")
    assert sorted(snap["functions"][plain]["versions"]) == ["$LATEST"]


def test_version_reason_names_the_changed_fingerprint_input(engine, home):
    engine.deploy("s", result(app(home), functions={"Fn": info("Fn", "FnVersionA", "f1", code="aaaa", layer="l1")}))
    plan = engine.plan("s", result(app(home, layer="b", version_id="FnVersionB"),
                                   functions={"Fn": info("Fn", "FnVersionB", "f2", code="aaaa", layer="l2")}))
    change = next(c for c in plan.changes if c.logical_id == "FnVersionB")
    assert change.reasons == ("publish a new version of Fn because layer changed (l1 -> l2)",)


def test_renamed_version_without_function_change_fails_like_cloudformation(engine, home):
    engine.deploy("s", result(app(home)))
    before_state, before_service = stack_snapshot(engine, "s"), service_snapshot(engine.client)
    report = engine.deploy("s", result(app(home, version_id="FnVersionRenamed")))
    assert report.status == "rolled-back"
    assert report.error.logical_id == "FnVersionRenamed"
    assert report.error.reason == ("A version for this Lambda function exists ( 1 ). "
                                   "Modify the function to create a new version.")
    assert stack_snapshot(engine, "s") == before_state
    assert service_snapshot(engine.client) == before_service


def test_failing_resource_rolls_back_to_exactly_the_previous_state(engine, home):
    engine.deploy("s", result(app(home)))
    before_state, before_service = stack_snapshot(engine, "s"), service_snapshot(engine.client)
    bad = app(home, answer="2", timeout=9, version_id="FnVersionB")
    bad["Resources"]["Broken"] = {"Type": "AWS::Lambda::Alias", "DependsOn": "Live", "Properties": {
        "FunctionName": {"Ref": "Fn"}, "Name": "2024", "FunctionVersion": "$LATEST"}}
    report = engine.deploy("s", result(bad))
    assert report.status == "rolled-back"
    assert report.error.logical_id == "Broken" and "2024" in report.error.reason
    after = service_snapshot(engine.client)
    fn = resolve_function(home, "s", "Fn")
    assert after["functions"][fn]["versions"]["$LATEST"]["Timeout"] == 3
    assert stack_snapshot(engine, "s") == before_state
    # versions are never reused: the rolled-back version 2 is gone, everything else as before
    assert after == before_service
    assert engine.state.stack("s").status == "UPDATE_ROLLBACK_COMPLETE"
    statuses = [e["ResourceStatus"] for e in engine.state.events("s")]
    assert "CREATE_FAILED" in statuses and "UPDATE_ROLLBACK_COMPLETE" in statuses


def test_disable_rollback_keeps_what_was_done(engine, home):
    engine.deploy("s", result(app(home)))
    bad = app(home, answer="2", version_id="FnVersionB", alias_name="2024")
    report = engine.deploy("s", result(bad), disable_rollback=True)
    assert report.status == "failed" and report.error.logical_id == "Live"
    fn = resolve_function(home, "s", "Fn")
    assert "2" in service_snapshot(engine.client)["functions"][fn]["versions"]
    assert engine.state.stack("s").status == "UPDATE_FAILED"
    fixed = engine.deploy("s", result(app(home, answer="2", version_id="FnVersionB")))
    assert fixed.status == "complete", fixed.error


def test_tag_only_change_updates_in_place_without_a_version(engine, home):
    engine.deploy("s", result(app(home)))
    calls = len(engine.client.calls)
    report = engine.deploy("s", result(app(home, tags={"app": "demo", "team": "x"})))
    assert report.status == "complete"
    assert [c.logical_id for c in report.plan.effective] == ["Fn"]
    made = engine.client.calls[calls:]
    assert "UpdateFunctionConfiguration" not in made and "UpdateFunctionCode" not in made
    assert "PublishVersion" not in made and "TagResource" in made
    fn = resolve_function(home, "s", "Fn")
    assert service_snapshot(engine.client)["functions"][fn]["tags"] == {"app": "demo", "team": "x"}


def test_removing_a_function_deletes_it(engine, home):
    engine.deploy("s", result(app(home)))
    plain = resolve_function(home, "s", "Plain")
    template = app(home)
    del template["Resources"]["Plain"]
    report = engine.deploy("s", result(template))
    assert [(c.logical_id, c.action) for c in report.plan.effective] == [("Plain", Action.DELETE)]
    assert plain not in service_snapshot(engine.client)["functions"]


def test_conditions_and_parameters(engine, home):
    template = app(home)
    template["Parameters"] = {"Stage": {"Type": "String", "Default": "dev"}}
    template["Conditions"] = {"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}}
    template["Resources"]["ProdOnly"] = {"Type": "AWS::IAM::Role", "Condition": "IsProd", "Properties": {}}
    template["Resources"]["Plain"]["Properties"]["Environment"] = {"Variables": {"STAGE": {"Ref": "Stage"}}}
    engine.deploy("s", result(template))
    assert "ProdOnly" not in engine.state.resources("s")
    report = engine.deploy("s", result(template, parameters={"Stage": "prod"}))
    assert {c.logical_id: c.action for c in report.plan.effective} == {"ProdOnly": Action.CREATE,
                                                                        "Plain": Action.UPDATE}
    plain = resolve_function(home, "s", "Plain")
    config = service_snapshot(engine.client)["functions"][plain]["versions"]["$LATEST"]
    assert config["Environment"]["Variables"] == {"STAGE": "prod"}


def test_routing_config_list_form_becomes_the_api_map(engine, home):
    template = app(home)
    template["Resources"]["FnVersionB"] = {"Type": "AWS::Lambda::Version", "DependsOn": "FnVersionA",
                                           "Properties": {"FunctionName": {"Ref": "Fn"}, "Description": "two"}}
    template["Resources"]["Fn"]["Properties"]["Description"] = "changed"     # so that B is a new version
    template["Resources"]["FnVersionB"]["DependsOn"] = ["FnVersionA", "Fn"]
    engine.deploy("s", result(app(home)))
    template["Resources"]["Live"]["Properties"]["RoutingConfig"] = {"AdditionalVersionWeights": [
        {"FunctionVersion": {"Fn::GetAtt": ["FnVersionB", "Version"]}, "FunctionWeight": 0.25}]}
    report = engine.deploy("s", result(template))
    assert report.status == "complete", report.error
    fn = resolve_function(home, "s", "Fn")
    alias = service_snapshot(engine.client)["functions"][fn]["aliases"]["live"]
    assert alias == {"FunctionVersion": "1", "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.25}}}
    info_ = describe(home, "s")
    assert info_["Functions"]["Fn"]["Aliases"][0]["AdditionalVersionWeights"] == {"2": 0.25}


def test_not_emulated_types_are_recorded_and_strict_refuses(engine, home):
    template = app(home, extra={"Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "x"}},
                                "Perm": {"Type": "AWS::Lambda::Permission", "Properties": {
                                    "FunctionName": {"Ref": "Fn"}, "Action": "lambda:InvokeFunction",
                                    "Principal": "apigateway.amazonaws.com",
                                    "SourceArn": {"Fn::Sub": "arn:aws:execute-api:${AWS::Region}:1:${Api}/*"}}}})
    with pytest.raises(StrataError, match="does not emulate Api"):
        engine.deploy("s", result(template), strict=True)
    report = engine.deploy("s", result(template))
    assert report.status == "complete", report.error
    assert report.plan.not_emulated == ("Api",)
    assert not engine.state.resources("s")["Api"].emulated


def test_cycle_is_reported(engine, home):
    template = app(home)
    template["Resources"]["Role"]["Properties"]["Description"] = {"Ref": "Fn"}
    with pytest.raises(StrataError, match="circular dependency: Role -> Fn -> Role|circular dependency: Fn -> Role"):
        engine.plan("s", result(template))


def test_no_execute_changes_nothing(engine, home):
    report = engine.deploy("s", result(app(home)), execute=False)
    assert report.status == "not-executed" and len(report.plan.effective) == 6
    assert engine.state.stack("s") is None and engine._client is None


def test_describe_resolve_function_and_delete(engine, home):
    engine.deploy("s", result(app(home)))
    info_ = describe(home, "s")
    assert info_["Functions"]["Fn"]["Versions"] == [{"LogicalResourceId": "FnVersionA", "Version": "1"}]
    assert info_["Functions"]["Fn"]["Aliases"][0]["FunctionVersion"] == "1"
    fn = resolve_function(home, "s", "Fn")
    assert resolve_function(home, "s", "Live") == f"{fn}:live"
    assert resolve_function(home, "s", "FnVersionA") == f"{fn}:1"
    with pytest.raises(StrataError, match="Nope is not in the stack"):
        resolve_function(home, "s", "Nope")
    result_ = engine.delete("s")
    assert result_["Retained"] == ["FnVersionA"]
    assert service_snapshot(engine.client) == {"functions": {}, "layers": {}}
    assert engine.state.stack("s") is None
    with pytest.raises(StrataError, match="does not exist"):
        describe(home, "s")


def test_second_deploy_fails_fast_while_one_holds_the_lock(engine, home):
    from strata.local.engine.lock import StackLock

    with StackLock(home, "s"):
        with pytest.raises(StrataError, match="being deployed by another process"):
            engine.deploy("s", result(app(home)))
    assert engine.deploy("s", result(app(home))).status == "complete"


def _described(template: dict, version_id: str, description: str | None) -> dict:
    if description is not None:
        template["Resources"][version_id]["Properties"]["Description"] = description
    return template


def _version_descriptions(engine, home) -> dict:
    fn = resolve_function(home, "s", "Fn")
    return {n: v.get("Description") for n, v in service_snapshot(engine.client)["functions"][fn]["versions"].items()}


def test_version_description_only_edit_publishes_nothing_and_takes_effect_at_the_next_publish(engine, home):
    # SAM's VersionDescription: the post-pass names the Version from the fingerprint, which leaves it out
    v1, v2 = "FnVersion0123456789", "FnVersionabcdef0123"
    first = engine.deploy("s", result(_described(app(home, version_id=v1), v1, "1"),
                                      functions={"Fn": info("Fn", v1, "f1", code="aaaa")}))
    assert first.status == "complete", first.error
    assert _version_descriptions(engine, home) == {"$LATEST": "", "1": "1"}

    edited = result(_described(app(home, version_id=v1), v1, "2"), functions={"Fn": info("Fn", v1, "f1", code="aaaa")})
    plan = engine.plan("s", edited)
    assert plan.is_empty
    assert any(w.startswith(f"{v1}: VersionDescription change takes effect at the next publish") for w in plan.warnings)
    report = engine.deploy("s", edited)
    assert report.status == "no-changes"
    assert engine.client.calls.count("PublishVersion") == 1
    assert _version_descriptions(engine, home) == {"$LATEST": "", "1": "1"}

    code_edit = engine.deploy("s", result(_described(app(home, answer="2", version_id=v2), v2, "2"),
                                          functions={"Fn": info("Fn", v2, "f2", code="bbbb")}))
    assert code_edit.status == "complete", code_edit.error
    assert _version_descriptions(engine, home) == {"$LATEST": "", "1": "1", "2": "2"}
    assert engine.client.calls.count("PublishVersion") == 2


def test_version_description_removed_only_publishes_nothing(engine, home):
    v1 = "FnVersion0123456789"
    engine.deploy("s", result(_described(app(home, version_id=v1), v1, "1"),
                              functions={"Fn": info("Fn", v1, "f1", code="aaaa")}))
    report = engine.deploy("s", result(app(home, version_id=v1), functions={"Fn": info("Fn", v1, "f1", code="aaaa")}))
    assert report.status == "no-changes"
    assert any("keeps \"1\"; no description goes to the next version" in w for w in report.plan.warnings)


def test_version_named_under_the_earlier_description_rule_is_kept(engine, home):
    # a stack deployed when the VersionDescription was part of the fingerprint: same content, another Version id
    old, new = "FnVersion0123456789", "FnVersionabcdef0123"
    engine.deploy("s", result(_described(app(home, version_id=old), old, "1"),
                              functions={"Fn": info("Fn", old, "f1", code="aaaa", **{"Version.Description": "1"})}))
    report = engine.deploy("s", result(_described(app(home, version_id=new), new, "1"),
                                       functions={"Fn": info("Fn", new, "f2", code="aaaa")}))
    assert report.status == "no-changes", report.error
    assert any(w.startswith(f"{old}: kept (the content of Fn is unchanged") for w in report.plan.warnings)
    assert engine.client.calls.count("PublishVersion") == 1
    tagged = engine.deploy("s", result(_described(app(home, version_id=new, tags={"app": "x"}), new, "1"),
                                       functions={"Fn": info("Fn", new, "f2", code="aaaa")}))
    assert tagged.status == "complete", tagged.error          # a later change keeps the kept id
    assert {c.logical_id for c in tagged.plan.effective} == {"Fn"}
    assert engine.client.calls.count("PublishVersion") == 1
