"""The one table of Lambda runtimes the local target can run, and the one answer to "can it run this function?".

Lambda accepts many runtimes (``strata.local.lambda_service.validation.RUNTIMES``); the local runtime runs a
function's code in a worker on a host interpreter, which today exists for Python only. A function the local target
cannot run is refused before a deploy changes anything (``strata.local.preflight``) and reported by ``strata
verify``, never deployed and called "Verified". Another language is added here, by listing its runtimes with the
family whose workers run them (and teaching the runtime that family).
"""
from __future__ import annotations

from typing import Any

PYTHON = "python"

# runtime -> the worker family that runs it
RUNNABLE: dict[str, str] = {f"python3.{minor}": PYTHON for minor in range(8, 16)}

WHAT_TO_DO = ("deploy it with --target aws, or remove the function from the template (or give it a Condition that "
              "is false for the local deploy)")


def refusal(runtime: Any, package_type: Any = None) -> str | None:
    """Why the local target cannot run a function with this Runtime and PackageType (None: it can)."""
    if package_type == "Image":
        return "PackageType Image: container image functions cannot run on the local target"
    if runtime in RUNNABLE:
        return None
    listed = sorted(RUNNABLE, key=lambda r: tuple(int(n) if n.isdigit() else 0 for n in r[6:].split(".")))
    if runtime is None:
        return "no Runtime: the local target runs zip functions of a runtime it knows"
    return (f"Runtime {runtime}: the local target cannot run it (it runs {listed[0]} to {listed[-1]})"
            if all(RUNNABLE[r] == PYTHON for r in listed) else
            f"Runtime {runtime}: the local target cannot run it (it runs {', '.join(listed)})")


def family(runtime: str) -> str | None:
    """The worker family that runs ``runtime`` (None: none here)."""
    return RUNNABLE.get(runtime)
