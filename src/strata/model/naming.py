"""How Lambda and strata name things, defined once: function and layer identifiers (names, qualifiers, partial and
full ARNs), the physical names a stack gives its resources, the content-addressed artifact key, and the two spellings
of a code digest (hex sha256 and Lambda's base64 ``CodeSha256``).

Why one home: every stage reads these (the engine's handlers, the Lambda service, verify, ops, the CLI), and six
slightly different ``split(":")`` readings of an ARN disagreed on partial ARNs and qualifiers. Parsing here is
structural and never raises for what merely is not a valid name: text that is no function identifier comes back whole
as the name, so the Lambda service (``strata.local.lambda_service.names``), which owns Lambda's validation patterns and
error wording, rejects it with the message AWS sends.
"""
from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field

LATEST = "$LATEST"

_ACCOUNT = re.compile(r"\d{12}")
_VERSION_NUMBER = re.compile(r"[0-9]+")
_ARTIFACT_KEY = re.compile(r"(?:.*/)?([0-9a-f]{64})\.zip")


def is_version_number(qualifier: str) -> bool:
    """A published version's qualifier (``3``), as opposed to ``$LATEST`` or an alias name."""
    return bool(_VERSION_NUMBER.fullmatch(qualifier))


# ---- functions -------------------------------------------------------------------------------------------------------
def partition_of(region: str) -> tuple[str, str]:
    """(partition, URL suffix) of a region name: ``cn-north-1`` -> ``("aws-cn", "amazonaws.com.cn")``."""
    if region.startswith("cn-"):
        return "aws-cn", "amazonaws.com.cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov", "amazonaws.com"
    if region.startswith("us-isob-"):
        return "aws-iso-b", "sc2s.sgov.gov"
    if region.startswith("us-iso-"):
        return "aws-iso", "c2s.ic.gov"
    return "aws", "amazonaws.com"


def function_arn(region: str, account: str, name: str, qualifier: str | None = None, *, partition: str = "aws") -> str:
    """``arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>]``."""
    arn = f"arn:{partition}:lambda:{region}:{account}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn


@dataclass(frozen=True)
class FunctionRef:
    """A function identifier split into its parts: ``region``/``account`` when the text was a full ARN (a partial ARN
    gives ``account`` only). The partition is kept to write the ARN back but is no part of equality: a region belongs
    to exactly one partition."""

    name: str
    qualifier: str | None = None
    region: str | None = None
    account: str | None = None
    partition: str | None = field(default=None, compare=False)

    @classmethod
    def parse(cls, text: str) -> FunctionRef:
        """``name``, ``name:qualifier``, ``<account>:function:name[:qualifier]`` or
        ``arn:<partition>:lambda:<region>:<account>:function:name[:qualifier]``; anything else is returned whole as
        the name (structure only: the Lambda service checks the characters)."""
        parts = text.split(":")
        count = len(parts)
        if count == 1:
            return cls(text)
        if parts[0] == "arn":
            if (count == 7 or count == 8) and parts[2] == "lambda" and parts[5] == "function":
                return cls(parts[6], parts[7] if count == 8 else None, parts[3], parts[4], parts[1])
            return cls(text)
        if count == 2:
            return cls(parts[0], parts[1])
        if (count == 3 or count == 4) and parts[1] == "function" and _ACCOUNT.fullmatch(parts[0]):
            return cls(parts[2], parts[3] if count == 4 else None, account=parts[0])
        return cls(text)

    def with_qualifier(self, qualifier: str | None) -> FunctionRef:
        return FunctionRef(self.name, qualifier, self.region, self.account, self.partition)

    @property
    def qualified_name(self) -> str:
        """``name`` or ``name:qualifier`` (what Lambda's FunctionName accepts without an ARN)."""
        return f"{self.name}:{self.qualifier}" if self.qualifier is not None else self.name

    def __str__(self) -> str:
        """The identifier in the form it was parsed from (full ARN, partial ARN or name)."""
        if self.region is not None and self.account is not None:
            return function_arn(self.region, self.account, self.name, self.qualifier,
                                partition=self.partition or "aws")
        if self.account is not None:
            return f"{self.account}:function:{self.qualified_name}"
        return self.qualified_name


def function_and_qualifier(physical_id: str) -> tuple[str, str]:
    """(function name, qualifier) of a Version's or an Alias's physical id (its qualified ARN); the qualifier is
    empty when the id names none."""
    ref = FunctionRef.parse(physical_id)
    return ref.name, ref.qualifier or ""


def function_name_of(text: str) -> str:
    """The bare function name of a name, ``name:qualifier``, partial or full ARN (a physical id of a Function,
    Version or Alias resource)."""
    return FunctionRef.parse(text).name


