"""Layer versions and attaching them to functions (reference section 8)."""
from __future__ import annotations

import pytest
from contract_helpers import arn, code_sha256, create, fails, layer_arn, make_zip, publish_layer

NOT_FOUND = "The resource you requested does not exist."


def test_publish_response_fields(lam):
    data = make_zip({"python/shared.py": "VALUE = 1\n"})
    layer = publish_layer(lam, "shared", data)
    assert layer["LayerArn"] == layer_arn("shared")
    assert layer["LayerVersionArn"] == layer_arn("shared", 1)
    assert layer["Version"] == 1
    assert layer["Description"] == "" and layer["CompatibleRuntimes"] == [] and layer["CompatibleArchitectures"] == []
    assert "LicenseInfo" not in layer
    assert layer["Content"]["CodeSha256"] == code_sha256(data) and layer["Content"]["CodeSize"] == len(data)
    assert layer["Content"]["Location"] and layer["CreatedDate"]
    licensed = publish_layer(lam, "shared", data, LicenseInfo="MIT", CompatibleRuntimes=["python3.12"])
    assert licensed["LicenseInfo"] == "MIT" and licensed["CompatibleRuntimes"] == ["python3.12"]


def test_numbers_never_reused_and_identical_content_is_a_new_version(lam):
    first, second = publish_layer(lam), publish_layer(lam)
    assert (first["Version"], second["Version"]) == (1, 2)
    assert first["Content"]["CodeSha256"] == second["Content"]["CodeSha256"]
    lam.delete_layer_version(LayerName="shared", VersionNumber=1)
    lam.delete_layer_version(LayerName="shared", VersionNumber=2)
    assert publish_layer(lam)["Version"] == 3


def test_get_layer_version(lam):
    published = publish_layer(lam)
    got = lam.get_layer_version(LayerName="shared", VersionNumber=1)
    assert got["LayerVersionArn"] == published["LayerVersionArn"]
    assert got["Content"]["CodeSha256"] == published["Content"]["CodeSha256"]
    assert lam.get_layer_version(LayerName=layer_arn("shared"), VersionNumber=1)["Version"] == 1
    assert lam.get_layer_version_by_arn(Arn=layer_arn("shared", 1))["Version"] == 1
    with fails("InvalidParameterValueException", "Layer Version Cannot be less than 1"):
        lam.get_layer_version(LayerName="shared", VersionNumber=0)
    with fails("ResourceNotFoundException", NOT_FOUND):
        lam.get_layer_version(LayerName="shared", VersionNumber=2)
    with fails("ResourceNotFoundException", NOT_FOUND):
        lam.get_layer_version(LayerName="other", VersionNumber=1)
    with fails("ValidationException", match=r"^1 validation error detected: Value '.*:layer:shared' at 'arn'"):
        lam.get_layer_version_by_arn(Arn=layer_arn("shared"))


def test_list_layer_versions_newest_first_with_filters(lam):
    publish_layer(lam, CompatibleRuntimes=["python3.12"], CompatibleArchitectures=["x86_64"])
    publish_layer(lam, CompatibleRuntimes=["python3.11"])
    listed = lam.list_layer_versions(LayerName="shared")["LayerVersions"]
    assert [item["Version"] for item in listed] == [2, 1]
    assert listed[0]["LayerVersionArn"] == layer_arn("shared", 2)
    assert [i["Version"] for i in lam.list_layer_versions(
        LayerName="shared", CompatibleRuntime="python3.12")["LayerVersions"]] == [1]
    assert [i["Version"] for i in lam.list_layer_versions(
        LayerName="shared", CompatibleArchitecture="x86_64")["LayerVersions"]] == [1]
    assert lam.list_layer_versions(LayerName="unknown")["LayerVersions"] == []


def test_list_layers_shows_latest_matching(lam):
    publish_layer(lam, "a", CompatibleRuntimes=["python3.12"])
    publish_layer(lam, "a", CompatibleRuntimes=["python3.11"])
    publish_layer(lam, "b")
    layers = lam.list_layers()["Layers"]
    assert [(layer["LayerName"], layer["LatestMatchingVersion"]["Version"]) for layer in layers] == [("a", 2), ("b", 1)]
    assert layers[0]["LayerArn"] == layer_arn("a")
    filtered = lam.list_layers(CompatibleRuntime="python3.12")["Layers"]
    assert [(layer["LayerName"], layer["LatestMatchingVersion"]["Version"]) for layer in filtered] == [("a", 1)]
    lam.delete_layer_version(LayerName="b", VersionNumber=1)
    assert [layer["LayerName"] for layer in lam.list_layers()["Layers"]] == ["a"]


def test_enum_validation(lam):
    with fails("ValidationException", match=r"^1 validation error detected: Value '\[cobol\]' at "
                                            r"'compatibleRuntimes' failed to satisfy constraint"):
        publish_layer(lam, CompatibleRuntimes=["python3.12", "cobol"][1:])
    with fails("ValidationException", match=r"at 'compatibleArchitectures'"):
        publish_layer(lam, CompatibleArchitectures=["sparc"])
    with fails("ValidationException", match=r"Value 'cobol' at 'compatibleRuntime'"):
        lam.list_layers(CompatibleRuntime="cobol")


