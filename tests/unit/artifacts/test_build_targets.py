"""Which template properties become build targets."""
from __future__ import annotations

import pytest
from build_helpers import write_tree

from strata.artifacts.targets import find_build_targets
from strata.errors import BuildError


def _template(resources: dict, globals_: dict | None = None) -> dict:
    data = {"Transform": "AWS::Serverless-2016-10-31", "Resources": resources}
    if globals_:
        data["Globals"] = globals_
    return data


def test_all_four_resource_types(tmp_path):
    write_tree(tmp_path, {"fn/a.py": "", "layer/b.py": "", "plain/c.py": "", "plainlayer/d.py": ""})
    data = _template({
        "Fn": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "fn", "Runtime": "python3.12"}},
        "Layer": {"Type": "AWS::Serverless::LayerVersion", "Properties": {
            "ContentUri": "layer/", "CompatibleRuntimes": ["python3.12"]}, "Metadata": {"BuildMethod": "python3.12"}},
        "Plain": {"Type": "AWS::Lambda::Function", "Properties": {"Code": "./plain", "Runtime": "nodejs20.x"}},
        "PlainLayer": {"Type": "AWS::Lambda::LayerVersion", "Properties": {"Content": "plainlayer"}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
    })
    targets = find_build_targets(data, tmp_path)
    got = [(t.logical_id, t.property, t.source, t.kind, t.runtime, t.build_method) for t in targets]
    assert got == [
        ("Fn", "CodeUri", tmp_path / "fn", "function", "python3.12", None),
        ("Layer", "ContentUri", tmp_path / "layer", "layer", "python3.12", "python3.12"),
        ("Plain", "Code", tmp_path / "plain", "function", "nodejs20.x", None),
        ("PlainLayer", "Content", tmp_path / "plainlayer", "layer", None, None),
    ]


def test_globals_code_uri_and_runtime(tmp_path):
    write_tree(tmp_path, {"shared/a.py": "", "own/b.py": ""})
    data = _template({
        "A": {"Type": "AWS::Serverless::Function", "Properties": {"Handler": "a.h"}},
        "B": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "own", "Runtime": "python3.11"}},
    }, {"Function": {"CodeUri": "shared", "Runtime": "python3.12"}})
    targets = find_build_targets(data, tmp_path)
    assert [(t.logical_id, t.source.name, t.runtime) for t in targets] == [
        ("A", "shared", "python3.12"), ("B", "own", "python3.11")]


def test_non_local_locations_are_skipped(tmp_path):
    data = _template({
        "S3": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "s3://bucket/key.zip"}},
        "Dict": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": {"Bucket": "b", "Key": "k"}}},
        "Inline": {"Type": "AWS::Serverless::Function", "Properties": {"InlineCode": "def h(e, c): pass"}},
        "Image": {"Type": "AWS::Serverless::Function", "Properties": {"PackageType": "Image", "CodeUri": "nope"}},
        "Ref": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": {"Ref": "CodeParam"}}},
        "Zip": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"ZipFile": "x"}}},
        "S3Code": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"S3Bucket": "b", "S3Key": "k"}}},
        "LayerS3": {"Type": "AWS::Serverless::LayerVersion", "Properties": {"ContentUri": "s3://b/l.zip"}},
    }, {"Function": {"CodeUri": "would-be-missing"}})
    assert find_build_targets(data, tmp_path) == []


def test_local_zip_file_is_a_target(tmp_path):
    (tmp_path / "code.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    data = _template({"Fn": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "code.zip"}}})
    (target,) = find_build_targets(data, tmp_path)
    assert target.is_zip_file and target.source == tmp_path / "code.zip"


def test_missing_folder_names_resource_and_property(tmp_path):
    data = _template({"Hello": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "src/hello"}}})
    with pytest.raises(BuildError) as info:
        find_build_targets(data, tmp_path)
    assert "Hello" in info.value.message and "CodeUri" in info.value.message and "src/hello" in info.value.message


