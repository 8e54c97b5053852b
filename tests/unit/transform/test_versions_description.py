"""SAM's VersionDescription with the other versioning cases: it is not version content, a new Version publishes with
it, and a deployed Version keeps the description it was published with (``strata.transform.published``)."""
from __future__ import annotations

import json
from pathlib import Path

from strata.transform.published import NOTE, keep_published_descriptions, keep_unchanged_versions
from strata.transform.result import FingerprintInput, FunctionVersionInfo
from strata.transform.why import FunctionFingerprint


def _template(description: str | None) -> str:
    props = {"Handler": "app.handler", "Runtime": "python3.12", "CodeUri": "src", "AutoPublishAlias": "dev"}
    if description is not None:
        props["VersionDescription"] = description
    return json.dumps({"Transform": "AWS::Serverless-2016-10-31",
                       "Resources": {"Fn": {"Type": "AWS::Serverless::Function", "Properties": props}}})


def _transform(root: Path, home: Path, description: str | None, write_project):
    from strata.transform.pipeline import transform

    return transform(write_project(root, _template(description)), home=home)


def test_the_description_edit_keeps_the_version_id_and_a_new_version_carries_it(tmp_path, write_project):
    home = tmp_path / "home"
    one = _transform(tmp_path / "p", home, "1", write_project)
    two = _transform(tmp_path / "p", home, "2", write_project)
    vid = one.functions["Fn"].version_id
    assert vid == two.functions["Fn"].version_id
    assert one.functions["Fn"].fingerprint == two.functions["Fn"].fingerprint
    assert not any(i.name.startswith("Version.") for i in two.functions["Fn"].inputs)
    # the emitted Version says what the next publish gets
    assert two.template["Resources"][vid]["Properties"]["Description"] == "2"


def test_a_deployed_version_keeps_its_published_description(tmp_path, write_project):
    result = _transform(tmp_path / "p", tmp_path / "home", "2", write_project)
    vid = result.functions["Fn"].version_id
    kept = keep_published_descriptions(result.template, result.functions, {vid: "1"})
    assert kept.template["Resources"][vid]["Properties"]["Description"] == "1"
    assert result.template["Resources"][vid]["Properties"]["Description"] == "2"      # the input is not changed
    assert kept.notes == (f'{vid}: {NOTE} (the deployed version of Fn keeps "1"; "2" goes to the next version '
                          "published)",)
    # published without one: the template has none either
    assert "Description" not in keep_published_descriptions(result.template, result.functions, {vid: None}
                                                             ).template["Resources"][vid]["Properties"]
    # unchanged, or not deployed under this id (a new version): the template as it is, no note
    for deployed in ({vid: "2"}, {"FnVersion0000000000": "1"}, {}):
        same = keep_published_descriptions(result.template, result.functions, deployed)
        assert same.template is result.template and same.notes == ()


def test_a_hand_written_version_follows_cloudformation(tmp_path):
    template = {"Resources": {"FnV1": {"Type": "AWS::Lambda::Version",
                                       "Properties": {"FunctionName": {"Ref": "Fn"}, "Description": "2"}}}}
    functions = {"Fn": FunctionVersionInfo("Fn", "FnV1", (), "f", None, ())}
    kept = keep_published_descriptions(template, functions, {"FnV1": "1"})
    assert kept.template is template and kept.notes == ()


def test_a_resolved_description_is_compared_by_value():
    template = {"Resources": {"FnVersion0123456789": {
        "Type": "AWS::Lambda::Version", "Properties": {"FunctionName": {"Ref": "Fn"}, "Description": {"Ref": "V"}}}}}
    functions = {"Fn": FunctionVersionInfo("Fn", "FnVersion0123456789", (), "f", None, ())}
    same = keep_published_descriptions(template, functions, {"FnVersion0123456789": "1"},
                                       resolve=lambda value, path: "1")
    assert same.template is template and same.notes == ()


def test_a_version_id_from_the_earlier_rule_is_kept_while_the_content_is_unchanged():
    old, new = "FnVersion0123456789", "FnVersionabcdef0123"
    template = {"Resources": {new: {"Type": "AWS::Lambda::Version", "Properties": {"FunctionName": {"Ref": "Fn"}}},
                              "Live": {"Type": "AWS::Lambda::Alias",
                                       "Properties": {"FunctionVersion": {"Fn::GetAtt": [new, "Version"]}}}}}
    code = FingerprintInput("Code", "sha256:aa", "d1")
    functions = {"Fn": FunctionVersionInfo("Fn", new, (), "f2", None, (code,))}
    before = FunctionFingerprint("f1", (code, FingerprintInput("Version.Description", "1", "d2")), old)
    kept = keep_unchanged_versions(template, functions, {"Fn": before}, {old})
    assert set(kept.template["Resources"]) == {old, "Live"}
    assert kept.template["Resources"]["Live"]["Properties"]["FunctionVersion"] == {"Fn::GetAtt": [old, "Version"]}
    assert kept.functions["Fn"].version_id == old and kept.notes
    # the content changed: a new version
    changed = FunctionFingerprint("f1", (FingerprintInput("Code", "sha256:bb", "d0"),), old)
    assert keep_unchanged_versions(template, functions, {"Fn": changed}, {old}).template is template
    # the old Version is not deployed any more: nothing to keep
    assert keep_unchanged_versions(template, functions, {"Fn": before}, set()).template is template
