"""Templates: load (YAML/JSON, short tags, marks), parameters and pseudo parameters, intrinsic functions.

Import from here or from the submodules; each submodule has one job (``load``, ``marks``, ``intrinsics``,
``parameters``, ``context``). Nothing here imports boto3 or aws-sam-translator.
"""
from __future__ import annotations

from strata.template.context import context_for, pseudo_parameters
from strata.template.intrinsics import (
    NO_VALUE,
    Context,
    Unresolved,
    contains_unresolved,
    evaluate,
    evaluate_conditions,
    to_plain,
)
from strata.template.load import Template, check_structure, load_template, load_template_text, parse_template_text
from strata.template.marks import Marks
from strata.template.parameters import ParameterOverrides, build_context, parse_parameter_overrides

__all__ = [
    "NO_VALUE", "Context", "Marks", "ParameterOverrides", "Template", "Unresolved", "build_context", "check_structure",
    "contains_unresolved", "context_for", "evaluate", "evaluate_conditions", "load_template", "load_template_text",
    "parse_parameter_overrides", "parse_template_text", "pseudo_parameters", "to_plain",
]
