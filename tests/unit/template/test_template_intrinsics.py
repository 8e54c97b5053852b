"""Intrinsic functions: values known before deploy are resolved, the rest stay Unresolved with their dependencies."""
from __future__ import annotations

import base64
import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strata.errors import Location, TemplateError
from strata.template.context import pseudo_parameters
from strata.template.intrinsics import (
    FUNCTIONS,
    NO_VALUE,
    Context,
    Unresolved,
    contains_unresolved,
    evaluate,
    evaluate_conditions,
)


@pytest.fixture
def ctx() -> Context:
    return Context(
        parameters={"Stage": "prod", "Mem": 256, "Subnets": ["s-1", "s-2"],
                    "Secret": Unresolved({"Ref": "Secret"}, frozenset())},
        pseudo=pseudo_parameters("eu-west-1", "111122223333", "demo"),
        mappings={"Env": {"prod": {"Size": "large", "Count": 3}}, "Years": {2020: {"x": "y"}}},
        conditions={"IsProd": True, "IsDev": False},
        resources=frozenset({"Table", "Role", "Fn"}),
    )


def ev(value, ctx):
    return evaluate(value, ctx)


def nowhere(path) -> Location:
    return Location("t.yaml")


def errors(value, ctx) -> list[str]:
    with pytest.raises(TemplateError) as info:
        evaluate(value, ctx, locate=nowhere)
    return [p.message for p in info.value.problems]


def test_registry_is_a_plain_dict_with_every_function() -> None:
    assert set(FUNCTIONS) >= {
        "Ref", "Fn::GetAtt", "Fn::Sub", "Fn::Join", "Fn::Select", "Fn::Split", "Fn::If", "Fn::Equals", "Fn::And",
        "Fn::Or", "Fn::Not", "Fn::FindInMap", "Fn::Base64", "Fn::GetAZs", "Fn::Cidr", "Fn::ImportValue",
        "Fn::ToJsonString", "Fn::Length"}


def test_ref_parameters_and_pseudo_parameters(ctx) -> None:
    assert ev({"Ref": "Stage"}, ctx) == "prod"
    assert ev({"Ref": "AWS::Region"}, ctx) == "eu-west-1"
    assert ev({"Ref": "AWS::Partition"}, ctx) == "aws"
    assert ev({"Ref": "AWS::URLSuffix"}, ctx) == "amazonaws.com"
    assert ev({"Ref": "AWS::StackId"}, ctx).startswith("arn:aws:cloudformation:eu-west-1:111122223333:stack/demo/")
    assert ev({"Ref": "Subnets"}, ctx) == ["s-1", "s-2"]


def test_ref_and_getatt_to_resources_are_unresolved(ctx) -> None:
    assert ev({"Ref": "Table"}, ctx) == Unresolved({"Ref": "Table"}, frozenset({"Table"}))
    assert ev({"Fn::GetAtt": ["Role", "Arn"]}, ctx) == Unresolved({"Fn::GetAtt": ["Role", "Arn"]}, frozenset({"Role"}))
    assert ev({"Fn::GetAtt": "Role.Arn"}, ctx).expression == {"Fn::GetAtt": ["Role", "Arn"]}


def test_no_value_removes_keys_and_list_items(ctx) -> None:
    value = {"A": {"Ref": "AWS::NoValue"}, "B": [1, {"Ref": "AWS::NoValue"}, 2],
             "C": {"Fn::If": ["IsDev", "x", {"Ref": "AWS::NoValue"}]}, "D": {"Fn::If": ["IsProd", "x", "y"]}}
    assert ev(value, ctx) == {"B": [1, 2], "D": "x"}
    assert ev({"Ref": "AWS::NoValue"}, ctx) is NO_VALUE


def test_evaluate_does_not_mutate_its_input(ctx) -> None:
    value = {"A": {"Ref": "AWS::NoValue"}, "B": [{"Fn::Sub": "${Stage}"}, {"Ref": "Table"}]}
    before = copy.deepcopy(value)
    ev(value, ctx)
    assert value == before


def test_sub_forms_and_escapes(ctx) -> None:
    assert ev({"Fn::Sub": "${AWS::StackName}-${Stage}-${!Literal}-${Mem}"}, ctx) == "demo-prod-${Literal}-256"
    assert ev({"Fn::Sub": ["${A}/${Stage}", {"A": {"Fn::Join": ["-", ["x", "y"]]}}]}, ctx) == "x-y/prod"
    assert ev({"Fn::Sub": ["${Stage}", {"Stage": "override"}]}, ctx) == "override"
    # a substituted value that looks like a variable is not substituted again
    assert ev({"Fn::Sub": ["${A}", {"A": "${Stage}"}]}, ctx) == "${Stage}"


