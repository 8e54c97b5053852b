"""Incremental translation: an edit confined to some functions' own properties re-translates only those functions.

Output identical, byte for byte, to translating the whole template (``tests/unit/transform/test_incremental.py``
compares both on the corpus and on generated big apps). How: a whole translation leaves a ``Base`` (its input, its
output, and the translator's ``Recording``: the ids each SAM resource generated and the operations on the output's
py27-ordered Resources map). A new template whose only differences from the base's are *local* properties of some
functions (environment, code, handler, memory, policies ...: what only that function's own resources are made of)
is translated as a small template holding just those functions and the resources that are not functions (layers,
tables, APIs they may reference); their generated resources replace the old ones in the base output, and the
recorded operations are replayed with the renamed ids (a Version id hashes its function's properties) to put every
resource where the whole translation would.

Everything else is a whole translation (the caller's job), with the reason logged at debug level: no base, a
structural change (a resource added, removed or reordered, an event, alias, condition, Globals, Parameters or any
other part of the template changed), a template with Connectors or DeploymentPreference (both collect across
functions), an API with AlwaysDeploy (a fresh Deployment id on every translation), a dotted reference
(``Fn.Alias``) to or from a changed function, a changed function generating a different number of resources, more
than a quarter of the functions changed, or any error in the small translation.
"""
from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from strata.errors import Location
from strata.transform.py27_order import replay_order

LOG = logging.getLogger("strata.transform.incremental")
SAM_FUNCTION = "AWS::Serverless::Function"
IMPLICIT_APIS = ("ServerlessRestApi", "ServerlessHttpApi")
# Function properties that make only the function's own resources (its Function, Role, Version, Alias, Url ...):
# no API body, no event source, no other resource reads them. A change to any other property is structural.
LOCAL_PROPERTIES = frozenset({
    "Architectures", "AssumeRolePolicyDocument", "AutoPublishCodeSha256", "CodeSigningConfigArn", "CodeUri",
    "DeadLetterQueue", "Description", "Environment", "EphemeralStorage", "EventInvokeConfig", "FileSystemConfigs",
    "Handler", "ImageConfig", "ImageUri", "InlineCode", "KmsKeyArn", "Layers", "LoggingConfig", "MemorySize",
    "PermissionsBoundary", "Policies", "ProvisionedConcurrencyConfig", "RecursiveLoop", "ReservedConcurrentExecutions",
    "Role", "RolePath", "Runtime", "RuntimeManagementConfig", "SnapStartConfig", "SourceKMSKeyArn", "Timeout",
    "Tracing", "VersionDescription", "VpcConfig",
})
# Above this share of changed functions, the small translation costs about what the whole one does.
MAX_CHANGED_SHARE = 0.25

Translate = Callable[..., Any]


@dataclass
class Base:
    """A whole (or incrementally derived, equally exact) translation to start the next one from. JSON-serialisable
    through ``to_json``/``from_json`` so the translator cache can keep it."""

    data: dict[str, Any]                 # the translator's input
    output: dict[str, Any]               # its output
    generated: dict[str, list[str]]      # per SAM resource, the ids it generated, in order
    trace: list[list[Any]] | None        # the Resources key-order operations (sam.Recording)
    py27: bool                           # the output's Resources map kept py27 order

    def to_json(self) -> dict[str, Any]:
        return {"data": self.data, "output": self.output, "generated": self.generated, "trace": self.trace,
                "py27": self.py27}

    @classmethod
    def from_json(cls, value: Any) -> Base | None:
        try:
            return cls(value["data"], value["output"], value["generated"], value["trace"], bool(value["py27"]))
        except (KeyError, TypeError):
            return None


