"""Template text -> ``Template``: YAML or JSON, CloudFormation short tags in long form, a mark on every node.

Contract: pure (reads one file at most, no network). The data equals what aws-sam-translator's own
``yaml_helper.yaml_parse`` gives for the same text, except where ``tests/unit/template/data/corpus_differences.json``
says why not (timestamps stay the strings CloudFormation sees; unknown tags and duplicate keys are errors). Every
problem is collected and raised together as one ``TemplateError``; a user never sees a traceback from here.

Speed: libyaml (``CSafeLoader``) composes the node tree; one Python pass builds plain data and marks together.

Bounded: a template larger than CloudFormation accepts, a mapping key longer than any name AWS reads, or YAML aliases
that expand past what such a template can hold (an alias bomb) are refused here, located, before anything walks or
copies the data (``strata.template.limits`` holds the numbers and their sources).
"""
from __future__ import annotations

import gc
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from strata.errors import Location, Problem, TemplateError
from strata.template import limits
from strata.template.marks import Marks

ALLOWED_SECTIONS = frozenset({
    "AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Rules", "Mappings", "Conditions",
    "Transform", "Resources", "Outputs", "Globals", "Hooks",
})

# Short tag -> long key, as aws-sam-translator converts them (Ref and Condition take no "Fn::" prefix).
# The Rules-only functions (Contains, EachMemberEquals, ...) are CloudFormation short forms too.
SHORT_TAGS: dict[str, str] = {
    "!Ref": "Ref",
    "!Condition": "Condition",
    **{f"!{name}": f"Fn::{name}" for name in (
        "GetAtt", "Sub", "Join", "Select", "Split", "If", "Equals", "And", "Or", "Not", "FindInMap", "ImportValue",
        "Base64", "Cidr", "GetAZs", "Transform", "ToJsonString", "Length",
        "Contains", "EachMemberEquals", "EachMemberIn", "RefAll", "ValueOf", "ValueOfAll",
    )},
}

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_CONSTRUCTORS = yaml.CSafeLoader.yaml_constructors
_IMPLICIT = yaml.CSafeLoader.yaml_implicit_resolvers  # first character -> [(tag, regexp)]: YAML 1.1 as PyYAML has it


_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
# a JSON object opens with a quoted key (or closes at once); flow-style YAML such as ``{Resources: ...}`` does not,
# and its plain scalars keep YAML's rules (``0E0`` is a string there, as SAM CLI's PyYAML reads it)
_JSON_START = re.compile(rb"\s*\{\s*[\"}]")
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_SURROGATE_PAIR = re.compile(r"(?<!\\)((?:\\\\)*)\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})", re.IGNORECASE)
# raw in JSON strings; YAML refuses or folds them
_JSON_ONLY_CHARACTERS = re.compile("[\\x7f-\\x9f\\u2028\\u2029\\ufffe\\uffff]")


class _Loader(yaml.CSafeLoader):
    """libyaml with PyYAML's SafeLoader tag resolution, minus its per-node overhead (half the load time otherwise).

    For JSON documents, numbers follow JSON (``1e5`` is a number, as CloudFormation and SAM CLI read JSON), where
    YAML 1.1 would read a string.
    """

    json_numbers = False

    def resolve(self, kind, value, implicit):
        if kind is ScalarNode:
            if implicit[0]:
                if self.json_numbers:
                    number = _JSON_NUMBER.fullmatch(value)
                    if number:
                        return _FLOAT if number.group(1) or number.group(2) else _INT
                for tag, regexp in _IMPLICIT.get(value[0] if value else "", ()):
                    if regexp.match(value):
                        return tag
            return _STR
        return _SEQ if kind is SequenceNode else _MAP

    def descend_resolver(self, current_node, current_index):
        """No path resolvers are registered on the safe loader."""

    def ascend_resolver(self):
        """No path resolvers are registered on the safe loader."""


@dataclass
class Template:
    """A loaded template: raw bytes (for cache keys), plain data, and where each node came from."""

    path: Path | None
    text: bytes
    data: Any           # a mapping once the structure checks passed (load_template_text); else any YAML value
    marks: Marks

    def locate(self, path: tuple[str | int, ...], logical_id: str | None = None) -> Location:
        """Location of ``path`` or its nearest marked ancestor (logical id inferred under ``Resources``)."""
        return self.marks.locate(path, logical_id)

    @property
    def filename(self) -> str:
        return self.marks.file


def load_template(path: str | Path) -> Template:
    """Read and load a template file; every problem in it is raised together as a ``TemplateError``."""
    path = Path(path)
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise TemplateError(
            [Problem(f"cannot read template: {exc.strerror or exc}", Location(str(path)))],
            hint="pass the template with -t/--template-file",
        ) from None
    template = load_template_text(text, filename=str(path))
    template.path = path
    return template


