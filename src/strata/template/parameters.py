"""Parameters: the overrides a user gives, read once at the edge, and every value checked against its declaration.

Contract: pure. ``parse_parameter_overrides`` reads SAM CLI's ``--parameter-overrides`` syntax into a
``ParameterOverrides`` value, which is what every later stage takes;
``build_context`` checks every parameter value against its declaration (type, AllowedValues, AllowedPattern,
lengths, bounds), then builds the stack's evaluation context with ``strata.template.context.context_for`` (pseudo
parameters, mappings, conditions), and raises every problem at once, each located at the parameter in the template.
It also reports the template's CloudFormation quotas (``strata.template.limits``): every command that reads a
template's values comes through here, so ``validate`` and ``plan`` check the same.

``AllowedPattern`` is matched with the ``regex`` package, whose matches take a timeout: a pattern that backtracks
catastrophically (``(a|aa)+$``) is an error naming the parameter after ``PATTERN_SECONDS`` in all, not a hang.
"""
from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from strata.errors import Location, Problem, StrataError, TemplateError
from strata.template.context import context_for
from strata.template.intrinsics import Context, Unresolved
from strata.template.limits import PARAMETER_VALUE_BYTES, check_limits
from strata.template.load import Template

PATTERN_SECONDS = 2.0  # every AllowedPattern match of one template together; CloudFormation's own is a few ms

OVERRIDES_EXAMPLE = "Key1=Value1 Key2='value with spaces' or ParameterKey=Key1,ParameterValue=Value1"


class OverrideSyntaxError(StrataError):
    """``--parameter-overrides`` text that is not ``Key=Value`` pairs: a usage error, like click's own."""

    exit_code = 2


# SAM CLI's grammar (samcli/cli/types.py, CfnParameterOverridesType): a key of letters, digits and quotes; a value
# that is "double quoted", 'single quoted' or bare up to the next space; a backslash escapes the character after it.
_KEY = r"""([A-Za-z0-9"']+)"""
_VALUE = r'''("(?:\\.|[^"\\]+)*"|'(?:\\.|[^'\\]+)*'|(?:\\.|[^ "\\]+)+)'''
_CFN_PAIR = re.compile(rf"ParameterKey={_KEY},ParameterValue={_VALUE}")
_SAM_PAIR = re.compile(rf" {_KEY}={_VALUE}")


class ParameterOverrides(Mapping[str, str]):
    """Parameter values a user gave (``--parameter-overrides``, samconfig.toml): name -> the text given. Read-only;
    equal to any mapping with the same items."""

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self._values = dict(values or {})

    def __getitem__(self, name: str) -> str:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"ParameterOverrides({self._values!r})"


def parse_parameter_overrides(values: Iterable[str]) -> ParameterOverrides:
    """``["A=1 B='x y'", "ParameterKey=C,ParameterValue=z"]`` -> ``{"A": "1", "B": "x y", "C": "z"}`` (later wins).

    Every form SAM CLI and ``aws cloudformation deploy`` accept: ``K=V`` pairs (one argument or several),
    CloudFormation's ``ParameterKey=K,ParameterValue=V``, and JSON (inline, or ``file://path``): an object
    ``{"K": "V"}``, a list of ``"K=V"`` strings, or a list of ``{"ParameterKey", "ParameterValue"}`` objects.
    Unlike SAM CLI, text that is not part of a pair is an error instead of being silently dropped.
    """
    result: dict[str, str] = {}
    for value in values:
        text = " " + value.strip()
        if not text.strip():
            continue
        found = _json_overrides(value.strip())
        if found is not None:
            result.update(found)
            continue
        pattern = _CFN_PAIR if _CFN_PAIR.search(text) else _SAM_PAIR
        position = 0
        for match in pattern.finditer(text):
            _expect_blank(text[position:match.start()], value)
            position = match.end()
            result[_unquote(match.group(1))] = _unquote(match.group(2))
        if position == 0:
            raise OverrideSyntaxError(f"cannot read parameter overrides {value!r}", hint=f"write {OVERRIDES_EXAMPLE}")
        _expect_blank(text[position:], value)
    return ParameterOverrides(result)