def test_sub_with_unknown_parts_is_unresolved_with_the_rest_resolved(ctx) -> None:
    result = ev({"Fn::Sub": ["${Stage}:${Table}:${Role.Arn}:${X}:${!Keep}", {"X": {"Ref": "Fn"}}]}, ctx)
    assert result == Unresolved(
        {"Fn::Sub": ["prod:${Table}:${Role.Arn}:${X}:${!Keep}", {"X": {"Ref": "Fn"}}]},
        frozenset({"Table", "Role", "Fn"}))


def test_join_select_split(ctx) -> None:
    assert ev({"Fn::Join": [",", {"Ref": "Subnets"}]}, ctx) == "s-1,s-2"
    assert ev({"Fn::Join": ["", ["a", 1, True]]}, ctx) == "a1true"
    assert ev({"Fn::Select": ["1", {"Fn::Split": [",", "a,b,c"]}]}, ctx) == "b"
    assert ev({"Fn::Select": [0, [{"Ref": "Table"}, "x"]]}, ctx) == Unresolved({"Ref": "Table"}, frozenset({"Table"}))


def test_unresolved_arguments_propagate_with_partial_expression(ctx) -> None:
    result = ev({"Fn::Join": ["-", [{"Ref": "Stage"}, {"Fn::GetAtt": ["Role", "Arn"]}, {"Ref": "Table"}]]}, ctx)
    assert result == Unresolved(
        {"Fn::Join": ["-", ["prod", {"Fn::GetAtt": ["Role", "Arn"]}, {"Ref": "Table"}]]}, frozenset({"Role", "Table"}))
    assert contains_unresolved({"A": [result]}) and not contains_unresolved({"A": ["x"]})
    assert ev({"Fn::Base64": {"Ref": "Secret"}}, ctx) == Unresolved({"Fn::Base64": {"Ref": "Secret"}}, frozenset())
    assert ev({"Fn::ImportValue": {"Fn::Sub": "${Stage}-vpc"}}, ctx) == Unresolved(
        {"Fn::ImportValue": "prod-vpc"}, frozenset())


def test_conditions_functions(ctx) -> None:
    assert ev({"Fn::Equals": [{"Ref": "Mem"}, "256"]}, ctx) is True
    assert ev({"Fn::Equals": ["true", True]}, ctx) is True
    assert ev({"Fn::And": [{"Condition": "IsProd"}, {"Fn::Equals": ["a", "a"]}]}, ctx) is True
    assert ev({"Fn::Or": [{"Condition": "IsDev"}, {"Fn::Not": [{"Condition": "IsProd"}]}]}, ctx) is False
    unknown = ev({"Fn::Equals": [{"Ref": "Table"}, "x"]}, ctx)
    assert ev({"Fn::And": [{"Condition": "IsDev"}, unknown.expression]}, ctx) is False  # False decides And


def test_find_in_map_and_default(ctx) -> None:
    assert ev({"Fn::FindInMap": ["Env", {"Ref": "Stage"}, "Size"]}, ctx) == "large"
    assert ev({"Fn::FindInMap": ["Env", "dev", "Size", {"DefaultValue": "small"}]}, ctx) == "small"
    assert ev({"Fn::FindInMap": ["Years", "2020", "x"]}, ctx) == "y"  # YAML read the key as a number
    assert errors({"Fn::FindInMap": ["Env", "dev", "Size"]}, ctx) == [
        "Fn::FindInMap: no top-level key 'dev' (known: prod)"]


def test_base64_getazs_tojson_length(ctx) -> None:
    assert ev({"Fn::Base64": "héllo"}, ctx) == base64.b64encode("héllo".encode()).decode()
    assert ev({"Fn::GetAZs": ""}, ctx) == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    assert ev({"Fn::GetAZs": "us-east-2"}, ctx) == ["us-east-2a", "us-east-2b", "us-east-2c"]
    assert ev({"Fn::ToJsonString": {"a": [1, {"Ref": "Stage"}]}}, ctx) == '{"a":[1,"prod"]}'
    assert ev({"Fn::Length": {"Ref": "Subnets"}}, ctx) == 2
    assert ev({"Fn::Length": [1, {"Ref": "AWS::NoValue"}]}, ctx) == 1


@pytest.mark.parametrize(("args", "expected"), [
    (["192.168.0.0/24", 6, 5], ["192.168.0.0/27", "192.168.0.32/27", "192.168.0.64/27", "192.168.0.96/27",
                                "192.168.0.128/27", "192.168.0.160/27"]),  # the CloudFormation user guide example
    (["10.0.0.0/16", "3", "8"], ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]),
    (["2001:db8::/56", 2, 64], ["2001:db8::/64", "2001:db8:0:1::/64"]),
])
def test_cidr_computes_real_subnets(ctx, args, expected) -> None:
    assert ev({"Fn::Cidr": args}, ctx) == expected