def structure_key(data: dict[str, Any], salt: str) -> str:
    """What a base is looked up by: the template with every function's local properties left out (two templates
    with the same key differ at most in those), plus ``salt`` (parameters, region, translator version ...)."""
    resources = data.get("Resources")
    shape = dict(data)
    if isinstance(resources, dict):
        shape["Resources"] = {lid: _structural(res) for lid, res in resources.items()}
    digest = hashlib.sha256(json.dumps(shape, sort_keys=True, separators=(",", ":"), default=str).encode())
    digest.update(b"\0" + salt.encode())
    return digest.hexdigest()


def whole(data: dict[str, Any], parameter_values: dict[str, Any], *, region: str, partition: str,
          locate: Callable[[tuple, str | None], Location] | None = None) -> tuple[dict[str, Any], Base]:
    """Translate the whole template, keeping what a later incremental translation starts from."""
    from strata.transform import sam

    output, recording = sam.translate_recorded(data, parameter_values, region=region, partition=partition,
                                               locate=locate)
    py27 = type(output.get("Resources")).__name__ == "Py27Dict"
    output = json.loads(json.dumps(output))     # plain dicts in the translator's iteration order
    # ``data`` is the caller's, kept as it is (the translator worked on its own copy)
    return output, Base(data, output, recording.generated, recording.trace, py27)


def incremental(base: Base | None, data: dict[str, Any], parameter_values: dict[str, Any], *, region: str,
                partition: str) -> tuple[dict[str, Any], Base] | None:
    """The whole translation of ``data``, derived from ``base``; None (reason logged) when it cannot be derived
    exactly."""
    if base is None:
        return _no("no previous translation of this template's structure")
    changed = _changed_functions(base.data, data)
    if isinstance(changed, str):
        return _no(changed)
    if not changed:
        return _no("nothing changed")
    if base.py27 and base.trace is None:
        return _no("the previous translation's resource order could not be followed")
    text = json.dumps(data)     # what the checks below look for, by name, anywhere in the template
    reason = _unsupported(data, changed, text)
    if reason:
        return _no(reason)
    carried = _environment_values_carried(base, data, changed, text)
    if carried is not None:
        return carried
    from strata.errors import TemplateError
    from strata.transform import sam

    resources = data["Resources"]
    small = dict(data)
    small["Resources"] = {lid: res for lid, res in resources.items() if lid in changed or _rtype(res) != SAM_FUNCTION}
    try:
        output, recording = sam.translate_recorded(small, parameter_values, region=region, partition=partition)
    except TemplateError as exc:
        return _no(f"the changed functions do not translate alone ({exc})")
    out_resources = output.get("Resources") or {}
    rename: dict[str, str] = {}
    for lid in changed:
        old, new = base.generated.get(lid), recording.generated.get(lid)
        if old is None or new is None or len(old) != len(new) or any(n not in out_resources for n in new):
            return _no(f"{lid} generates different resources than before")
        rename.update({o: n for o, n in zip(old, new) if o != n})
    # plain dicts in the translator's iteration order, as a whole translation's output is
    fresh = json.loads(json.dumps({n: out_resources[n] for lid in changed for n in recording.generated[lid]}))
    previous = base.output.get("Resources") or {}
    if base.py27:
        assert base.trace is not None
        order = replay_order(base.trace, rename)
    else:
        order = [rename.get(lid, lid) for lid in previous]
    merged: dict[str, Any] = {}
    back = {n: o for o, n in rename.items()}
    for lid in order:
        if lid in fresh:
            merged[lid] = fresh[lid]
        elif back.get(lid, lid) in previous:
            merged[lid] = previous[back.get(lid, lid)]
        else:
            return _no(f"cannot place {lid}")
    if len(merged) != len(previous):
        return _no("the merged resources do not match the previous translation's")
    # shares the unchanged resources with ``base``, which is not used again
    result = {key: (merged if key == "Resources" else value) for key, value in base.output.items()}
    generated = dict(base.generated)
    generated.update({lid: list(recording.generated[lid]) for lid in changed})
    trace = None if base.trace is None else [_renamed(op, rename) for op in base.trace]
    LOG.debug("incremental translation: %d function(s) re-translated: %s", len(changed), ", ".join(changed))
    return result, Base(data, result, generated, trace, base.py27)