def _json_overrides(text: str) -> dict[str, str] | None:
    """The pairs of a JSON (or ``file://``) form, or None when ``text`` is ``Key=Value`` text."""
    import json

    if text.startswith("file://"):
        from pathlib import Path

        path = Path(text[len("file://"):]).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise OverrideSyntaxError(f"cannot read parameter overrides file {path}: {exc.strerror}",
                                      hint="check the path after file://") from None
        text = text.strip()
        if not text.startswith(("{", "[")):
            return dict(parse_parameter_overrides(text.split("\n")))
    elif not text.startswith(("{", "[")):
        return None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise OverrideSyntaxError(f"cannot read parameter overrides as JSON: {exc}",
                                  hint=f"write {OVERRIDES_EXAMPLE}, or a JSON object") from None
    if isinstance(data, dict) and isinstance(data.get("Parameters"), dict):
        data = data["Parameters"]          # CodePipeline's template configuration file
    if isinstance(data, dict):
        return {str(k): _scalar_text(v) for k, v in data.items() if not isinstance(v, (dict, list))}
    if isinstance(data, list):
        out: dict[str, str] = {}
        for item in data:
            if isinstance(item, str) and "=" in item.strip("="):   # "Key=Value": one pair, spaces and all
                key, _, item_value = item.partition("=")
                out[key.strip()] = item_value
            elif isinstance(item, dict) and "ParameterKey" in item:
                out[str(item["ParameterKey"])] = _scalar_text(item.get("ParameterValue"))
            else:
                raise OverrideSyntaxError(f"cannot read {item!r} in the JSON parameter overrides",
                                          hint='write "Key=Value" strings or {"ParameterKey": .., '
                                               '"ParameterValue": ..} objects')
        return out
    raise OverrideSyntaxError("JSON parameter overrides must be an object or a list",
                              hint=f"write {OVERRIDES_EXAMPLE}")


def _expect_blank(between: str, value: str) -> None:
    if between.strip():
        raise OverrideSyntaxError(
            f"cannot read {between.strip()!r} in parameter overrides {value!r}",
            hint=f"write {OVERRIDES_EXAMPLE}; quote values that hold spaces or quotes")


