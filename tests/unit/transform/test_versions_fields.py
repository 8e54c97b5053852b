"""Field by field: what publishes a new version, with and without AutoPublishAliasAllProperties, and what never does.

Each case writes a small real SAM project, transforms it, edits one thing, and compares the Version ids.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

BASE = {
    "Handler": "app.handler",
    "Runtime": "python3.12",
    "CodeUri": "src",
    "AutoPublishAlias": "live",
}


def sam_template(props: dict, globals_: dict | None = None, all_properties: bool = False) -> str:
    function = {**BASE, **props}
    if all_properties:
        function["AutoPublishAliasAllProperties"] = True
    doc = {"Transform": "AWS::Serverless-2016-10-31",
           "Resources": {"Fn": {"Type": "AWS::Serverless::Function", "Properties": function}}}
    if globals_:
        doc["Globals"] = {"Function": globals_}
    return json.dumps(doc, indent=1)


@pytest.fixture
def version_of(versions, write_project):
    """``version_of(root, home, props, globals_=None, all_properties=False)``: the Version id of function Fn."""
    def run(root: Path, home: Path, props: dict, globals_: dict | None = None, all_properties: bool = False) -> str:
        template = write_project(root, sam_template(props, globals_, all_properties))
        return versions(template, home=home)["Fn"]
    return run


VERSION_CHANGES = [
    ("handler", {}, {"Handler": "app.other"}),
    ("description", {}, {"Description": "new words"}),
    ("timeout", {}, {"Timeout": 10}),
    ("memory", {}, {"MemorySize": 512}),
    ("logging", {}, {"LoggingConfig": {"LogFormat": "JSON"}}),
    ("environment", {"Environment": {"Variables": {"A": "1"}}}, {"Environment": {"Variables": {"A": "2"}}}),
    ("new env var", {}, {"Environment": {"Variables": {"B": "x"}}}),
    ("layer arn", {"Layers": ["arn:aws:lambda:us-east-1:123456789012:layer:ext:1"]},
     {"Layers": ["arn:aws:lambda:us-east-1:123456789012:layer:ext:2"]}),
    ("layer order", {"Layers": ["arn:aws:lambda:us-east-1:123456789012:layer:a:1",
                                "arn:aws:lambda:us-east-1:123456789012:layer:b:1"]},
     {"Layers": ["arn:aws:lambda:us-east-1:123456789012:layer:b:1",
                 "arn:aws:lambda:us-east-1:123456789012:layer:a:1"]}),
    ("runtime", {}, {"Runtime": "python3.13"}),
    ("architecture", {}, {"Architectures": ["arm64"]}),
    ("tracing", {}, {"Tracing": "Active"}),
    ("ephemeral storage", {}, {"EphemeralStorage": {"Size": 1024}}),
    ("role", {"Role": "arn:aws:iam::123456789012:role/a"}, {"Role": "arn:aws:iam::123456789012:role/b"}),
]

NO_CHANGES = [
    ("tags", {"Tags": {"team": "a"}}, {"Tags": {"team": "b"}}),
    ("reserved concurrency", {}, {"ReservedConcurrentExecutions": 5}),
    ("explicit defaults", {}, {"MemorySize": 128, "Timeout": 3, "Architectures": ["x86_64"]}),
    ("event source", {}, {"Events": {"Every": {"Type": "Schedule", "Properties": {"Schedule": "rate(5 minutes)"}}}}),
    ("provisioned concurrency", {}, {"ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": 1}}),
    # a version's own description is given at publish: with $LATEST unchanged Lambda returns the existing version
    ("version description", {"VersionDescription": "1"}, {"VersionDescription": "2"}),
    ("version description added", {}, {"VersionDescription": "first"}),
]


@pytest.mark.parametrize("all_properties", [False, True], ids=["default", "AllProperties"])
@pytest.mark.parametrize("name,before,after", VERSION_CHANGES, ids=[c[0] for c in VERSION_CHANGES])
def test_version_field_change_publishes(tmp_path: Path, name: str, before: dict, after: dict,
                                        all_properties: bool, version_of) -> None:
    home = tmp_path / "home"
    first = version_of(tmp_path / "p", home, before, all_properties=all_properties)
    second = version_of(tmp_path / "p", home, {**before, **after}, all_properties=all_properties)
    assert first != second, name


@pytest.mark.parametrize("all_properties", [False, True], ids=["default", "AllProperties"])
@pytest.mark.parametrize("name,before,after", NO_CHANGES, ids=[c[0] for c in NO_CHANGES])
def test_non_version_change_keeps_the_id(tmp_path: Path, name: str, before: dict, after: dict,
                                         all_properties: bool, version_of) -> None:
    home = tmp_path / "home"
    first = version_of(tmp_path / "p", home, before, all_properties=all_properties)
    second = version_of(tmp_path / "p", home, {**before, **after}, all_properties=all_properties)
    assert first == second, name


def test_globals_change_publishes(tmp_path: Path, version_of) -> None:
    home = tmp_path / "home"
    first = version_of(tmp_path / "p", home, {}, globals_={"Timeout": 5})
    second = version_of(tmp_path / "p", home, {}, globals_={"Timeout": 6})
    moved = version_of(tmp_path / "p", home, {"Timeout": 6})
    assert first != second
    assert second == moved  # the same effective value from Globals or the function is the same version


def test_parameter_reaching_environment_publishes(tmp_path: Path, versions, write_project) -> None:
    home = tmp_path / "home"
    doc = json.loads(sam_template({"Environment": {"Variables": {"P": {"Ref": "Level"}}}}))
    doc["Parameters"] = {"Level": {"Type": "String", "Default": "info"}}
    template = write_project(tmp_path / "p", json.dumps(doc))
    first = versions(template, home=home)["Fn"]
    assert versions(template, home=home, parameter_overrides={"Level": "debug"})["Fn"] != first
    assert versions(template, home=home, parameter_overrides={"Level": "info"})["Fn"] == first


def test_parameter_not_reaching_the_function_keeps_the_id(tmp_path: Path, versions, write_project) -> None:
    home = tmp_path / "home"
    doc = json.loads(sam_template({}))
    doc["Parameters"] = {"Unused": {"Type": "String", "Default": "a"}}
    template = write_project(tmp_path / "p", json.dumps(doc))
    first = versions(template, home=home)["Fn"]
    assert versions(template, home=home, parameter_overrides={"Unused": "b"})["Fn"] == first


def test_role_policy_change_keeps_the_id_but_role_name_change_publishes(tmp_path: Path, versions,
                                                                         write_project) -> None:
    home = tmp_path / "home"

    def with_role(policy_action: str, role_name: str) -> str:
        doc = json.loads(sam_template({"Role": {"Fn::GetAtt": ["ExecRole", "Arn"]}}))
        doc["Resources"]["ExecRole"] = {"Type": "AWS::IAM::Role", "Properties": {
            "RoleName": role_name,
            "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                        "Principal": {"Service": "lambda.amazonaws.com"}}]},
            "Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": [
                {"Effect": "Allow", "Action": policy_action, "Resource": "*"}]}}]}}
        return versions(write_project(tmp_path / "p", json.dumps(doc)), home=home)["Fn"]

    first = with_role("s3:GetObject", "exec-a")
    assert with_role("s3:PutObject", "exec-a") == first
    assert with_role("s3:GetObject", "exec-b") != first


# --- properties -----------------------------------------------------------------------------------------------------

_words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)
VERSION_FIELDS = {
    "Handler": _words.map(lambda w: f"app.{w}"),
    "Timeout": st.integers(min_value=4, max_value=900),
    "MemorySize": st.integers(min_value=129, max_value=10240),
    "Description": st.text(min_size=1, max_size=30).filter(lambda s: s.strip() == s and s),
    "Environment": st.dictionaries(_words.map(str.upper), _words, min_size=1, max_size=3).map(
        lambda d: {"Variables": d}),
}
OTHER_FIELDS = {
    "Tags": st.dictionaries(_words, _words, min_size=1, max_size=3),
    "ReservedConcurrentExecutions": st.integers(min_value=0, max_value=100),
}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(base=st.fixed_dictionaries({}, optional=VERSION_FIELDS), field=st.sampled_from(sorted(VERSION_FIELDS)),
       data=st.data())
def test_property_any_version_field_edit_changes_the_id(tmp_path_factory, base, field, data, version_of) -> None:
    root = tmp_path_factory.mktemp("prop")
    new_value = data.draw(VERSION_FIELDS[field].filter(lambda v: v != base.get(field)), label="new")
    home = root / "home"
    first = version_of(root / "p", home, base)
    second = version_of(root / "p", home, {**base, field: new_value})
    assert first != second


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(base=st.fixed_dictionaries({}, optional=VERSION_FIELDS),
       other_before=st.fixed_dictionaries({}, optional=OTHER_FIELDS),
       other_after=st.fixed_dictionaries({}, optional=OTHER_FIELDS))
def test_property_non_version_edits_never_change_the_id(tmp_path_factory, base, other_before, other_after,
                                                        version_of) -> None:
    root = tmp_path_factory.mktemp("prop")
    home = root / "home"
    first = version_of(root / "p", home, {**base, **other_before})
    second = version_of(root / "p", home, {**base, **other_after})
    assert first == second
