"""Property tests: any JSON-like data survives YAML (block and flow) and JSON; overrides survive SAM's syntax."""
from __future__ import annotations

import json
import math

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strata.template import load_template_text
from strata.template.parameters import parse_parameter_overrides


def _json_like(text: st.SearchStrategy[str]) -> st.SearchStrategy:
    scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | text
    return st.recursive(scalars, lambda children: st.lists(children, max_size=4)
                        | st.dictionaries(text, children, max_size=4), max_leaves=25)


_data = _json_like(st.text(st.characters(blacklist_categories=("Cs",)), max_size=20))
# PyYAML's emitter writes NEL/LS/PS raw inside single quotes with allow_unicode, where YAML folds them:
# its bug, not ours
_yaml_data = _json_like(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x85\u2028\u2029"),
                                max_size=20))

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _wrap(data) -> dict:
    return {"Resources": {"R": {"Type": "AWS::SNS::Topic", "Properties": {"Value": data}}}}


def _equal(a, b) -> bool:
    """Equality that treats -0.0 == 0.0 and compares floats exactly (repr round-trips)."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b


@FAST
@given(_yaml_data, st.sampled_from([False, True, None]))
def test_yaml_round_trip(data, flow) -> None:
    document = _wrap(data)
    text = yaml.safe_dump(document, default_flow_style=flow, allow_unicode=True, sort_keys=False)
    assert _equal(load_template_text(text).data, document)


@FAST
@given(_data, st.booleans(), st.sampled_from([None, 2]))
def test_json_round_trip(data, ascii_only, indent) -> None:
    document = _wrap(data)
    text = json.dumps(document, ensure_ascii=ascii_only, indent=indent)
    assert load_template_text(text).data == document


_key = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)
_value = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\\"), max_size=20)


def _sam_format(key: str, value: str, quote: str) -> str:
    """How a user (or a script) writes one pair for SAM CLI: quoted, with that quote escaped inside."""
    return f"{key}={quote}{value.replace(quote, chr(92) + quote)}{quote}"


@FAST
@given(st.dictionaries(_key, _value, min_size=1, max_size=6), st.sampled_from(['"', "'"]), st.integers(1, 3))
def test_overrides_round_trip(pairs, quote, per_argument) -> None:
    formatted = [_sam_format(k, v, quote) for k, v in pairs.items()]
    arguments = [" ".join(formatted[i:i + per_argument]) for i in range(0, len(formatted), per_argument)]
    assert parse_parameter_overrides(arguments) == pairs


@FAST
@given(st.dictionaries(_key, _value.filter(lambda v: v and not set(v) & set("\"'") and not any(c.isspace() for c in v)),
                      min_size=1, max_size=6))
def test_bare_overrides_round_trip(pairs) -> None:
    assert parse_parameter_overrides([" ".join(f"{k}={v}" for k, v in pairs.items())]) == pairs


_yamlish = st.lists(st.sampled_from(["Resources:", "\n", "  ", "- ", "!Ref ", "!GetAtt", "{", "}", "[", "]", ": ",
                                     "&a ", "*a", "<<: ", "? ", "'", '"', "Type", "X", "1", ",", "#", "\t", "!!binary ",
                                     "%TAG ", "---", "...", "|", ">"]), max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=60), _yamlish))
def test_any_input_is_a_template_or_a_template_error(text) -> None:
    """Never a traceback: whatever the bytes, the result is a Template or a TemplateError with problems."""
    from strata.errors import TemplateError

    try:
        load_template_text(text)
    except TemplateError as exc:
        assert exc.problems
