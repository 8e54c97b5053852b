"""The translator's API-body copies made fast (``strata.transform.py27_copy``) give exactly what ``copy.deepcopy``
gives: per copied tree (hypothesis), per rebuilt key order, and per whole translation, with shared path items or
without, on generated big apps and on aws-sam-translator's own corpus (errors included)."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from samtranslator.utils.py27hash_fix import Py27Dict, Py27Keys, Py27UniStr

from strata.errors import TemplateError
from strata.transform import py27_copy, sam

CORPUS = Path("/work/shared/corpus/sam-translator/input")
CORPUS_INPUTS = sorted(CORPUS.glob("*.yaml")) if CORPUS.is_dir() else []
# Short keys collide in small tables, so key order depends on insertion order and on every rebuild.
KEYS = st.text(alphabet="abcdefgh/{}", min_size=1, max_size=3)


def _py27(pairs: list[tuple[str, Any]], removed: list[str], unicode: bool) -> Py27Dict:
    built = Py27Dict()
    for key, value in pairs:
        built[Py27UniStr(key) if unicode else key] = value
    for key in removed:
        if key in built:
            del built[key]
    return built


def _trees() -> st.SearchStrategy[Any]:
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), KEYS, KEYS.map(Py27UniStr))

    def nest(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(KEYS, inner, max_size=4),
            st.builds(_py27, st.lists(st.tuples(KEYS, inner), max_size=9), st.lists(KEYS, max_size=3),
                      st.booleans()))
    return st.recursive(scalars, nest, max_leaves=40)


def _shape(value: Any) -> Any:
    """Everything a copy must reproduce: types, values, Python 2.7 key tables and iteration order."""
    if isinstance(value, Py27Dict):
        keys = value.keylist
        return ("py27", [(type(k).__name__, k, _shape(dict.__getitem__(value, k))) for k in value],
                sorted((slot, str(key)) for slot, key in keys.keyorder.items() if key is not Py27Keys.DUMMY),
                keys.size, keys.fill, keys.mask)
    if isinstance(value, dict):
        return ("dict", [(k, _shape(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [_shape(v) for v in value])
    return (type(value).__name__, value)


@settings(max_examples=300, deadline=None)
@given(_trees())
def test_the_fast_copy_equals_copy_deepcopy(tree: Any) -> None:
    assert _shape(py27_copy.deepcopy(tree)) == _shape(copy.deepcopy(tree))


@settings(max_examples=100, deadline=None)
@given(_trees())
def test_the_fast_copy_keeps_aliases_as_aliases(tree: Any) -> None:
    holder = Py27Dict()
    holder["one"] = tree
    holder["two"] = [tree]
    fast, slow = py27_copy.deepcopy(holder), copy.deepcopy(holder)
    assert (fast["one"] is fast["two"][0]) == (slow["one"] is slow["two"][0])
    assert _shape(fast) == _shape(slow)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(KEYS, st.integers()), max_size=30), st.lists(KEYS, max_size=5), st.integers(0, 40))
def test_owed_rebuilds_paid_in_place_equal_that_many_copies(pairs: list[tuple[str, int]], removed: list[str],
                                                            times: int) -> None:
    inner = _py27(pairs[:5], [], False)
    item = _py27(pairs, removed, True)
    item["nested"] = inner
    expected = item
    for _ in range(times):
        expected = copy.deepcopy(expected)
    py27_copy._rebuild_tree(item, times)
    assert _shape(item) == _shape(expected)


# --- whole translations ---------------------------------------------------------------------------------------------

VALUES = {"AWS::Region": "us-east-1", "AWS::Partition": "aws"}
METHODS = ("get", "post", "put", "delete", "patch", "head", "options")


def _translated(data: dict[str, Any], plain: bool = False) -> tuple[str, str]:
    """The translation (or its errors), with strata's copies or (``plain``) the translator's own."""
    try:
        return "ok", json.dumps(sam.translate(json.loads(json.dumps(data)), VALUES, region="us-east-1",
                                              as_shipped=plain))
    except TemplateError as exc:
        return "error", json.dumps([problem.message for problem in exc.problems])


def _app(n: int, *, shared_paths: bool = False, http: bool = False, auth: bool = False, cors: bool = False,
         condition: bool = False, duplicate: bool = False) -> dict[str, Any]:
    resources: dict[str, Any] = {"Shared": {"Type": "AWS::Serverless::LayerVersion",
                                            "Properties": {"LayerName": "shared", "ContentUri": "s3://b/k"}}}
    for i in range(n):
        path = f"/p{i % 13}/{{id}}" if shared_paths else f"/fn{i}"
        method = METHODS[(i // 13) % 7] if shared_paths else "get"
        event: dict[str, Any] = {"Type": "HttpApi" if http and i % 2 else "Api",
                                 "Properties": {"Path": path, "Method": method}}
        if auth and i % 3 == 0 and event["Type"] == "Api":
            event["Properties"]["Auth"] = {"ApiKeyRequired": True}
        resource: dict[str, Any] = {"Type": "AWS::Serverless::Function", "Properties": {
            "CodeUri": "s3://b/k", "Handler": "app.handler", "AutoPublishAlias": "live",
            "Environment": {"Variables": {"IDX": str(i)}}, "Events": {"Get": event}}}
        if condition and i % 4 == 0:
            resource["Condition"] = "Enabled"
        resources[f"Fn{i}"] = resource
    if duplicate:
        resources["Fn0"]["Properties"]["Events"]["Again"] = dict(resources["Fn0"]["Properties"]["Events"]["Get"])
    data: dict[str, Any] = {"Transform": "AWS::Serverless-2016-10-31",
                            "Globals": {"Function": {"Runtime": "python3.12", "Layers": [{"Ref": "Shared"}]}},
                            "Resources": resources}
    if cors:
        data["Globals"]["Api"] = {"Cors": "'*'"}
    if condition:
        data["Parameters"] = {"On": {"Type": "String", "Default": "yes"}}
        data["Conditions"] = {"Enabled": {"Fn::Equals": [{"Ref": "On"}, "yes"]}}
    return data


@pytest.mark.parametrize("variant", [{}, {"shared_paths": True}, {"http": True}, {"shared_paths": True, "http": True},
                                     {"auth": True, "cors": True}, {"condition": True}, {"duplicate": True}],
                         ids=lambda v: "-".join(v) or "plain")
def test_big_apps_translate_exactly_as_with_plain_copies(variant: dict[str, bool]) -> None:
    data = _app(90, **variant)
    fast, plain = _translated(data), _translated(data, plain=True)
    assert fast == plain
    assert fast[0] == ("error" if variant.get("duplicate") else "ok")


def test_an_untested_translator_version_copies_in_full(monkeypatch: pytest.MonkeyPatch) -> None:
    import samtranslator

    made: list[py27_copy.Sharing] = []
    original = py27_copy.Sharing.copy_owned

    def spy(self: py27_copy.Sharing, doc: Any) -> Any:
        made.append(self)
        return original(self, doc)
    monkeypatch.setattr(py27_copy.Sharing, "copy_owned", spy)
    data = _app(20)
    expected = _translated(data, plain=True)
    assert _translated(data) == expected and made             # the tested version shares
    made.clear()
    monkeypatch.setattr(samtranslator, "__version__", "9.9.9")
    assert _translated(data) == expected and not made


@pytest.mark.skipif(not CORPUS_INPUTS, reason="shared corpus not present")
@pytest.mark.parametrize("chunk", range(4))
def test_the_translator_corpus_translates_exactly_as_with_plain_copies(chunk: int) -> None:
    from samtranslator.yaml_helper import yaml_parse

    compared = 0
    for path in CORPUS_INPUTS[chunk::4]:
        text = path.read_text()
        if "AlwaysDeploy" in text or ("Api" not in text):    # a fresh id per translation; or no API body to copy
            continue
        try:
            data = yaml_parse(text)
        except Exception:      # noqa: BLE001 - the corpus holds deliberately broken inputs
            continue
        assert _translated(data) == _translated(data, plain=True), path.name
        compared += 1
    assert compared > 50


def test_a_tainted_translation_is_translated_once_more_with_plain_copies(monkeypatch: pytest.MonkeyPatch) -> None:
    """An error inside a method that shares items (a path and method defined twice) taints the shared translation:
    the adapter translates once more with plain copies, and reports that translation's errors."""
    runs: list[bool] = []
    original = py27_copy.editors_copy_fast

    def counting(sharing: Any) -> Any:
        runs.append(sharing is not None)
        return original(sharing)
    monkeypatch.setattr(py27_copy, "editors_copy_fast", counting)
    data = _app(10, duplicate=True)
    assert _translated(data)[0] == "error"
    assert runs == [True, False]
