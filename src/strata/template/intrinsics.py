"""CloudFormation intrinsic functions, evaluated as far as they can be before deploy.

Contract: pure and non-mutating. ``evaluate`` returns a new value in which every intrinsic that can be known from
parameters, pseudo parameters, mappings and conditions is replaced by its value; ``Ref: AWS::NoValue`` removes its key
or list item; anything that needs a deployed resource (Ref/GetAtt of a resource, ImportValue, SSM parameter values) is
an ``Unresolved`` that keeps the partly-resolved expression and the logical ids it depends on. Every problem found in
one call is raised together as a ``TemplateError``, located through the node's path.

One small function per intrinsic, in ``FUNCTIONS`` (a plain dict: a name it does not hold is an error, never a guess).
"""
from __future__ import annotations

import base64
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from strata.errors import Location, Problem, TemplateError

Locate = Callable[[tuple], Location]


@dataclass(frozen=True)
class Unresolved:
    """A value that cannot be known before deploy."""

    expression: Any  # the original intrinsic as plain data, with what could be resolved inside it resolved
    depends_on: frozenset[str]  # logical ids of the resources it references


class _NoValue:
    """``Ref: AWS::NoValue``: the key or list item that holds it disappears."""

    _instance: _NoValue | None = None

    def __new__(cls) -> _NoValue:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NO_VALUE"


NO_VALUE = _NoValue()  # what ``evaluate`` returns when the whole value is ``Ref: AWS::NoValue``


@dataclass
class Context:
    """What intrinsics may read: all of it known before deploy (values may themselves be ``Unresolved``)."""

    parameters: dict[str, Any]  # resolved values; lists for List<...>/CommaDelimitedList
    pseudo: dict[str, Any]  # AWS::Region, AWS::AccountId, AWS::Partition, AWS::StackName, AWS::StackId, ...
    mappings: dict
    conditions: dict[str, Any]  # condition name -> bool (or Unresolved when it hangs on an SSM parameter)
    resources: frozenset[str]  # logical ids that Ref/GetAtt may target
    locate: Locate | None = field(default=None, repr=False, compare=False)  # path -> Location, for problems
    # deployed values for Ref (attribute None) / GetAtt of resources; may return Unresolved when not known yet.
    # Without it (before deploy) every resource reference stays Unresolved.
    resolve_resource: Callable[[str, str | None], Any] | None = field(default=None, repr=False, compare=False)

    @property
    def region(self) -> str:
        return str(self.pseudo.get("AWS::Region", "us-east-1"))


def evaluate(value: Any, ctx: Context, path: tuple = (), locate: Locate | None = None) -> Any:
    """Resolve every intrinsic in ``value`` (which is not modified);
    ``path`` is where ``value`` sits in the template."""
    evaluator = _Evaluator(ctx, locate or ctx.locate)
    result = evaluator.top(value, path)
    if evaluator.problems:
        raise TemplateError(evaluator.problems)
    return result


def evaluate_conditions(conditions: Any, ctx: Context, locate: Locate | None = None) -> dict[str, Any]:
    """Evaluate the ``Conditions`` section in dependency order; cycles and non-boolean results are problems."""
    evaluator = _Evaluator(ctx, locate or ctx.locate)
    if conditions is None:
        return {}
    if not isinstance(conditions, dict):
        evaluator.report("Conditions must be a mapping of name -> condition", ("Conditions",))
        raise TemplateError(evaluator.problems)
    results: dict[str, Any] = {}
    failed: set[str] = set()
    stack: list[str] = []

    def resolve(name: Any, path: tuple) -> Any:
        if not isinstance(name, str) or name not in conditions:
            raise _Fail(f"unknown condition {name!r}{_known(conditions)}", path)
        if name in results:
            return results[name]
        if name in failed:
            raise _Reported
        if not isinstance(name, str) or name not in conditions:
            raise _Fail(f"unknown condition {name!r}{_known(conditions)}", path)
        if name in stack:
            cycle = " -> ".join(stack[stack.index(name):] + [name])
            raise _Fail(f"conditions refer to each other in a cycle: {cycle}", path)
        stack.append(name)
        try:
            value = evaluator.eval(conditions[name], ("Conditions", name))
            if not isinstance(value, (bool, Unresolved)):
                raise _Fail(f"condition {name} must evaluate to true or false, not {value!r}", ("Conditions", name))
        except (_Fail, _Reported):
            failed.add(name)
            raise
        finally:
            stack.pop()
        results[name] = value
        return value

    evaluator.condition = resolve  # type: ignore[method-assign]
    for name in conditions:
        try:
            resolve(name, ("Conditions", name))
        except _Fail as fail:
            evaluator.report(fail.message, fail.path)
        except _Reported:
            pass
    if evaluator.problems:
        raise TemplateError(evaluator.problems)
    return {name: results[name] for name in conditions}


