"""Is a function version still fit to serve? It must exist, every layer version it uses must still exist, and (when
strata recorded what it was deployed with) its code and version-locked settings must still match that, checked by
verify's own ``content_findings``. Reads only; the same check runs on both targets."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strata.model.lambda_errors import unless_not_found
from strata.verify.checker import content_findings
from strata.verify.model import ExpectedFunction


@dataclass
class VersionCheck:
    version: str
    configuration: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_version(reader: Any, function_name: str, version: str, expected: dict[str, Any] | None,
                  *, code_present: Any = None) -> VersionCheck:
    """``code_present(base64 sha) -> bool`` adds a check that the code bytes are still stored (local target)."""
    result = VersionCheck(version)
    config = unless_not_found(reader.get_function_configuration, FunctionName=function_name, Qualifier=version)
    if config is None:
        result.problems.append(f"version {version} of {function_name} does not exist")
        return result
    result.configuration = config
    for layer in config.get("Layers") or []:
        arn = layer.get("Arn") if isinstance(layer, dict) else str(layer)
        if unless_not_found(reader.get_layer_version_by_arn, Arn=arn) is None:
            result.problems.append(f"version {version} uses layer {arn}, which was deleted")
            continue
        result.checked.append(f"layer {arn} exists")
    if code_present is not None and config.get("CodeSha256") and not code_present(config["CodeSha256"]):
        result.problems.append(f"the code of version {version} is no longer in the artifact store")
    if expected:
        fn = ExpectedFunction("", function_name, expected.get("code_sha256"), None,
                              dict(expected.get("settings") or {}))
        found = content_findings(fn, config, f"version {version}", f"version {version} has")
        result.problems += [f.message for f in found]
        if not found:
            result.checked.append(f"version {version} holds the code and settings it was deployed with")
    else:
        result.checked.append(f"no record of what version {version} was deployed with: content not compared")
    return result
