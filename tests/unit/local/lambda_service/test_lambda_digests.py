"""The digests the service records, read without starting it (``lambda_service.digests``): every version with its
layers, layer versions deleted or not, and nothing (rather than an error) in a home where the service never ran."""
from __future__ import annotations

import sqlite3

from strata_testkit import zip_bytes

from strata.local.lambda_service.digests import VersionDigest, function_digests, layer_digest
from strata.local.lambda_service.service import LambdaService
from strata.local.lambda_service.wire import dispatch
from strata.model.naming import sha256_hex_of


def test_versions_and_layers_as_recorded(tmp_path):
    service = LambdaService(tmp_path)
    try:
        call = lambda op, params: dispatch(service, op, params)  # noqa: E731
        layer = call("PublishLayerVersion", {"LayerName": "shared",
                                             "Content": {"ZipFile": zip_bytes({"python/x.py": "X = 1\n"})}})
        fn = call("CreateFunction", {"FunctionName": "f", "Role": "arn:aws:iam::123456789012:role/r",
                                     "Runtime": "python3.12", "Handler": "app.handler",
                                     "Code": {"ZipFile": zip_bytes({"app.py": "def handler(e, c):\n    return 1\n"})},
                                     "Layers": [layer["LayerVersionArn"]], "Publish": True})
        call("DeleteLayerVersion", {"LayerName": "shared", "VersionNumber": 1})
    finally:
        service.close()
    db = sqlite3.connect(tmp_path / "state.db")
    code = sha256_hex_of(fn["CodeSha256"])
    assert function_digests(db, ["f", "missing"]) == [
        VersionDigest("f", "$LATEST", code, (layer["LayerVersionArn"],)),
        VersionDigest("f", "1", code, (layer["LayerVersionArn"],))]
    assert layer_digest(db, "shared", 1) == sha256_hex_of(layer["Content"]["CodeSha256"])   # deleted, still used
    assert layer_digest(db, "shared", 2) is None
    db.close()


def test_a_home_where_the_service_never_ran_has_no_digests(tmp_path):
    db = sqlite3.connect(tmp_path / "state.db")
    assert function_digests(db, ["f"]) == [] and layer_digest(db, "shared", 1) is None
    db.close()


def test_many_functions_are_read_a_chunk_at_a_time_in_name_order(tmp_path, monkeypatch):
    from strata.local.lambda_service import digests

    service = LambdaService(tmp_path)
    try:
        for name in ("c", "a", "b", "d", "e"):
            dispatch(service, "CreateFunction", {
                "FunctionName": name, "Role": "arn:aws:iam::123456789012:role/r", "Runtime": "python3.12",
                "Handler": "app.handler", "Code": {"ZipFile": zip_bytes({"app.py": f"N = '{name}'\n"})},
                "Publish": name in ("a", "d")})
    finally:
        service.close()
    db = sqlite3.connect(tmp_path / "state.db")
    whole = function_digests(db, ["e", "d", "c", "b", "a", "missing"])
    assert [(d.function_name, d.version) for d in whole] == [
        ("a", "$LATEST"), ("a", "1"), ("b", "$LATEST"), ("c", "$LATEST"), ("d", "$LATEST"), ("d", "1"),
        ("e", "$LATEST")]
    monkeypatch.setattr(digests, "CHUNK", 2)
    assert function_digests(db, ["e", "d", "c", "b", "a", "missing"]) == whole
    db.close()
