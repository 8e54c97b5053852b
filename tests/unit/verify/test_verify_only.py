"""verify of some functions (``only``: what a deploy changed) expects of them exactly what verifying the whole stack
expects, whatever names their versions and aliases (a Ref, a name, an ARN): narrowing is a shortcut, never a change."""
from __future__ import annotations

from typing import Any

from strata.verify.expected import expected_functions
from strata.verify.model import DeployedStack, StackResource

ARN = "arn:aws:lambda:us-east-1:123456789012:function:"
SHA = "gpbw7wsBIUXVNwyU8pvXkPzanhzbVrBK12QOxjUQ/JE="


def _stack() -> DeployedStack:
    resources: dict[str, Any] = {}
    deployed: dict[str, StackResource] = {}
    for i in range(4):
        fn, name = f"Fn{i}", f"s-Fn{i}-x"
        resources[fn] = {"Type": "AWS::Lambda::Function", "Properties": {
            "Handler": "app.handler", "Runtime": "python3.12", "Role": "arn:aws:iam::123456789012:role/r",
            "Environment": {"Variables": {"N": str(i)}}, "Code": {"S3Bucket": "b", "S3Key": f"k{i}.zip"}}}
        deployed[fn] = StackResource(fn, "AWS::Lambda::Function", name)
        # the versions and aliases name their function three ways: a Ref, the plain name, the ARN
        target: Any = [{"Ref": fn}, name, ARN + name, {"Fn::GetAtt": [fn, "Arn"]}][i]
        resources[f"{fn}Version"] = {"Type": "AWS::Lambda::Version", "Properties": {
            "FunctionName": target, "CodeSha256": SHA, "Description": f"v{i}"}}
        deployed[f"{fn}Version"] = StackResource(f"{fn}Version", "AWS::Lambda::Version", f"{ARN}{name}:1")
        resources[f"{fn}Alias"] = {"Type": "AWS::Lambda::Alias", "Properties": {
            "FunctionName": target, "Name": "live", "FunctionVersion": {"Fn::GetAtt": [f"{fn}Version", "Version"]}}}
        deployed[f"{fn}Alias"] = StackResource(f"{fn}Alias", "AWS::Lambda::Alias", f"{ARN}{name}:live")
    resources["Other"] = {"Type": "AWS::IAM::Role", "Properties": {}}
    deployed["Other"] = StackResource("Other", "AWS::IAM::Role", "r")
    return DeployedStack("s", {"Resources": resources}, {}, deployed, "us-east-1", "123456789012")


def test_only_expects_what_the_whole_stack_expects_of_those_functions():
    stack = _stack()
    everything = {f.logical_id: f for f in expected_functions(stack)}
    assert set(everything) == {"Fn0", "Fn1", "Fn2", "Fn3"}
    assert all(f.versions == ("1",) and [a.name for a in f.aliases] == ["live"] for f in everything.values())
    for only in ({"Fn0"}, {"Fn1"}, {"Fn2", "Fn3"}, {"Fn0", "Fn3"}, set(), {"Missing"}):
        assert {f.logical_id: f for f in expected_functions(stack, only)} == {
            lid: f for lid, f in everything.items() if lid in only}
