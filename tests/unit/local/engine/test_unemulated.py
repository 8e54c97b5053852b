"""Properties the local target does not emulate: the table decides by value, plan warns with the property path,
``--strict`` refuses before anything changes, and without it the deploy goes on (the property recorded)."""
from __future__ import annotations

import pytest
from engine_helpers import app, result

from strata.errors import StrataError
from strata.local.engine.render import plan_text
from strata.local.engine.unemulated import UNEMULATED, unemulated_properties
from strata.template.intrinsics import Unresolved

FUNCTION = "AWS::Lambda::Function"


@pytest.mark.parametrize(("props", "expected"), [
    ({"DurableConfig": {"ExecutionTimeout": 900}}, ["DurableConfig"]),
    ({"VpcConfig": {"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}}, ["VpcConfig"]),
    ({"VpcConfig": {"SubnetIds": [], "SecurityGroupIds": []}}, []),
    ({"FileSystemConfigs": [{"Arn": "arn:aws:elasticfilesystem:x", "LocalMountPath": "/mnt/data"}]},
     ["FileSystemConfigs"]),
    ({"FileSystemConfigs": []}, []),
    ({"SnapStart": {"ApplyOn": "PublishedVersions"}}, ["SnapStart"]),
    ({"SnapStart": {"ApplyOn": "None"}}, []),
    ({"PackageType": "Image", "Code": {"ImageUri": "1.dkr.ecr/x:1"}}, ["PackageType"]),
    ({"PackageType": "Zip"}, []),
    ({"TracingConfig": {"Mode": "Active"}}, ["TracingConfig"]),
    ({"TracingConfig": {"Mode": "PassThrough"}}, []),
    ({"DeadLetterConfig": {"TargetArn": "arn:aws:sqs:us-east-1:1:dlq"}}, ["DeadLetterConfig"]),
    ({"CodeSigningConfigArn": "arn:aws:lambda:us-east-1:1:code-signing-config:csc-1"}, ["CodeSigningConfigArn"]),
    ({"RuntimeManagementConfig": {"UpdateRuntimeOn": "Auto"}}, []),
    ({"KmsKeyArn": "arn:aws:kms:us-east-1:1:key/k", "MemorySize": 512, "Timeout": 3}, []),
    ({"DurableConfig": Unresolved({"Ref": "X"}, frozenset({"X"}))}, ["DurableConfig"]),   # known at deploy: on
])
def test_the_table_decides_by_value(props, expected) -> None:
    assert [name for name, _ in unemulated_properties(FUNCTION, props)] == expected


def test_every_entry_says_what_is_missing() -> None:
    assert all(entry.missing.strip() for table in UNEMULATED.values() for entry in table.values())
    assert unemulated_properties("AWS::SQS::Queue", {"DurableConfig": {}}) == []


def _durable(home):
    template = app(home)
    fn = template["Resources"]["Fn"]["Properties"]
    fn["DurableConfig"] = {"ExecutionTimeout": 900}
    fn["VpcConfig"] = {"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}
    return template


def test_plan_warns_with_the_property_path(engine, home):
    plan = engine.plan("s", result(_durable(home)))
    assert [p.split(":")[0] for p in plan.not_emulated_properties] == ["Fn.Properties.DurableConfig",
                                                                       "Fn.Properties.VpcConfig"]
    text = plan_text(plan)
    assert "warning: not emulated locally: Fn.Properties.DurableConfig: durable executions" in text
    assert plan.to_dict()["NotEmulatedProperties"] == list(plan.not_emulated_properties)


def test_strict_refuses_before_anything_changes_and_plain_deploy_goes_on(engine, home):
    with pytest.raises(StrataError, match=r"does not emulate Fn\.Properties\.DurableConfig, "
                                          r"Fn\.Properties\.VpcConfig"):
        engine.deploy("s", result(_durable(home)), strict=True)
    assert engine.state.stack("s") is None
    report = engine.deploy("s", result(_durable(home)))
    assert report.status == "complete", report.error
    assert len(report.plan.not_emulated_properties) == 2
    again = engine.deploy("s", result(_durable(home)), execute=False)
    assert len(again.plan.not_emulated_properties) == 2        # every plan says so, not only the one that creates


def test_a_plain_app_has_no_such_warning(engine, home):
    assert engine.plan("s", result(app(home))).not_emulated_properties == ()
