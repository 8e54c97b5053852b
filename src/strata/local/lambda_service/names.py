"""Function and layer identifiers: names, full and partial ARNs, qualifiers (reference section 3).

Parsing is structural (split on ``:``) so ``my-fn:live`` is never mistaken for a region; every failure is the
``ValidationException`` AWS sends, quoting the pattern AWS quotes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from strata.model.lambda_errors import (InvalidParameterValueException, ResourceNotFoundException,
                                   ValidationException)

LATEST = "$LATEST"

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
_VERSION_NUMBER = re.compile(r"[0-9]+")


def validation_message(value: object, path: str, constraint: str) -> str:
    return f"1 validation error detected: Value '{value}' at '{path}' failed to satisfy constraint: {constraint}"


@dataclass(frozen=True)
class FunctionRef:
    """A parsed function identifier: ``qualifier`` from the name/ARN, ``region``/``account`` when an ARN gave them."""

    name: str
    qualifier: str | None = None
    region: str | None = None
    account: str | None = None


def parse_function_name(value: str, *, namespaced: bool = False) -> FunctionRef:
    """Split any accepted form into its parts or raise the pattern ``ValidationException``."""
    pattern = NAMESPACED_FUNCTION_NAME_PATTERN if namespaced else FUNCTION_NAME_PATTERN
    name_re = _NAMESPACED if namespaced else _NAME

    def bad() -> ValidationException:
        return ValidationException(validation_message(
            value, "functionName", f"Member must satisfy regular expression pattern: {pattern}"))

    parts = value.split(":") if value else [""]
    region = account = None
    if parts[0] == "arn":
        # arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>]
        if len(parts) not in (7, 8) or not _PARTITION.fullmatch(parts[1]) or parts[2] != "lambda" \
                or not _REGION.fullmatch(parts[3]) or not _ACCOUNT.fullmatch(parts[4]) or parts[5] != "function":
            raise bad()
        region, account, rest = parts[3], parts[4], parts[6:]
    elif len(parts) >= 3 and _ACCOUNT.fullmatch(parts[0]) and parts[1] == "function":
        account, rest = parts[0], parts[2:]  # partial ARN
    else:
        rest = parts
    if len(rest) > 2 or not name_re.fullmatch(rest[0]):
        raise bad()
    qualifier = rest[1] if len(rest) == 2 else None
    if qualifier is not None and not _QUALIFIER.fullmatch(qualifier):
        raise bad()
    return FunctionRef(rest[0], qualifier, region, account)


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
        ref = FunctionRef(ref.name, qualifier, ref.region, ref.account)
    if ref.region is not None and ref.region != region:
        raise ResourceNotFoundException(
            f"Functions from '{ref.region}' are not reachable in this region ('{region}')")
    return ref


def is_version_number(qualifier: str) -> bool:
    return bool(_VERSION_NUMBER.fullmatch(qualifier))


# ---- ARNs ---------------------------------------------------------------------------------------------------------
def function_arn(region: str, account: str, name: str, qualifier: str | None = None) -> str:
    arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn


def layer_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:lambda:{region}:{account}:layer:{name}"


@dataclass(frozen=True)
class LayerVersionRef:
    region: str
    account: str
    name: str
    version: int

    @property
    def arn(self) -> str:
        return f"{layer_arn(self.region, self.account, self.name)}:{self.version}"


def parse_layer_version_arn(arn: str, *, path: str) -> LayerVersionRef:
    """``arn:aws:lambda:<r>:<acct>:layer:<name>:<N>`` or the ``ValidationException`` AWS sends at ``path``."""
    parts = arn.split(":")
    if len(parts) != 8 or parts[0] != "arn" or not _PARTITION.fullmatch(parts[1]) or parts[2] != "lambda" \
            or not _REGION.fullmatch(parts[3]) or not _ACCOUNT.fullmatch(parts[4]) or parts[5] != "layer" \
            or not _NAME.fullmatch(parts[6]) or not _VERSION_NUMBER.fullmatch(parts[7]):
        raise ValidationException(validation_message(
            arn, path, f"Member must satisfy regular expression pattern: {LAYER_VERSION_ARN_PATTERN}"))
    return LayerVersionRef(parts[3], parts[4], parts[6], int(parts[7]))


def parse_layer_name(value: str) -> tuple[str, str | None]:
    """A layer name or LayerArn -> (name, region or None)."""
    parts = value.split(":")
    if len(parts) == 7 and parts[0] == "arn" and parts[2] == "lambda" and parts[5] == "layer" \
            and _REGION.fullmatch(parts[3]) and _ACCOUNT.fullmatch(parts[4]) and _NAME.fullmatch(parts[6]) \
            and len(parts[6]) <= 140:
        return parts[6], parts[3]
    if _NAME.fullmatch(value) and len(value) <= 140:
        return value, None
    raise ValidationException(validation_message(
        value, "layerName", f"Member must satisfy regular expression pattern: {LAYER_NAME_PATTERN}"))
