"""AliasRouting: one value for an alias's routing, read from Lambda's API and CloudFormation's template shapes."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from strata.model.routing import AliasRouting, versions_selected

VERSION = st.integers(min_value=1, max_value=10**6).map(str)
ROUTING = st.builds(
    AliasRouting,
    st.one_of(VERSION, st.just("$LATEST")),
    st.dictionaries(VERSION, st.floats(min_value=0.0, max_value=1.0), max_size=3).map(lambda d: tuple(d.items())))


def test_from_api_reads_get_alias():
    alias = {"AliasArn": "arn:aws:lambda:us-east-1:123456789012:function:fn:live", "Name": "live",
             "FunctionVersion": "3", "RoutingConfig": {"AdditionalVersionWeights": {"4": 0.1}}}
    routing = AliasRouting.from_api(alias)
    assert routing == AliasRouting("3", (("4", 0.1),))
    assert routing.versions() == ["3", "4"]
    assert routing.weight_map() == {"4": 0.1}


def test_from_api_without_routing():
    assert AliasRouting.from_api({"Name": "live", "FunctionVersion": "2"}) == AliasRouting("2")
    assert AliasRouting.from_api({"FunctionVersion": "2", "RoutingConfig": {}}).weights == ()


def test_from_template_reads_the_list_form():
    props = {"Name": "live", "FunctionName": "fn", "FunctionVersion": 5,
             "RoutingConfig": {"AdditionalVersionWeights": [{"FunctionVersion": "4", "FunctionWeight": "0.25"}]}}
    assert AliasRouting.from_template(props) == AliasRouting("5", (("4", 0.25),))


def test_from_template_also_reads_the_map_form_and_no_routing():
    assert AliasRouting.from_template({"FunctionVersion": "5", "RoutingConfig": {"AdditionalVersionWeights":
                                                                                 {"4": 0.5}}}) == \
        AliasRouting("5", (("4", 0.5),))
    assert AliasRouting.from_template({"FunctionVersion": "5"}) == AliasRouting("5")
    assert AliasRouting.from_template({}).primary == ""


def _unknown(value):
    return isinstance(value, dict)


def test_unknown_versions_are_left_out():
    props = {"FunctionVersion": {"Fn::GetAtt": ["V", "Version"]},
             "RoutingConfig": {"AdditionalVersionWeights": [
                 {"FunctionVersion": {"Ref": "Old"}, "FunctionWeight": 0.1},
                 {"FunctionVersion": "2", "FunctionWeight": 0.2}]}}
    assert AliasRouting.from_template(props, unknown=_unknown) == AliasRouting("", (("2", 0.2),))


def test_renders_both_shapes_with_routing_always_present():
    routing = AliasRouting("3", (("4", 0.1),))
    assert routing.to_api() == {"FunctionVersion": "3", "RoutingConfig": {"AdditionalVersionWeights": {"4": 0.1}}}
    assert routing.to_template() == {"FunctionVersion": "3", "RoutingConfig": {"AdditionalVersionWeights": [
        {"FunctionVersion": "4", "FunctionWeight": 0.1}]}}
    assert AliasRouting("3").to_api()["RoutingConfig"] == {"AdditionalVersionWeights": {}}   # clears routing
    assert AliasRouting("3").to_template()["RoutingConfig"] == {"AdditionalVersionWeights": []}


def test_words():
    assert AliasRouting("3").words() == "all traffic to version 3"
    assert AliasRouting("3", (("4", 0.25),)).words() == "75% to version 3, 25% to version 4"


def test_equal_whatever_the_order_and_one_weight_per_version():
    assert AliasRouting("1", (("3", 0.1), ("2", 0.2))) == AliasRouting("1", (("2", 0.2), ("3", 0.1)))
    assert AliasRouting.of("1", [("2", 0.1), ("2", 0.3)]).weights == (("2", 0.3),)
    assert AliasRouting("1", (("2", 1),)).weights == (("2", 1.0),)


@given(ROUTING)
def test_template_round_trip(routing):
    assert AliasRouting.from_template(routing.to_template()) == routing


@given(ROUTING)
def test_api_round_trip(routing):
    assert AliasRouting.from_api(routing.to_api()) == routing


def test_the_versions_a_qualifier_selects() -> None:
    def routing(alias: str) -> AliasRouting:
        assert alias == "live"
        return AliasRouting.of("3", {"4": 0.1})

    assert versions_selected(None, routing) is None
    assert versions_selected("$LATEST", routing) == ["$LATEST"]
    assert versions_selected("7", routing) == ["7"]
    assert versions_selected("live", routing) == ["3", "4"]
