"""Plan reasons name the leaf that changed, tags included (CloudFormation's list of Key/Value pairs)."""
from __future__ import annotations

from strata.local.engine.planner import _MISSING, _describe_change


def tags(**pairs: str) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in pairs.items()]


def test_tag_added_changed_removed_are_named() -> None:
    assert _describe_change("Tags", tags(app="a"), tags(app="a", team="blue")) == "Tags.team added (blue)"
    assert _describe_change("Tags", tags(app="a", team="red"), tags(app="a", team="green")) == \
        "Tags.team: red -> green"
    assert _describe_change("Tags", tags(app="a", team="red"), tags(app="a")) == "Tags.team removed (was red)"


def test_nested_mapping_leaf_and_whole_values() -> None:
    old = {"Variables": {"A": "1", "B": "2"}}
    assert _describe_change("Environment", old, {"Variables": {"A": "1", "B": "3"}}) == \
        "Environment.Variables.B: 2 -> 3"
    assert _describe_change("Timeout", 3, 10) == "Timeout: 3 -> 10"
    assert _describe_change("Timeout", _MISSING, 10) == "Timeout added (10)"
    assert _describe_change("Timeout", 3, _MISSING) == "Timeout removed"
