"""SSM parameter values as a template reads them: ``AWS::SSM::Parameter::Value<...>`` parameters and the
``{{resolve:ssm:NAME[:VERSION]}}`` / ``{{resolve:ssm-secure:...}}`` dynamic references.

Why here: both ``template.parameters`` (SSM-typed parameters) and ``transform.external`` (dynamic references in the
stack template) read the same store with the same rules and the same fix in their messages. Pure: the store is a
lookup the local target passes in (``strata.local.ssm_store``); on AWS, CloudFormation reads Parameter Store itself.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple

# CloudFormation's dynamic references that name an SSM parameter: {{resolve:ssm:name}}, {{resolve:ssm:name:3}}
DYNAMIC_SSM = re.compile(r"\{\{resolve:(ssm|ssm-secure):([^}:]+)(?::(\d+))?\}\}")


class SsmValue(NamedTuple):
    type: str       # String | StringList | SecureString
    value: str
    version: int


SsmLookup = Callable[[str], SsmValue | None]


def ssm_fix(name: str, secure: bool = False) -> str:
    """What the user runs to give ``name`` a value."""
    return f"`strata ssm put {name} VALUE{' --type SecureString' if secure else ''}`"


def ssm_parameter_value(lookup: SsmLookup, parameter: str, name: str, kind: str) -> tuple[Any, str | None]:
    """The value of an ``AWS::SSM::Parameter::Value<kind>`` parameter whose value names SSM parameter ``name``:
    (value, None) or (None, the problem). A list kind reads a StringList (or comma-separated String) as items."""
    found = lookup(name)
    if found is None:
        return None, (f"parameter {parameter} reads SSM parameter {name!r}, which is not in the local parameter "
                      f"store: {ssm_fix(name)} (or --parameter-overrides {parameter}=<another SSM parameter name>)")
    if found.type == "SecureString":
        return None, (f"parameter {parameter}: SSM parameter {name!r} is a SecureString, which "
                      "AWS::SSM::Parameter::Value<...> cannot read (CloudFormation refuses it too)")
    if kind.startswith("List<") or kind == "CommaDelimitedList":
        return [item.strip() for item in found.value.split(",")], None
    return found.value, None


__all__ = ["DYNAMIC_SSM", "SsmLookup", "SsmValue", "ssm_fix", "ssm_parameter_value"]
