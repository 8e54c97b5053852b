"""The aws-sam-translator adapter: SAM -> CloudFormation, offline.

Contract: pure function of (template data, parameter values, region); no AWS call (the bundled managed-policy map,
a region given explicitly instead of a boto3 session), no mutation of the caller's data. The translator's own
validation errors become one ``TemplateError`` with every cause, each located at its resource in the template.
Importing this module costs ~0.5 s (the translator), so only the uncached transform path imports it.
"""
from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from strata.errors import Location, Problem, TemplateError

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"


@dataclass(frozen=True)
class _RegionOnlySession:
    """What the translator reads from a boto3 session: only ``region_name``. Spares a boto3 session per call."""

    region_name: str


class _OfflineRepository:
    """Stands in for the Serverless Application Repository client: strata transforms offline, so resolving a SAR
    application is refused with a clear reason instead of a network call (or a credentials/region error)."""

    REASON = ("strata transforms offline and does not call the Serverless Application Repository; give the "
              "application a Location with an https:// TemplateUrl, or deploy it with --target aws")

    def _refuse(self, operation: str, **_: Any) -> Any:
        from botocore.exceptions import ClientError

        # AccessDeniedException is what the plugin turns into a located InvalidResourceException.
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": self.REASON}}, operation)

    def get_application(self, **kwargs: Any) -> Any:
        return self._refuse("GetApplication", **kwargs)

    def create_cloud_formation_template(self, **kwargs: Any) -> Any:
        return self._refuse("CreateCloudFormationTemplate", **kwargs)

    def get_cloud_formation_template(self, **kwargs: Any) -> Any:
        return self._refuse("GetCloudFormationTemplate", **kwargs)


class _BundledPolicies:
    """Managed-policy loader backed by the map that ships inside aws-sam-translator (no IAM calls)."""

    def __init__(self, partition: str) -> None:
        self.partition = partition

    def load(self) -> dict[str, str]:
        from samtranslator.internal.managed_policies import get_bundled_managed_policy_map

        return get_bundled_managed_policy_map(self.partition) or {}


def is_sam_template(data: dict[str, Any]) -> bool:
    """True when the template declares the SAM transform (string or list form) or holds any ``AWS::Serverless::``
    resource: CloudFormation could not deploy those untransformed, so translating them is the only useful reading."""
    transform = data.get("Transform")
    names = transform if isinstance(transform, list) else [transform]
    if any(isinstance(name, str) and name.strip() == SAM_TRANSFORM for name in names):
        return True
    resources = data.get("Resources")
    return isinstance(resources, dict) and any(
        isinstance(res, dict) and str(res.get("Type", "")).startswith("AWS::Serverless::")
        for res in resources.values())


@dataclass
class Recording:
    """What a whole-template translation did that an incremental one must reproduce exactly
    (``strata.transform.incremental``): the logical ids each SAM resource generated, in the translator's order, and
    the operations on the Resources map's Python 2.7 key order (the translator keeps py27 iteration order for any
    template with an API, so where a resource lands in the output depends on every insert and copy before it).
    ``trace`` is None when the Resources map is a plain dict (insertion order) or its history could not be followed."""

    generated: dict[str, list[str]]
    trace: list[list[Any]] | None


def translate(data: dict[str, Any], parameter_values: dict[str, Any], *, region: str, partition: str = "aws",
              locate: Callable[[tuple, str | None], Location] | None = None, as_shipped: bool = False
              ) -> dict[str, Any]:
    """Run aws-sam-translator on a copy of ``data``; raise ``TemplateError`` listing every translator finding.
    ``as_shipped``: with the translator's own API-body copies (``strata.transform.py27_copy`` gives the same output
    faster), for the benchmark and the tests that compare the two."""
    return _translate(data, parameter_values, region=region, partition=partition, locate=locate, record=None,
                      as_shipped=as_shipped)


def translate_recorded(data: dict[str, Any], parameter_values: dict[str, Any], *, region: str, partition: str = "aws",
                       locate: Callable[[tuple, str | None], Location] | None = None,
                       ) -> tuple[dict[str, Any], Recording]:
    """``translate`` that also returns its ``Recording`` (the same output: recording only observes)."""
    recording = Recording({}, None)
    return _translate(data, parameter_values, region=region, partition=partition, locate=locate,
                      record=recording), recording


