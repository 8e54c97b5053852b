"""The seed's scenarios on the layered demo app: which functions get a new Version id, and which keep theirs."""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from strata.transform.pipeline import transform


def test_every_function_with_autopublishalias_gets_a_fingerprint_version(layered_app: Path) -> None:
    result = transform(layered_app / "template.yaml")
    hello = result.functions["HelloFunction"]
    assert hello.version_id and hello.version_id.startswith("HelloFunctionVersion")
    assert hello.version_id == f"HelloFunctionVersion{hello.fingerprint[:10]}"
    assert hello.alias_ids == ("HelloFunctionAliaslive",)
    resources = result.template["Resources"]
    version = resources[hello.version_id]
    assert version["Type"] == "AWS::Lambda::Version"
    # the Version carries Lambda's CodeSha256 of exactly the bytes we built
    built = {b.target.logical_id: b.artifact for b in result.artifacts}
    assert version["Properties"]["CodeSha256"] == built["HelloFunction"].code_sha256
    # the alias and the outputs follow the renamed Version
    alias = resources["HelloFunctionAliaslive"]["Properties"]
    assert alias["FunctionVersion"] == {"Fn::GetAtt": [hello.version_id, "Version"]}
    assert result.template["Outputs"]["HelloVersion"]["Value"] == {"Ref": hello.version_id}
    # no SAM-generated id survives anywhere in the document
    text = json.dumps(result.template)
    for fid, info in result.functions.items():
        assert text.count(f"{fid}Version") == text.count(info.version_id)


def test_layer_content_change_republishes_exactly_the_functions_using_it(layered_app: Path, versions) -> None:
    before = versions(layered_app / "template.yaml")
    layer_file = layered_app / "layers/shared/python/shared_greeting.py"
    layer_file.write_text(layer_file.read_text().replace("LAYER_REVISION = 1", "LAYER_REVISION = 2"))
    after = versions(layered_app / "template.yaml")
    assert after["HelloFunction"] != before["HelloFunction"]
    assert after["PlainFunction"] == before["PlainFunction"]


def test_layer_gets_a_content_addressed_logical_id(layered_app: Path) -> None:
    first = transform(layered_app / "template.yaml").template["Resources"]
    layer_file = layered_app / "layers/shared/python/shared_greeting.py"
    layer_file.write_text(layer_file.read_text() + "\n# more\n")
    second = transform(layered_app / "template.yaml").template["Resources"]
    layers_1 = {k for k, v in first.items() if v["Type"] == "AWS::Lambda::LayerVersion"}
    layers_2 = {k for k, v in second.items() if v["Type"] == "AWS::Lambda::LayerVersion"}
    assert len(layers_1) == len(layers_2) == 1 and layers_1 != layers_2
    (new_layer,) = layers_2
    assert second["HelloFunction"]["Properties"]["Layers"] == [{"Ref": new_layer}]


def test_code_change_in_one_function_leaves_the_other(layered_app: Path, versions) -> None:
    before = versions(layered_app / "template.yaml")
    (layered_app / "src/plain/app.py").write_text("def handler(event, context):\n    return 'changed'\n")
    after = versions(layered_app / "template.yaml")
    assert after["PlainFunction"] != before["PlainFunction"]
    assert after["HelloFunction"] == before["HelloFunction"]


def test_parameter_value_that_reaches_the_function_publishes(layered_app: Path, versions) -> None:
    before = versions(layered_app / "template.yaml")
    after = versions(layered_app / "template.yaml", parameter_overrides={"Greeting": "Howdy"})
    assert after["HelloFunction"] != before["HelloFunction"]
    assert after["PlainFunction"] == before["PlainFunction"]
    # the same value as the default is no change at all
    same = versions(layered_app / "template.yaml", parameter_overrides={"Greeting": "Hello"})
    assert same == before


def test_parameter_reaching_the_layer_name_republishes_its_users(layered_app: Path, versions) -> None:
    before = versions(layered_app / "template.yaml")
    after = versions(layered_app / "template.yaml", parameter_overrides={"Stage": "prod"})
    assert after["HelloFunction"] != before["HelloFunction"]
    assert after["PlainFunction"] == before["PlainFunction"]


def test_touching_files_without_changing_bytes_keeps_every_id(layered_app: Path, versions) -> None:
    before = versions(layered_app / "template.yaml")
    future = time.time() + 3600
    for path in layered_app.rglob("*.py"):
        os.utime(path, (future, future))
    assert versions(layered_app / "template.yaml") == before


def test_moving_code_to_another_folder_with_identical_bytes_keeps_the_id(layered_app: Path, versions) -> None:
    before = versions(layered_app / "template.yaml")
    shutil.move(layered_app / "src/hello", layered_app / "functions-hello")
    template = layered_app / "template.yaml"
    template.write_text(template.read_text().replace("CodeUri: src/hello", "CodeUri: functions-hello"))
    assert versions(template) == before


def test_tag_only_change_keeps_every_id(layered_app: Path, versions) -> None:
    before = versions(layered_app / "template.yaml")
    template = layered_app / "template.yaml"
    template.write_text(template.read_text().replace("app: layered-app", "app: layered-app\n      team: blue"))
    assert versions(template) == before


def test_reformatting_the_template_keeps_every_id(layered_app: Path, versions) -> None:
    before = versions(layered_app / "template.yaml")
    template = layered_app / "template.yaml"
    # comments, blank lines, a flow-style list rewritten in block style, quoting changes
    text = "# reformatted\n\n" + template.read_text().replace(
        "CompatibleRuntimes: [python3.12]", "CompatibleRuntimes:\n        - 'python3.12'").replace(
        "Handler: app.handler", "Handler: \"app.handler\"  # same handler")
    template.write_text(text)
    assert versions(template) == before


def test_translator_is_skipped_when_only_content_changed(layered_app: Path) -> None:
    first = transform(layered_app / "template.yaml")
    assert not first.translated_from_cache
    (layered_app / "src/plain/app.py").write_text("def handler(event, context):\n    return 2\n")
    second = transform(layered_app / "template.yaml")
    assert second.translated_from_cache
    assert second.functions["PlainFunction"].version_id != first.functions["PlainFunction"].version_id