def _unquote(text: str) -> str:
    """Strip one pair of wrapping quotes and undo SAM's escapes (backslash before space, ' or ")."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1]
    return text.replace("\\ ", " ").replace('\\"', '"').replace("\\'", "'")


# --- declarations -----------------------------------------------------------------------------------------------------

_EC2_TYPES = frozenset({
    "AWS::EC2::AvailabilityZone::Name", "AWS::EC2::Image::Id", "AWS::EC2::Instance::Id", "AWS::EC2::KeyPair::KeyName",
    "AWS::EC2::SecurityGroup::GroupName", "AWS::EC2::SecurityGroup::Id", "AWS::EC2::Subnet::Id",
    "AWS::EC2::Volume::Id", "AWS::EC2::VPC::Id", "AWS::Route53::HostedZone::Id",
})
_SCALAR_TYPES = frozenset({"String", "Number", "AWS::SSM::Parameter::Name"}) | _EC2_TYPES
_LIST_TYPES = frozenset({"CommaDelimitedList", "List<Number>", "List<String>"}) | {f"List<{t}>" for t in _EC2_TYPES}
_SSM_VALUE = re.compile(r"AWS::SSM::Parameter::Value<(.+)>")


def _known_type(kind: str) -> bool:
    if kind in _SCALAR_TYPES or kind in _LIST_TYPES:
        return True
    match = _SSM_VALUE.fullmatch(kind)
    return match is not None and _known_type(match.group(1))


def build_context(template: Template, overrides: Mapping[str, str], *, region: str = "us-east-1",
                  account_id: str = "123456789012", stack_name: str = "strata-stack",
                  partition: str | None = None, require_values: bool = True,
                  previous: Mapping[str, str | None] | None = None,
                  ssm: Callable[[str], Any] | None = None) -> Context:
    """Resolve parameters (overrides, then the values the previous deploy used, then defaults), pseudo parameters
    and conditions; all problems at once.

    ``previous`` is SAM's rule (``sam deploy`` sends ``UsePreviousValue`` for every parameter not overridden): the
    values the stack was last deployed with, by name; None for a value kept by CloudFormation that strata cannot
    read (a NoEcho parameter on AWS): it stays ``Unresolved``.

    ``require_values=False`` (``strata transform`` of a template no one deploys yet) lets a parameter without a value
    stay ``Unresolved`` instead of being a problem; a deploy always requires every value, as CloudFormation does.
    ``ssm`` (the local target's parameter store, ``strata.template.ssm.SsmLookup``): an
    ``AWS::SSM::Parameter::Value<...>`` parameter reads its value there; without it the value stays ``Unresolved``
    for CloudFormation to read."""
    data = template.data if isinstance(template.data, dict) else {}
    problems: list[Problem] = check_limits(data, template.locate)
    declared = data.get("Parameters") or {}
    if not isinstance(declared, dict):
        problems.append(Problem("Parameters must be a mapping of name -> declaration",
                                template.locate(("Parameters",))))
        declared = {}
    parameters: dict[str, Any] = {}
    deadline = time.monotonic() + PATTERN_SECONDS
    for name, spec in declared.items():
        value, found = _resolve_parameter(template, str(name), spec, overrides, deadline, previous or {}, ssm)
        if found and not require_values and _lacks_value(spec, str(name), overrides):
            found = []
        problems += found
        parameters[str(name)] = Unresolved({"Ref": str(name)}, frozenset()) if found else value
    unknown = sorted(set(overrides) - {str(n) for n in declared})
    for name in unknown:
        known = ", ".join(sorted(str(n) for n in declared)) or "none"
        problems.append(Problem(
            f"--parameter-overrides sets {name!r}, which the template does not declare (its parameters: {known})",
            template.locate(("Parameters",)) if declared else Location(template.filename)))
    if not isinstance(data.get("Mappings") or {}, dict):
        problems.append(Problem("Mappings must be a mapping", template.locate(("Mappings",))))
    context = None
    try:
        context = context_for(data, parameters, region=region, account_id=account_id, stack_name=stack_name,
                              partition=partition, locate=template.locate)
    except TemplateError as exc:
        problems += exc.problems
    if problems or context is None:
        raise TemplateError(problems)
    return context


def previous_texts(values: Mapping[str, Any]) -> dict[str, str]:
    """The parameter values a stack was deployed with (as ``build_context`` resolved them: numbers, lists) as the
    texts ``build_context(previous=...)`` reads; a value that was not known locally is left out."""
    out: dict[str, str] = {}
    for name, value in values.items():
        items = value if isinstance(value, list) else [value]
        if all(isinstance(item, (str, int, float)) for item in items):
            out[str(name)] = ",".join(_scalar_text(item) for item in items)
    return out


def _lacks_value(spec: Any, name: str, overrides: Mapping[str, str]) -> bool:
    return isinstance(spec, dict) and "Default" not in spec and name not in overrides


def _resolve_parameter(template: Template, name: str, spec: Any, overrides: Mapping[str, str],
                       deadline: float, previous: Mapping[str, str | None],
                       ssm: Callable[[str], Any] | None = None) -> tuple[Any, list[Problem]]:
    """One parameter's value, or the problems with its declaration or value."""
    here = ("Parameters", name)
    if not isinstance(spec, dict):
        return None, [Problem(f"parameter {name} must be a mapping with a Type", template.locate(here))]
    kind = spec.get("Type")
    if not isinstance(kind, str) or not _known_type(kind):
        what = "has no Type" if kind is None else f"has unknown Type {kind!r}"
        return None, [Problem(f"parameter {name} {what}; use String, Number, List<Number>, CommaDelimitedList, "
                              "an AWS-specific type or AWS::SSM::Parameter::Value<...>", template.locate(here))]
    if name in overrides:
        raw, source = overrides[name], "from --parameter-overrides"
    elif name in previous and not _SSM_VALUE.fullmatch(kind):   # SSM: the stored value is not the name given
        kept = previous[name]
        if kept is None:
            return Unresolved({"Ref": name}, frozenset()), []
        raw, source = kept, "kept from the previous deploy"
    elif "Default" in spec:
        raw, source = spec["Default"], "its Default"
        if isinstance(raw, list) and kind in _LIST_TYPES:
            raw = ",".join(_scalar_text(item) for item in raw)
    else:
        return None, [Problem(f"parameter {name} has no value: give it a Default or pass "
                              f"--parameter-overrides {name}=...", template.locate(here))]
    if isinstance(raw, (dict, list)) or raw is None:
        return None, [Problem(f"parameter {name}: the value ({source}) must be a string", template.locate(here))]
    text = _scalar_text(raw)
    if len(text.encode("utf-8", "surrogatepass")) > PARAMETER_VALUE_BYTES:
        return None, [Problem(f"parameter {name}: the value ({source}) is longer than CloudFormation's "
                              f"{PARAMETER_VALUE_BYTES:,} bytes", template.locate(here))]
    ssm_kind = _SSM_VALUE.fullmatch(kind)
    if ssm_kind:  # the value is the name of an SSM parameter, read at deploy (locally: from the local store)
        if ssm is None:
            return Unresolved({"Ref": name}, frozenset()), []
        from strata.template.ssm import ssm_parameter_value

        value, problem = ssm_parameter_value(ssm, name, text, ssm_kind.group(1))
        return (value, []) if problem is None else (None, [Problem(problem, template.locate(here))])
    problems = _check(template, name, spec, kind, text, source, deadline)
    if problems:
        return None, problems
    if kind in _LIST_TYPES:
        items = text.split(",")
        return ([_number(item) for item in items] if kind == "List<Number>" else items), []
    return (_number(text) if kind == "Number" else text), []


def _check(template: Template, name: str, spec: dict, kind: str, text: str, source: str,
           deadline: float) -> list[Problem]:
    """Every constraint the declaration states, each failure located at the constraint."""
    problems: list[Problem] = []
    constraint = spec.get("ConstraintDescription")
    suffix = f" ({constraint})" if isinstance(constraint, str) and constraint else ""

    def fail(key: str, message: str) -> None:
        problems.append(Problem(f"parameter {name}: value {text!r} ({source}) {message}{suffix}",
                                template.locate(("Parameters", name, key))))

    items = text.split(",") if kind in _LIST_TYPES else [text]
    numeric = kind in ("Number", "List<Number>")
    for item in items:
        if numeric and _number(item) is None:
            fail("Type", f"is not a number{' list' if kind != 'Number' else ''}")
            return problems
    allowed = spec.get("AllowedValues")
    if isinstance(allowed, list):
        texts = [_scalar_text(v) for v in allowed if not isinstance(v, (dict, list))]
        for item in items:
            if item not in texts and not (numeric and _number(item) in [_number(t) for t in texts]):
                fail("AllowedValues", f"is not one of the AllowedValues: {', '.join(texts)}")
                break
    pattern = spec.get("AllowedPattern")
    if pattern is not None:
        problems += _pattern_problems(template, name, _scalar_text(pattern), items, deadline, fail)
    for key, test, words in (("MinLength", lambda n: len(text) >= n, "is shorter than MinLength"),
                             ("MaxLength", lambda n: len(text) <= n, "is longer than MaxLength")):
        if key in spec:
            limit = _number(_scalar_text(spec[key]))
            if limit is not None and not test(limit):
                fail(key, f"{words} {spec[key]}")
    if numeric:
        for key, compare, words in (("MinValue", lambda v, n: v >= n, "is less than MinValue"),
                                    ("MaxValue", lambda v, n: v <= n, "is greater than MaxValue")):
            if key in spec:
                limit = _number(_scalar_text(spec[key]))
                for item in items:
                    if limit is not None and not compare(_number(item), limit):
                        fail(key, f"{words} {spec[key]}")
                        break
    return problems


def _pattern_problems(template: Template, name: str, pattern: str, items: list[str], deadline: float,
                      fail: Any) -> list[Problem]:
    """Each item against ``AllowedPattern``, within what is left of the template's time for patterns."""
    import regex  # ~13 ms of imports, for the templates that have an AllowedPattern

    where = template.locate(("Parameters", name, "AllowedPattern"))
    try:
        compiled = regex.compile(pattern)
    except (regex.error, RecursionError, OverflowError) as exc:
        return [Problem(f"parameter {name}: AllowedPattern is not a valid regular expression: {exc}", where)]
    for item in items:
        try:
            matched = compiled.fullmatch(item, timeout=max(deadline - time.monotonic(), 0.001))
        except TimeoutError:
            return [Problem(f"parameter {name}: matching its value against the AllowedPattern {pattern!r} took "
                            f"longer than {PATTERN_SECONDS:g} s (a pattern that backtracks without end?); write "
                            "one without nested repetition", where)]
        if not matched:
            fail("AllowedPattern", f"does not match the AllowedPattern {pattern!r}")
            break
    return []


def _scalar_text(value: Any) -> str:
    """A YAML scalar as the string CloudFormation would read."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _number(text: str) -> int | float | None:
    """``"256"`` -> 256, ``"0.5"`` -> 0.5, anything else -> None."""
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return number if number == number and number not in (float("inf"), float("-inf")) else None


# --- NoEcho -----------------------------------------------------------------------------------------------------------

MASK = "****"   # what CloudFormation shows for a NoEcho parameter's value


def no_echo_names(template: Any) -> frozenset[str]:
    """The parameters a template (its data) declares ``NoEcho: true``."""
    declared = template.get("Parameters") if isinstance(template, dict) else None
    if not isinstance(declared, dict):
        return frozenset()
    return frozenset(str(name) for name, spec in declared.items()
                     if isinstance(spec, dict) and _scalar_text(spec.get("NoEcho")).lower() == "true")


def secret_values(template: Any, parameters: Mapping[str, Any]) -> frozenset[str]:
    """The values of the template's NoEcho parameters (each item of a list value too): what ``mask`` hides."""
    secrets: set[str] = set()
    for name in no_echo_names(template):
        value = parameters.get(name)
        items = value if isinstance(value, list) else [value]
        secrets.update(_scalar_text(item) for item in items
                       if isinstance(item, (str, int, float)) and not isinstance(item, bool))
    return frozenset(s for s in secrets if s)


def mask(value: Any, secrets: Iterable[str]) -> Any:
    """``value`` with every NoEcho value in it replaced by ``MASK``: the one function every path that prints or stores
    in plain text a value derived from parameters goes through (plan reasons, fingerprint inputs, describe, events).
    Strings are masked where a secret occurs in them; mappings and lists member by member."""
    ordered = sorted(set(secrets), key=len, reverse=True)
    if not ordered:
        return value
    return _mask(value, ordered)


def _mask(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        return value
    if isinstance(value, dict):
        return {k: _mask(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_mask(v, secrets) for v in value)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and str(value) in secrets:
        return MASK
    return value


def mask_parameters(parameters: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """Parameter values by name, the NoEcho ones (``names``) shown as ``MASK`` (describe, events, JSON output)."""
    hidden = set(names)
    return {k: (MASK if k in hidden else v) for k, v in parameters.items()}