def _translate(data: dict[str, Any], parameter_values: dict[str, Any], *, region: str, partition: str,
               locate: Callable[[tuple, str | None], Location] | None, record: Recording | None,
               as_shipped: bool = False) -> dict[str, Any]:
    import logging

    for name in ("samtranslator", "botocore", "boto3"):
        logging.getLogger(name).setLevel(logging.ERROR)
    from samtranslator.model.exceptions import (
        ExceptionWithMessage,
        InvalidDocumentException,
        InvalidEventException,
        InvalidResourceException,
    )
    from samtranslator.parser.parser import Parser
    from samtranslator.plugins.application.serverless_app_plugin import ServerlessAppPlugin
    from samtranslator.translator.arn_generator import ArnGenerator
    from samtranslator.translator.translator import Translator
    from samtranslator.utils.py27hash_fix import to_py27_compatible_template

    from strata.transform.py27_copy import Sharing, editors_copy_fast

    policies = _BundledPolicies(partition)

    def run(sharing: Sharing | None) -> dict[str, Any]:
        document = json.loads(json.dumps(data))  # the translator mutates its input; a JSON copy is the cheapest copy
        values = dict(parameter_values)
        plugins = [ServerlessAppPlugin(sar_client=_OfflineRepository(), parameters=values)]
        translator = Translator(None, Parser(), plugins=plugins, boto_session=_RegionOnlySession(region))
        ArnGenerator.BOTO_SESSION_REGION_NAME = region
        # What the hosted SAM transform does first: API Gateway deployment ids hash py27-compatible reprs, so
        # skipping this would give every Api another Deployment id than `sam deploy` gives (a needless redeploy).
        to_py27_compatible_template(document, values)
        with contextlib.nullcontext() if as_shipped else editors_copy_fast(sharing):
            if record is None:
                output = translator.translate(document, parameter_values=values,
                                              get_managed_policy_map=policies.load)
            else:
                record.generated.clear()
                record.trace = None
                with _Recorder(record, document.get("Resources")) as recorder:
                    output = translator.translate(document, parameter_values=values,
                                                  get_managed_policy_map=policies.load)
                    recorder.finish(output)
            if sharing is not None:
                sharing.settle_all()
            return output

    try:
        # the translator keeps global state (ArnGenerator's region); the recorder and the copies patch its classes
        with _TRANSLATING:
            sharing = Sharing()
            try:
                output = run(sharing)
            except Exception:
                if not sharing.tainted:
                    raise
                return run(None)        # a shared copy may have seen the error halfway: plain copies, exact errors
            return run(None) if sharing.tainted else output
    except InvalidDocumentException as exc:
        problems = []
        for cause in exc.causes:
            logical_id = getattr(cause, "_logical_id", None) or getattr(cause, "logical_id", None)
            if isinstance(cause, InvalidEventException):
                logical_id = None
            message = getattr(cause, "message", None) or str(cause)
            problems.append(Problem(message, _where(locate, logical_id)))
        raise TemplateError(problems or [Problem(str(exc))]) from None
    except (InvalidResourceException, InvalidEventException) as exc:
        logical_id = getattr(exc, "_logical_id", None)
        raise TemplateError([Problem(exc.message, _where(locate, logical_id))]) from None
    except ExceptionWithMessage as exc:
        raise TemplateError([Problem(exc.message)]) from None


def _where(locate: Callable[[tuple, str | None], Location] | None, logical_id: str | None) -> Location | None:
    if locate is None:
        return None
    if logical_id:
        # a generated id (SAM layers get 10 hex appended) is located at the resource the user wrote
        base = re.sub(r"[0-9a-f]{10}$", "", logical_id)
        return locate(("Resources", logical_id), logical_id) if base == logical_id else \
            locate(("Resources", base), base)
    return locate((), None)


_TRANSLATING = threading.Lock()


