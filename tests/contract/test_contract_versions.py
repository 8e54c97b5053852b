"""PublishVersion and versions (reference section 5; RevisionId 4.2; ARN forms 3.4)."""
from __future__ import annotations

from contract_helpers import arn, code_sha256, create, fails, make_zip

REVISION_MSG = ("The Revision Id provided does not match the latest Revision Id. "
                "Call the GetFunction/GetAlias API to retrieve the latest Revision Id")


def test_publish_without_change_returns_the_existing_version(lam):
    create(lam)
    first = lam.publish_version(FunctionName="fn", Description="first")
    assert (first["Version"], first["FunctionArn"], first["Description"]) == ("1", arn("fn", "1"), "first")
    again = lam.publish_version(FunctionName="fn", Description="ignored")
    assert again["Version"] == "1" and again["Description"] == "first"
    assert again["RevisionId"] == first["RevisionId"]


def test_every_update_call_counts_even_identical(lam):
    data = make_zip()
    create(lam, zip_bytes=data)
    assert lam.publish_version(FunctionName="fn")["Version"] == "1"
    lam.update_function_code(FunctionName="fn", ZipFile=data)  # same bytes
    assert lam.publish_version(FunctionName="fn")["Version"] == "2"
    lam.update_function_configuration(FunctionName="fn", Timeout=3)  # same value
    assert lam.publish_version(FunctionName="fn")["Version"] == "3"
    assert lam.publish_version(FunctionName="fn")["Version"] == "3"


def test_tags_and_concurrency_never_make_a_version(lam):
    create(lam)
    lam.publish_version(FunctionName="fn")
    lam.tag_resource(Resource=arn("fn"), Tags={"team": "blue"})
    lam.untag_resource(Resource=arn("fn"), TagKeys=["team"])
    lam.put_function_concurrency(FunctionName="fn", ReservedConcurrentExecutions=5)
    lam.delete_function_concurrency(FunctionName="fn")
    assert lam.publish_version(FunctionName="fn")["Version"] == "1"


def test_create_with_publish(lam):
    config = create(lam, Publish=True)
    assert (config["Version"], config["FunctionArn"]) == ("1", arn("fn"))  # unqualified ARN (3.4)
    assert lam.publish_version(FunctionName="fn")["Version"] == "1"


def test_update_code_with_publish(lam):
    create(lam, Publish=True)
    data = make_zip({"app.py": "def handler(e, c):\n    return 2\n"})
    config = lam.update_function_code(FunctionName="fn", ZipFile=data, Publish=True)
    assert (config["Version"], config["FunctionArn"]) == ("2", arn("fn", "2"))
    assert config["CodeSha256"] == code_sha256(data)
    assert lam.publish_version(FunctionName="fn")["Version"] == "2"
    same = lam.update_function_code(FunctionName="fn", ZipFile=data, Publish=True)  # same zip still publishes
    assert same["Version"] == "3"


def test_revision_precondition(lam):
    create(lam)
    with fails("PreconditionFailedException", REVISION_MSG):
        lam.publish_version(FunctionName="fn", RevisionId="wrong")
    current = lam.get_function(FunctionName="fn")["Configuration"]["RevisionId"]
    assert lam.publish_version(FunctionName="fn", RevisionId=current)["Version"] == "1"


def test_code_sha256_precondition(lam):
    data = make_zip()
    create(lam, zip_bytes=data)
    wrong = code_sha256(b"other")
    with fails("InvalidParameterValueException",
               f"CodeSHA256 ({wrong}) is different from current CodeSHA256 in $LATEST ({code_sha256(data)}). "
               "Please try again with the CodeSHA256 in $LATEST."):
        lam.publish_version(FunctionName="fn", CodeSha256=wrong)
    assert lam.publish_version(FunctionName="fn", CodeSha256=code_sha256(data))["Version"] == "1"


