"""Functions and $LATEST: defaults, computed fields, names/ARNs/qualifiers, validation, delete, list
(reference sections 3, 4, 11)."""
from __future__ import annotations

import json

import pytest
from contract_helpers import LAMBDA_TIMESTAMP, ROLE, arn, code_sha256, create, error_code, fails, make_zip

NAME_PATTERN = (r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?"
                r"([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?")
NAMESPACED_PATTERN = (r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?"
                      r"([a-zA-Z0-9-_\.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?")


# ---- defaults and computed fields (4.1) --------------------------------------------------------------------------
def test_create_returns_defaults_and_computed_fields(lam):
    data = make_zip()
    config = create(lam, "fn", zip_bytes=data)
    assert config["FunctionName"] == "fn"
    assert config["FunctionArn"] == arn("fn")
    assert config["Version"] == "$LATEST"
    assert config["CodeSha256"] == code_sha256(data)
    assert config["CodeSize"] == len(data)
    assert LAMBDA_TIMESTAMP.fullmatch(config["LastModified"])
    assert config["MemorySize"] == 128 and config["Timeout"] == 3 and config["Description"] == ""
    assert config["EphemeralStorage"] == {"Size": 512}
    assert config["Architectures"] == ["x86_64"]
    assert config["PackageType"] == "Zip"
    assert config["TracingConfig"] == {"Mode": "PassThrough"}
    assert config["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": "/aws/lambda/fn"}
    assert config["SnapStart"] == {"ApplyOn": "None", "OptimizationStatus": "Off"}
    assert config["State"] == "Pending" and config["StateReasonCode"] == "Creating"
    assert config["StateReason"] == "The function is being created."
    assert "LastUpdateStatus" not in config
    assert config["RevisionId"]
    for absent in ("Environment", "Layers", "KMSKeyArn", "VpcConfig", "DeadLetterConfig"):
        assert absent not in config


def test_get_after_create_is_active_with_a_new_revision(lam):
    created = create(lam)
    got = lam.get_function(FunctionName="fn")
    config = got["Configuration"]
    assert config["State"] == "Active" and config["LastUpdateStatus"] == "Successful"
    assert "StateReason" not in config
    assert config["RevisionId"] != created["RevisionId"]  # the state transition changes it (4.2)
    assert got["Code"]["RepositoryType"] == "S3" and got["Code"]["Location"]
    assert "Tags" not in got and "Concurrency" not in got


def test_environment_is_echoed_including_an_empty_map(lam):
    assert create(lam, "a", Environment={"Variables": {"KEY": "v"}})["Environment"] == {"Variables": {"KEY": "v"}}
    assert create(lam, "b", Environment={"Variables": {}})["Environment"] == {"Variables": {}}


def test_create_twice_conflicts(lam):
    create(lam)
    with fails("ResourceConflictException", "Function already exist: fn"):
        create(lam)


def test_runtime_and_handler_are_mandatory_for_zip(lam):
    msg = "Runtime and Handler are mandatory parameters for functions created with deployment package format Zip."
    with fails("InvalidParameterValueException", msg):
        lam.create_function(FunctionName="fn", Role=ROLE, Code={"ZipFile": make_zip()})


# ---- code sources ------------------------------------------------------------------------------------------------
def test_not_a_zip_is_refused(lam):
    with fails("InvalidParameterValueException",
               "Could not unzip uploaded file. Please check your file, then try to upload again."):
        create(lam, zip_bytes=b"hello")


def test_unknown_s3_key_is_s3s_no_such_key(lam):
    msg = ("Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: "
           "The specified key does not exist.")
    with fails("InvalidParameterValueException", msg):
        create(lam, Code={"S3Bucket": "bucket", "S3Key": "code/" + "0" * 64 + ".zip"})
    with fails("InvalidParameterValueException", msg):
        create(lam, Code={"S3Bucket": "bucket", "S3Key": "code.zip"})