class _Recorder:
    """Observes one translation (class-level patches: only under ``_TRANSLATING``): which ids each SAM resource
    generates (``verify_unique_logical_id`` is called once per generated resource, in order) and every top-level
    operation on the Resources map's py27 key list and on its deep copies. Observing changes nothing it does."""

    def __init__(self, record: Recording, resources: Any) -> None:
        self.record = record
        self.resources = resources
        self.root = getattr(resources, "keylist", None)
        self.initial: list[list[Any]] = []
        self.events: list[tuple[int, str, Any]] = []
        self.lineage: dict[int, Any] = {id(self.root): self.root} if self.root is not None else {}
        self.depth = 0
        self.current: str | None = None

    def __enter__(self) -> _Recorder:
        import samtranslator.translator.translator as translator_module
        from samtranslator.utils.py27hash_fix import Py27Keys, Py27UniStr

        self._module, self._keys, self._uni = translator_module, Py27Keys, Py27UniStr
        self._saved = {name: Py27Keys.__dict__[name] for name in ("add", "remove", "merge", "__deepcopy__", "copy")}
        self._saved_verify = translator_module.verify_unique_logical_id
        self._saved_iterate = translator_module.Translator.__dict__["_get_resources_to_iterate"]
        recorder, lineage = self, self.lineage

        def observed(name: str) -> Any:
            original = recorder._saved[name]

            def method(keys: Any, *args: Any) -> Any:
                if id(keys) not in lineage:     # the fast path: millions of calls copy API bodies
                    return original(keys, *args)
                if recorder.depth == 0:
                    if name == "merge":
                        args = (list(args[0]),)
                        recorder.events.append((id(keys), "m", [recorder._key(k) for k in args[0]]))
                    elif name in ("add", "remove"):
                        recorder.events.append((id(keys), name[0], recorder._key(args[0])))
                recorder.depth += 1
                try:
                    result = original(keys, *args)
                finally:
                    recorder.depth -= 1
                if name in ("__deepcopy__", "copy") and recorder.depth == 0:
                    recorder.lineage[id(result)] = result
                    recorder.events.append((id(keys), "c" if name == "__deepcopy__" else "k", id(result)))
                return result
            return method

        for name in self._saved:
            setattr(Py27Keys, name, observed(name))
        if self.root is not None:
            # the key list as to_py27_compatible_template built it: inserts in the map's own insertion order, checked
            self.initial = [["a", self._key(k)] for k in dict.keys(self.resources)]
            built = self._keys()
            for op in self.initial:
                built.add(self._uni(op[1][0]) if op[1][1] else op[1][0])
            if (built.keyorder, built.mask, built.fill, built.size) != \
                    (self.root.keyorder, self.root.mask, self.root.fill, self.root.size):
                self.lineage.clear()

        def verify(resource: Any, resources: Any) -> Any:
            recorder.record.generated.setdefault(str(recorder.current), []).append(str(resource.logical_id))
            return recorder._saved_verify(resource, resources)

        def iterate(translator: Any, *args: Any) -> Any:
            for logical_id, resource in recorder._saved_iterate(translator, *args):
                recorder.current = str(logical_id)
                yield logical_id, resource

        translator_module.verify_unique_logical_id = verify
        translator_module.Translator._get_resources_to_iterate = iterate
        return self

    def _key(self, key: Any) -> list[Any]:
        return [str(key), isinstance(key, self._uni)]

    def finish(self, output: dict[str, Any]) -> None:
        """The operations on the chain of copies from the input's Resources key list to the output's."""
        final = getattr(output.get("Resources"), "keylist", None)
        if self.root is None or final is None or id(final) not in self.lineage or id(self.root) not in self.lineage:
            return
        parent: dict[int, tuple[int, int]] = {}
        for index, (owner, op, arg) in enumerate(self.events):
            if op in ("c", "k"):
                parent[arg] = (owner, index)
        chain, node = {id(final): len(self.events)}, id(final)
        while node != id(self.root):
            if node not in parent:
                return
            owner, index = parent[node]
            chain[owner] = index
            node = owner
        trace: list[list[Any]] = list(self.initial)
        for index, (owner, op, arg) in enumerate(self.events):
            if owner in chain and index <= chain[owner]:
                if op in ("c", "k"):
                    if index == chain[owner] and owner != id(final):
                        trace.append([op])
                else:
                    trace.append([op, arg])
        self.record.trace = trace

    def __exit__(self, *exc: object) -> None:
        for name, method in self._saved.items():
            setattr(self._keys, name, method)
        self._module.verify_unique_logical_id = self._saved_verify
        self._module.Translator._get_resources_to_iterate = self._saved_iterate
        self.lineage.clear()
