"""Incremental translation equals whole-template translation, byte for byte (``strata.transform.incremental``).

On every template the tests use (the SAM apps, the test data templates, aws-sam-translator's own corpus) and on
generated big apps (N functions sharing a layer, each with an Api event): an edit of one function's own properties
is translated incrementally and must give exactly the JSON the whole translation gives; structural edits (a function
added or removed, an event path, Globals) fall back to the whole translation, which is then what they get.
"""
from __future__ import annotations

import copy
import json
import logging
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strata.artifacts import find_build_targets
from strata.errors import StrataError
from strata.template.load import load_template
from strata.transform import incremental, sam
from strata.transform.package import package_paths
from strata.transform.pipeline import transform, with_placeholders

TESTS = Path(__file__).resolve().parents[2]
CORPUS = Path("/work/shared/corpus/sam-translator/input")
TEMPLATES = sorted({*TESTS.glob("data/**/template.y*ml"), *TESTS.glob("data/sam_apps/**/*.y*ml"),
                    *TESTS.glob("data/sam_apps/**/*.json"), *(TESTS.parents[0] / "examples").glob("*/template.y*ml")})
CORPUS_INPUTS = sorted(p for p in CORPUS.glob("*.yaml") if not p.stem.startswith("error_")) if CORPUS.is_dir() else []
VALUES = {"AWS::Region": "us-east-1", "AWS::Partition": "aws"}


def _json(value: object) -> str:
    return json.dumps(value)


def _whole(data: dict) -> dict:
    return json.loads(json.dumps(sam.translate(data, VALUES, region="us-east-1")))


def _edits(data: dict) -> list[tuple[str, dict]]:
    """One local edit per function that has a property to change (the first that applies)."""
    edits = []
    for lid, res in (data.get("Resources") or {}).items():
        props = res.get("Properties") if isinstance(res, dict) else None
        if not isinstance(res, dict) or res.get("Type") != incremental.SAM_FUNCTION or not isinstance(props, dict):
            continue
        edited = copy.deepcopy(data)
        target = edited["Resources"][lid]["Properties"]
        variables = (target.get("Environment") or {}).get("Variables") if isinstance(target.get("Environment"),
                                                                                     dict) else None
        if isinstance(variables, dict) and variables:
            variables[next(iter(variables))] = "edited-by-strata-test"
        elif "Handler" in target:
            target["Handler"] = "edited.handler"
        elif "MemorySize" in target:
            target["MemorySize"] = 1769
        elif "Timeout" in target:
            target["Timeout"] = 29
        else:
            continue
        edits.append((lid, edited))
    return edits


def _check_edits(data: dict) -> int:
    """Translate ``data`` whole, then every local edit incrementally; compare with the whole translation of each.
    Returns how many edits the incremental path translated."""
    edits = _edits(data)[:2]
    if not edits:
        pytest.skip("no function property to edit")
    try:
        out, base = incremental.whole(data, VALUES, region="us-east-1", partition="aws")
    except StrataError:
        pytest.skip("the template does not translate")
    if "AlwaysDeploy" not in json.dumps(data):   # that translation differs each time, by design
        assert _json(out) == _json(_whole(data))
    used = 0
    for lid, edited in edits:
        stored = incremental.Base.from_json(json.loads(json.dumps(base.to_json())))
        result = incremental.incremental(stored, edited, VALUES, region="us-east-1", partition="aws")
        if result is None:
            continue
        used += 1
        assert _json(result[0]) == _json(_whole(edited)), f"incremental translation after editing {lid} differs"
    return used


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(TESTS.parents[0])))
def test_incremental_equals_whole_on_test_templates(path: Path, tmp_path: Path) -> None:
    try:
        template = load_template(path)
        packaged = package_paths(template.data, path.parent, home=tmp_path)
        data = with_placeholders(packaged.data, find_build_targets(template.data, path.parent, template_file=path))
    except StrataError:
        pytest.skip("not a template strata deploys")
    if not sam.is_sam_template(data):
        pytest.skip("not a SAM template")
    _check_edits(data)


@pytest.mark.skipif(not CORPUS_INPUTS, reason="shared corpus not present")
@pytest.mark.parametrize("chunk", range(8))
def test_incremental_equals_whole_on_the_translator_corpus(chunk: int) -> None:
    used = 0
    for path in CORPUS_INPUTS[chunk::8]:
        try:
            data = load_template(path).data
        except StrataError:
            continue
        try:
            used += _check_edits(data)
        except pytest.skip.Exception:
            continue
    assert used > 0     # the incremental path was taken, not only the fallback