def test_content_addressed_s3_key_reads_the_local_artifact(lam):
    import hashlib

    data = make_zip({"app.py": "def handler(e, c):\n    return 1\n"})
    create(lam, "first", zip_bytes=data)
    key = f"artifacts/{hashlib.sha256(data).hexdigest()}.zip"
    config = create(lam, "second", Code={"S3Bucket": "strata-artifacts", "S3Key": key})
    assert config["CodeSha256"] == code_sha256(data) and config["CodeSize"] == len(data)
    updated = lam.update_function_code(FunctionName="first", S3Bucket="b", S3Key=key)
    assert updated["CodeSha256"] == code_sha256(data)


def test_unzipped_size_limit(lam, big_zip):
    with fails("InvalidParameterValueException", "Unzipped size must be smaller than 262144000 bytes"):
        create(lam, zip_bytes=big_zip)


@pytest.fixture(scope="session")
def big_zip() -> bytes:
    """A small zip that unzips to just over 250 MB (zeros compress well)."""
    import io
    import zipfile

    buffer = io.BytesIO()
    chunk = b"\0" * (1 << 20)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("big.bin", "w", force_zip64=True) as fh:
            for _ in range(251):
                fh.write(chunk)
    return buffer.getvalue()


# ---- validation and limits (4.3) ---------------------------------------------------------------------------------
@pytest.mark.parametrize("member, value, path, constraint", [
    ("MemorySize", 10241, "memorySize", "Member must have value less than or equal to 10240"),
    ("Timeout", 901, "timeout", "Member must have value less than or equal to 900"),
    ("Handler", "a b", "handler", r"Member must satisfy regular expression pattern: [^\s]+"),
    ("Description", "d" * 257, "description", "Member must have length less than or equal to 256"),
])
def test_server_side_constraints(lam, member, value, path, constraint):
    msg = f"1 validation error detected: Value '{value}' at '{path}' failed to satisfy constraint: {constraint}"
    with fails("ValidationException", msg):
        create(lam, **{member: value})
    create(lam, "ok")
    with fails("ValidationException", msg):
        lam.update_function_configuration(FunctionName="ok", **{member: value})


def test_several_failures_are_listed_together(lam):
    with fails("ValidationException", match=r"^2 validation errors detected: Value '3000' at 'timeout' .*; "
                                            r"Value '10241' at 'memorySize'"):
        create(lam, Timeout=3000, MemorySize=10241)


def test_ephemeral_storage_and_role_constraints(lam):
    with fails("ValidationException", "1 validation error detected: Value '10241' at 'ephemeralStorage.size' "
                                      "failed to satisfy constraint: Member must have value less than or equal to "
                                      "10240"):
        create(lam, EphemeralStorage={"Size": 10241})
    with fails("ValidationException", match=r"^1 validation error detected: Value 'not-a-role' at 'role'"):
        create(lam, Role="not-a-role")


def test_memory_and_timeout_bounds_accepted(lam):
    config = create(lam, MemorySize=10240, Timeout=900, EphemeralStorage={"Size": 10240})
    assert (config["MemorySize"], config["Timeout"], config["EphemeralStorage"]) == (10240, 900, {"Size": 10240})


def test_runtime_must_be_creatable(lam):
    with fails("InvalidParameterValueException", match=r"^Value cobol at 'runtime' failed to satisfy constraint: "
                                                       r"Member must satisfy enum value set: \[.*python3\.12.*\] "
                                                       r"or be a valid ARN$"):
        create(lam, Runtime="cobol")
    with fails("InvalidParameterValueException",
               match=r"^The runtime parameter of python3\.7 is no longer supported for creating or updating"):
        create(lam, Runtime="python3.7")


def test_architectures(lam):
    with fails("ValidationException", match=r"at 'architectures' failed to satisfy constraint: "
                                            r"Member must have length less than or equal to 1"):
        create(lam, Architectures=["x86_64", "arm64"])
    with fails("ValidationException", match=r"at 'architectures'.*enum value set: \[x86_64, arm64\]"):
        create(lam, Architectures=["X86_64"])
    assert create(lam, Architectures=["arm64"])["Architectures"] == ["arm64"]


