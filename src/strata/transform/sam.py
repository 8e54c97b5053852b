"""The aws-sam-translator adapter: SAM -> CloudFormation, offline.

Contract: pure function of (template data, parameter values, region); no AWS call (the bundled managed-policy map,
a region given explicitly instead of a boto3 session), no mutation of the caller's data. The translator's own
validation errors become one ``TemplateError`` with every cause, each located at its resource in the template.
Importing this module costs ~0.5 s (the translator), so only the uncached transform path imports it.
"""
from __future__ import annotations

import json
import re
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


def translate(data: dict[str, Any], parameter_values: dict[str, Any], *, region: str, partition: str = "aws",
              locate: Callable[[tuple, str | None], Location] | None = None) -> dict[str, Any]:
    """Run aws-sam-translator on a copy of ``data``; raise ``TemplateError`` listing every translator finding."""
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

    document = json.loads(json.dumps(data))  # the translator mutates its input; a JSON copy is the cheapest deep copy
    session = _RegionOnlySession(region)
    ArnGenerator.BOTO_SESSION_REGION_NAME = region
    values = dict(parameter_values)
    plugins = [ServerlessAppPlugin(sar_client=_OfflineRepository(), parameters=values)]
    translator = Translator(None, Parser(), plugins=plugins, boto_session=session)
    policies = _BundledPolicies(partition)
    try:
        # What the hosted SAM transform does first: API Gateway deployment ids hash py27-compatible reprs, so skipping
        # this would give every Api a different Deployment id than `sam deploy` gives (a needless redeployment).
        to_py27_compatible_template(document, values)
        return translator.translate(document, parameter_values=values, get_managed_policy_map=policies.load)
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
