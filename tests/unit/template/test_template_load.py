"""Loading: short tags in long form, marks, and every problem located and reported together."""
from __future__ import annotations

import textwrap

import pytest

from strata.errors import TemplateError
from strata.template import load_template, load_template_text


def load(text: str):
    return load_template_text(textwrap.dedent(text), "t.yaml")


def problems(text: str) -> list[str]:
    with pytest.raises(TemplateError) as info:
        load(text)
    return [str(p) for p in info.value.problems]


MINIMAL = "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n"


def test_short_tags_become_long_form_like_samtranslator() -> None:
    template = load("""\
        Resources:
          Fn:
            Type: AWS::Lambda::Function
            Properties:
              A: !Ref Param
              B: !GetAtt Role.Arn.Deep
              C: !GetAtt [Role, Arn]
              D: !Sub "${AWS::Region}-x"
              E: !Join [",", [a, !Ref P]]
              F: !If [Cond, 1, !Ref "AWS::NoValue"]
              G: !FindInMap {0: x}
              H: !Select [0, !GetAZs ""]
              I: !Base64 123
              J: !Cidr [10.0.0.0/16, 2, 8]
              K: !Equals [a, b]
              L: !Condition C
              M: !ImportValue Shared
              N: !ToJsonString {a: 1}
              O: !Length [1, 2]
              P: !Split [",", "a,b"]
              Q: !Not [!Condition C]
              R: !And [!Condition C, !Or [!Condition D, !Condition E]]
              S: !Transform {Name: M}
        """)
    props = template.data["Resources"]["Fn"]["Properties"]
    assert props["A"] == {"Ref": "Param"}
    assert props["B"] == {"Fn::GetAtt": ["Role", "Arn.Deep"]}
    assert props["C"] == {"Fn::GetAtt": ["Role", "Arn"]}
    assert props["D"] == {"Fn::Sub": "${AWS::Region}-x"}
    assert props["E"] == {"Fn::Join": [",", ["a", {"Ref": "P"}]]}
    assert props["F"] == {"Fn::If": ["Cond", 1, {"Ref": "AWS::NoValue"}]}
    assert props["G"] == {"Fn::FindInMap": {0: "x"}}
    assert props["I"] == {"Fn::Base64": "123"}  # a tagged scalar stays its raw string, as in samtranslator
    assert props["L"] == {"Condition": "C"}
    assert props["R"] == {"Fn::And": [{"Condition": "C"}, {"Fn::Or": [{"Condition": "D"}, {"Condition": "E"}]}]}
    assert props["S"] == {"Fn::Transform": {"Name": "M"}}


def test_marks_are_one_based_and_point_at_keys_and_items() -> None:
    template = load("""\
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              Layers:
                - !Ref A
                - arn:b
        """)
    assert template.marks.get(("Resources",)) == (1, 1)
    assert template.marks.get(("Resources", "Fn", "Type")) == (3, 5)
    assert template.marks.get(("Resources", "Fn", "Properties", "Layers", 1)) == (7, 11)
    location = template.locate(("Resources", "Fn", "Properties", "Layers", 1, "not", "there"))
    assert (location.line, location.column, location.logical_id) == (7, 11, "Fn")
    assert str(location) == "t.yaml:7:11 [Fn]"


def test_json_templates_load_with_marks() -> None:
    template = load('{\n  "Resources": {\n    "Fn": {"Type": "AWS::SNS::Topic", "Properties": {"N": 1.5}}\n  }\n}\n')
    assert template.data == {"Resources": {"Fn": {"Type": "AWS::SNS::Topic", "Properties": {"N": 1.5}}}}
    assert template.marks.get(("Resources", "Fn", "Type")) == (3, 12)


def test_timestamps_stay_strings_and_scalars_follow_yaml_1_1() -> None:
    template = load("AWSTemplateFormatVersion: 2010-09-09\nDescription: yes\n" + MINIMAL
                    + "    Metadata: {a: 0o7, b: 1_000, c: null, d: '1'}\n")
    assert template.data["AWSTemplateFormatVersion"] == "2010-09-09"
    assert template.data["Description"] is True  # YAML 1.1, exactly as samtranslator reads it
    assert template.data["Resources"]["Fn"]["Metadata"] == {"a": "0o7", "b": 1000, "c": None, "d": "1"}