def test_delete_is_idempotent(lam):
    publish_layer(lam)
    lam.delete_layer_version(LayerName="shared", VersionNumber=1)
    lam.delete_layer_version(LayerName="shared", VersionNumber=1)
    lam.delete_layer_version(LayerName="never", VersionNumber=7)
    with fails("ResourceNotFoundException", NOT_FOUND):
        lam.get_layer_version(LayerName="shared", VersionNumber=1)
    with fails("InvalidParameterValueException", "Layer Version Cannot be less than 1"):
        lam.delete_layer_version(LayerName="shared", VersionNumber=0)


# ---- attaching (8.3) ---------------------------------------------------------------------------------------------
def test_function_layers_in_order_and_removal(lam):
    a, b = publish_layer(lam, "a"), publish_layer(lam, "b")
    config = create(lam, Layers=[b["LayerVersionArn"], a["LayerVersionArn"]])
    assert config["Layers"] == [{"Arn": b["LayerVersionArn"], "CodeSize": b["Content"]["CodeSize"]},
                                {"Arn": a["LayerVersionArn"], "CodeSize": a["Content"]["CodeSize"]}]
    lam.publish_version(FunctionName="fn")
    assert "Layers" not in lam.update_function_configuration(FunctionName="fn", Layers=[])
    assert "Layers" not in lam.get_function_configuration(FunctionName="fn")
    assert len(lam.get_function_configuration(FunctionName="fn", Qualifier="1")["Layers"]) == 2


def test_layer_change_makes_a_new_version(lam):
    first = publish_layer(lam)
    create(lam, Layers=[first["LayerVersionArn"]], Publish=True)
    second = publish_layer(lam, content=make_zip({"python/shared.py": "VALUE = 2\n"}))
    lam.update_function_configuration(FunctionName="fn", Layers=[second["LayerVersionArn"]])
    version = lam.publish_version(FunctionName="fn")
    assert version["Version"] == "2" and version["Layers"][0]["Arn"] == layer_arn("shared", 2)


def test_at_most_five_layers(lam):
    arns = [publish_layer(lam, f"l{i}")["LayerVersionArn"] for i in range(6)]
    with fails("InvalidParameterValueException", "Cannot reference more than 5 layers."):
        create(lam, Layers=arns)
    assert len(create(lam, Layers=arns[:5])["Layers"]) == 5


def test_one_version_per_layer(lam):
    publish_layer(lam)
    publish_layer(lam)
    one, two = layer_arn("shared", 1), layer_arn("shared", 2)
    msg = ("Two different versions of the same layer are not allowed to be referenced in the same function. "
           f"{one} and {two} are versions of the same layer.")
    with fails("InvalidParameterValueException", msg):
        create(lam, Layers=[one, two])
    with fails("InvalidParameterValueException", match="are versions of the same layer"):
        create(lam, Layers=[one, one])


def test_unknown_or_foreign_layers(lam):
    missing = layer_arn("ghost", 1)
    with fails("InvalidParameterValueException", f"Layer version {missing} does not exist."):
        create(lam, Layers=[missing])
    with fails("InvalidParameterValueException", "Layers are not in the same region as the function. "
                                                 "Layers are expected to be in region us-east-1."):
        create(lam, Layers=["arn:aws:lambda:eu-west-1:123456789012:layer:shared:1"])
    with fails("ValidationException", match=r"at 'layers' failed to satisfy constraint"):
        create(lam, Layers=[layer_arn("shared")])


def test_deleted_layer_keeps_serving_existing_functions_only(lam):
    layer = publish_layer(lam)
    create(lam, "user", Layers=[layer["LayerVersionArn"]])
    lam.delete_layer_version(LayerName="shared", VersionNumber=1)
    assert lam.get_function_configuration(FunctionName="user")["Layers"][0]["Arn"] == layer["LayerVersionArn"]
    lam.publish_version(FunctionName="user")  # a version of it keeps the reference
    with fails("InvalidParameterValueException", f"Layer version {layer['LayerVersionArn']} does not exist."):
        create(lam, "newcomer", Layers=[layer["LayerVersionArn"]])


@pytest.fixture(scope="module")
def half_of_limit() -> bytes:
    """A small zip that unzips to 126 MB: two of them exceed 250 MB together."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("python/blob.bin", "w", force_zip64=True) as fh:
            for _ in range(126):
                fh.write(b"\0" * (1 << 20))
    return buffer.getvalue()


def test_function_and_layers_unzipped_limit(lam, half_of_limit):
    a = publish_layer(lam, "a", half_of_limit)
    b = publish_layer(lam, "b", half_of_limit)
    create(lam, Layers=[a["LayerVersionArn"]])
    with fails("InvalidParameterValueException", "Unzipped size must be smaller than 262144000 bytes"):
        lam.update_function_configuration(FunctionName="fn", Layers=[a["LayerVersionArn"], b["LayerVersionArn"]])
    with fails("InvalidParameterValueException", "Unzipped size must be smaller than 262144000 bytes"):
        lam.update_function_code(FunctionName="fn", ZipFile=half_of_limit)
    assert lam.get_function_configuration(FunctionName="fn")["FunctionArn"] == arn("fn")
