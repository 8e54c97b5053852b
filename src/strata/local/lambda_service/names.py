"""Function and layer identifiers: names, full and partial ARNs, qualifiers (reference section 3).

Parsing is structural (``strata.model.naming`` splits on ``:``) so ``my-fn:live`` is never mistaken for a region;
this module checks the parts against Lambda's patterns, and every failure is the ``ValidationException`` AWS sends,
quoting the pattern AWS quotes.
"""
from __future__ import annotations

import re

from strata.model.lambda_errors import InvalidParameterValueException, ResourceNotFoundException, ValidationException
from strata.model.naming import FunctionRef, LayerVersionRef, parse_layer_arn

# The patterns AWS quotes in its ValidationException texts (classic model form; reference 3.1)
FUNCTION_NAME_PATTERN = (r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?"
                         r"([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?")
NAMESPACED_FUNCTION_NAME_PATTERN = (r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?"
                                    r"(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?")
QUALIFIER_PATTERN = r"(|[a-zA-Z0-9$_-]+)"
LAYER_VERSION_ARN_PATTERN = (r"(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|"
                             r"(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)")
LAYER_NAME_PATTERN = (r"(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+")

_NAME = re.compile(r"[a-zA-Z0-9_-]+")
_NAMESPACED = re.compile(r"[a-zA-Z0-9_.-]+")
_QUALIFIER = re.compile(r"\$LATEST|[a-zA-Z0-9_-]+")
_QUALIFIER_PARAM = re.compile(r"[a-zA-Z0-9$_-]+")
_REGION = re.compile(r"[a-z]{2}(-gov)?-[a-z]+-\d")
_ACCOUNT = re.compile(r"\d{12}")
_PARTITION = re.compile(r"aws[a-zA-Z-]*")


def validation_message(value: object, path: str, constraint: str) -> str:
    return f"1 validation error detected: Value '{value}' at '{path}' failed to satisfy constraint: {constraint}"


def valid_function_ref(ref: FunctionRef, *, namespaced: bool = False) -> bool:
    """Whether every part of a parsed identifier satisfies Lambda's pattern (a namespaced name may hold dots)."""
    name_re = _NAMESPACED if namespaced else _NAME
    if not name_re.fullmatch(ref.name) or (ref.qualifier is not None and not _QUALIFIER.fullmatch(ref.qualifier)):
        return False
    return ref.region is None or bool(_PARTITION.fullmatch(ref.partition or "") and _REGION.fullmatch(ref.region)
                                      and _ACCOUNT.fullmatch(ref.account or ""))


def parse_function_name(value: str, *, namespaced: bool = False) -> FunctionRef:
    """Split any accepted form into its parts (``FunctionRef.parse``) or raise the pattern ``ValidationException``."""
    ref = FunctionRef.parse(value)
    if not valid_function_ref(ref, namespaced=namespaced):
        pattern = NAMESPACED_FUNCTION_NAME_PATTERN if namespaced else FUNCTION_NAME_PATTERN
        raise ValidationException(validation_message(
            value, "functionName", f"Member must satisfy regular expression pattern: {pattern}"))
    return ref


def check_qualifier_param(qualifier: str) -> None:
    if len(qualifier) > 128:
        raise ValidationException(validation_message(
            qualifier, "qualifier", "Member must have length less than or equal to 128"))
    if not _QUALIFIER_PARAM.fullmatch(qualifier):
        raise ValidationException(validation_message(
            qualifier, "qualifier", f"Member must satisfy regular expression pattern: {QUALIFIER_PATTERN}"))


def resolve_function(value: str, qualifier: str | None, *, region: str, namespaced: bool = False,
                     max_length: int = 140) -> FunctionRef:
    """Parse ``value`` and merge the ``Qualifier`` parameter into it (reference 3.2)."""
    if len(value) > max_length:
        raise ValidationException(validation_message(
            value, "functionName", f"Member must have length less than or equal to {max_length}"))
    ref = parse_function_name(value, namespaced=namespaced)
    if qualifier is not None:
        check_qualifier_param(qualifier)
        if ref.qualifier is not None and ref.qualifier != qualifier:
            raise InvalidParameterValueException(
                "The derived qualifier from the function name does not match the specified qualifier.")
        ref = ref.with_qualifier(qualifier)
    if ref.region is not None and ref.region != region:
        raise ResourceNotFoundException(
            f"Functions from '{ref.region}' are not reachable in this region ('{region}')")
    return ref


def parse_layer_version_arn(arn: str, *, path: str) -> LayerVersionRef:
    """``arn:aws:lambda:<r>:<acct>:layer:<name>:<N>`` or the ``ValidationException`` AWS sends at ``path``."""
    try:
        ref = LayerVersionRef.parse(arn)
    except ValueError:
        ref = None
    if ref is None or not _PARTITION.fullmatch(ref.partition) or not _REGION.fullmatch(ref.region) \
            or not _ACCOUNT.fullmatch(ref.account) or not _NAME.fullmatch(ref.name):
        raise ValidationException(validation_message(
            arn, path, f"Member must satisfy regular expression pattern: {LAYER_VERSION_ARN_PATTERN}"))
    return ref


def parse_layer_name(value: str) -> tuple[str, str | None]:
    """A layer name or LayerArn -> (name, region or None)."""
    arn = parse_layer_arn(value)
    if arn is not None:
        _, region, account, name = arn
        if _REGION.fullmatch(region) and _ACCOUNT.fullmatch(account) and _NAME.fullmatch(name) and len(name) <= 140:
            return name, region
    if _NAME.fullmatch(value) and len(value) <= 140:
        return value, None
    raise ValidationException(validation_message(
        value, "layerName", f"Member must satisfy regular expression pattern: {LAYER_NAME_PATTERN}"))
