"""``strata.transform.external`` and ``strata.artifacts.external_layers``: what is resolved, what each unresolvable
value's problem says, and which public layers map to which source."""
from __future__ import annotations

from pathlib import Path

import pytest

from strata.artifacts.external_layers import LayerSources, default_source, parse_mappings
from strata.errors import StrataError, TemplateError
from strata.local.engine.planner import never_known
from strata.template.context import context_for
from strata.template.intrinsics import Unresolved
from strata.template.ssm import SsmValue
from strata.transform.external import Export, ExternalValues, property_path, resolve_external

TEMPLATE = {
    "Parameters": {"Env": {"Type": "String"}},
    "Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {
        "Environment": {"Variables": {
            "VPC": {"Fn::ImportValue": {"Fn::Sub": "${Env}-vpc"}},
            "KEY": "prefix-{{resolve:ssm:/app/key}}-{{resolve:ssm:/app/n:2}}",
            "REF": {"Ref": "Env"}}},
        "Layers": ["arn:aws:lambda:us-east-1:123456789012:layer:mine:1"]}}},
    "Outputs": {"O": {"Value": {"Fn::ImportValue": "shared"}}},
}
STORE = {"/app/key": SsmValue("String", "k1", 1), "/app/n": SsmValue("String", "n2", 2),
         "/app/secret": SsmValue("SecureString", "s", 1)}


def _values(**exports: str) -> ExternalValues:
    return ExternalValues(exports={k: Export(k, v, "other") for k, v in exports.items()}, ssm=STORE.get,
                          layer_source=LayerSources({}), account_id="123456789012")


def _ctx(template: dict):
    return context_for(template, {"Env": "prod"}, region="us-east-1", account_id="123456789012", stack_name="s")


def test_imports_and_ssm_references_are_replaced_by_their_values():
    out, artifacts = resolve_external(TEMPLATE, _ctx(TEMPLATE), _values(**{"prod-vpc": "vpc-1", "shared": "x"}))
    env = out["Resources"]["Fn"]["Properties"]["Environment"]["Variables"]
    assert env == {"VPC": "vpc-1", "KEY": "prefix-k1-n2", "REF": {"Ref": "Env"}}
    assert out["Outputs"]["O"]["Value"] == "x"
    assert out["Resources"]["Fn"]["Properties"]["Layers"] == TEMPLATE["Resources"]["Fn"]["Properties"]["Layers"]
    assert artifacts == {}
    assert "Fn::ImportValue" in str(TEMPLATE)           # the input is not changed


def test_every_unresolvable_value_is_one_problem_naming_the_property_and_the_fix():
    template = {"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {
        "Environment": {"Variables": {"A": {"Fn::ImportValue": "nope"}, "B": "{{resolve:ssm:/missing}}",
                                      "C": "{{resolve:ssm:/app/n:1}}", "D": "{{resolve:ssm:/app/secret}}"}},
        "Layers": ["arn:aws:lambda:us-east-1:999999999999:layer:x:3"]}}}}
    with pytest.raises(TemplateError) as info:
        resolve_external(template, _ctx(template), _values(shared="x"))
    texts = [p.message for p in info.value.problems]
    assert len(texts) == 5
    where = "Resources.Fn.Properties.Environment.Variables"
    assert texts[0].startswith(f"{where}.A: Fn::ImportValue 'nope': no stack in this state home exports 'nope' "
                               "(exports: shared)")
    assert texts[1].startswith(f"{where}.B: {{{{resolve:ssm:/missing}}}}") and "strata ssm put /missing" in texts[1]
    assert "pins version 1" in texts[2] and "holds version 2" in texts[2]
    assert "needs a String or StringList, but '/app/secret' is a SecureString" in texts[3]
    assert texts[4].startswith("Resources.Fn.Properties.Layers[0]: layer arn:aws:lambda:us-east-1:999999999999:")
    assert "--layer-source arn:aws:lambda:us-east-1:999999999999:layer:x:3=PATH" in texts[4]


def test_layer_mappings_exact_then_unversioned_then_defaults(tmp_path):
    base = Path(tmp_path)
    arn = "arn:aws:lambda:us-east-1:111122223333:layer:utils"
    sources = LayerSources(parse_mappings([f"{arn}=folder", f"{arn}:7=pip:utils==7"], base, "--layer-source"))
    assert sources(f"{arn}:7").requirement == "utils==7"
    assert sources(f"{arn}:3").path == (base / "folder").resolve()
    assert sources("arn:aws:lambda:us-east-1:111122223333:layer:other:1") is None
    table = parse_mappings({f"{arn}:1": "x.zip"}, base, "samconfig.toml")
    assert table[f"{arn}:1"].path == (base / "x.zip").resolve() and table[f"{arn}:1"].origin == "samconfig.toml"
    with pytest.raises(StrataError, match="is not ARN=SOURCE"):
        parse_mappings(["no-equals-sign"], base, "--layer-source")
    with pytest.raises(StrataError, match="is not a Lambda layer ARN"):
        parse_mappings(["arn:aws:s3:::bucket=x"], base, "--layer-source")