def test_anchors_aliases_and_merge_keys() -> None:
    template = load("""\
        Resources:
          A:
            Type: T
            Properties: &props {X: 1, Y: 2}
          B:
            Type: T
            Properties:
              <<: *props
              Y: 3
        """)
    assert template.data["Resources"]["B"]["Properties"] == {"X": 1, "Y": 3}


def test_text_and_path_are_kept(tmp_path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(MINIMAL)
    template = load_template(path)
    assert template.path == path and template.text == MINIMAL.encode()
    assert template.locate(("Resources", "Fn")).file == str(path)


def test_duplicate_key_names_the_first_line() -> None:
    assert problems("""\
        Resources:
          Fn:
            Type: A
            Type: B
        """) == ["t.yaml:4:5 [Fn]: duplicate key 'Type' (first defined at line 3)"]


def test_unknown_tag_is_located_and_suggests() -> None:
    assert problems(MINIMAL + "    Properties: {Handler: !Sbu x}\n") == [
        "t.yaml:4:27 [Fn]: unknown tag !Sbu; did you mean !Sub?"]


def test_yaml_syntax_error_is_located() -> None:
    (message,) = problems("Resources:\n  Fn: [a, b\n  X: 1\n")
    assert message.startswith("t.yaml:3:4: YAML syntax error:")


def test_structure_problems() -> None:
    assert problems("- a\n- b\n") == ["t.yaml:1:1: a template must be a mapping of sections, but this one is a list"]
    assert problems("") == ["t.yaml: a template must be a mapping of sections, but this one is empty"]
    assert problems("Description: x\n") == ["t.yaml:1:1: the template has no Resources section"]
    assert problems("Resources: [a]\n") == ["t.yaml:1:1: Resources must be a mapping, not list"]
    assert problems("Resources:\n  A: 1\n  B: {Properties: {}}\n  C: {Type: [x]}\n") == [
        "t.yaml:2:3 [A]: resource A must be a mapping, not number",
        "t.yaml:3:3 [B]: resource B has no Type",
        "t.yaml:4:7 [C]: resource C: Type must be a string, not list",
    ]


def test_many_problems_are_reported_together() -> None:
    found = problems("""\
        Resourses: {}
        Resources:
          Fn:
            Type: A
            Properties: {X: !Bogus 1, X: 2}
          Other: {}
        """)
    assert found == [
        "t.yaml:5:21 [Fn]: unknown tag !Bogus",
        "t.yaml:5:31 [Fn]: duplicate key 'X' (first defined at line 5)",
        "t.yaml:1:1: unknown top-level section 'Resourses'; did you mean Resources?",
        "t.yaml:6:3 [Other]: resource Other has no Type",
    ]


def test_unreadable_file_is_a_template_error(tmp_path) -> None:
    with pytest.raises(TemplateError, match="cannot read template"):
        load_template(tmp_path / "missing.yaml")


def test_bad_keys_and_recursive_aliases_are_problems_not_crashes() -> None:
    assert problems(MINIMAL + "    Properties: {[a]: 1}\n") == [
        "t.yaml:4:18 [Fn]: a mapping key must be a plain scalar (a string or number)"]
    assert "recursive YAML alias" in problems(MINIMAL + "    Properties: &a [*a]\n")[0]


def test_forEach_resources_are_left_to_language_extensions() -> None:
    load("Transform: AWS::LanguageExtensions\nResources:\n  Fn::ForEach::Topics: [T, [a, b], {}]\n")


def test_large_template_loads_whole(big_template_text: str) -> None:
    """502 resources, every node marked; how fast is measured by ``bench/bench_template_load.py``."""
    template = load_template_text(big_template_text.encode())
    assert len(template.data["Resources"]) == 502
    assert template.marks.get(("Resources", "Fn499")) is not None


def test_flow_style_yaml_keeps_yaml_scalars_and_json_keeps_json_numbers() -> None:
    """A document that opens with ``{`` is JSON only when its first key is quoted: ``{Resources: ...}`` is flow-style
    YAML, where ``0E0`` is a string (as SAM CLI's PyYAML reads it); in JSON, ``1e5`` is a number."""
    flow = load_template_text("{Resources: {R: {Type: X, Properties: {V: {0E0: 1}, W: 0E0}}}}").data
    assert flow["Resources"]["R"]["Properties"] == {"V": {"0E0": 1}, "W": "0E0"}
    json_doc = load_template_text('{"Resources": {"R": {"Type": "X", "Properties": {"W": 1e5}}}}').data
    assert json_doc["Resources"]["R"]["Properties"] == {"W": 100000.0}
