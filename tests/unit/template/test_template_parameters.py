"""Parameters: SAM's --parameter-overrides syntax, typed values, every constraint, pseudo parameters, conditions."""
from __future__ import annotations

import pytest

from strata.errors import TemplateError
from strata.template import load_template_text
from strata.template.intrinsics import Unresolved, evaluate
from strata.template.parameters import OverrideSyntaxError, build_context, parse_parameter_overrides


@pytest.mark.parametrize(("values", "expected"), [
    (["A=1"], {"A": "1"}),
    (["A=1 B=2", "C=3"], {"A": "1", "B": "2", "C": "3"}),
    (['Key="a b" Other=c'], {"Key": "a b", "Other": "c"}),
    (["Key='a b'"], {"Key": "a b"}),
    (["Key=a=b"], {"Key": "a=b"}),
    (['Key="say \\"hi\\""'], {"Key": 'say "hi"'}),
    (["Key=a\\ b"], {"Key": "a b"}),
    (["Key=''"], {"Key": ""}),
    (["  A=1   B=2  "], {"A": "1", "B": "2"}),
    (["ParameterKey=K,ParameterValue=V ParameterKey=L,ParameterValue='x y'"], {"K": "V", "L": "x y"}),
    (["A=1", "A=2"], {"A": "2"}),
    ([""], {}),
])
def test_parse_overrides_like_sam_cli(values, expected) -> None:
    assert parse_parameter_overrides(values) == expected


@pytest.mark.parametrize("value", ["junk", "A=1 junk", "=x", 'A="unterminated', "Key="])
def test_unreadable_overrides_are_usage_errors(value) -> None:
    with pytest.raises(OverrideSyntaxError) as info:
        parse_parameter_overrides([value])
    assert info.value.exit_code == 2


TEMPLATE = """\
Parameters:
  Stage:
    Type: String
    Default: dev
    AllowedValues: [dev, prod]
    ConstraintDescription: dev or prod
  Name:
    Type: String
    Default: app
    AllowedPattern: "[a-z]+"
    MinLength: 2
    MaxLength: 5
  Memory:
    Type: Number
    Default: 256
    MinValue: 128
    MaxValue: 1024
  Ports:
    Type: List<Number>
    Default: "80,443"
  Azs:
    Type: CommaDelimitedList
    Default: a,b
  Vpc:
    Type: AWS::EC2::VPC::Id
    Default: vpc-1
  Subnets:
    Type: List<AWS::EC2::Subnet::Id>
    Default: subnet-1,subnet-2
  Ami:
    Type: AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>
    Default: /aws/service/ami
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  BigMemory: !Not [!Equals [!Ref Memory, 256]]
Mappings:
  M: {dev: {x: 1}}
Resources:
  Fn:
    Type: AWS::Serverless::Function
"""


def context(overrides=None, text=TEMPLATE, **kwargs):
    return build_context(load_template_text(text, "t.yaml"), overrides or {}, **kwargs)


def problems(overrides, text=TEMPLATE) -> list[str]:
    with pytest.raises(TemplateError) as info:
        context(overrides, text)
    return [str(p) for p in info.value.problems]


def test_defaults_typed_values_pseudo_and_conditions() -> None:
    ctx = context()
    assert ctx.parameters["Stage"] == "dev"
    assert ctx.parameters["Memory"] == 256
    assert ctx.parameters["Ports"] == [80, 443]
    assert ctx.parameters["Azs"] == ["a", "b"]
    assert ctx.parameters["Vpc"] == "vpc-1"
    assert ctx.parameters["Subnets"] == ["subnet-1", "subnet-2"]
    assert ctx.parameters["Ami"] == Unresolved({"Ref": "Ami"}, frozenset())
    assert ctx.conditions == {"IsProd": False, "BigMemory": False}
    assert ctx.resources == frozenset({"Fn"})
    assert ctx.mappings == {"M": {"dev": {"x": 1}}}
    assert ctx.pseudo["AWS::Region"] == "us-east-1" and ctx.pseudo["AWS::AccountId"] == "123456789012"
    assert ctx.pseudo["AWS::StackName"] == "strata-stack"
    assert context().pseudo["AWS::StackId"] == ctx.pseudo["AWS::StackId"]  # stable across runs


