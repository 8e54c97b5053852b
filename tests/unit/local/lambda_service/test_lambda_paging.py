"""Marker pagination: stable under deletes between pages, 50-item cap."""
from __future__ import annotations

import pytest

from strata.local.lambda_service.paging import paginate
from strata.model.lambda_errors import InvalidParameterValueException


def test_pages_and_cap():
    items = list(range(120))
    page, marker = paginate(items, lambda i: (i,), None, None, cap=50)
    assert page == list(range(50)) and marker
    page, marker = paginate(items, lambda i: (i,), marker, 1000, cap=50)
    assert page == list(range(50, 100))


def test_marker_survives_deletion_of_the_next_item():
    items = list(range(10))
    page, marker = paginate(items, lambda i: (i,), None, 3, cap=50)
    remaining = [i for i in items if i != 3]
    page, _ = paginate(remaining, lambda i: (i,), marker, 3, cap=50)
    assert page == [4, 5, 6]


def test_bad_marker():
    with pytest.raises(InvalidParameterValueException):
        paginate([1], lambda i: (i,), "%%%", None, cap=50)
