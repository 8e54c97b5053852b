"""Why a version publishes: one stored form of a function's fingerprint inputs, one diff that names what changed."""
from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from strata.aws.fingerprints import recorded_fingerprints, version_reasons, with_fingerprints
from strata.transform.result import FingerprintInput, FunctionVersionInfo
from strata.transform.why import RULES_CHANGED, FunctionFingerprint, input_changes, why_new

names = st.sampled_from(["Code", "Handler", "Runtime", "Timeout", "MemorySize", "Layers[1]", "Layers[2]",
                         "Layers[10]", "Environment.Variables.TABLE", "Version.Description"])
texts = st.text(st.characters(codec="ascii", categories=("L", "N")), min_size=1, max_size=12)
inputs = st.dictionaries(names, st.tuples(texts, texts), min_size=1).map(
    lambda found: tuple(FingerprintInput(name, display, digest) for name, (display, digest) in found.items()))


@given(inputs)
def test_identical_inputs_give_no_reasons(items):
    assert input_changes(items, items) == []


@given(inputs, st.data())
def test_one_changed_input_is_exactly_the_one_named(items, data):
    target = data.draw(st.sampled_from(items))
    changed = FingerprintInput(target.name, target.display + "x", target.digest + "x")
    after = tuple(changed if i is target else i for i in items)
    assert input_changes(items, after) == [f"{target.name} changed ({target.display} -> {changed.display})"]


@given(inputs, st.data())
def test_one_added_or_removed_input_is_exactly_the_one_named(items, data):
    target = data.draw(st.sampled_from(items))
    rest = tuple(i for i in items if i is not target)
    assert input_changes(rest, items) == [f"{target.name} added ({target.display})"]
    assert input_changes(items, rest) == [f"{target.name} removed (was {target.display})"]


@given(inputs)
def test_the_stored_form_reads_back_as_written(items):
    record = FunctionFingerprint("f" * 64, items, "FnVersion0123456789")
    assert FunctionFingerprint.from_json(json.loads(json.dumps(record.to_json()))) == record


def test_the_readme_layer_reason():
    before = [FingerprintInput("Code", "sha256:aaaa", "c1"),
              FingerprintInput("Layers[1]", "SharedLayer (content 02d788109cdd)", "l1")]
    after = [before[0], FingerprintInput("Layers[1]", "SharedLayer (content 1ac473089a4d)", "l2")]
    assert input_changes(before, after) == [
        "Layers[1] changed (SharedLayer (content 02d788109cdd) -> SharedLayer (content 1ac473089a4d))"]


def test_reasons_follow_the_new_inputs_order_then_removed_ones():
    before = [FingerprintInput("Layers[2]", "b", "2"), FingerprintInput("Layers[10]", "j", "10"),
              FingerprintInput("Timeout", "3", "t3")]
    after = [FingerprintInput("Layers[2]", "B", "2b"), FingerprintInput("Layers[10]", "J", "10b")]
    assert input_changes(before, after) == ["Layers[2] changed (b -> B)", "Layers[10] changed (j -> J)",
                                            "Timeout removed (was 3)"]


def test_same_inputs_with_another_fingerprint_blame_the_rules():
    items = (FingerprintInput("Code", "sha256:aaaa", "c1"),)
    assert why_new(FunctionFingerprint("old", items), FunctionFingerprint("new", items)) == [RULES_CHANGED]


def test_the_local_engines_earlier_form_still_reads():
    """``.strata/`` state and interrupted deploys of earlier versions hold ``version_id`` and a list of inputs."""
    earlier = {"version_id": "FnVersionA", "fingerprint": "f1",
               "inputs": [{"name": "Code", "display": "sha256:aaaa", "digest": "c1"},
                          {"name": "Layers[1]", "display": "Shared (content 1)", "digest": "l1"}]}
    record = FunctionFingerprint.from_json(earlier)
    assert record == FunctionFingerprint("f1", (FingerprintInput("Code", "sha256:aaaa", "c1"),
                                                FingerprintInput("Layers[1]", "Shared (content 1)", "l1")),
                                         "FnVersionA")


def test_aws_metadata_holds_the_same_form_and_names_the_change():
    old = FunctionVersionInfo("Fn", "FnVersionA", (), "f1", None, (FingerprintInput("Timeout", "3", "t3"),))
    new = FunctionVersionInfo("Fn", "FnVersionB", (), "f2", None, (FingerprintInput("Timeout", "9", "t9"),))
    template = with_fingerprints({"Resources": {}}, {"Fn": old})
    assert template["Metadata"]["strata"]["fingerprints"]["Fn"] == FunctionFingerprint.of(old).to_json()
    recorded = recorded_fingerprints(template)
    assert version_reasons(new, recorded["Fn"], deployed_stack=True) == ["Timeout changed (3 -> 9)"]