def _environment_values_carried(base: Base, data: dict[str, Any], changed: list[str], text: str
                                ) -> tuple[dict[str, Any], Base] | None:
    """The translation when the changed functions differ from the base's only in values of
    ``Environment.Variables`` (same names, same order, each a scalar of the same type), without running the
    translator (importing it alone is ~0.3 s of a command). SAM carries such a value into the function's
    ``AWS::Lambda::Function`` unchanged (Globals merge map entries, the local one winning), and names the function's
    Version from a hash of its code, environment, memory and SnapStart (``_sam_version_id``). So the output is the
    base's with those values replaced and the Version renamed where SAM names it so, in the key order the recorded
    operations give with that rename. Taken only where that is seen to hold for each changed function: each changed
    variable's old value is in the base's generated function as written, the hash recomputed from the base's
    function gives the base's Version id, and that id is named nowhere but in the function's own resources; no
    ``AutoPublishAliasAllProperties`` (which hashes every property) in the template. None otherwise (the small
    translation decides)."""
    if "AutoPublishAliasAllProperties" in text:
        return None
    before, after = base.data["Resources"], data["Resources"]
    resources = base.output.get("Resources") or {}
    merged = dict(resources)
    rename: dict[str, str] = {}
    output_text: str | None = None      # the base output's JSON, made once if a Version is renamed
    for lid in changed:
        values = _variables_changed(before[lid], after[lid])
        generated = base.generated.get(lid) or []
        function = resources.get(lid)
        if values is None or lid not in generated or not isinstance(function, dict) or \
                function.get("Type") != "AWS::Lambda::Function":
            return None
        properties: dict[str, Any] = function.get("Properties") or {}
        environment: Any = properties.get("Environment")
        variables = environment.get("Variables") if isinstance(environment, dict) else None
        if not isinstance(variables, dict) or any(
                name not in variables or variables[name] != old or type(variables[name]) is not type(old)
                for name, (old, _) in values.items()):
            return None
        new_function = dict(function)
        new_function["Properties"] = dict(properties, Environment=dict(
            environment, Variables={**variables, **{name: new for name, (_, new) in values.items()}}))
        merged[lid] = new_function
        versions = [v for v in generated if (resources.get(v) or {}).get("Type") == "AWS::Lambda::Version"]
        if not versions:
            continue
        code_sha256 = (after[lid].get("Properties") or {}).get("AutoPublishCodeSha256")
        if len(versions) != 1 or _sam_version_id(lid, properties, code_sha256) != versions[0]:
            return None
        renamed = _sam_version_id(lid, new_function["Properties"], code_sha256)
        if renamed is None:
            return None
        if renamed != versions[0]:
            own = {v: merged[v] for v in generated if v in merged}
            output_text = output_text if output_text is not None else json.dumps(base.output)
            if not _named_only_by(versions[0], list(own.values()), output_text):
                return None
            from strata.transform.versions import rename_logical_ids

            merged.update(rename_logical_ids({"Resources": own}, {versions[0]: renamed})["Resources"])
            del merged[versions[0]]
            rename[versions[0]] = renamed
    if rename:
        if base.py27:
            if base.trace is None:
                return None
            order = replay_order(base.trace, rename)
        else:
            order = [rename.get(lid, lid) for lid in resources]
        if sorted(order) != sorted(merged):
            return None
        merged = {lid: merged[lid] for lid in order}
    result = {key: (merged if key == "Resources" else value) for key, value in base.output.items()}
    generated_ids = {lid: [rename.get(v, v) for v in ids] for lid, ids in base.generated.items()}
    trace = None if base.trace is None else [_renamed(op, rename) for op in base.trace]
    LOG.debug("incremental translation: environment values of %s carried into the previous output",
              ", ".join(changed))
    return result, Base(data, result, generated_ids, trace, base.py27)


