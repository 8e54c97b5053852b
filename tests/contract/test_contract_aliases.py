"""Aliases and routing (reference section 7; RevisionId 4.2; alias-protected versions 4.4)."""
from __future__ import annotations

import pytest
from contract_helpers import arn, create, fails

WEIGHT_CONSTRAINT = ("Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member "
                     "must have value greater than or equal to 0.0, Member must not be null]")


@pytest.fixture
def fn(lam):
    """A function with versions 1, 2 and 3."""
    create(lam, Publish=True)
    for timeout in (4, 5):
        lam.update_function_configuration(FunctionName="fn", Timeout=timeout)
        lam.publish_version(FunctionName="fn")
    return "fn"


def test_alias_lifecycle(lam, fn):
    created = lam.create_alias(FunctionName=fn, Name="live", FunctionVersion="1", Description="d")
    assert created["AliasArn"] == arn(fn, "live")
    assert (created["Name"], created["FunctionVersion"], created["Description"]) == ("live", "1", "d")
    assert created["RevisionId"] and "RoutingConfig" not in created
    assert lam.get_alias(FunctionName=fn, Name="live") == created
    updated = lam.update_alias(FunctionName=fn, Name="live", FunctionVersion="2")
    assert updated["FunctionVersion"] == "2" and updated["Description"] == "d"
    assert updated["RevisionId"] != created["RevisionId"]
    again = lam.update_alias(FunctionName=fn, Name="live")  # no change: still a new RevisionId
    assert again["RevisionId"] != updated["RevisionId"]
    assert lam.delete_alias(FunctionName=fn, Name="live") == {}
    with fails("ResourceNotFoundException", f"Cannot find alias arn: {arn(fn, 'live')}"):
        lam.get_alias(FunctionName=fn, Name="live")


def test_alias_to_latest(lam, fn):
    assert lam.create_alias(FunctionName=fn, Name="dev", FunctionVersion="$LATEST")["FunctionVersion"] == "$LATEST"


def test_alias_does_not_touch_function_revision(lam, fn):
    before = lam.get_function(FunctionName=fn)["Configuration"]["RevisionId"]
    lam.create_alias(FunctionName=fn, Name="live", FunctionVersion="1")
    assert lam.get_function(FunctionName=fn)["Configuration"]["RevisionId"] == before


def test_alias_names(lam, fn):
    assert lam.create_alias(FunctionName=fn, Name="2024-01-02", FunctionVersion="1")["Name"] == "2024-01-02"
    with fails("ValidationException", "1 validation error detected: Value '2024' at 'name' failed to satisfy "
                                      "constraint: Member must satisfy regular expression pattern: "
                                      "(?!^[0-9]+$)([a-zA-Z0-9-_]+)"):
        lam.create_alias(FunctionName=fn, Name="2024", FunctionVersion="1")
    with fails("ValidationException", match=r"Value 'a\.b' at 'name'"):
        lam.create_alias(FunctionName=fn, Name="a.b", FunctionVersion="1")


def test_duplicate_alias(lam, fn):
    lam.create_alias(FunctionName=fn, Name="live", FunctionVersion="1")
    with fails("ResourceConflictException", f"Alias already exists: {arn(fn, 'live')}"):
        lam.create_alias(FunctionName=fn, Name="live", FunctionVersion="2")


def test_unknown_targets(lam, fn):
    with fails("ResourceNotFoundException", f"Function not found: {arn(fn, '99')}"):
        lam.create_alias(FunctionName=fn, Name="live", FunctionVersion="99")
    with fails("ResourceNotFoundException", f"Function not found: {arn('nope')}"):
        lam.create_alias(FunctionName="nope", Name="live", FunctionVersion="1")
    with fails("ResourceNotFoundException", f"Function not found: {arn(fn, '99')}"):
        lam.create_alias(FunctionName=fn, Name="live", FunctionVersion="1",
                         RoutingConfig={"AdditionalVersionWeights": {"99": 0.5}})


