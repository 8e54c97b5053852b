"""Bounded input: alias bombs, oversized templates, keys, quotas and catastrophic AllowedPatterns are located errors,
found in bounded memory (a child process with a small address-space limit) instead of a hang or an OOM."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from strata.errors import TemplateError
from strata.template import build_context, limits, load_template_text
from strata.template.parameters import ParameterOverrides

MEMORY_LIMIT = 384 * 1024 * 1024  # bytes of address space for the child: the bombs below needed 2.3 GB and more


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """The classic 'billion laughs' as a template: ~500 bytes that expand to width**levels nodes."""
    lines = ["Resources:", "  T:", "    Type: AWS::SNS::Topic", "    Metadata:",
             '      a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels):
        lines.append(f"      a{level}: &a{level} [" + ",".join([f"*a{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def load_in_bounded_child(text: str) -> str:
    """Load ``text`` in a child process limited to ``MEMORY_LIMIT``; its report (the problems, or 'loaded')."""
    probe = textwrap.dedent("""\
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[1]), int(sys.argv[1])))
        from strata.errors import TemplateError
        from strata.template import load_template_text
        try:
            load_template_text(sys.stdin.read(), "bomb.yaml")
        except TemplateError as exc:
            print("\\n".join(str(p) for p in exc.problems))
        else:
            print("loaded")
        """)
    done = subprocess.run([sys.executable, "-c", probe, str(MEMORY_LIMIT)], input=text, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def problems(text: str, overrides: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(TemplateError) as info:
        build_context(load_template_text(text, "t.yaml"), ParameterOverrides(overrides or {}))
    return [str(p) for p in info.value.problems]


def test_an_alias_bomb_is_a_located_error_in_bounded_memory() -> None:
    text = alias_bomb()
    assert len(text) < 600
    report = load_in_bounded_child(text)
    assert report.startswith("bomb.yaml:"), report
    assert "YAML aliases expand this list to" in report and "alias bomb" in report
    line = int(report.split(":")[1])
    assert text.splitlines()[line - 1].lstrip().startswith("a")  # the anchored list where the expansion passes


def test_a_merge_key_bomb_is_refused_too() -> None:
    lines = ["Resources:", "  T:", "    Type: AWS::SNS::Topic", "    Metadata:", "      m0: &m0 {" +
             ", ".join(f"k{i}: lol" for i in range(9)) + "}"]
    for level in range(1, 9):
        lines.append(f"      m{level}: &m{level} {{" + ", ".join(f"k{i}: *m{level - 1}" for i in range(9)) + "}")
    report = load_in_bounded_child("\n".join(lines) + "\n")
    assert "YAML aliases expand this mapping to" in report, report


def test_a_long_string_repeated_by_aliases_is_bounded_by_its_text() -> None:
    text = ("Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Metadata:\n"
            f"      s: &s \"{'x' * 200_000}\"\n      r: [*s, *s, *s, *s, *s, *s]\n")
    report = load_in_bounded_child(text)
    assert f"characters of text, more than the {limits.EXPANDED_CHARACTERS:,} characters" in report, report
    assert report.startswith("bomb.yaml:6:10:"), report


def test_aliases_that_stay_small_load_as_shared_data() -> None:
    template = load_template_text(
        "Resources:\n  A:\n    Type: X\n    Properties: &p {K: [1, 2, 3]}\n  B:\n    Type: X\n    Properties: *p\n")
    resources = template.data["Resources"]
    assert resources["A"]["Properties"] == resources["B"]["Properties"] == {"K": [1, 2, 3]}


def test_a_template_over_cloudformations_body_quota_is_refused_before_parsing() -> None:
    text = "Resources:\n  T:\n    Type: AWS::SNS::Topic\n" + "# padding\n" * (limits.TEMPLATE_BODY_BYTES // 10)
    with pytest.raises(TemplateError) as info:
        load_template_text(text, "big.yaml")
    assert str(info.value.problems[0]).startswith("big.yaml:1:1: the template is 1,048,6")
    assert "more than the 1,048,576 CloudFormation accepts" in info.value.message


def test_a_mapping_key_longer_than_any_aws_name_is_refused() -> None:
    with pytest.raises(TemplateError) as info:
        load_template_text(f"Resources:\n  T:\n    Type: X\n    Metadata:\n      ? {'k' * 20_000}\n      : 1\n",
                           "t.yaml")
    assert [str(p) for p in info.value.problems] == [
        "t.yaml:5:9 [T]: a mapping key of 20,000 characters: longer than any name AWS reads (at most 10,240)"]


def test_cloudformation_quotas_on_sections_and_names() -> None:
    resources = "".join(f"  T{i}:\n    Type: AWS::SNS::Topic\n" for i in range(501))
    found = problems(f"Resources:\n{resources}")
    assert found == ["t.yaml:1:1: Resources has 501 resources; CloudFormation takes at most 500"]
    long_name = "P" * 256
    found = problems(f"Description: {'d' * 1025}\nParameters:\n  {long_name}:\n    Type: String\n    Default: x\n"
                     "Resources:\n  T:\n    Type: AWS::SNS::Topic\n")
    assert found == [
        "t.yaml:1:1: the template Description is longer than CloudFormation's 1,024 bytes",
        f"t.yaml:3:3: parameter name {'P' * 40}... is 256 characters; CloudFormation takes at most 255"]
    outputs = "".join(f"  O{i}:\n    Value: x\n" for i in range(201))
    mapping = "".join(f"    K{i}: {{V: x}}\n" for i in range(201))
    found = problems(f"Mappings:\n  M:\n{mapping}Resources:\n  T:\n    Type: AWS::SNS::Topic\nOutputs:\n{outputs}")
    assert found == ["t.yaml:207:1: Outputs has 201 outputs; CloudFormation takes at most 200",
                     "t.yaml:2:3: mapping M has 201 keys; CloudFormation takes at most 200"]


def test_a_parameter_value_over_4096_bytes_is_refused() -> None:
    text = "Parameters:\n  P:\n    Type: String\nResources:\n  T:\n    Type: AWS::SNS::Topic\n"
    assert problems(text, {"P": "x" * 4097}) == [
        "t.yaml:2:3: parameter P: the value (from --parameter-overrides) is longer than CloudFormation's 4,096 bytes"]
    assert build_context(load_template_text(text), ParameterOverrides({"P": "x" * 4096})).parameters["P"]


def test_a_catastrophic_allowed_pattern_is_a_time_bounded_error_naming_the_parameter() -> None:
    text = textwrap.dedent("""\
        Parameters:
          Slow:
            Type: String
            Default: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!
            AllowedPattern: (a|aa)+$
          Fine:
            Type: String
            Default: abc
            AllowedPattern: "[a-c]+"
        Resources:
          T:
            Type: AWS::SNS::Topic
        """)
    found = problems(text)
    assert len(found) == 1
    assert found[0].startswith("t.yaml:5:5: parameter Slow: matching its value against the AllowedPattern "
                               "'(a|aa)+$' took longer than 2 s")


def test_api_event_strings_the_translator_hashes_are_bounded() -> None:
    template = textwrap.dedent("""\
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              Events:
                E:
                  Type: Api
                  Properties:
                    Path: /%s
                    Method: %s
        """)
    found = problems(template % ("x", "G" * 100_000))
    assert found == ["t.yaml:10:13 [Fn]: event E: Method 'GGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGG... (100,000 "
                     "characters)' is not an HTTP method API Gateway routes (DELETE, GET, HEAD, OPTIONS, PATCH, POST, "
                     "PUT or ANY)"]
    found = problems(template % ("p" * 10_240, "get"))
    assert found == ["t.yaml:9:13 [Fn]: event E: Path is 10,241 characters; an API Gateway URL is at most 10,240"]
    for method in ("GET", "any", "x-amazon-apigateway-any-method"):
        build_context(load_template_text(template % ("x", method)), ParameterOverrides())