def big_app(n: int, *, env: dict[int, str] | None = None, paths: dict[int, str] | None = None,
            globals_memory: int | None = None, skip: int | None = None) -> dict:
    """N functions sharing a layer, each with an Api event (the issue's benchmark shape)."""
    resources: dict = {"Shared": {"Type": "AWS::Serverless::LayerVersion",
                                  "Properties": {"LayerName": "shared", "ContentUri": "s3://bucket/layer.zip"}}}
    for i in range(n):
        if i == skip:
            continue
        resources[f"Fn{i}"] = {"Type": "AWS::Serverless::Function", "Properties": {
            "CodeUri": f"s3://bucket/fn{i}.zip", "Handler": "app.handler", "AutoPublishAlias": "live",
            "Environment": {"Variables": {"N": (env or {}).get(i, str(i))}},
            "Events": {"Get": {"Type": "Api", "Properties": {"Path": (paths or {}).get(i, f"/fn{i}"),
                                                             "Method": "get"}}}}}
    function_globals: dict = {"Runtime": "python3.12", "Layers": [{"Ref": "Shared"}]}
    if globals_memory:
        function_globals["MemorySize"] = globals_memory
    return {"Transform": "AWS::Serverless-2016-10-31", "Globals": {"Function": function_globals},
            "Resources": resources,
            "Outputs": {"Api": {"Value": {"Fn::Sub": "https://${ServerlessRestApi}.execute-api.${AWS::Region}"
                                                     ".amazonaws.com/Prod/"}}}}


def _translate_after(base: incremental.Base, data: dict) -> tuple[dict, bool]:
    result = incremental.incremental(base, data, VALUES, region="us-east-1", partition="aws")
    if result is None:
        return incremental.whole(data, VALUES, region="us-east-1", partition="aws")[0], False
    return result[0], True


