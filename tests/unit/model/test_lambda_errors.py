"""``unless_not_found``: the one way verify and ops read what may have been deleted."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from strata.model.lambda_errors import ResourceNotFoundException, TooManyRequestsException, unless_not_found


def test_a_read_that_finds_returns_its_answer_with_the_parameters_given() -> None:
    assert unless_not_found(lambda **kw: kw, FunctionName="f", Qualifier="2") == {"FunctionName": "f",
                                                                                    "Qualifier": "2"}


@pytest.mark.parametrize("error", [
    ResourceNotFoundException("Function not found: f"),
    ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "gone"}}, "GetAlias"),
])
def test_not_found_from_either_client_reads_as_none(error: Exception) -> None:
    def read(**_: object) -> object:
        raise error

    assert unless_not_found(read, FunctionName="f") is None


def test_any_other_error_is_raised() -> None:
    def read(**_: object) -> object:
        raise TooManyRequestsException("Rate Exceeded.")

    with pytest.raises(TooManyRequestsException):
        unless_not_found(read)
