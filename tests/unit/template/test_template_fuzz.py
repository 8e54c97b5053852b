"""Fuzzing the template loader (hypothesis, deterministic and bounded): whatever the bytes, ``load_template_text``
returns a template or raises ``TemplateError`` with located problems; never another exception, never unbounded
work. Inputs mix random YAML-ish text with anchors, aliases, merge keys, tags and deep nesting, the shapes that broke
it before. ``EXAMPLES`` is the count the README records."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strata.errors import TemplateError
from strata.template import load_template_text

EXAMPLES = 400

TOKENS = ["Resources:", "\n", "  ", "- ", ": ", "&a ", "&b ", "*a", "*b", "<<: ", "[", "]", "{", "}", ", ",
          "!Ref ", "!Sub ", "!GetAtt ", "!!binary ", "!!int ", "!Unknown ", '"', "'", "? ", "|", ">", "#", "%YAML 1.1",
          "---", "...", "Type: X", "T:", "x", "1e5", "0x1F", "~", "null", "2001-12-14", "\t", "\\u00e9", "\x00",
          "\ufeff", "\x85", "\u2028", "\ud800"]

yaml_like = st.lists(st.sampled_from(TOKENS), max_size=60).map("".join)
raw_bytes = st.binary(max_size=200)


def _bomb(width: int, levels: int) -> str:
    lines = ["Resources:", "  T:", "    Type: X", "    Metadata:", f"      a0: &a0 [{', '.join(['x'] * width)}]"]
    lines += [f"      a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


bombs = st.builds(_bomb, st.integers(1, 12), st.integers(1, 12))


def check(text: str | bytes) -> None:
    try:
        template = load_template_text(text, "f.yaml")
    except TemplateError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.location is not None and problem.location.file == "f.yaml"
    else:
        assert isinstance(template.data, dict)


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(yaml_like, raw_bytes, bombs))
def test_the_loader_returns_data_or_a_located_template_error(text: str | bytes) -> None:
    check(text)