@pytest.mark.parametrize("n", [1, 2, 17, 60])
def test_one_environment_edit_in_a_big_app_is_incremental_and_identical(n: int) -> None:
    _, base = incremental.whole(big_app(n), VALUES, region="us-east-1", partition="aws")
    edited = big_app(n, env={n // 2: "changed"})
    output, used = _translate_after(base, edited)
    assert used
    assert _json(output) == _json(_whole(edited))


@pytest.mark.parametrize("edit", ["added", "removed", "path", "globals"])
def test_structural_edits_fall_back_to_the_whole_translation(edit: str, caplog: pytest.LogCaptureFixture) -> None:
    n = 12
    _, base = incremental.whole(big_app(n), VALUES, region="us-east-1", partition="aws")
    edited = {"added": lambda: big_app(n + 1), "removed": lambda: big_app(n, skip=5),
              "path": lambda: big_app(n, paths={3: "/moved"}),
              "globals": lambda: big_app(n, globals_memory=256)}[edit]()
    with caplog.at_level(logging.DEBUG, logger="strata.transform.incremental"):
        output, used = _translate_after(base, edited)
    assert not used
    assert "whole-template translation:" in caplog.text
    assert _json(output) == _json(_whole(edited))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(min_value=1, max_value=40), data=st.data())
def test_generated_edit_sequences_match_the_whole_translation(n: int, data: st.DataObject) -> None:
    """A chain of edits, each translated from the previous result, always equals the whole translation."""
    env: dict[int, str] = {}
    _, base = incremental.whole(big_app(n), VALUES, region="us-east-1", partition="aws")
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        env[data.draw(st.integers(min_value=0, max_value=n - 1))] = data.draw(st.text("abc123", max_size=6))
        edited = big_app(n, env=env)
        result = incremental.incremental(base, edited, VALUES, region="us-east-1", partition="aws")
        output, base = result if result is not None else \
            incremental.whole(edited, VALUES, region="us-east-1", partition="aws")
        assert _json(output) == _json(_whole(edited))


def test_a_deploy_edit_reuses_the_cache_and_translates_only_the_changed_function(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Through ``transform``: the second run after an environment edit is incremental and its stack template
    equals what a fresh home (whole translation) produces."""
    app = tmp_path / "app"
    (app / "src").mkdir(parents=True)
    (app / "src" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    template = ("Transform: AWS::Serverless-2016-10-31\nResources:\n" + "".join(
        f"  Fn{i}:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src\n"
        f"      Handler: app.handler\n      Runtime: python3.12\n      AutoPublishAlias: live\n"
        f"      Environment:\n        Variables:\n          N: '{i}'\n"
        f"      Events:\n        Get:\n          Type: Api\n          Properties:\n            Path: /fn{i}\n"
        f"            Method: get\n" for i in range(6)))
    (app / "template.yaml").write_text(template)
    transform(app / "template.yaml", home=tmp_path / "home")
    (app / "template.yaml").write_text(template.replace("N: '3'", "N: 'three'"))
    with caplog.at_level(logging.DEBUG, logger="strata.transform.incremental"):
        second = transform(app / "template.yaml", home=tmp_path / "home")
    assert "environment values of Fn3 carried" in caplog.text      # without running the translator
    fresh = transform(app / "template.yaml", home=tmp_path / "fresh")
    assert _json(second.template) == _json(fresh.template)
    assert "N" in json.dumps(second.template["Resources"]["Fn3"]) and "three" in json.dumps(second.template)


@pytest.mark.parametrize("edit", ["value", "two-functions", "globals-same-name", "code-sha", "no-api"])
def test_an_environment_value_edit_is_carried_without_the_translator_and_equals_the_whole(edit: str) -> None:
    """An edit to environment values only is derived from the previous output (the Version renamed where SAM's hash
    names it anew): exactly the whole translation, and the translator is not imported for it."""
    n = 8
    data = big_app(n)
    if edit == "globals-same-name":
        data["Globals"]["Function"]["Environment"] = {"Variables": {"N": "3", "G": "g"}}
    if edit == "code-sha":
        data["Resources"]["Fn3"]["Properties"]["AutoPublishCodeSha256"] = "0123456789abcdef"
    if edit == "no-api":
        for i in range(n):
            del data["Resources"][f"Fn{i}"]["Properties"]["Events"]
        del data["Outputs"]
    _, base = incremental.whole(data, VALUES, region="us-east-1", partition="aws")
    edited = copy.deepcopy(data)
    edited["Resources"]["Fn3"]["Properties"]["Environment"]["Variables"]["N"] = "edited"
    if edit == "two-functions":
        edited["Resources"]["Fn5"]["Properties"]["Environment"]["Variables"]["N"] = "also"
    carried = incremental._environment_values_carried(base, edited, ["Fn3", "Fn5"] if edit == "two-functions"
                                                       else ["Fn3"], json.dumps(edited))
    assert carried is not None
    assert _json(carried[0]) == _json(_whole(edited))
    assert (edit == "code-sha") == ("Fn3Version0123456789" in json.dumps(carried[0]))


@pytest.mark.parametrize("edit", ["type", "intrinsic", "all-properties", "handler"])
def test_other_edits_go_through_the_small_translation(edit: str) -> None:
    data = big_app(6)
    if edit == "all-properties":
        data["Globals"]["Function"]["AutoPublishAliasAllProperties"] = True
    _, base = incremental.whole(data, VALUES, region="us-east-1", partition="aws")
    edited = copy.deepcopy(data)
    variables = edited["Resources"]["Fn2"]["Properties"]["Environment"]["Variables"]
    if edit == "type":
        variables["N"] = 2
    elif edit == "intrinsic":
        variables["N"] = {"Ref": "AWS::Region"}
    elif edit == "all-properties":
        variables["N"] = "edited"
    else:
        edited["Resources"]["Fn2"]["Properties"]["Handler"] = "other.handler"
        variables["N"] = "edited"
    assert incremental._environment_values_carried(base, edited, ["Fn2"], json.dumps(edited)) is None
    output, used = _translate_after(base, edited)
    assert used and _json(output) == _json(_whole(edited))


def test_a_template_edit_of_an_environment_value_does_not_import_the_translator(tmp_path: Path) -> None:
    app = tmp_path / "app"
    (app / "src").mkdir(parents=True)
    (app / "src" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    (app / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
        "    Properties:\n      CodeUri: src\n      Handler: app.handler\n      Runtime: python3.12\n"
        "      AutoPublishAlias: live\n      Environment:\n        Variables:\n          N: 'one'\n"
        "      Events:\n        Get:\n          Type: Api\n          Properties:\n            Path: /x\n"
        "            Method: get\n")
    script = (
        "import sys, pathlib\n"
        "from strata.transform.pipeline import transform\n"
        "t = pathlib.Path(sys.argv[1]) / 'template.yaml'\n"
        "if sys.argv[3] == 'edit': t.write_text(t.read_text().replace(\"N: 'one'\", \"N: 'two'\"))\n"
        "transform(t, home=pathlib.Path(sys.argv[2]))\n"
        "print('samtranslator.translator.translator' in sys.modules)\n")
    import subprocess
    import sys

    def run(mode: str) -> str:
        return subprocess.run([sys.executable, "-c", script, str(app), str(tmp_path / "home"), mode],
                              capture_output=True, text=True, check=True).stdout.strip()
    assert run("first") == "True"
    assert run("edit") == "False"