def _variables_changed(old: Any, new: Any) -> dict[str, tuple[Any, Any]] | None:
    """{variable: (old value, new value)} when ``new`` differs from ``old`` only in scalar values of
    ``Properties.Environment.Variables`` of the same type, names and order unchanged; else None."""
    old_props, new_props = old.get("Properties"), new.get("Properties")
    if not isinstance(old_props, dict) or not isinstance(new_props, dict) or list(old_props) != list(new_props) or \
            any(old_props[k] != new_props[k] for k in old_props if k != "Environment"):
        return None
    old_env, new_env = old_props.get("Environment"), new_props.get("Environment")
    if not isinstance(old_env, dict) or not isinstance(new_env, dict) or list(old_env) != list(new_env) or \
            any(old_env[k] != new_env[k] for k in old_env if k != "Variables"):
        return None
    old_vars, new_vars = old_env.get("Variables"), new_env.get("Variables")
    if not isinstance(old_vars, dict) or not isinstance(new_vars, dict) or list(old_vars) != list(new_vars):
        return None
    changed = {}
    for name, value in new_vars.items():
        was = old_vars[name]
        if type(value) is type(was) and value == was:
            continue
        if type(value) is not type(was) or type(value) not in (str, int, float, bool):
            return None
        changed[name] = (was, value)
    return changed or None


def _sam_version_id(function_id: str, properties: dict[str, Any], code_sha256: Any) -> str | None:
    """The logical id SAM gives the function's Version (``SamFunction._construct_version`` without
    AutoPublishAliasAllProperties): ``<id>Version`` and 10 hex of the SHA-1 of the JSON (sorted keys, no spaces) of
    its code location updated with its Environment, MemorySize and a SnapStart that applies; or of
    ``AutoPublishCodeSha256``. None when the code location holds an intrinsic (SAM resolves parameters in it first)."""
    prefix = f"{function_id}Version"
    if isinstance(code_sha256, str) and code_sha256:
        return prefix + code_sha256[:10]
    if code_sha256 is not None:
        return None
    code = properties.get("Code")
    if not isinstance(code, dict) or not code or any(not isinstance(v, (str, int, float, bool)) for v in code.values()):
        return None
    hashed: dict[str, Any] = dict(code)
    if properties.get("Environment"):
        hashed.update(properties["Environment"])
    if properties.get("MemorySize"):
        hashed.update({"MemorySize": properties["MemorySize"]})
    snap = properties.get("SnapStart")
    if snap and (not isinstance(snap, dict) or snap.get("ApplyOn", "None") != "None"):
        hashed.update({"SnapStart": snap})
    text = json.dumps(hashed, separators=(",", ":"), sort_keys=True)
    return prefix + hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]  # noqa: S324 - SAM's id, not security


def _named_only_by(logical_id: str, own: list[Any], text: str) -> bool:
    """``logical_id`` appears in the output's JSON ``text`` only as often as in the function's own resources (and
    once as its own key)."""
    needle = json.dumps(logical_id)[1:-1]
    return text.count(needle) == 1 + sum(json.dumps(r).count(needle) for r in own)


def _no(reason: str) -> tuple[dict[str, Any], Base] | None:
    LOG.debug("whole-template translation: %s", reason)
    return None