def test_revision_checked_before_code_sha256(lam):
    create(lam)
    with fails("PreconditionFailedException", REVISION_MSG):
        lam.publish_version(FunctionName="fn", RevisionId="wrong", CodeSha256="wrong")


def test_numbers_are_never_reused(lam):
    create(lam)
    for timeout in (4, 5):
        lam.update_function_configuration(FunctionName="fn", Timeout=timeout)
        lam.publish_version(FunctionName="fn")
    lam.delete_function(FunctionName="fn", Qualifier="2")
    lam.update_function_configuration(FunctionName="fn", Timeout=6)
    assert lam.publish_version(FunctionName="fn")["Version"] == "3"
    lam.delete_function(FunctionName="fn", Qualifier="3")
    lam.delete_function(FunctionName="fn", Qualifier="1")
    lam.update_function_configuration(FunctionName="fn", Timeout=7)
    assert lam.publish_version(FunctionName="fn")["Version"] == "4"


def test_recreated_function_starts_at_one(lam):
    create(lam, Publish=True)
    lam.update_function_configuration(FunctionName="fn", Timeout=9)
    lam.publish_version(FunctionName="fn")
    lam.delete_function(FunctionName="fn")
    assert create(lam, Publish=True)["Version"] == "1"


def test_versions_are_frozen_snapshots(lam):
    original = make_zip()
    create(lam, zip_bytes=original, Environment={"Variables": {"STAGE": "one"}})
    lam.publish_version(FunctionName="fn")
    lam.update_function_configuration(FunctionName="fn", Environment={"Variables": {"STAGE": "two"}}, Timeout=30)
    lam.update_function_code(FunctionName="fn", ZipFile=make_zip({"app.py": "x = 2\n"}))
    v1 = lam.get_function_configuration(FunctionName="fn", Qualifier="1")
    assert v1["Environment"] == {"Variables": {"STAGE": "one"}} and v1["Timeout"] == 3
    assert v1["CodeSha256"] == code_sha256(original)
    assert v1["FunctionArn"] == arn("fn", "1")


def test_list_versions_order_and_arns(lam):
    create(lam, Publish=True)
    lam.update_function_configuration(FunctionName="fn", Timeout=9)
    lam.publish_version(FunctionName="fn")
    versions = lam.list_versions_by_function(FunctionName="fn")["Versions"]
    assert [(v["Version"], v["FunctionArn"]) for v in versions] == [
        ("$LATEST", arn("fn", "$LATEST")), ("1", arn("fn", "1")), ("2", arn("fn", "2"))]


def test_publishing_gives_latest_a_new_revision_and_the_version_its_own(lam):
    create(lam)
    before = lam.get_function(FunctionName="fn")["Configuration"]["RevisionId"]
    version = lam.publish_version(FunctionName="fn")
    after = lam.get_function(FunctionName="fn")["Configuration"]["RevisionId"]
    assert len({before, after, version["RevisionId"]}) == 3
    assert lam.get_function(FunctionName="fn", Qualifier="1")["Configuration"]["RevisionId"] == version["RevisionId"]


def test_tagging_changes_latest_revision(lam):
    create(lam)
    before = lam.get_function(FunctionName="fn")["Configuration"]["RevisionId"]
    lam.tag_resource(Resource=arn("fn"), Tags={"a": "b"})
    assert lam.get_function(FunctionName="fn")["Configuration"]["RevisionId"] != before


def test_publish_unknown_function(lam):
    with fails("ResourceNotFoundException", f"Function not found: {arn('nope')}"):
        lam.publish_version(FunctionName="nope")


def test_publish_after_newest_version_deleted_cuts_a_new_one(lam):
    # AWS behaviour UNVERIFIED (reference 5.1); strata follows LocalStack
    create(lam, Publish=True)
    lam.delete_function(FunctionName="fn", Qualifier="1")
    assert lam.publish_version(FunctionName="fn")["Version"] == "2"