def test_overrides_win_and_conditions_follow() -> None:
    ctx = context({"Stage": "prod", "Memory": "512.5"})
    assert ctx.parameters["Stage"] == "prod" and ctx.parameters["Memory"] == 512.5
    assert ctx.conditions == {"IsProd": True, "BigMemory": True}
    assert evaluate({"Fn::If": ["IsProd", "big", "small"]}, ctx) == "big"


@pytest.mark.parametrize(("region", "partition", "suffix"), [
    ("us-east-1", "aws", "amazonaws.com"), ("cn-north-1", "aws-cn", "amazonaws.com.cn"),
    ("us-gov-west-1", "aws-us-gov", "amazonaws.com"),
])
def test_partition_follows_region(region, partition, suffix) -> None:
    pseudo = context(region=region).pseudo
    assert (pseudo["AWS::Partition"], pseudo["AWS::URLSuffix"]) == (partition, suffix)
    assert pseudo["AWS::StackId"].startswith(f"arn:{partition}:cloudformation:{region}:")


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"Stage": "qa"}, "t.yaml:5:5: parameter Stage: value 'qa' (from --parameter-overrides) is not one of the "
                      "AllowedValues: dev, prod (dev or prod)"),
    ({"Name": "App1"}, "t.yaml:10:5: parameter Name: value 'App1' (from --parameter-overrides) does not match the "
                       "AllowedPattern '[a-z]+'"),
    ({"Name": "a"}, "t.yaml:11:5: parameter Name: value 'a' (from --parameter-overrides) is shorter than MinLength 2"),
    ({"Name": "abcdef"}, "t.yaml:12:5: parameter Name: value 'abcdef' (from --parameter-overrides) is longer than "
                         "MaxLength 5"),
    ({"Memory": "64"}, "t.yaml:16:5: parameter Memory: value '64' (from --parameter-overrides) is less than "
                       "MinValue 128"),
    ({"Memory": "4096"}, "t.yaml:17:5: parameter Memory: value '4096' (from --parameter-overrides) is greater than "
                         "MaxValue 1024"),
    ({"Memory": "lots"}, "t.yaml:14:5: parameter Memory: value 'lots' (from --parameter-overrides) is not a number"),
    ({"Ports": "80,x"}, "t.yaml:19:5: parameter Ports: value '80,x' (from --parameter-overrides) is not a number list"),
    ({"Nope": "1"}, "t.yaml:1:1: --parameter-overrides sets 'Nope', which the template does not declare (its "
                    "parameters: Ami, Azs, Memory, Name, Ports, Stage, Subnets, Vpc)"),
])
def test_each_constraint_is_checked_and_located(overrides, expected) -> None:
    assert problems(overrides) == [expected]


def test_all_problems_together_and_missing_values() -> None:
    text = TEMPLATE.replace("    Default: app\n", "").replace("    Type: Number\n", "    Type: Float\n")
    found = problems({"Stage": "qa", "Extra": "1"}, text)
    assert found == [
        "t.yaml:5:5: parameter Stage: value 'qa' (from --parameter-overrides) is not one of the AllowedValues: "
        "dev, prod (dev or prod)",
        "t.yaml:7:3: parameter Name has no value: give it a Default or pass --parameter-overrides Name=...",
        "t.yaml:12:3: parameter Memory has unknown Type 'Float'; use String, Number, List<Number>, CommaDelimitedList, "
        "an AWS-specific type or AWS::SSM::Parameter::Value<...>",
        "t.yaml:1:1: --parameter-overrides sets 'Extra', which the template does not declare (its parameters: Ami, "
        "Azs, Memory, Name, Ports, Stage, Subnets, Vpc)",
    ]  # no follow-on condition errors for the broken parameters