def test_cidr_errors(ctx) -> None:
    assert errors({"Fn::Cidr": ["10.0.0.0/24", 3, 9]}, ctx) == ["Fn::Cidr: 9 subnet bits do not fit in 10.0.0.0/24"]
    assert errors({"Fn::Cidr": ["10.0.0.0/24", 5, 6]}, ctx) == ["Fn::Cidr: 10.0.0.0/24 holds only 4 /26 subnets, not 5"]


def test_errors_are_located_and_collected(ctx) -> None:
    def locate(path):
        return Location("t.yaml", len(path), 1)
    value = {"A": {"Ref": "Nope"}, "B": {"Fn::Select": [5, ["x"]]}, "C": {"Fn::Join": "x"},
             "D": {"Fn::If": ["Nope", 1, 2]}, "E": {"Fn::Sub": "${Missing}"}, "F": {"Fn::GetAtt": ["Ghost", "Arn"]},
             "G": {"Fn::Bogus": 1}, "H": "fine"}
    with pytest.raises(TemplateError) as info:
        evaluate(value, ctx, ("Resources", "Fn", "Properties"), locate=locate)
    assert [(p.message, p.location.line) for p in info.value.problems] == [
        ("Ref to 'Nope', which is neither a parameter nor a resource", 5),
        ("Fn::Select index 5 is out of range for a list of 1", 6),
        ("Fn::Join takes a list of 2 arguments, not a string", 5),
        ("unknown condition 'Nope' (known: IsDev, IsProd)", 6),
        ("Fn::Sub variable ${Missing} is not a parameter, resource or variable", 5),
        ("Fn::GetAtt of 'Ghost', which is not a resource in this template", 6),
        ("unknown intrinsic function Fn::Bogus", 5),
    ]


def test_errors_without_locate_name_the_path(ctx) -> None:
    with pytest.raises(TemplateError, match=r"at A\.Ref"):
        evaluate({"A": {"Ref": "Nope"}}, ctx)


def test_evaluate_conditions_in_dependency_order(ctx) -> None:
    conditions = {"Both": {"Fn::And": [{"Condition": "Prod"}, {"Condition": "Big"}]},
                  "Prod": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
                  "Big": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Mem"}, 128]}]}}
    assert evaluate_conditions(conditions, ctx) == {"Both": True, "Prod": True, "Big": True}


def test_condition_cycles_are_reported_once(ctx) -> None:
    conditions = {"A": {"Fn::Not": [{"Condition": "B"}]}, "B": {"Fn::Or": [{"Condition": "C"}, {"Condition": "A"}]},
                  "C": {"Fn::Equals": ["a", "b"]}, "Self": {"Fn::Not": [{"Condition": "Self"}]}}
    with pytest.raises(TemplateError) as info:
        evaluate_conditions(conditions, ctx, locate=nowhere)
    assert [p.message for p in info.value.problems] == [
        "conditions refer to each other in a cycle: A -> B -> A",
        "conditions refer to each other in a cycle: Self -> Self",
    ]


def test_condition_on_unknown_value_keeps_both_branches(ctx) -> None:
    conditions = evaluate_conditions({"HasSecret": {"Fn::Equals": [{"Ref": "Secret"}, "x"]}}, ctx)
    assert isinstance(conditions["HasSecret"], Unresolved)
    ctx.conditions = conditions
    result = ev({"Fn::If": ["HasSecret", {"Ref": "Stage"}, {"Ref": "AWS::NoValue"}]}, ctx)
    assert result.expression == {"Fn::If": ["HasSecret", "prod", {"Ref": "AWS::NoValue"}]}


_names = st.sampled_from(sorted(FUNCTIONS) + ["Condition", "Fn::Nope", "X"])
_atoms = st.sampled_from(["Stage", "Table", "Role.Arn", "IsProd", "AWS::Region", "AWS::NoValue", "Env", "prod", "Size",
                          "${Stage}", "${Table.Arn}", "${!x}", "10.0.0.0/16", ",", "", "1", "-1", "a,b"]) \
    | st.integers(-3, 300) | st.booleans() | st.none()
_expressions = st.recursive(_atoms, lambda children: st.lists(children, max_size=4)
                            | st.dictionaries(_names, children, min_size=1, max_size=1)
                            | st.dictionaries(st.sampled_from(["DefaultValue", "A", "Stage"]), children, max_size=2),
                            max_leaves=12)


@settings(max_examples=400, deadline=None)
@given(_expressions)
def test_any_expression_evaluates_or_reports_problems(value) -> None:
    """Never a traceback: any shape of arguments gives a value or located problems, and the input is untouched."""
    ctx = Context(parameters={"Stage": "prod", "List": ["a"]}, pseudo=pseudo_parameters("us-east-1", "1", "s"),
                  mappings={"Env": {"prod": {"Size": "L"}}}, conditions={"IsProd": True},
                  resources=frozenset({"Table", "Role"}))
    before = copy.deepcopy(value)
    try:
        evaluate(value, ctx, locate=nowhere)
    except TemplateError as exc:
        assert exc.problems
    assert value == before