def test_routing_rules(lam, fn):
    def alias(**routing):
        return lam.create_alias(FunctionName=fn, Name="r", FunctionVersion=routing.pop("primary", "1"),
                                RoutingConfig={"AdditionalVersionWeights": routing["weights"]})

    with fails("InvalidParameterValueException",
               "Number of items in AdditionalVersionWeights cannot be greater than 1"):
        alias(weights={"2": 0.1, "3": 0.1})
    with fails("ValidationException", "1 validation error detected: Value '{2=2.0}' at "
                                      f"'routingConfig.additionalVersionWeights' failed to satisfy constraint: "
                                      f"{WEIGHT_CONSTRAINT}"):
        alias(weights={"2": 2.0})
    with fails("ValidationException", match=r"Value '\{2=-0\.1\}' at 'routingConfig\.additionalVersionWeights'"):
        alias(weights={"2": -0.1})
    with fails("ValidationException", match=r"at 'routingConfig\.additionalVersionWeights' failed to satisfy "
                                            r"constraint: Map keys must satisfy constraint: .*\[0-9\]\+"):
        alias(weights={"$LATEST": 0.5})
    with fails("InvalidParameterValueException",
               "Invalid function version 1. Function version 1 is already included in routing configuration."):
        alias(weights={"1": 0.5})
    with fails("InvalidParameterValueException",
               "$LATEST is not supported for an alias pointing to more than 1 version"):
        alias(primary="$LATEST", weights={"2": 0.5})
    ok = alias(weights={"2": 0.3})
    assert ok["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.3}}


def test_weights_bounds_accepted(lam, fn):
    for name, weight in (("zero", 0.0), ("one", 1.0)):
        made = lam.create_alias(FunctionName=fn, Name=name, FunctionVersion="1",
                                RoutingConfig={"AdditionalVersionWeights": {"2": weight}})
        assert made["RoutingConfig"]["AdditionalVersionWeights"]["2"] == weight


def test_empty_routing_is_omitted_and_update_semantics(lam, fn):
    made = lam.create_alias(FunctionName=fn, Name="live", FunctionVersion="1",
                            RoutingConfig={"AdditionalVersionWeights": {}})
    assert "RoutingConfig" not in made
    routed = lam.update_alias(FunctionName=fn, Name="live", RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    assert routed["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.5}}
    kept = lam.update_alias(FunctionName=fn, Name="live", Description="kept")
    assert kept["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.5}}
    removed = lam.update_alias(FunctionName=fn, Name="live", RoutingConfig={"AdditionalVersionWeights": {}})
    assert "RoutingConfig" not in removed


def test_update_alias_checks(lam, fn):
    with fails("ResourceNotFoundException", f"Alias not found: {arn(fn, 'ghost')}"):
        lam.update_alias(FunctionName=fn, Name="ghost", FunctionVersion="1")
    lam.create_alias(FunctionName=fn, Name="live", FunctionVersion="1")
    with fails("PreconditionFailedException", "The Revision Id provided does not match the latest Revision Id. "
                                              "Call the GetFunction/GetAlias API to retrieve the latest Revision Id"):
        lam.update_alias(FunctionName=fn, Name="live", FunctionVersion="2", RevisionId="stale")
    with fails("InvalidParameterValueException",
               "Invalid function version 2. Function version 2 is already included in routing configuration."):
        lam.update_alias(FunctionName=fn, Name="live", FunctionVersion="2",
                         RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})


def test_delete_unknown_alias_succeeds(lam, fn):
    assert lam.delete_alias(FunctionName=fn, Name="ghost") == {}


def test_list_aliases_filter(lam, fn):
    lam.create_alias(FunctionName=fn, Name="a", FunctionVersion="1")
    lam.create_alias(FunctionName=fn, Name="b", FunctionVersion="2")
    assert [a["Name"] for a in lam.list_aliases(FunctionName=fn)["Aliases"]] == ["a", "b"]
    assert [a["Name"] for a in lam.list_aliases(FunctionName=fn, FunctionVersion="1")["Aliases"]] == ["a"]


def test_versions_referenced_by_aliases_cannot_be_deleted(lam, fn):
    lam.create_alias(FunctionName=fn, Name="live", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}})
    lam.create_alias(FunctionName=fn, Name="beta", FunctionVersion="1")
    with fails("ResourceConflictException",
               "Unable to delete version because the following aliases reference it: [beta, live]"):
        lam.delete_function(FunctionName=fn, Qualifier="1")
    with fails("ResourceConflictException",  # routing target too (reference 4.4: "presumably")
               "Unable to delete version because the following aliases reference it: [live]"):
        lam.delete_function(FunctionName=fn, Qualifier="2")
    lam.delete_function(FunctionName=fn, Qualifier="3")


def test_alias_qualifier_resolves_to_its_version(lam, fn):
    lam.create_alias(FunctionName=fn, Name="live", FunctionVersion="2")
    config = lam.get_function_configuration(FunctionName=fn, Qualifier="live")
    assert config["Version"] == "2" and config["Timeout"] == 4
    assert lam.get_function(FunctionName=f"{fn}:live")["Configuration"]["Version"] == "2"
