"""Templates: load (YAML/JSON, short tags, marks), parameters and pseudo parameters, intrinsic functions.

Import from here: ``load_template``, ``Template``, ``build_context``, ``evaluate`` ... Submodules stay small and
single-purpose; this package imports none of boto3 or aws-sam-translator.
"""
from __future__ import annotations

from strata.template.load import Template, check_structure, load_template, load_template_text, parse_template_text
from strata.template.marks import Marks

__all__ = ["Marks", "Template", "check_structure", "load_template", "load_template_text", "parse_template_text"]