def test_environment_limit_is_4kb_of_compact_json(lam):
    # {"K":"<v>"} is 8 bytes + len(v): exactly 4096 passes, 4097 fails
    create(lam, "ok", Environment={"Variables": {"K1": "x" * 4087}})
    variables = {"K1": "x" * 4088}
    measured = json.dumps(variables, separators=(",", ":"))
    with fails("InvalidParameterValueException",
               "Lambda was unable to configure your environment variables because the environment variables you "
               f"have provided exceeded the 4KB limit. String measured: {measured}"):
        create(lam, "big", Environment={"Variables": variables})


def test_reserved_environment_keys(lam):
    with fails("InvalidParameterValueException",
               "Lambda was unable to configure your environment variables because the environment variables you "
               "have provided contains reserved keys that are currently not supported for modification. Reserved "
               "keys used in this request: AWS_REGION"):
        create(lam, Environment={"Variables": {"AWS_REGION": "x"}})


def test_environment_key_pattern(lam):
    with fails("ValidationException", match=r"at 'environment\.variables' failed to satisfy constraint: Map keys "
                                            r"must satisfy constraint: \[Member must satisfy regular expression "
                                            r"pattern: \[a-zA-Z\]\(\[a-zA-Z0-9_\]\)\+\]"):
        create(lam, Environment={"Variables": {"1BAD": "x"}})


def test_tag_limit_on_create(lam):
    create(lam, "ok", Tags={f"k{i}": "v" for i in range(50)})
    with fails("InvalidParameterValueException", "Number of tags exceeds resource tag limit."):
        create(lam, "too-many", Tags={f"k{i}": "v" for i in range(51)})


# ---- names, ARNs, qualifiers (3) ---------------------------------------------------------------------------------
def test_name_over_64_on_create(lam):
    name = "a" * 65
    with fails("InvalidParameterValueException",
               f"1 validation error detected: Value '{name}' at 'functionName' failed to satisfy constraint: "
               "Member must have length less than or equal to 64"):
        create(lam, name)
    with fails("ResourceNotFoundException", f"Function not found: {arn(name)}"):
        lam.get_function(FunctionName=name)


@pytest.mark.parametrize("bad", ["my-function!", "*", "arn:aws:ec2:us-east-1:123456789012:function:fn",
                                 "arn:aws:lambda::123456789012:function:fn", "fn:1:2", "fn:$LATES"])
def test_name_pattern_failures(lam, bad):
    with fails("ValidationException", f"1 validation error detected: Value '{bad}' at 'functionName' failed to "
                                      f"satisfy constraint: Member must satisfy regular expression pattern: "
                                      f"{NAMESPACED_PATTERN}"):
        lam.get_function(FunctionName=bad)


def test_create_name_pattern_failure_quotes_the_create_pattern(lam):
    with fails("ValidationException", "1 validation error detected: Value 'fn.x' at 'functionName' failed to "
                                      f"satisfy constraint: Member must satisfy regular expression pattern: "
                                      f"{NAME_PATTERN}"):
        create(lam, "fn.x")


def test_all_name_forms_resolve(lam):
    create(lam)
    lam.publish_version(FunctionName="fn")
    for form in ("fn", arn("fn"), "123456789012:function:fn"):
        assert lam.get_function_configuration(FunctionName=form)["FunctionArn"] == arn("fn")
    for form, qualifier in (("fn:1", None), (arn("fn", "1"), None), ("123456789012:function:fn:1", None),
                            ("fn", "1"), ("fn:1", "1")):
        kwargs = {"Qualifier": qualifier} if qualifier else {}
        config = lam.get_function_configuration(FunctionName=form, **kwargs)
        assert (config["Version"], config["FunctionArn"]) == ("1", arn("fn", "1"))


def test_qualifier_arns(lam):
    create(lam)
    assert lam.get_function(FunctionName="fn", Qualifier="$LATEST")["Configuration"]["FunctionArn"] == \
        arn("fn", "$LATEST")
    assert lam.get_function(FunctionName="fn")["Configuration"]["FunctionArn"] == arn("fn")


def test_qualifier_mismatch(lam):
    create(lam)
    lam.publish_version(FunctionName="fn")
    msg = "The derived qualifier from the function name does not match the specified qualifier."
    for op in (lam.get_function, lam.get_function_configuration, lam.delete_function):
        with fails("InvalidParameterValueException", msg):
            op(FunctionName="fn:1", Qualifier="2")