def contains_unresolved(value: Any) -> bool:
    """Whether any part of ``value`` is ``Unresolved``."""
    if isinstance(value, Unresolved):
        return True
    if isinstance(value, dict):
        return any(contains_unresolved(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_unresolved(v) for v in value)
    return False


def to_plain(value: Any) -> Any:
    """``value`` as plain template data: each ``Unresolved`` becomes its expression again."""
    if isinstance(value, Unresolved):
        return value.expression
    if value is NO_VALUE:
        return {"Ref": "AWS::NoValue"}
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    return value


def depends_of(value: Any) -> frozenset[str]:
    """Union of the ``depends_on`` of every ``Unresolved`` inside ``value``."""
    if isinstance(value, Unresolved):
        return value.depends_on
    if isinstance(value, dict):
        return frozenset().union(*(depends_of(v) for v in value.values()))
    if isinstance(value, list):
        return frozenset().union(*(depends_of(v) for v in value))
    return frozenset()


class _Fail(Exception):
    """A problem at ``path``; aborts the value being evaluated."""

    def __init__(self, message: str, path: tuple) -> None:
        super().__init__(message)
        self.message, self.path = message, path


class _Reported(Exception):
    """A problem already reported (e.g. a failed condition used again): abort without a second message."""


class _Evaluator:
    """One ``evaluate`` call: walks the value, dispatches intrinsics, collects problems per mapping entry."""

    def __init__(self, ctx: Context, locate: Locate | None) -> None:
        self.ctx = ctx
        self.locate = locate
        self.problems: list[Problem] = []

    def report(self, message: str, path: tuple) -> None:
        if self.locate is not None:
            self.problems.append(Problem(message, self.locate(path)))
        else:
            where = ".".join(str(p) for p in path)
            self.problems.append(Problem(f"{message} (at {where})" if where else message))

    def top(self, value: Any, path: tuple) -> Any:
        try:
            return self.eval(value, path)
        except _Fail as fail:
            self.report(fail.message, fail.path)
        except _Reported:
            pass
        return None

    def eval(self, value: Any, path: tuple) -> Any:
        cls = value.__class__
        if cls is dict:
            if len(value) == 1:
                for key, arg in value.items():
                    if key == "Ref" or (key.__class__ is str and key.startswith("Fn::")):
                        function = FUNCTIONS.get(key)
                        if function is None:
                            raise _Fail(f"unknown intrinsic function {key}", path + (key,))
                        return function(self, arg, path + (key,))
            result = {}
            for key, item in value.items():
                try:
                    item = self.eval(item, path + (key,))
                except _Fail as fail:
                    self.report(fail.message, fail.path)
                    continue
                except _Reported:
                    continue
                if item is not NO_VALUE:
                    result[key] = item
            return result
        if cls is list:
            result_list = []
            for index, item in enumerate(value):
                item = self.eval(item, path + (index,))
                if item is not NO_VALUE:
                    result_list.append(item)
            return result_list
        return value

    def condition(self, name: Any, path: tuple) -> Any:
        """The value of a named condition (replaced while the Conditions section itself is evaluated)."""
        conditions = self.ctx.conditions
        if not isinstance(name, str) or name not in conditions:
            raise _Fail(f"unknown condition {name!r}{_known(conditions)}", path)
        return conditions[name]


# --- helpers shared by the functions -------------------------------------------------------------------------------

def _known(names: Any) -> str:
    names = sorted(str(n) for n in names or ())
    if not names:
        return " (none are defined)"
    shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
    return f" (known: {shown})"


def _unresolved(name: str, arg: Any) -> Unresolved:
    """The intrinsic ``name`` over a partly-resolved ``arg``: plain expression, union of dependencies."""
    return Unresolved({name: to_plain(arg)}, depends_of(arg))


def _text(value: Any, what: str, path: tuple) -> str:
    """A scalar as the string CloudFormation would see."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    raise _Fail(f"{what} must be a string, not {_kind(value)}", path)


def _integer(value: Any, what: str, path: tuple) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    raise _Fail(f"{what} must be an integer, not {value!r}", path)


def _args(arg: Any, count: int | tuple[int, ...], name: str, path: tuple) -> list:
    counts = (count,) if isinstance(count, int) else count
    if not isinstance(arg, list) or len(arg) not in counts:
        wanted = " or ".join(str(c) for c in counts)
        raise _Fail(f"{name} takes a list of {wanted} arguments, not {_describe(arg)}", path)
    return arg


def _evaluated(ev: _Evaluator, arg: Any, count: int, name: str, path: tuple) -> list:
    """Evaluate each argument in place (an argument that is AWS::NoValue is a problem, not a shift)."""
    values = []
    for index, item in enumerate(_args(arg, count, name, path)):
        value = ev.eval(item, path + (index,))
        if value is NO_VALUE:
            raise _Fail(f"argument {index + 1} of {name} is AWS::NoValue", path + (index,))
        values.append(value)
    return values


def _describe(value: Any) -> str:
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return _kind(value)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Unresolved):
        return "a value known only at deploy"
    return type(value).__name__


def _same(a: Any, b: Any) -> bool:
    """Equality as CloudFormation compares values: scalars as their strings."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) or isinstance(b, dict) or isinstance(a, list) or isinstance(b, list):
        return a == b
    if a is None or b is None:
        return a is b
    return _text(a, "value", ()) == _text(b, "value", ())


# --- the functions --------------------------------------------------------------------------------------------------

def _ref(ev: _Evaluator, arg: Any, path: tuple) -> Any:
    name = ev.eval(arg, path)
    if isinstance(name, Unresolved):
        return _unresolved("Ref", name)
    if not isinstance(name, str):
        raise _Fail(f"Ref takes the name of a parameter or resource, not {_kind(name)}", path)
    ctx = ev.ctx
    if name in ctx.parameters:
        return ctx.parameters[name]
    if name.startswith("AWS::"):
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in ctx.pseudo:
            return ctx.pseudo[name]
        raise _Fail(f"unknown pseudo parameter {name}{_known(ctx.pseudo)}", path)
    if name in ctx.resources:
        if ctx.resolve_resource is not None:
            return ctx.resolve_resource(name, None)
        return Unresolved({"Ref": name}, frozenset((name,)))
    raise _Fail(f"Ref to {name!r}, which is neither a parameter nor a resource", path)


def _get_att(ev: _Evaluator, arg: Any, path: tuple) -> Any:
    if isinstance(arg, str) and "." in arg:
        arg = arg.split(".", 1)
    resource, attribute = _evaluated(ev, arg, 2, "Fn::GetAtt", path)
    if not isinstance(resource, str):
        raise _Fail(f"Fn::GetAtt needs a resource logical id, not {_kind(resource)}", path + (0,))
    if resource not in ev.ctx.resources:
        raise _Fail(f"Fn::GetAtt of {resource!r}, which is not a resource in this template", path + (0,))
    if not isinstance(attribute, (str, Unresolved)):
        raise _Fail(f"Fn::GetAtt needs an attribute name, not {_kind(attribute)}", path + (1,))
    if ev.ctx.resolve_resource is not None and isinstance(attribute, str):
        return ev.ctx.resolve_resource(resource, attribute)
    return Unresolved({"Fn::GetAtt": [resource, to_plain(attribute)]},
                      frozenset((resource,)) | depends_of(attribute))


_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def _sub(ev: _Evaluator, arg: Any, path: tuple) -> Any:
    if isinstance(arg, list):
        _args(arg, 2, "Fn::Sub", path)
        template, variables = arg
        if not isinstance(variables, dict):
            raise _Fail(f"Fn::Sub variables must be a mapping, not {_kind(variables)}", path + (1,))
        variables = ev.eval(variables, path + (1,))
        template_path = path + (0,)
    else:
        template, variables, template_path = arg, {}, path
    if not isinstance(template, str):
        raise _Fail(f"Fn::Sub takes a string (or [string, variables]), not {_kind(template)}", template_path)
    ctx = ev.ctx
    pending: dict[str, Any] = {}  # variables left for deploy time, by the name used in the string

    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return match.group(0)  # ${!Literal}: stays escaped until the final text
        if name in variables:
            value = variables[name]
        elif name in ctx.parameters:
            value = ctx.parameters[name]
            if isinstance(value, list):
                raise _Fail(f"Fn::Sub cannot insert list parameter {name}; use Fn::Join", template_path)
        elif name in ctx.pseudo:
            value = ctx.pseudo[name]
        elif name in ctx.resources:
            value = (ctx.resolve_resource(name, None) if ctx.resolve_resource is not None
                     else Unresolved({"Ref": name}, frozenset((name,))))
        elif "." in name and name.split(".", 1)[0] in ctx.resources:
            resource, attribute = name.split(".", 1)
            value = (ctx.resolve_resource(resource, attribute) if ctx.resolve_resource is not None
                     else Unresolved({"Fn::GetAtt": [resource, attribute]}, frozenset((resource,))))
        else:
            raise _Fail(f"Fn::Sub variable ${{{name}}} is not a parameter, resource or variable", template_path)
        if isinstance(value, Unresolved):
            pending[name] = value
            return match.group(0)
        if value is NO_VALUE:
            raise _Fail(f"Fn::Sub variable ${{{name}}} is AWS::NoValue", template_path)
        return _text(value, f"Fn::Sub variable ${{{name}}}", template_path).replace("${", "${!")

    text = _SUB_VARIABLE.sub(replace, template)
    if not pending:
        return text.replace("${!", "${")
    local = {name: to_plain(value) for name, value in pending.items() if name in variables}
    expression = [text, local] if local else text
    return Unresolved({"Fn::Sub": expression}, depends_of(list(pending.values())))


def _join(ev: _Evaluator, arg: Any, path: tuple) -> Any:
    delimiter, items = _evaluated(ev, arg, 2, "Fn::Join", path)
    if isinstance(items, Unresolved) or contains_unresolved(items) or isinstance(delimiter, Unresolved):
        return _unresolved("Fn::Join", [delimiter, items])
    delimiter = _text(delimiter, "the Fn::Join delimiter", path + (0,))
    if not isinstance(items, list):
        raise _Fail(f"Fn::Join needs a list of values to join, not {_kind(items)}", path + (1,))
    return delimiter.join(_text(item, "each Fn::Join value", path + (1,)) for item in items)


def _select(ev: _Evaluator, arg: Any, path: tuple) -> Any:
    index, items = _evaluated(ev, arg, 2, "Fn::Select", path)
    if isinstance(index, Unresolved) or isinstance(items, Unresolved):
        return _unresolved("Fn::Select", [index, items])
    index = _integer(index, "the Fn::Select index", path + (0,))
    if not isinstance(items, list):
        raise _Fail(f"Fn::Select needs a list to select from, not {_kind(items)}", path + (1,))
    if not 0 <= index < len(items):
        raise _Fail(f"Fn::Select index {index} is out of range for a list of {len(items)}", path + (0,))
    return items[index]


def _split(ev: _Evaluator, arg: Any, path: tuple) -> Any:
    delimiter, source = _evaluated(ev, arg, 2, "Fn::Split", path)
    if isinstance(delimiter, Unresolved) or isinstance(source, Unresolved):
        return _unresolved("Fn::Split", [delimiter, source])
    delimiter = _text(delimiter, "the Fn::Split delimiter", path + (0,))
    if not delimiter:
        raise _Fail("the Fn::Split delimiter must not be empty", path + (0,))
    return _text(source, "the Fn::Split source", path + (1,)).split(delimiter)


def _if(ev: _Evaluator, arg: Any, path: tuple) -> Any:
    name, when_true, when_false = _args(arg, 3, "Fn::If", path)
    value = ev.condition(name, path + (0,))
    if isinstance(value, Unresolved):
        branches = [ev.eval(when_true, path + (1,)), ev.eval(when_false, path + (2,))]
        return Unresolved({"Fn::If": [name] + to_plain(branches)}, value.depends_on | depends_of(branches))
    return ev.eval(when_true, path + (1,)) if value else ev.eval(when_false, path + (2,))


def _boolean(ev: _Evaluator, item: Any, path: tuple) -> Any:
    """One operand of And/Or/Not: a condition function or a ``{"Condition": name}`` reference."""
    if isinstance(item, dict) and len(item) == 1 and "Condition" in item:
        return ev.condition(item["Condition"], path + ("Condition",))
    value = ev.eval(item, path)
    if isinstance(value, (bool, Unresolved)):
        return value
    raise _Fail(f"a condition operand must be a condition function or {{Condition: Name}}, not {value!r}", path)


def _equals(ev: _Evaluator, arg: Any, path: tuple) -> Any:
    left, right = _evaluated(ev, arg, 2, "Fn::Equals", path)
    if contains_unresolved([left, right]):
        return _unresolved("Fn::Equals", [left, right])
    return _same(left, right)


def _logic(name: str, combine: Callable[[list[bool]], bool], absorbing: bool) -> Callable:
    def function(ev: _Evaluator, arg: Any, path: tuple) -> Any:
        _args(arg, tuple(range(2, 11)), name, path)
        values = [_boolean(ev, item, path + (index,)) for index, item in enumerate(arg)]
        if absorbing in values:  # False decides And, True decides Or, whatever else is unknown
            return absorbing
        if any(isinstance(v, Unresolved) for v in values):
            return Unresolved({name: [to_plain(v) for v in values]}, depends_of(values))
        return combine(values)
    return function


def _not(ev: _Evaluator, arg: Any, path: tuple) -> Any:
    (operand,) = _args(arg, 1, "Fn::Not", path)
    value = _boolean(ev, operand, path + (0,))
    if isinstance(value, Unresolved):
        return Unresolved({"Fn::Not": [value.expression]}, value.depends_on)
    return not value


def _find_in_map(ev: _Evaluator, arg: Any, path: tuple) -> Any:
    _args(arg, (3, 4), "Fn::FindInMap", path)
    keys = _evaluated(ev, arg[:3], 3, "Fn::FindInMap", path)
    default: Any = NO_VALUE
    if len(arg) == 4:
        options = arg[3]
        if not isinstance(options, dict) or set(options) != {"DefaultValue"}:
            raise _Fail("the fourth Fn::FindInMap argument must be {DefaultValue: value}", path + (3,))
        default = ev.eval(options["DefaultValue"], path + (3, "DefaultValue"))
    if contains_unresolved(keys):
        return _unresolved("Fn::FindInMap", keys + ([{"DefaultValue": default}] if default is not NO_VALUE else []))
    names = ["map", "top-level key", "second-level key"]
    node: Any = ev.ctx.mappings
    for index, key in enumerate(keys):
        key = _text(key, f"the Fn::FindInMap {names[index]}", path + (index,))
        found = node.get(key, NO_VALUE) if isinstance(node, dict) else NO_VALUE
        if found is NO_VALUE and isinstance(node, dict):  # YAML may have read the key as a number
            found = next((v for k, v in node.items() if _key_text(k) == key), NO_VALUE)
        if found is NO_VALUE:
            if default is not NO_VALUE:
                return default
            known = _known(node) if isinstance(node, dict) else ""
            raise _Fail(f"Fn::FindInMap: no {names[index]} {key!r}{known}", path + (index,))
        node = found
    return ev.eval(node, path)


def _key_text(key: Any) -> str | None:
    return None if key is None or isinstance(key, (dict, list)) else _text(key, "key", ())


def _base64(ev: _Evaluator, arg: Any, path: tuple) -> Any:
    value = ev.eval(arg, path)
    if isinstance(value, Unresolved):
        return _unresolved("Fn::Base64", value)
    return base64.b64encode(_text(value, "the Fn::Base64 value", path).encode("utf-8")).decode("ascii")


def _get_azs(ev: _Evaluator, arg: Any, path: tuple) -> Any:
    region = ev.eval(arg, path)
    if isinstance(region, Unresolved):
        return _unresolved("Fn::GetAZs", region)
    region = _text(region, "the Fn::GetAZs region", path) or ev.ctx.region
    return [f"{region}{zone}" for zone in "abc"]  # deterministic stand-in for the account's zones


def _cidr(ev: _Evaluator, arg: Any, path: tuple) -> Any:
    block, count, bits = _evaluated(ev, arg, 3, "Fn::Cidr", path)
    if contains_unresolved([block, count, bits]):
        return _unresolved("Fn::Cidr", [block, count, bits])
    try:
        import ipaddress  # only Fn::Cidr needs it: kept off every start-up

        network = ipaddress.ip_network(_text(block, "the Fn::Cidr block", path + (0,)), strict=False)
    except ValueError as exc:
        raise _Fail(f"Fn::Cidr: {exc}", path + (0,)) from None
    count = _integer(count, "the Fn::Cidr count", path + (1,))
    bits = _integer(bits, "the Fn::Cidr subnet bits", path + (2,))
    if not 1 <= count <= 256:
        raise _Fail(f"Fn::Cidr count must be between 1 and 256, not {count}", path + (1,))
    prefix = network.max_prefixlen - bits
    if not network.prefixlen <= prefix <= network.max_prefixlen or bits < 1:
        raise _Fail(f"Fn::Cidr: {bits} subnet bits do not fit in {network}", path + (2,))
    if count > 2 ** (prefix - network.prefixlen):
        raise _Fail(f"Fn::Cidr: {network} holds only {2 ** (prefix - network.prefixlen)} /{prefix} subnets, "
                    f"not {count}", path + (1,))
    return [str(subnet) for subnet in itertools.islice(network.subnets(new_prefix=prefix), count)]


def _import_value(ev: _Evaluator, arg: Any, path: tuple) -> Any:
    return _unresolved("Fn::ImportValue", ev.eval(arg, path))


def _transform(ev: _Evaluator, arg: Any, path: tuple) -> Any:
    return Unresolved({"Fn::Transform": arg}, frozenset())  # a macro: only CloudFormation can run it


def _to_json_string(ev: _Evaluator, arg: Any, path: tuple) -> Any:
    value = ev.eval(arg, path)
    if contains_unresolved(value):
        return _unresolved("Fn::ToJsonString", value)
    if not isinstance(value, (dict, list)):
        raise _Fail(f"Fn::ToJsonString takes a mapping or a list, not {_kind(value)}", path)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _length(ev: _Evaluator, arg: Any, path: tuple) -> Any:
    value = ev.eval(arg, path)
    if contains_unresolved(value):
        return _unresolved("Fn::Length", value)
    if not isinstance(value, list):
        raise _Fail(f"Fn::Length takes a list, not {_kind(value)}", path)
    return len(value)


FUNCTIONS: dict[str, Callable[[_Evaluator, Any, tuple], Any]] = {
    "Ref": _ref,
    "Fn::GetAtt": _get_att,
    "Fn::Sub": _sub,
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::If": _if,
    "Fn::Equals": _equals,
    "Fn::And": _logic("Fn::And", all, False),
    "Fn::Or": _logic("Fn::Or", any, True),
    "Fn::Not": _not,
    "Fn::FindInMap": _find_in_map,
    "Fn::Base64": _base64,
    "Fn::GetAZs": _get_azs,
    "Fn::Cidr": _cidr,
    "Fn::ImportValue": _import_value,
    "Fn::Transform": _transform,
    "Fn::ToJsonString": _to_json_string,
    "Fn::Length": _length,
}