@pytest.mark.parametrize(("arn", "requirement"), [
    ("arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:7",
     "aws-lambda-powertools[all]==3.5.0"),
    ("arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-x86_64:2",
     "aws-lambda-powertools[all]==3.1.0"),
    ("arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-x86_64:99",
     "aws-lambda-powertools[all]>=3,<4"),
    ("arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV2:46", "aws-lambda-powertools[all]>=2,<3"),
    ("arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV2-Arm64:46",
     "aws-lambda-powertools[all]>=2,<3"),
    ("arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPython:40", "aws-lambda-powertools[all]<2"),
    ("arn:aws:lambda:us-east-1:017000801446:layer:SomethingElse:1", None),
    ("arn:aws:lambda:us-east-1:111111111111:layer:AWSLambdaPowertoolsPythonV2:46", None),
])
def test_powertools_public_layers_default_to_their_pypi_package(arn, requirement):
    found = default_source(arn)
    assert (found.requirement if found else None) == requirement


def test_property_paths_and_plan_refusing_values_apply_could_never_know():
    assert property_path(("Resources", "Fn", "Properties", "Layers", 0)) == "Resources.Fn.Properties.Layers[0]"
    value = {"A": Unresolved({"Fn::ImportValue": "x"}, frozenset()), "B": [Unresolved({"Ref": "R"}, frozenset({"R"}))]}
    problems = never_known(value, ("Resources", "Fn", "Properties"))
    assert [p.message for p in problems] == [
        'Resources.Fn.Properties.A: {"Fn::ImportValue": "x"} cannot be known before apply on the local target']


def test_an_export_name_another_stack_exports_is_refused():
    template = {"Resources": {}, "Outputs": {"O": {"Value": "v", "Export": {"Name": {"Fn::Sub": "${Env}-vpc"}}}}}
    ctx = context_for(template, {"Env": "prod"}, region="us-east-1", account_id="123456789012", stack_name="s")
    with pytest.raises(TemplateError) as info:
        resolve_external(template, ctx, _values(**{"prod-vpc": "vpc-1"}))
    assert info.value.problems[0].message.startswith(
        "Outputs.O.Export.Name: export 'prod-vpc' is already exported by stack 'other' in this state home")


def test_stand_ins_build_from_a_zip_as_is_and_a_missing_path_is_named(tmp_path):
    from strata_testkit import zip_bytes

    from strata.artifacts.external_layers import LayerSource, build_stand_ins
    from strata.errors import BuildError

    arn = "arn:aws:lambda:us-east-1:111122223333:layer:utils:1"
    archive = tmp_path / "utils.zip"
    archive.write_bytes(zip_bytes({"python/utils.py": "X = 1\n"}))
    (built,) = build_stand_ins({"L": LayerSource(arn, path=archive)}, tmp_path / "home")
    assert built.target.logical_id == "L" and Path(built.artifact.path).read_bytes() == archive.read_bytes()
    with pytest.raises(BuildError, match=f"layer {arn} is mapped to .*missing.*which does not exist"):
        build_stand_ins({"L": LayerSource(arn, path=tmp_path / "missing")}, tmp_path / "home")


def test_resolving_leaves_the_input_template_as_it_was(tmp_path):
    """The input is the translator cache's entry: a stand-in layer or a resolved value must land in the copy only,
    with or without import and SSM markers in the template (a template without them skips the value walk)."""
    import copy
    import json

    from strata_testkit import zip_bytes

    from strata.artifacts.external_layers import LayerSource

    arn = "arn:aws:lambda:us-east-1:111122223333:layer:utils:1"
    archive = tmp_path / "utils.zip"
    archive.write_bytes(zip_bytes({"python/utils.py": "X = 1\n"}))
    plain = {"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Layers": [arn], "Handler": "h"}}},
             "Outputs": {"O": {"Value": "v"}}}
    for template in (plain, TEMPLATE | {"Resources": {**TEMPLATE["Resources"], **plain["Resources"]}}):
        before = copy.deepcopy(template)
        values = ExternalValues(exports={"shared": Export("shared", "x", "other"), "prod-vpc": Export("prod-vpc", "v",
                                                                                                      "other")},
                                ssm=STORE.get, layer_source=LayerSources({arn: LayerSource(arn, path=archive)}),
                                account_id="123456789012", home=tmp_path / "home")
        out, artifacts = resolve_external(template, _ctx(template), values)
        assert json.dumps(template) == json.dumps(before)
        assert out["Resources"]["Fn"]["Properties"]["Layers"] == [{"Ref": next(iter(values.stand_ins))}]
        assert artifacts