def test_condition_problems_join_parameter_problems() -> None:
    text = TEMPLATE.replace("  IsProd: !Equals [!Ref Stage, prod]", "  IsProd: !Equals [!Ref Stagee, prod]")
    assert problems({"Name": "A"}) != []
    found = problems({"Name": "A"}, text)
    assert len(found) == 3 and "Ref to 'Stagee'" in found[-1] and found[-1].startswith("t.yaml:34:")


def test_template_without_parameters() -> None:
    ctx = context(text="Resources:\n  T: {Type: AWS::SNS::Topic}\n")
    assert ctx.parameters == {} and ctx.conditions == {}


# --- every form SAM CLI and `aws cloudformation deploy` accept -------------------------------------------------------

@pytest.mark.parametrize(("values", "expected"), [
    (['{"A": "1", "B": "x y"}'], {"A": "1", "B": "x y"}),
    (['{"Parameters": {"A": 2}}'], {"A": "2"}),
    (['["A=1", "B=two words"]'], {"A": "1", "B": "two words"}),
    (['[{"ParameterKey": "A", "ParameterValue": "v"}]'], {"A": "v"}),
    (["A=1", '{"A": "2"}'], {"A": "2"}),
])
def test_parse_overrides_json_forms(values, expected) -> None:
    assert parse_parameter_overrides(values) == expected


def test_parse_overrides_from_a_file(tmp_path) -> None:
    (tmp_path / "p.json").write_text('[{"ParameterKey": "Stage", "ParameterValue": "prod"}]')
    (tmp_path / "p.txt").write_text("Stage=qa\nGreeting='hi there'\n")
    assert parse_parameter_overrides([f"file://{tmp_path / 'p.json'}"]) == {"Stage": "prod"}
    assert parse_parameter_overrides([f"file://{tmp_path / 'p.txt'}"]) == {"Stage": "qa", "Greeting": "hi there"}
    with pytest.raises(OverrideSyntaxError):
        parse_parameter_overrides([f"file://{tmp_path / 'missing.json'}"])
    with pytest.raises(OverrideSyntaxError):
        parse_parameter_overrides(['{"A": '])


PREVIOUS = """\
Parameters:
  Stage: {Type: String, Default: dev}
  Memory: {Type: Number, Default: 128}
  Secret: {Type: String, NoEcho: true}
  Fresh: {Type: String, Default: new}
  Name: {Type: "AWS::SSM::Parameter::Value<String>", Default: /app/name}
Resources:
  Topic: {Type: "AWS::SNS::Topic"}
"""


def test_previous_values_are_kept_unless_overridden() -> None:
    from strata.template.parameters import previous_texts

    previous = previous_texts({"Stage": "prod", "Memory": 512, "Secret": "s3cret", "Name": "resolved-value"})
    ctx = context({"Stage": "qa"}, PREVIOUS, previous=previous)
    assert ctx.parameters["Stage"] == "qa"                 # the override wins
    assert ctx.parameters["Memory"] == 512                 # kept, not the Default
    assert ctx.parameters["Secret"] == "s3cret"            # no Default: the previous value is enough
    assert ctx.parameters["Fresh"] == "new"                # new parameter: its Default
    assert isinstance(ctx.parameters["Name"], Unresolved)  # SSM: the name is read again, not the old value
    unknown = context({}, PREVIOUS, previous={"Secret": None})  # a NoEcho value CloudFormation keeps, unread
    assert isinstance(unknown.parameters["Secret"], Unresolved)


def test_mask_hides_every_no_echo_value() -> None:
    from strata.template import load_template_text as load
    from strata.template.parameters import MASK, mask, mask_parameters, no_echo_names, secret_values

    data = load(PREVIOUS, "t.yaml").data
    assert no_echo_names(data) == {"Secret"}
    secrets = secret_values(data, {"Stage": "dev", "Secret": "s3cret"})
    assert secrets == {"s3cret"}
    assert mask({"Env": ["x s3cret y", 1], "k": ("s3cret",)}, secrets) == {"Env": [f"x {MASK} y", 1], "k": (MASK,)}
    assert mask_parameters({"Stage": "dev", "Secret": "s3cret"}, {"Secret"}) == {"Stage": "dev", "Secret": MASK}
