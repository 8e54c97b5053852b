"""One builder of a stack's evaluation context: the transform, the local engine and verify read a template alike."""
from __future__ import annotations

import json

import pytest

from strata.local.engine.resolve import StackResolver
from strata.template.context import context_for
from strata.template.intrinsics import Unresolved, evaluate
from strata.template.load import load_template_text
from strata.template.parameters import ParameterOverrides, build_context, parse_parameter_overrides
from strata.verify.expected import stack_context
from strata.verify.model import DeployedStack, StackResource

TEMPLATE = {
    "Parameters": {
        "Stage": {"Type": "String", "Default": "dev"},
        "Subnets": {"Type": "CommaDelimitedList", "Default": "a, b"},
        "Memory": {"Type": "Number"},
    },
    "Mappings": {"Sizes": {"dev": {"Mb": 128}, "prod": {"Mb": 1024}}},
    "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}},
    "Resources": {"Fn": {"Type": "AWS::Lambda::Function"}},
}


def context(parameters, **kwargs):
    return context_for(TEMPLATE, parameters, region="eu-west-1", account_id="111122223333", stack_name="demo",
                       **kwargs)


def test_defaults_fill_what_is_not_given_and_a_value_without_one_stays_unresolved():
    ctx = context({"Stage": "prod"})
    assert ctx.parameters["Stage"] == "prod"
    assert ctx.parameters["Subnets"] == ["a", "b"]                    # CloudFormation trims each item
    assert ctx.parameters["Memory"] == Unresolved({"Ref": "Memory"}, frozenset())
    assert ctx.conditions == {"IsProd": True}
    assert evaluate({"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Mb"]}, ctx) == 1024


def test_list_text_as_cloudformation_reports_it_becomes_items():
    assert context({"Subnets": "x,y ,z"}).parameters["Subnets"] == ["x", "y", "z"]


def test_a_stored_unresolved_parameter_stays_unresolved():
    """A parameter known only at deploy (SSM) is stored as its ``Ref``: read back, it is not a value."""
    assert context({"Memory": {"Ref": "Memory"}}).parameters["Memory"] == Unresolved({"Ref": "Memory"}, frozenset())


def test_pseudo_parameters_and_the_real_stack_id():
    ctx = context({})
    assert ctx.pseudo["AWS::Region"] == "eu-west-1" and ctx.pseudo["AWS::StackName"] == "demo"
    assert ctx.pseudo["AWS::StackId"].startswith("arn:aws:cloudformation:eu-west-1:111122223333:stack/demo/")
    assert context({}).pseudo == ctx.pseudo                            # stable across runs
    real = "arn:aws:cloudformation:eu-west-1:111122223333:stack/demo/real"
    assert context({}, stack_id=real).pseudo["AWS::StackId"] == real


def test_resource_references_go_to_the_resolver_given():
    ctx = context({}, resolve_resource=lambda lid, attr: f"{lid}.{attr or 'Ref'}")
    assert evaluate({"Fn::GetAtt": ["Fn", "Arn"]}, ctx) == "Fn.Arn"
    assert isinstance(evaluate({"Ref": "Fn"}, context({})), Unresolved)


def test_transform_engine_and_verify_build_the_same_context():
    """The same stack read by the three stages: equal parameters, pseudo parameters, mappings and conditions."""
    overrides = parse_parameter_overrides(["Stage=prod Memory=256", "Subnets=x,y"])
    assert isinstance(overrides, ParameterOverrides)
    assert overrides == {"Stage": "prod", "Memory": "256", "Subnets": "x,y"}
    transformed = build_context(load_template_text(json.dumps(TEMPLATE), "t.json"), overrides, region="eu-west-1",
                                account_id="111122223333", stack_name="demo")
    engine = StackResolver(TEMPLATE, transformed.parameters, region="eu-west-1", account_id="111122223333",
                           stack_name="demo").ctx
    deployed = DeployedStack(name="demo", template=TEMPLATE, parameters=dict(transformed.parameters),
                             resources={"Fn": StackResource("Fn", "AWS::Lambda::Function", "demo-Fn")},
                             region="eu-west-1", account_id="111122223333")
    verify = stack_context(deployed)
    for ctx in (engine, verify):
        assert ctx.parameters == transformed.parameters == {"Stage": "prod", "Subnets": ["x", "y"], "Memory": 256}
        assert (ctx.pseudo, ctx.mappings, ctx.conditions, ctx.resources) == \
            (transformed.pseudo, transformed.mappings, transformed.conditions, transformed.resources)


@pytest.mark.parametrize("given", [{}, {"Stage": "dev"}])
def test_a_condition_reads_the_default_when_nothing_is_given(given):
    assert context(given).conditions == {"IsProd": False}
