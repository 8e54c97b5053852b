"""The dependency graph: references, order, cycles."""
from __future__ import annotations

import pytest

from strata.errors import StrataError
from strata.template.graph import references, topological_order


def test_references_from_ref_getatt_sub():
    value = {"A": {"Ref": "X"}, "B": {"Fn::GetAtt": ["Y", "Arn"]}, "C": {"Fn::GetAtt": "Z.Arn"},
             "D": {"Fn::Sub": "${W}-${V.Arn}-${!Lit}-${AWS::Region}"},
             "E": {"Fn::Sub": ["${local}-${U}", {"local": {"Ref": "T"}}]}}
    assert references(value) == {"X", "Y", "Z", "W", "V", "AWS::Region", "U", "T"}


def test_order_follows_dependencies_and_template_order():
    edges = {"Alias": ("Version",), "Fn": ("Role", "Layer"), "Version": ("Fn",), "Role": (), "Layer": ()}
    assert topological_order(edges) == ["Role", "Layer", "Fn", "Version", "Alias"]


def test_cycle_names_the_loop():
    with pytest.raises(StrataError) as err:
        topological_order({"A": ("B",), "B": ("C",), "C": ("A",), "D": ()})
    assert "circular dependency: A -> B -> C -> A" in err.value.message


def test_self_reference_is_a_cycle():
    with pytest.raises(StrataError, match="A -> A"):
        topological_order({"A": ("A",)})