def _changed_functions(old: dict[str, Any], new: dict[str, Any]) -> list[str] | str:
    """The functions whose local properties alone changed, or why the change is not that."""
    if [k for k in old if k != "Resources"] != [k for k in new if k != "Resources"] or \
            any(old[k] != new[k] for k in new if k != "Resources"):
        return "a section other than Resources changed"
    before, after = old.get("Resources"), new.get("Resources")
    if not isinstance(before, dict) or not isinstance(after, dict) or list(before) != list(after):
        return "resources were added, removed or reordered"
    changed = []
    for lid, res in after.items():
        prev = before[lid]
        if res == prev:
            continue
        if _rtype(res) != SAM_FUNCTION or _structural(res) != _structural(prev) or \
                list(res.get("Properties") or {}) != list(prev.get("Properties") or {}):
            return f"{lid} changed beyond a function's own properties"
        changed.append(lid)
    functions = sum(1 for res in after.values() if _rtype(res) == SAM_FUNCTION)
    if changed and len(changed) > max(1, int(functions * MAX_CHANGED_SHARE)):
        return f"{len(changed)} of {functions} functions changed"
    return changed


def _structural(resource: Any) -> Any:
    """A resource as far as other resources can see it: for a function, all but its local properties."""
    if _rtype(resource) != SAM_FUNCTION or not isinstance(resource.get("Properties"), dict):
        return resource
    shape = dict(resource)
    shape["Properties"] = {k: v for k, v in resource["Properties"].items() if k not in LOCAL_PROPERTIES}
    return shape


def _unsupported(data: dict[str, Any], changed: list[str], text: str) -> str | None:
    transform = data.get("Transform")
    if transform not in ("AWS::Serverless-2016-10-31", ["AWS::Serverless-2016-10-31"]):
        return f"Transform {transform!r} is not the SAM transform alone"
    resources = data["Resources"]
    if '"Connectors"' in text or "AWS::Serverless::Connector" in text:
        return "the template has Connectors"
    if '"DeploymentPreference"' in text:
        return "the template has a DeploymentPreference"
    if '"AlwaysDeploy"' in text:
        return "an API deploys anew on every translation (AlwaysDeploy)"
    sam_ids = {lid for lid, res in resources.items() if str(_rtype(res) or "").startswith("AWS::Serverless::")}
    sam_ids.update(IMPLICIT_APIS)
    changed_set = set(changed)
    for lid, res in resources.items():
        targets = _dotted(res)
        if lid in changed_set and targets & sam_ids:
            return f"{lid} refers to {sorted(targets & sam_ids)[0]} by a dotted reference"
        if targets & changed_set:
            return f"{lid} refers to a changed function by a dotted reference"
    rest = {k: v for k, v in data.items() if k != "Resources"}
    if _dotted(rest) & changed_set:
        return "a changed function is referred to by a dotted reference"
    return None


def _dotted(value: Any) -> set[str]:
    """The ids X of every ``X.Property`` reference (Ref, GetAtt, Sub) in ``value``: SAM resolves those across
    resources (``Fn.Alias`` -> the alias's id), so they tie a function to others."""
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, sub in item.items():
                if key == "Ref" and isinstance(sub, str) and "." in sub:
                    found.add(sub.split(".", 1)[0])
                elif key == "Fn::GetAtt" and isinstance(sub, list) and sub and isinstance(sub[0], str) \
                        and "." in sub[0]:
                    found.add(sub[0].split(".", 1)[0])
                elif key == "Fn::GetAtt" and isinstance(sub, str) and sub.count(".") > 1:
                    found.add(sub.split(".", 1)[0])
                elif key == "Fn::Sub":
                    template = sub[0] if isinstance(sub, list) and sub else sub
                    if isinstance(template, str):
                        for ref in template.split("${")[1:]:
                            name = ref.split("}", 1)[0]
                            if "." in name:
                                found.add(name.split(".", 1)[0])
                stack.append(sub)
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _renamed(op: list[Any], rename: dict[str, str]) -> list[Any]:
    if op[0] in ("a", "r"):
        return [op[0], [rename.get(op[1][0], op[1][0]), op[1][1]]]
    if op[0] == "m":
        return [op[0], [[rename.get(k, k), uni] for k, uni in op[1]]]
    return op


def _rtype(resource: Any) -> str | None:
    return resource.get("Type") if isinstance(resource, dict) else None
