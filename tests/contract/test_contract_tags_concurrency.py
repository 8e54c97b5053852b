"""Tags, reserved concurrency and account settings: function-level, never part of a version (reference 5.3)."""
from __future__ import annotations

from contract_helpers import arn, create, fails

QUALIFIED = ("This operation is permitted on Lambda functions only. Aliases and versions do not support this "
             "operation. Please specify either a function name or an unqualified function ARN.")


def test_tag_lifecycle(lam):
    create(lam, Tags={"a": "1"})
    lam.tag_resource(Resource=arn("fn"), Tags={"b": "2"})
    assert lam.list_tags(Resource=arn("fn"))["Tags"] == {"a": "1", "b": "2"}
    lam.untag_resource(Resource=arn("fn"), TagKeys=["a"])
    assert lam.list_tags(Resource=arn("fn"))["Tags"] == {"b": "2"}
    assert lam.get_function(FunctionName="fn")["Tags"] == {"b": "2"}


def test_tags_on_versions_and_aliases_refused(lam):
    create(lam, Publish=True)
    lam.create_alias(FunctionName="fn", Name="live", FunctionVersion="1")
    msg = "Tags on function aliases and versions are not supported. Please specify a function ARN."
    for qualifier in ("1", "live", "$LATEST"):
        with fails("InvalidParameterValueException", msg):
            lam.tag_resource(Resource=arn("fn", qualifier), Tags={"a": "b"})


def test_tag_limit_and_unknown_function(lam):
    create(lam, Tags={f"k{i}": "v" for i in range(49)})
    lam.tag_resource(Resource=arn("fn"), Tags={"k49": "v"})
    with fails("InvalidParameterValueException", "Number of tags exceeds resource tag limit."):
        lam.tag_resource(Resource=arn("fn"), Tags={"k50": "v"})
    with fails("ResourceNotFoundException", f"Function not found: {arn('nope')}"):
        lam.list_tags(Resource=arn("nope"))
    with fails("ValidationException", match=r"^1 validation error detected: Value 'fn' at 'resource'"):
        lam.list_tags(Resource="fn")


def test_reserved_concurrency(lam):
    create(lam)
    assert lam.get_function_concurrency(FunctionName="fn") == {}
    assert lam.put_function_concurrency(FunctionName="fn", ReservedConcurrentExecutions=7) == {
        "ReservedConcurrentExecutions": 7}
    assert lam.get_function_concurrency(FunctionName="fn") == {"ReservedConcurrentExecutions": 7}
    assert lam.get_function(FunctionName="fn")["Concurrency"] == {"ReservedConcurrentExecutions": 7}
    assert lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 993
    lam.delete_function_concurrency(FunctionName="fn")
    assert lam.get_function_concurrency(FunctionName="fn") == {}
    assert "Concurrency" not in lam.get_function(FunctionName="fn")


def test_concurrency_on_qualified_names_refused(lam):
    create(lam, Publish=True)
    lam.create_alias(FunctionName="fn", Name="live", FunctionVersion="1")
    for name in ("fn:live", "fn:1", arn("fn", "1")):
        with fails("InvalidParameterValueException", QUALIFIED):
            lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)


def test_concurrency_keeps_unreserved_minimum(lam):
    create(lam)
    with fails("InvalidParameterValueException",
               "Specified ReservedConcurrentExecutions for function decreases account's "
               "UnreservedConcurrentExecution below its minimum value of [100]."):
        lam.put_function_concurrency(FunctionName="fn", ReservedConcurrentExecutions=901)
    lam.put_function_concurrency(FunctionName="fn", ReservedConcurrentExecutions=900)
    with fails("ResourceNotFoundException", f"Function not found: {arn('nope')}"):
        lam.put_function_concurrency(FunctionName="nope", ReservedConcurrentExecutions=1)
