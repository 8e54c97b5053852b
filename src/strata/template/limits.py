"""AWS's limits on a template, in one place: the loader's hard bounds and the quotas ``check_limits`` reports.

Why: a template is input from anywhere (a cloned repository, a pull request); every stage after loading walks it, and
aws-sam-translator hashes some strings with a pure-Python hash whose cost grows with the square of their length. So
every size is bounded, and each bound is one AWS itself applies, so no template AWS accepts is refused here.

Sources (read 2026-12):
- CloudFormation quotas, https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
  ("Understand CloudFormation quotas"): template body in an S3 object 1 MB; resources 500; parameters 200; outputs
  200; mappings 200; mapping attributes 200 per mapping; resource, parameter, output, mapping and mapping attribute
  names 255 characters; parameter value 4,096 bytes; template description 1,024 bytes.
- API Gateway quotas, https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html:
  the URL of a regional API is at most 10,240 characters (the longest name any AWS service here reads).
- SAM's Api event, https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-property-function-api.html:
  ``Method`` is one of DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT, ANY.

Contract: pure. ``check_limits`` returns problems (located); the loader refuses what is past its bounds outright.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strata.errors import Location, Problem

TEMPLATE_BODY_BYTES = 1_048_576  # "Template body size in an Amazon S3 object: 1 MB" (the larger of the two quotas)
# What a template of that size can hold once YAML aliases are expanded (SAM CLI expands them when it packages): every
# node takes at least a character and a separator, every character of scalar text a byte.
EXPANDED_NODES = TEMPLATE_BODY_BYTES // 2
EXPANDED_CHARACTERS = TEMPLATE_BODY_BYTES
KEY_CHARACTERS = 10_240  # a mapping key: no name AWS reads is longer than a regional API's URL

RESOURCES = 500
PARAMETERS = 200
OUTPUTS = 200
MAPPINGS = 200
MAPPING_ATTRIBUTES = 200
NAME_CHARACTERS = 255
PARAMETER_VALUE_BYTES = 4_096
DESCRIPTION_BYTES = 1_024
API_PATH_CHARACTERS = 10_240
API_METHODS = frozenset({"delete", "get", "head", "options", "patch", "post", "put", "any",
                         "x-amazon-apigateway-any-method"})  # SAM accepts API Gateway's own name for ANY too

_SECTIONS = (("Resources", RESOURCES, "resource"), ("Parameters", PARAMETERS, "parameter"),
             ("Outputs", OUTPUTS, "output"), ("Mappings", MAPPINGS, "mapping"))
_API_EVENTS = frozenset({"Api", "HttpApi"})


def check_limits(data: Any, locate: Callable[[tuple], Location]) -> list[Problem]:
    """Every CloudFormation quota a template's own text can break: section sizes, name lengths, the description,
    and the Api event strings the translator uses as keys (its hash is quadratic in their length)."""
    if not isinstance(data, dict):
        return []
    problems: list[Problem] = []
    description = data.get("Description")
    if isinstance(description, str) and len(description.encode("utf-8", "surrogatepass")) > DESCRIPTION_BYTES:
        problems.append(Problem(f"the template Description is longer than CloudFormation's {DESCRIPTION_BYTES:,} "
                                "bytes", locate(("Description",))))
    for section, most, noun in _SECTIONS:
        entries = data.get(section)
        if not isinstance(entries, dict):
            continue
        if len(entries) > most:
            problems.append(Problem(f"{section} has {len(entries):,} {noun}s; CloudFormation takes at most {most}",
                                    locate((section,))))
        for name in entries:
            if isinstance(name, str) and len(name) > NAME_CHARACTERS:
                problems.append(Problem(f"{noun} name {name[:40]}... is {len(name):,} characters; CloudFormation "
                                        f"takes at most {NAME_CHARACTERS}", locate((section, name))))
    problems += _mapping_problems(data.get("Mappings"), locate)
    problems += _api_event_problems(data.get("Resources"), locate)
    return problems


def _mapping_problems(mappings: Any, locate: Callable[[tuple], Location]) -> list[Problem]:
    problems: list[Problem] = []
    if not isinstance(mappings, dict):
        return problems
    for name, mapping in mappings.items():
        if not isinstance(mapping, dict):
            continue
        if len(mapping) > MAPPING_ATTRIBUTES:
            problems.append(Problem(f"mapping {name} has {len(mapping):,} keys; CloudFormation takes at most "
                                    f"{MAPPING_ATTRIBUTES}", locate(("Mappings", name))))
        for key, attributes in mapping.items():
            names = [key, *attributes] if isinstance(attributes, dict) else [key]
            for attribute in names:
                if isinstance(attribute, str) and len(attribute) > NAME_CHARACTERS:
                    where = ("Mappings", name, key) if attribute == key else ("Mappings", name, key, attribute)
                    problems.append(Problem(f"mapping {name}: the name {attribute[:40]}... is {len(attribute):,} "
                                            f"characters; CloudFormation takes at most {NAME_CHARACTERS}",
                                            locate(where)))
    return problems


def _api_event_problems(resources: Any, locate: Callable[[tuple], Location]) -> list[Problem]:
    problems: list[Problem] = []
    if not isinstance(resources, dict):
        return problems
    for logical_id, resource in resources.items():
        properties = resource.get("Properties") if isinstance(resource, dict) else None
        events = properties.get("Events") if isinstance(properties, dict) else None
        if not isinstance(events, dict):
            continue
        for event_name, event in events.items():
            if not isinstance(event, dict) or event.get("Type") not in _API_EVENTS:
                continue
            spec = event.get("Properties")
            if not isinstance(spec, dict):
                continue
            here = ("Resources", logical_id, "Properties", "Events", event_name, "Properties")
            method, path = spec.get("Method"), spec.get("Path")
            if isinstance(method, str) and method.lower() not in API_METHODS:
                shown = method if len(method) <= 40 else f"{method[:40]}... ({len(method):,} characters)"
                problems.append(Problem(f"event {event_name}: Method {shown!r} is not an HTTP method API Gateway "
                                        "routes (DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT or ANY)",
                                        locate(here + ("Method",))))
            if isinstance(path, str) and len(path) > API_PATH_CHARACTERS:
                problems.append(Problem(f"event {event_name}: Path is {len(path):,} characters; an API Gateway URL "
                                        f"is at most {API_PATH_CHARACTERS:,}", locate(here + ("Path",))))
    return problems