def load_template_text(text: str | bytes, filename: str = "<template>") -> Template:
    """Load a template from text: syntax, tags, duplicate keys, then the template's top-level structure."""
    template, problems = _parse(text, filename)
    if template is not None and not (problems and template.data is None):
        problems += check_structure(template)
    if problems:
        raise TemplateError(problems)
    assert template is not None
    return template


def parse_template_text(text: str | bytes, filename: str = "<template>") -> Template:
    """Load without the structure checks (any YAML document): for tools that compare parsers or load fragments."""
    template, problems = _parse(text, filename)
    if problems:
        raise TemplateError(problems)
    assert template is not None
    return template


def _parse(text: str | bytes, filename: str) -> tuple[Template | None, list[Problem]]:
    try:
        raw = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    except UnicodeEncodeError as exc:  # a lone surrogate in text handed over as str (no file can hold one)
        assert isinstance(text, str)
        line = text.count("\n", 0, exc.start) + 1
        column = exc.start - (text.rfind("\n", 0, exc.start) + 1) + 1
        return None, [Problem(f"cannot read the template: {exc.reason}", Location(filename, line, column))]
    if len(raw) > limits.TEMPLATE_BODY_BYTES:
        return None, [Problem(f"the template is {len(raw):,} bytes, more than the {limits.TEMPLATE_BODY_BYTES:,} "
                              "CloudFormation accepts (its template body quota)", Location(filename, 1, 1))]
    json_like = _JSON_START.match(raw) is not None
    loader = _Loader(_json_as_yaml(raw) if json_like else raw)
    loader.json_numbers = json_like
    gc_was_enabled = gc.isenabled()
    gc.disable()  # tens of thousands of young objects, no cycles: collection passes only cost time
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            return None, [_syntax_problem(exc, filename)]
        except yaml.YAMLError as exc:  # reader errors: bad encoding, control characters
            return None, [Problem(f"cannot read YAML: {exc}", Location(filename))]
        finally:
            loader.dispose()
        if node is not None and b"*" in raw and b"&" in raw:  # no alias without an anchor (&a) and a use (*a)
            bomb = _expansion_problem(node, filename)
            if bomb is not None:
                return None, [bomb]
        builder = _Builder(loader, filename)
        if node is not None:
            builder.marks[()] = (node.start_mark.line + 1, node.start_mark.column + 1)
        try:
            data = builder.build(node, ()) if node is not None else None
        except RecursionError:
            return None, [Problem("the template is nested too deeply to load", Location(filename))]
    finally:
        if gc_was_enabled:
            gc.enable()
    return Template(None, raw, data, Marks(filename, builder.marks)), builder.problems


def _expansion_problem(root: yaml.Node, filename: str) -> Problem | None:
    """The first collection that aliases expand past the bounds (nodes, or characters of scalar text), or None.

    The node tree shares an aliased node instead of copying it, so loading stays cheap; every later reader (the JSON
    copy before translation, the translator, intrinsics) walks the expansion. Sizes are summed once per node
    (memoised), children before parents, so the smallest collection over a bound is the one reported: where the
    bomb is. Iterative, so nesting depth costs no stack; a node inside itself (``&a [*a]``) counts once and is
    reported by the builder."""
    sizes: dict[int, tuple[int, int]] = {}
    open_nodes: set[int] = set()  # collections whose children are being sized: the path from the root
    stack = [root]
    while stack:
        node = stack[-1]
        key = id(node)
        if key in sizes:
            stack.pop()
            continue
        if node.__class__ is ScalarNode:  # only the root can be one
            stack.pop()
            continue
        children = node.value if node.__class__ is SequenceNode else [n for pair in node.value for n in pair]
        if key not in open_nodes:
            open_nodes.add(key)
            stack.extend(c for c in children if c.__class__ is not ScalarNode and id(c) not in sizes
                         and id(c) not in open_nodes)
            continue
        stack.pop()
        open_nodes.discard(key)
        nodes, characters = 1, 0
        for child in children:
            if child.__class__ is ScalarNode:
                nodes += 1
                characters += len(child.value)
            else:
                child_nodes, child_characters = sizes.get(id(child), (1, 0))
                nodes += child_nodes
                characters += child_characters
        sizes[key] = (nodes, characters)
        if nodes > limits.EXPANDED_NODES or characters > limits.EXPANDED_CHARACTERS:
            what = f"{nodes:,} nodes" if nodes > limits.EXPANDED_NODES else f"{characters:,} characters of text"
            bound = (f"{limits.EXPANDED_NODES:,} nodes" if nodes > limits.EXPANDED_NODES
                     else f"{limits.EXPANDED_CHARACTERS:,} characters")
            kind = "list" if node.__class__ is SequenceNode else "mapping"
            mark = node.start_mark
            return Problem(f"YAML aliases expand this {kind} to {what}, more than the {bound} that a template "
                           "CloudFormation accepts can hold (an alias bomb?)",
                           Location(filename, mark.line + 1, mark.column + 1))
    return None


