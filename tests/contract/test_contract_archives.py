"""Hostile and damaged zips are refused where they enter: CreateFunction, UpdateFunctionCode, PublishLayerVersion and
an S3Key into the artifact store, over every transport, as InvalidParameterValueException naming the entry; never
stored, never an "Internal error" at the first invoke. (UNVERIFIED: AWS's wording for a hostile entry; the codes and
the not-a-zip and size messages are AWS's.)"""
from __future__ import annotations

import pytest
from contract_helpers import create, error_code, error_message, fails, publish_layer
from hostile_zips import HANDLER, HOSTILE, make

NOT_A_ZIP = "Could not unzip uploaded file. Please check your file, then try to upload again."
TOO_LARGE = "Unzipped size must be smaller than 262144000 bytes"


def _expect(lam_call, case: str) -> None:
    data, entry, fragment = HOSTILE[case]()
    with pytest.raises(Exception) as info:
        lam_call(data)
    code, message = error_code(info.value), error_message(info.value)
    assert code == "InvalidParameterValueException", (code, message)
    if case == "truncated-file":
        assert message == NOT_A_ZIP
    elif case == "ratio-bomb":
        assert message == TOO_LARGE
    else:
        assert message.startswith("Could not unzip uploaded file: the zip ") and fragment in message, message
        assert repr(entry)[:40] in message and message.endswith("Please check your file, then try to upload again.")


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_create_function_refuses_hostile_zip(lam, case):
    _expect(lambda data: create(lam, zip_bytes=data), case)
    with fails("ResourceNotFoundException"):
        lam.get_function(FunctionName="fn")


@pytest.mark.parametrize("case", ["symlink-chain", "bad-crc", "name-mismatch", "size-too-small"])
def test_update_function_code_and_publish_layer_version_refuse_hostile_zips(lam, case):
    create(lam)
    _expect(lambda data: lam.update_function_code(FunctionName="fn", ZipFile=data), case)
    _expect(lambda data: publish_layer(lam, content=data), case)
    assert lam.list_layer_versions(LayerName="shared")["LayerVersions"] == []
    assert lam.invoke(FunctionName="fn", Payload=b"{}")["StatusCode"] == 200   # the old code still runs


def test_s3_key_of_a_hostile_stored_zip_is_refused(lam, tmp_path):
    from strata.artifacts.store import ArtifactStore

    data, _entry, _fragment = HOSTILE["symlink-chain"]()
    stored = ArtifactStore(tmp_path / "home").put_bytes(data)   # planted behind the service's back
    with fails("InvalidParameterValueException", match="symlink 't' -> 's/..' that escapes"):
        create(lam, Code={"S3Bucket": "strata-artifacts", "S3Key": f"artifacts/{stored.sha256}.zip"})


def test_links_that_stay_inside_are_accepted_and_run(lam):
    data = make({"v1/app.py": HANDLER}, {"current": "v1", "s": ".", "app.py": "s/current/app.py"})
    create(lam, zip_bytes=data)
    response = lam.invoke(FunctionName="fn", Payload=b"{}")
    assert response["StatusCode"] == 200 and "FunctionError" not in response, error_message(response)