def test_other_region_is_unreachable(lam):
    create(lam)
    with fails("ResourceNotFoundException",
               "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')"):
        lam.get_function(FunctionName="arn:aws:lambda:eu-west-1:123456789012:function:fn")


def test_not_found_messages(lam):
    with fails("ResourceNotFoundException", f"Function not found: {arn('nope')}"):
        lam.get_function(FunctionName="nope")
    with fails("ResourceNotFoundException", f"Function not found: {arn('nope')}"):
        lam.get_function_configuration(FunctionName="nope")
    with fails("ResourceNotFoundException", f"Function not found: {arn('nope')}"):
        lam.list_versions_by_function(FunctionName="nope")
    create(lam)
    with fails("ResourceNotFoundException", f"Function not found: {arn('fn', '99')}"):
        lam.get_function(FunctionName="fn", Qualifier="99")
    with fails("ResourceNotFoundException", f"Function not found: {arn('fn', 'nope')}"):
        lam.get_function_configuration(FunctionName="fn", Qualifier="nope")
    with fails("ResourceNotFoundException", f"Function not found: {arn('fn', '$latest')}"):
        lam.get_function(FunctionName="fn", Qualifier="$latest")  # $LATEST is case-sensitive


# ---- updates -----------------------------------------------------------------------------------------------------
def test_update_configuration_answers_in_progress_then_successful(lam):
    create(lam)
    before = lam.get_function(FunctionName="fn")["Configuration"]
    updated = lam.update_function_configuration(FunctionName="fn", Timeout=10, Description="new",
                                                Environment={"Variables": {"KEY": "v"}})
    assert updated["LastUpdateStatus"] == "InProgress"
    assert updated["LastUpdateStatusReasonCode"] == "Creating"
    assert updated["LastUpdateStatusReason"] == "The function is being created."
    assert (updated["Timeout"], updated["Description"]) == (10, "new")
    after = lam.get_function(FunctionName="fn")["Configuration"]
    assert after["LastUpdateStatus"] == "Successful" and "LastUpdateStatusReason" not in after
    assert len({before["RevisionId"], updated["RevisionId"], after["RevisionId"]}) == 3
    assert after["Environment"] == {"Variables": {"KEY": "v"}} and after["MemorySize"] == 128


def test_update_code_changes_sha_size_and_revision(lam):
    create(lam)
    before = lam.get_function_configuration(FunctionName="fn")
    data = make_zip({"app.py": "def handler(e, c):\n    return 2\n"})
    updated = lam.update_function_code(FunctionName="fn", ZipFile=data)
    assert updated["CodeSha256"] == code_sha256(data) and updated["CodeSize"] == len(data)
    assert updated["Version"] == "$LATEST" and updated["FunctionArn"] == arn("fn")
    assert updated["LastUpdateStatus"] == "InProgress"
    after = lam.get_function_configuration(FunctionName="fn")
    assert after["RevisionId"] not in (before["RevisionId"], updated["RevisionId"])


def test_update_code_dry_run_changes_nothing(lam):
    data = make_zip()
    create(lam, zip_bytes=data)
    lam.update_function_code(FunctionName="fn", ZipFile=make_zip({"app.py": "x = 1\n"}), DryRun=True)
    assert lam.get_function_configuration(FunctionName="fn")["CodeSha256"] == code_sha256(data)


