"""The post-pass and the published-description rule tell a generated Version id (``<function>Version<10 hex>``) by
a string test: the same answer as the pattern, without compiling a pattern per function."""
from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from strata.transform.versions import is_generated_version_id


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="Fn1Vesio", min_size=1, max_size=4),
       st.text(alphabet="0123456789abcdefgFVersion", max_size=14))
def test_a_generated_version_id_is_told_as_the_pattern_tells_it(function_id: str, tail: str) -> None:
    for version_id in (function_id + "Version" + tail, function_id + tail, tail):
        assert is_generated_version_id(version_id, function_id) == \
            (re.fullmatch(re.escape(function_id) + r"Version[0-9a-f]{10}", version_id) is not None)
