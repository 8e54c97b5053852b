"""The stack template's shape rules (template.stack): one home, called by the engine's parse and by validate."""
from __future__ import annotations

from strata.errors import Location
from strata.template.stack import stack_problems


def at(path: tuple) -> Location:
    return Location("t.yaml", len(path), 1)


def test_every_shape_problem_at_once_and_located() -> None:
    template = {
        "Conditions": {"Yes": True},
        "Resources": {
            "A": {"Type": "X", "Condition": "Nope", "DependsOn": "Ghost"},
            "B": {"Type": "X", "DependsOn": ["A", "Ghost"], "DeletionPolicy": "Keep"},
            "C": {"Properties": {}},
        },
        "Outputs": {"O": {"Value": "v", "Condition": "Missing"}},
    }
    assert [(p.message, p.location) for p in stack_problems(template, {"Yes": True}, at)] == [
        ("resource A: unknown condition 'Nope'", at(("Resources", "A", "Condition"))),
        ("B DependsOn Ghost, which is not a resource in this template", at(("Resources", "B", "DependsOn"))),
        ("B: DeletionPolicy must be one of Delete, Retain, Snapshot, RetainExceptOnCreate, not 'Keep'",
         at(("Resources", "B", "DeletionPolicy"))),
        ("resource C has no Type", at(("Resources", "C"))),
        ("output O: unknown condition 'Missing'", at(("Outputs", "O", "Condition"))),
    ]


def test_cycles_count_only_the_resources_their_conditions_keep() -> None:
    template = {
        "Conditions": {"Off": False, "On": True},
        "Resources": {
            "A": {"Type": "X", "Properties": {"P": {"Ref": "B"}}},
            "B": {"Type": "X", "Condition": "Off", "Properties": {"P": {"Fn::GetAtt": ["A", "Arn"]}}},
        },
    }
    assert stack_problems(template, {"Off": False, "On": True}) == []
    template["Resources"]["B"]["Condition"] = "On"
    [problem] = stack_problems(template, {"Off": False, "On": True})
    assert problem.message.startswith("circular dependency: A -> B -> A")
    assert stack_problems(template) == []  # without conditions: shape only (the engine orders later)
