"""The one table of Lambda runtimes the local target can run, and the one answer to "can it run this function?".

Lambda accepts many runtimes (``strata.local.lambda_service.validation.RUNTIMES``); the local runtime runs a
function's code in a worker on a host interpreter: Python (``worker.py``) and Node.js (``node/worker.js``). A function
the local target cannot run is refused before a deploy changes anything (``strata.local.preflight``) and reported by
``strata verify``, never deployed and called "Verified". Another language is added here, by listing its runtimes with
the family whose workers run them (and teaching the runtime that family).
"""
from __future__ import annotations

from typing import Any

PYTHON = "python"
NODE = "node"

# runtime -> the worker family that runs it
RUNNABLE: dict[str, str] = {**{f"python3.{minor}": PYTHON for minor in range(8, 16)},
                            **{f"nodejs{major}.x": NODE for major in (18, 20, 22)}}

WHAT_TO_DO = ("deploy it with --target aws, or remove the function from the template (or give it a Condition that "
              "is false for the local deploy)")


def refusal(runtime: Any, package_type: Any = None) -> str | None:
    """Why the local target cannot run a function with this Runtime and PackageType (None: it can)."""
    if package_type == "Image":
        return "PackageType Image: container image functions cannot run on the local target"
    if runtime in RUNNABLE:
        return None
    if runtime is None:
        return "no Runtime: the local target runs zip functions of a runtime it knows"
    ranges = []
    for kind in (PYTHON, NODE):
        listed = sorted((r for r in RUNNABLE if RUNNABLE[r] == kind),
                        key=lambda r: tuple(int(n) for n in r.removeprefix("python").removeprefix("nodejs")
                                            .removesuffix(".x").split(".")))
        ranges.append(f"{listed[0]} to {listed[-1]}")
    return f"Runtime {runtime}: the local target cannot run it (it runs {' and '.join(ranges)})"


def family(runtime: str) -> str | None:
    """The worker family that runs ``runtime`` (None: none here)."""
    return RUNNABLE.get(runtime)
