"""strata prune on the local engine: keeps what aliases, routing, pins and the template need; frees what it says."""
from __future__ import annotations

from dataclasses import replace

import pytest
from ops_helpers import app, payload, result

from strata.local.engine.api import Engine
from strata.local.verify import verify_local
from strata.ops.prune import Inventory, VersionInfo, plan_prune, prune_local, prune_settings
from strata.ops.rollback import rollback_local


@pytest.fixture
def released(tmp_path):
    """Four releases of Fn (versions 1-4, layer shared:1-4); alias live -> 4, alias beta -> 1 with 20% to 2."""
    home = tmp_path / ".strata"
    engine = Engine(home)
    for answer, layer in (("1", "a"), ("2", "b"), ("3", "c"), ("4", "d")):
        assert engine.deploy("s", result(app(home, answer, layer=layer))).status == "complete"
    name = engine.state.resources("s")["Fn"].physical_id
    engine.client.create_alias(FunctionName=name, Name="beta", FunctionVersion="1",
                               RoutingConfig={"AdditionalVersionWeights": {"2": 0.2}})
    yield home, engine, name
    engine.close()


def _versions(engine, name):
    return [v["Version"] for v in engine.client.list_versions_by_function(FunctionName=name)["Versions"]]


def _layers(engine):
    return sorted(v["Version"] for v in engine.client.list_layer_versions(LayerName="shared")["LayerVersions"])


def test_dry_run_then_real_prune_free_the_same_bytes(released):
    home, engine, name = released
    v3 = engine.client.get_function_configuration(FunctionName=name, Qualifier="3")["CodeSize"]
    l3 = engine.client.get_layer_version(LayerName="shared", VersionNumber=3)["Content"]["CodeSize"]
    dry = prune_local(home, "s", keep=1, include_layers=True, dry_run=True, client=engine.client)
    assert [(i.kind, i.version) for i in dry.deleted] == [("function", "3"), ("layer", "3")]
    assert dry.bytes_freed == v3 + l3 > 0
    kept = {(i.kind, i.version): i.reason for i in dry.kept}
    assert kept[("function", "1")] == "alias beta routes to it"
    assert kept[("function", "2")] == "alias beta routes 20% of its traffic to it"
    assert kept[("function", "4")] == "alias live routes to it"
    assert kept[("layer", "4")].startswith("the stack's template names it")
    assert kept[("layer", "1")].startswith(f"used by {name}:1")
    assert _versions(engine, name) == ["$LATEST", "1", "2", "3", "4"] and _layers(engine) == [1, 2, 3, 4]
    assert "would delete function" in dry.text() and "Would free" in dry.text()

    real = prune_local(home, "s", keep=1, include_layers=True, client=engine.client)
    assert real.to_dict()["Deleted"] == dry.to_dict()["Deleted"] and real.bytes_freed == dry.bytes_freed
    assert _versions(engine, name) == ["$LATEST", "1", "2", "4"] and _layers(engine) == [1, 2, 4]
    # the pruned stack still verifies and invokes, through both aliases
    assert verify_local(home, "s", client=engine.client).ok
    assert payload(engine.client.invoke(FunctionName=name, Qualifier="live"))["answer"] == "4"
    assert {payload(engine.client.invoke(FunctionName=name, Qualifier="beta"))["answer"] for _ in range(40)} \
        == {"1", "2"}
    # nothing left to prune; a later deploy is undisturbed
    assert prune_local(home, "s", keep=1, include_layers=True, client=engine.client).deleted == []
    assert engine.deploy("s", result(app(home, "5", layer="e"))).status == "complete"


def test_without_layers_and_with_keep(released):
    home, engine, name = released
    report = prune_local(home, "s", keep=3, client=engine.client)
    assert report.deleted == [] and _layers(engine) == [1, 2, 3, 4]
    engine.client.delete_alias(FunctionName=name, Name="beta")
    report = prune_local(home, "s", keep=0, client=engine.client)
    assert sorted(i.version for i in report.deleted) == ["1", "2", "3"]
    assert _versions(engine, name) == ["$LATEST", "4"] and _layers(engine) == [1, 2, 3, 4]


def test_pinned_rollback_version_is_kept(released):
    home, engine, name = released
    engine.client.delete_alias(FunctionName=name, Name="beta")
    rollback_local(home, "s", "Fn", client=engine.client)                 # live -> 3, pinned
    report = prune_local(home, "s", keep=0, dry_run=True, client=engine.client)
    kept = {i.version: i.reason for i in report.kept}
    assert kept["3"] == "alias live routes to it"
    assert kept["4"].startswith("the stack's template names it")
    assert sorted(i.version for i in report.deleted) == ["1", "2"]


def test_pruned_versions_the_state_still_lists_are_dropped(released):
    home, engine, name = released
    engine.client.delete_alias(FunctionName=name, Name="beta")
    state = engine.state
    fn_version = next(r for r in state.resources("s").values() if r.type == "AWS::Lambda::Version")
    stale = replace(fn_version, logical_id="FnVersionOld", physical_id=fn_version.physical_id.rsplit(":", 1)[0] + ":2",
                    attributes={**fn_version.attributes, "Version": "2"})
    with state.transaction():
        state.put_orphan("s", stale, 1, False)                          # a pending-cleanup record of version 2
    report = prune_local(home, "s", keep=1, client=engine.client)
    assert "2" in {i.version for i in report.deleted}
    assert report.dropped_from_state == [f"FnVersionOld ({stale.physical_id}, pending cleanup)"]
    assert state.orphans("s") == []
    assert engine.deploy("s", result(app(home, "5", layer="e"))).status == "complete"


def test_plan_prune_is_pure_and_counts_bytes():
    inv = Inventory([VersionInfo("f", str(n), 100 * n, ()) for n in range(1, 6)],
                    {("f", "2"): "alias live routes to it"})
    report = plan_prune(inv, keep=2, include_layers=False, target="local", stack="s", dry_run=True)
    assert sorted(i.version for i in report.deleted) == ["1", "3"] and report.bytes_freed == 400


def test_prune_settings_from_template_or_samconfig():
    assert prune_settings({"Metadata": {"strata": {"prune": {"keep": 2}}}}).keep == 2
    assert prune_settings({}, {"strata_prune_keep": "3", "strata_prune_include_layers": "true"}) == \
        prune_settings({}, {"strata_prune_keep": 3, "strata_prune_include_layers": True})
    assert prune_settings({}, {}) is None
    with pytest.raises(Exception, match="whole number"):
        prune_settings({"Metadata": {"strata": {"prune": {"keep": "many"}}}})
