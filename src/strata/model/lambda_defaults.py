"""Lambda's values for a function setting that is not given (reference lambda.md 4.1), written down once.

Everything that must agree on them reads this table: the version fingerprint (``transform.fields``: absent and
default fingerprint alike), the engine's Function handler (a removed property is reset to its default, and compared
with it), verify's canonical settings (absent and default compare equal), and the local Lambda service's new
functions and invocations. Keys are ``AWS::Lambda::Function`` property names; values are in the API's shape (what
GetFunctionConfiguration reports). The table is read-only; ``default()`` hands out a copy a caller may change.
"""
from __future__ import annotations

import copy
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

DEFAULTS: Mapping[str, Any] = MappingProxyType({
    "Description": "",
    "MemorySize": 128,                                       # MB
    "Timeout": 3,                                            # seconds
    "PackageType": "Zip",
    "Architectures": ["x86_64"],
    "EphemeralStorage": {"Size": 512},                       # MB of /tmp
    "TracingConfig": {"Mode": "PassThrough"},
    "SnapStart": {"ApplyOn": "None"},
    "Environment": {"Variables": {}},
    "Layers": [],
    "FileSystemConfigs": [],
    "VpcConfig": {"SubnetIds": [], "SecurityGroupIds": []},
    "RuntimeManagementConfig": {"UpdateRuntimeOn": "Auto"},
    "DeadLetterConfig": {"TargetArn": ""},
    "KmsKeyArn": "",
    "ImageConfig": {},
    "LoggingConfig": {"LogFormat": "Text"},                  # and the log group below
})

LOG_FORMAT: str = DEFAULTS["LoggingConfig"]["LogFormat"]


def log_group(function_name: str) -> str:
    """The log group Lambda writes to when ``LoggingConfig.LogGroup`` is not given."""
    return f"/aws/lambda/{function_name}"


def default(name: str) -> Any:
    """A copy of Lambda's default for property ``name`` (None if it has none), safe to hand to code that mutates."""
    return copy.deepcopy(DEFAULTS.get(name))


__all__ = ["DEFAULTS", "LOG_FORMAT", "default", "log_group"]