def _json_as_yaml(raw: bytes) -> bytes:
    """JSON that libyaml would refuse, made YAML: surrogate-pair escapes joined, raw DEL/C1 characters escaped."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw  # let libyaml report (or detect UTF-16)
    if "\\u" in text:
        text = _SURROGATE_PAIR.sub(_join_surrogates, text)
    text = _JSON_ONLY_CHARACTERS.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)
    return text.encode("utf-8")


def _join_surrogates(match: re.Match) -> str:
    high, low = int(match.group(2), 16), int(match.group(3), 16)
    return match.group(1) + chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))


def _syntax_problem(exc: yaml.MarkedYAMLError, filename: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    message = f"YAML syntax error: {exc.problem or exc.context or 'invalid YAML'}"
    if exc.context and exc.problem and exc.context_mark is not None:
        message += f" ({exc.context} at line {exc.context_mark.line + 1})"
    if mark is None:
        return Problem(message, Location(filename))
    return Problem(message, Location(filename, mark.line + 1, mark.column + 1))


class _Builder:
    """One pass over libyaml's node tree: plain data plus a mark per path; problems collected, never raised."""

    def __init__(self, loader: _Loader, filename: str) -> None:
        self.loader = loader
        self.filename = filename
        self.marks: dict[tuple, tuple[int, int]] = {}
        self.problems: list[Problem] = []
        self._done: dict[int, Any] = {}  # collections already built: aliases reuse them, as PyYAML does
        self._building: set[int] = set()  # guards against recursive aliases (&a [*a])

    def problem(self, message: str, node: yaml.Node, path: tuple) -> None:
        logical_id = str(path[1]) if len(path) >= 2 and path[0] == "Resources" else None
        mark = node.start_mark
        self.problems.append(Problem(message, Location(self.filename, mark.line + 1, mark.column + 1, logical_id)))

    def build(self, node: yaml.Node, path: tuple) -> Any:
        if node.__class__ is ScalarNode:
            tag = node.tag
            if tag == _STR or tag == _TIMESTAMP:  # timestamps stay the text CloudFormation sees
                return node.value
            if tag[0] == "!":
                return self.intrinsic(node, path)
            constructor = _CONSTRUCTORS.get(tag)
            if constructor is None:
                self.problem(f"unsupported YAML tag {tag}", node, path)
                return None
            try:
                return constructor(self.loader, node)
            except (yaml.YAMLError, ValueError, TypeError, OverflowError, IndexError, KeyError) as exc:  # !!int ""
                problem = exc.problem if isinstance(exc, yaml.MarkedYAMLError) else exc
                self.problem(f"cannot read {node.value!r} as {tag.rsplit(':', 1)[-1]}: {problem}", node, path)
                return None
        key = id(node)
        if key in self._done:
            return self._done[key]
        if key in self._building:
            self.problem("recursive YAML alias: a node cannot contain itself", node, path)
            return None
        self._building.add(key)
        try:
            tag = node.tag
            if tag[0] == "!":
                value = self.intrinsic(node, path)
            elif tag == _MAP:
                value = self.mapping(node, path)
            elif tag == _SEQ:
                value = self.sequence(node, path)
            else:  # !!set, !!omap, !!pairs: PyYAML's own constructors, no marks inside
                try:
                    value = self.loader.construct_object(node, deep=True)
                except yaml.YAMLError as exc:
                    self.problem(f"cannot construct {tag}: {exc}", node, path)
                    value = None
        finally:
            self._building.discard(key)
        self._done[key] = value
        return value

    def sequence(self, node: yaml.Node, path: tuple) -> list:      # a SequenceNode (its tag says so)
        marks = self.marks
        build = self.build
        result = []
        for index, item in enumerate(node.value):
            child = path + (index,)
            mark = item.start_mark
            marks[child] = (mark.line + 1, mark.column + 1)
            result.append(build(item, child))
        return result

    def mapping(self, node: yaml.Node, path: tuple) -> dict:       # a MappingNode (its tag says so)
        marks = self.marks
        build = self.build
        result: dict = {}
        merged: set = set()
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                self.merge(value_node, path, result, merged)
                continue
            key = self.key(key_node, path)
            if key is _BAD_KEY:
                continue
            child = path + (key,)
            if key.__class__ is str and len(key) > limits.KEY_CHARACTERS:
                self.problem(f"a mapping key of {len(key):,} characters: longer than any name AWS reads "
                             f"(at most {limits.KEY_CHARACTERS:,})", key_node, child)
                continue
            if key in result and key not in merged:
                first = marks.get(child)
                where = f" (first defined at line {first[0]})" if first else ""
                self.problem(f"duplicate key {key!r}{where}", key_node, child)
                continue
            merged.discard(key)
            mark = key_node.start_mark
            marks[child] = (mark.line + 1, mark.column + 1)
            result[key] = build(value_node, child)
        return result

    def merge(self, value_node: yaml.Node, path: tuple, result: dict, merged: set) -> None:
        """YAML ``<<`` merge keys, with PyYAML's precedence: explicit keys win, then earlier merge sources."""
        if value_node.__class__ is MappingNode:
            sources = [value_node]
        elif value_node.__class__ is SequenceNode and all(n.__class__ is MappingNode for n in value_node.value):
            sources = list(reversed(value_node.value))
        else:
            self.problem("a merge key (<<) needs a mapping or a list of mappings", value_node, path)
            return
        for source in sources:
            data = self.build(source, path)
            if isinstance(data, dict):
                for k, v in data.items():
                    result[k] = v
                    merged.add(k)

    def key(self, node: yaml.Node, path: tuple) -> Any:
        if node.__class__ is ScalarNode and node.tag[0] != "!":
            try:
                key = self.build(node, path)
                hash(key)
                return key
            except (TypeError, yaml.YAMLError):
                pass
        self.problem("a mapping key must be a plain scalar (a string or number)", node, path)
        return _BAD_KEY

    def intrinsic(self, node: yaml.Node, path: tuple) -> Any:
        """``!Tag value`` -> ``{"Fn::Tag": value}``, exactly as aws-sam-translator's yaml_helper converts it."""
        long = SHORT_TAGS.get(node.tag)
        if long is None:
            import difflib  # only for did-you-mean suggestions

            close = difflib.get_close_matches(node.tag, SHORT_TAGS, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            self.problem(f"unknown tag {node.tag}{hint}", node, path)
            return None
        child = path + (long,)
        mark = node.start_mark
        self.marks[child] = (mark.line + 1, mark.column + 1)
        if node.__class__ is ScalarNode:
            value: Any = node.value  # always the raw string, as construct_scalar gives it
            if long == "Fn::GetAtt":
                value = value.split(".", 1)
        elif node.__class__ is SequenceNode:
            value = self.sequence(node, child)
        else:
            value = self.mapping(node, child)
        return {long: value}


_BAD_KEY = object()


def check_structure(template: Template) -> list[Problem]:
    """Top-level shape: a mapping of known sections, a ``Resources`` mapping, a string ``Type`` per resource."""
    data, locate = template.data, template.locate
    if not isinstance(data, dict):
        what = "empty" if data is None else f"a {_kind(data)}"
        return [Problem(f"a template must be a mapping of sections, but this one is {what}", locate(()))]
    problems = []
    for section in data:
        if section not in ALLOWED_SECTIONS:
            import difflib

            close = difflib.get_close_matches(str(section), ALLOWED_SECTIONS, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            problems.append(Problem(f"unknown top-level section {section!r}{hint}", locate((section,))))
    resources = data.get("Resources")
    if "Resources" not in data:
        problems.append(Problem("the template has no Resources section", Location(template.filename, 1, 1)))
    elif not isinstance(resources, dict):
        problems.append(Problem(f"Resources must be a mapping, not {_kind(resources)}", locate(("Resources",))))
    else:
        for logical_id, resource in resources.items():
            if isinstance(logical_id, str) and logical_id.startswith("Fn::ForEach::"):
                continue  # AWS::LanguageExtensions expands it later
            where = locate(("Resources", logical_id), str(logical_id))
            if not isinstance(resource, dict):
                problems.append(Problem(f"resource {logical_id} must be a mapping, not {_kind(resource)}", where))
            elif "Type" not in resource:
                problems.append(Problem(f"resource {logical_id} has no Type", where))
            elif not isinstance(resource["Type"], str):
                problems.append(Problem(
                    f"resource {logical_id}: Type must be a string, not {_kind(resource['Type'])}",
                    locate(("Resources", logical_id, "Type"), str(logical_id))))
    return problems


def _kind(value: Any) -> str:
    """A user's word for a value's shape."""
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, list):
        return "list"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "string" if isinstance(value, str) else type(value).__name__