def version_number_of(physical_id: str) -> str | None:
    """The version number of a Version's physical id (its qualified ARN), or None when it names no number."""
    qualifier = FunctionRef.parse(physical_id).qualifier if physical_id else None
    return qualifier if qualifier is not None and is_version_number(qualifier) else None


# ---- layers ----------------------------------------------------------------------------------------------------------
def layer_arn(region: str, account: str, name: str, *, partition: str = "aws") -> str:
    """``arn:<partition>:lambda:<region>:<account>:layer:<name>`` (a layer, without a version)."""
    return f"arn:{partition}:lambda:{region}:{account}:layer:{name}"


def layer_version_arn(region: str, account: str, name: str, version: int, *, partition: str = "aws") -> str:
    return f"{layer_arn(region, account, name, partition=partition)}:{version}"


@dataclass(frozen=True)
class LayerVersionRef:
    """A layer version ARN's parts."""

    region: str
    account: str
    name: str
    version: int
    partition: str = "aws"

    @classmethod
    def parse(cls, text: str) -> LayerVersionRef:
        """``arn:<partition>:lambda:<region>:<account>:layer:<name>:<N>`` -> its parts (structure only: the Lambda
        service checks the characters); ``ValueError`` for anything else."""
        parts = text.split(":")
        if len(parts) != 8 or parts[0] != "arn" or parts[2] != "lambda" or parts[5] != "layer" \
                or not _VERSION_NUMBER.fullmatch(parts[7]):
            raise ValueError(f"not a layer version ARN: {text!r}")
        return cls(parts[3], parts[4], parts[6], int(parts[7]), parts[1])

    @property
    def arn(self) -> str:
        return layer_version_arn(self.region, self.account, self.name, self.version, partition=self.partition)

    @property
    def label(self) -> str:
        """``shared:4``: what people call a layer version."""
        return f"{self.name}:{self.version}"


def parse_layer_arn(text: str) -> tuple[str, str, str, str] | None:
    """``arn:<partition>:lambda:<region>:<account>:layer:<name>`` -> (partition, region, account, name); else None."""
    parts = text.split(":")
    if len(parts) != 7 or parts[0] != "arn" or parts[2] != "lambda" or parts[5] != "layer":
        return None
    return parts[1], parts[3], parts[4], parts[6]


def account_of_arn(arn: str) -> str | None:
    """The account field of any ARN (``arn:<partition>:<service>:<region>:<account>:...``), or None."""
    parts = arn.split(":")
    return parts[4] if len(parts) >= 6 and parts[0] == "arn" else None


# ---- physical names a stack gives -----------------------------------------------------------------------------------
def generated_name(stack: str, logical_id: str, nonce: str = "", max_length: int = 64) -> str:
    """CloudFormation's ``<stack>-<LogicalId>-<SUFFIX>`` physical name, with a deterministic suffix (so a crashed
    create can be found again), trimmed to ``max_length``."""
    suffix = hashlib.sha256(f"{stack}/{logical_id}/{nonce}".encode()).hexdigest()[:12].upper()
    room = max_length - len(suffix) - 2
    stack_part = stack[: max(1, room // 2)] if len(stack) + len(logical_id) > room else stack
    logical_part = logical_id[: room - len(stack_part)]
    return f"{stack_part}-{logical_part}-{suffix}"


# ---- content-addressed artifacts ------------------------------------------------------------------------------------
def artifact_file_name(sha256: str) -> str:
    """``<sha256 hex>.zip``: an artifact's name is the digest of its bytes, in the store and in every bucket."""
    return f"{sha256}.zip"


def artifact_key(prefix: str, sha256: str) -> str:
    """``<prefix><sha256>.zip``: the S3 key of an artifact (``prefix`` is empty or ends with ``/``)."""
    return prefix + artifact_file_name(sha256)


def artifact_sha256_of_key(key: str) -> str | None:
    """The hex sha256 of a content-addressed key (its last path segment is ``<sha256>.zip``), or None."""
    match = _ARTIFACT_KEY.fullmatch(key)
    return match.group(1) if match else None


# ---- code digests ----------------------------------------------------------------------------------------------------
def code_sha256_of(hex_digest: str) -> str:
    """Lambda's CodeSha256 (base64 of the raw digest) for a hex sha256."""
    return base64.b64encode(bytes.fromhex(hex_digest)).decode("ascii")


def sha256_hex_of(code_sha256: str) -> str:
    """A hex sha256 for Lambda's base64 CodeSha256 (``ValueError`` when it is not base64)."""
    return base64.b64decode(code_sha256).hex()


def code_sha256_of_bytes(data: bytes) -> str:
    """Lambda's CodeSha256 of a zip's bytes."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")