def test_plain_file_that_is_not_a_zip_is_an_error(tmp_path):
    (tmp_path / "app.py").write_text("")
    data = _template({"L": {"Type": "AWS::Lambda::LayerVersion", "Properties": {"Content": "app.py"}}})
    with pytest.raises(BuildError, match="L: Content"):
        find_build_targets(data, tmp_path)


def test_malformed_sections_are_not_a_crash(tmp_path):
    assert find_build_targets({"Resources": ["not", "a", "map"]}, tmp_path) == []
    data = {"Globals": "oops", "Resources": {"Fn": {"Type": "AWS::Serverless::Function", "Properties": None}}}
    assert find_build_targets(data, tmp_path) == []


def test_a_sam_function_without_code_uri_packages_the_template_folder(tmp_path):
    """SAM's default (``sam package``'s PACKAGE_NULL_PROPERTY): no CodeUri anywhere means the template's folder."""
    write_tree(tmp_path, {"app.py": "", "template.yaml": "", "samconfig.toml": ""})
    data = _template({
        "Fn": {"Type": "AWS::Serverless::Function", "Properties": {"Handler": "app.h", "Runtime": "python3.12"}},
        "Inline": {"Type": "AWS::Serverless::Function", "Properties": {"InlineCode": "x", "Runtime": "python3.12"}},
        "Image": {"Type": "AWS::Serverless::Function", "Properties": {"PackageType": "Image", "ImageUri": "r:1"}},
    })
    (target,) = find_build_targets(data, tmp_path, template_file=tmp_path / "template.yaml")
    assert (target.logical_id, target.property, target.source) == ("Fn", "CodeUri", tmp_path)
    assert target.excludes == ("template.yaml", "samconfig.toml")


def test_a_code_folder_above_the_template_excludes_it_by_its_path(tmp_path):
    write_tree(tmp_path, {"app.py": "", "infra/stack.yml": "", "infra/samconfig.yaml": "", "samconfig.toml": ""})
    data = _template({"Fn": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": ".."}}})
    (target,) = find_build_targets(data, tmp_path / "infra", template_file=tmp_path / "infra/stack.yml")
    assert target.source == tmp_path
    assert target.excludes == ("infra/stack.yml", "infra/samconfig.yaml")


def test_a_code_folder_beside_the_template_excludes_nothing_of_the_project(tmp_path):
    write_tree(tmp_path, {"src/app.py": "", "template.yaml": "", "samconfig.toml": ""})
    data = _template({"Fn": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "src"}}})
    (target,) = find_build_targets(data, tmp_path, template_file=tmp_path / "template.yaml")
    assert target.excludes == ()


def test_the_architecture_dependencies_are_built_for(tmp_path):
    write_tree(tmp_path, {"a/x.py": "", "b/x.py": "", "c/x.py": "", "l1/x.py": "", "l2/x.py": "", "l3/x.py": ""})
    layer = {"Type": "AWS::Serverless::LayerVersion", "Metadata": {"BuildMethod": "python3.12"}}
    data = _template({
        "Global": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "a", "Runtime": "python3.12"}},
        "Own": {"Type": "AWS::Serverless::Function", "Properties": {
            "CodeUri": "b", "Runtime": "python3.12", "Architectures": ["x86_64"]}},
        "Plain": {"Type": "AWS::Lambda::Function", "Properties": {"Code": "c", "Runtime": "python3.12"}},
        "Built": {**layer, "Properties": {"ContentUri": "l1", "CompatibleArchitectures": ["x86_64", "arm64"]},
                  "Metadata": {"BuildMethod": "python3.12", "BuildArchitecture": "arm64"}},
        "OnlyArm": {**layer, "Properties": {"ContentUri": "l2", "CompatibleArchitectures": ["arm64"]}},
        "Both": {**layer, "Properties": {"ContentUri": "l3", "CompatibleArchitectures": ["x86_64", "arm64"]}},
    }, {"Function": {"Architectures": ["arm64"]}})
    got = {t.logical_id: t.architecture for t in find_build_targets(data, tmp_path)}
    assert got == {"Global": "arm64", "Own": "x86_64", "Plain": "x86_64", "Built": "arm64", "OnlyArm": "arm64",
                   "Both": "x86_64"}