def test_revision_id_preconditions_on_updates(lam):
    create(lam)
    msg = ("The Revision Id provided does not match the latest Revision Id. "
           "Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
    with fails("PreconditionFailedException", msg):
        lam.update_function_configuration(FunctionName="fn", Timeout=5, RevisionId="stale")
    with fails("PreconditionFailedException", msg):
        lam.update_function_code(FunctionName="fn", ZipFile=make_zip(), RevisionId="stale")
    current = lam.get_function(FunctionName="fn")["Configuration"]["RevisionId"]
    assert lam.update_function_configuration(FunctionName="fn", Timeout=5, RevisionId=current)["Timeout"] == 5


def test_update_unknown_function(lam):
    with fails("ResourceNotFoundException", f"Function not found: {arn('nope')}"):
        lam.update_function_configuration(FunctionName="nope", Timeout=5)
    with fails("ResourceNotFoundException", f"Function not found: {arn('nope')}"):
        lam.update_function_code(FunctionName="nope", ZipFile=make_zip())


# ---- delete (4.4) ------------------------------------------------------------------------------------------------
def test_delete_function_removes_everything(lam):
    create(lam, Publish=True)
    lam.create_alias(FunctionName="fn", Name="live", FunctionVersion="1")
    assert lam.delete_function(FunctionName="fn")["StatusCode"] == 204
    with fails("ResourceNotFoundException", f"Function not found: {arn('fn')}"):
        lam.get_function(FunctionName="fn")
    with fails("ResourceNotFoundException", f"Function not found: {arn('fn')}"):
        lam.delete_function(FunctionName="fn")
    with fails("ResourceNotFoundException", f"Function not found: {arn('fn')}"):
        lam.delete_function(FunctionName="fn", Qualifier="1")


def test_delete_one_version(lam):
    create(lam, Publish=True)
    lam.update_function_configuration(FunctionName="fn", Timeout=9)
    lam.publish_version(FunctionName="fn")
    lam.delete_function(FunctionName="fn", Qualifier="1")
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName="fn")["Versions"]]
    assert versions == ["$LATEST", "2"]
    lam.delete_function(FunctionName="fn", Qualifier="42")  # unknown version: 204, no effect
    assert lam.get_function(FunctionName="fn", Qualifier="2")["Configuration"]["Timeout"] == 9


def test_delete_latest_or_alias_qualifier_refused(lam):
    create(lam, Publish=True)
    lam.create_alias(FunctionName="fn", Name="live", FunctionVersion="1")
    with fails("InvalidParameterValueException", "$LATEST version cannot be deleted without deleting the function."):
        lam.delete_function(FunctionName="fn", Qualifier="$LATEST")
    with fails("InvalidParameterValueException", "Deletion of aliases is not currently supported."):
        lam.delete_function(FunctionName="fn", Qualifier="live")


# ---- list --------------------------------------------------------------------------------------------------------
def test_list_functions_default_and_all(lam):
    create(lam, "a", Publish=True)
    create(lam, "b")
    default = lam.list_functions()["Functions"]
    assert [(f["FunctionName"], f["Version"], f["FunctionArn"]) for f in default] == [
        ("a", "$LATEST", arn("a")), ("b", "$LATEST", arn("b"))]
    everything = lam.list_functions(FunctionVersion="ALL")["Functions"]
    assert [f["FunctionArn"] for f in everything] == [arn("a", "$LATEST"), arn("a", "1"), arn("b", "$LATEST")]


def test_list_functions_pages(lam):
    for i in range(5):
        create(lam, f"f{i}")
    seen, marker = [], None
    while True:
        page = lam.list_functions(MaxItems=2, **({"Marker": marker} if marker else {}))
        assert len(page["Functions"]) <= 2
        seen += [f["FunctionName"] for f in page["Functions"]]
        marker = page.get("NextMarker")
        if not marker:
            break
    assert seen == [f"f{i}" for i in range(5)]


def test_account_settings(lam):
    settings = lam.get_account_settings()
    assert settings["AccountLimit"] == {"TotalCodeSize": 80530636800, "CodeSizeUnzipped": 262144000,
                                        "CodeSizeZipped": 52428800, "ConcurrentExecutions": 1000,
                                        "UnreservedConcurrentExecutions": 1000}
    assert settings["AccountUsage"] == {"TotalCodeSize": 0, "FunctionCount": 0}
    config = create(lam)
    usage = lam.get_account_settings()["AccountUsage"]
    assert usage == {"TotalCodeSize": config["CodeSize"], "FunctionCount": 1}
    lam.update_function_configuration(FunctionName="fn", Timeout=9)
    lam.publish_version(FunctionName="fn")  # a config-only publish still counts its code (5.3)
    assert lam.get_account_settings()["AccountUsage"]["TotalCodeSize"] == 2 * config["CodeSize"]


def test_error_helpers_read_the_code(lam):
    try:
        lam.get_function(FunctionName="nope")
    except Exception as exc:  # noqa: BLE001 - whichever transport
        assert error_code(exc) == "ResourceNotFoundException"
