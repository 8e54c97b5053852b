"""The local target's check before apply: can every function of the stack run here, as declared? One place, called
by ``strata plan`` and ``strata deploy`` (``strata.local.deploy``) after the transform and before the engine plans.

Per ``AWS::Lambda::Function`` whose Condition holds, with its properties resolved:
- a runtime the local target cannot run (``strata.local.runtime.runtimes``: Node.js, Java, .NET, Ruby, custom
  runtimes, container images) is refused, with what to do;
- ``Architectures`` Lambda refuses (two of them, an unknown one) is refused, naming the property, instead of failing
  half-way through apply (the Lambda service's own rule, ``validation.check_architectures``);
- a Python runtime needs its interpreter (``strata.local.runtime.interpreter``), a Node.js one its ``node`` major
  (``strata.local.runtime.nodejs``): missing, ``plan`` warns and ``deploy`` refuses, with the fix; a user path that
  is another version is refused by both; a substitution the user allowed is said.
Contract: reads the template and probes interpreters (cached); changes no state.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from strata.errors import StrataError
from strata.model.deploy import DeploySettings

FUNCTION = "AWS::Lambda::Function"


class CannotRunLocally(StrataError):
    """The stack has functions the local target cannot run as declared; nothing was changed."""


@dataclass(frozen=True)
class Substitution:
    """A function running on another Python than its runtime's, as the user allowed."""

    logical_id: str
    runtime: str
    version: str                # the Python that runs it, "3.11"
    path: str
    note: str

    def text(self) -> str:
        language = "Node.js" if self.runtime.startswith("nodejs") else "Python"
        return f"{self.logical_id}: {self.runtime} runs on {language} {self.version} ({self.note})"

    def to_dict(self) -> dict[str, str]:
        return {"LogicalResourceId": self.logical_id, "Runtime": self.runtime, "Interpreter": self.path,
                "InterpreterVersion": self.version, "Note": self.note}


@dataclass
class Preflight:
    refused: list[tuple[str, str]] = field(default_factory=list)   # (problem, fix): plan and deploy refuse
    missing: list[tuple[str, str]] = field(default_factory=list)   # (problem, fix): plan warns, deploy refuses
    substitutions: list[Substitution] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)      # what runs differently here (Node.js: no bundled AWS SDK)
    # the engine's Request the check parsed the stack template with: the engine takes the parse when it deploys the
    # same template (``Request.share_parse``: ~20 ms at 500 functions)
    request: Any = field(default=None, repr=False, compare=False)

    def warnings(self) -> tuple[str, ...]:
        """What ``plan`` shows among its warnings: the missing interpreters (with the fix), the substitutions, the
        notes."""
        return tuple(f"{line} (`strata deploy` refuses it; to fix: {fix})" for line, fix in self.missing) + \
            tuple(s.text() for s in self.substitutions) + tuple(self.notes)

    def raise_if_refused(self, *, deploying: bool) -> None:
        """``CannotRunLocally`` for what cannot run (and, ``deploying``, for a missing interpreter)."""
        problems = self.refused + (self.missing if deploying else [])
        if not problems:
            return
        fixes = list(dict.fromkeys(fix for _line, fix in problems if fix))
        raise CannotRunLocally(
            f"the local target cannot run {'this function' if len(problems) == 1 else 'these functions'} as "
            "declared; nothing was changed:\n" + "\n".join(f"  {line}" for line, _fix in problems),
            hint="; or ".join(fixes) if len(fixes) > 1 else (fixes[0] if fixes else None))


def check(result: Any, settings: DeploySettings) -> Preflight:
    """The preflight of a ``TransformResult`` deployed with ``settings`` (see the module docstring)."""
    from strata.local.engine.request import Request

    assert settings.home is not None
    found = Preflight()
    found.request = Request(settings.stack_name, result.template, dict(result.parameters), {}, settings.local_region,
                            settings.account_id)
    resolver = found.request.resolver()
    desired = found.request.desired()
    for logical_id, resource in desired.resources.items():
        if resource.type != FUNCTION:
            continue
        props = resolver.resolve(resource.properties, ("Resources", logical_id, "Properties"))
        _check_function(found, logical_id, props, settings)
    return found


def _check_function(found: Preflight, logical_id: str, props: dict[str, Any], settings: DeploySettings) -> None:
    from strata.local.lambda_service.validation import Checks, check_architectures
    from strata.local.runtime import interpreter
    from strata.local.runtime.runtimes import WHAT_TO_DO, family, refusal
    from strata.template.intrinsics import contains_unresolved

    architectures = props.get("Architectures")
    if isinstance(architectures, list) and not contains_unresolved(architectures):
        checks = Checks()
        check_architectures(checks, [str(a) for a in architectures])
        if checks.failures:
            shown = "[" + ", ".join(str(a) for a in architectures) + "]"
            found.refused.append((f"{logical_id}.Properties.Architectures {shown}: Lambda refuses it "
                                  f"({checks.failures[0]})", "give the function one architecture: x86_64 or arm64"))
    runtime, package = props.get("Runtime"), props.get("PackageType")
    if contains_unresolved(runtime) or contains_unresolved(package):
        return
    why = refusal(runtime, package)
    if why is not None:
        found.refused.append((f"{logical_id}: {why}", WHAT_TO_DO))
        return
    if family(str(runtime)) is None:
        return
    if family(str(runtime)) == "node" and not found.notes:
        from strata.local.runtime import node_sdk

        if node_sdk.current() is None and not os.environ.get(node_sdk.ENV):
            found.notes.append(f"{logical_id} and any other Node.js function: Lambda's Node.js runtimes bundle the AWS "
                               "SDK for JavaScript v3; it is not installed here (package @aws-sdk/* with the function "
                               f"or a layer, or set {node_sdk.ENV}=<version> to install strata's set with npm)")
    assert settings.home is not None
    chosen = interpreter.choice(str(runtime), settings.home, settings.python)
    if chosen.interpreter is None:
        line = f"{logical_id}: Runtime {runtime}: {chosen.problem}"
        (found.refused if chosen.user_error else found.missing).append((line, chosen.hint or ""))
    elif chosen.interpreter.substituted:
        used = chosen.interpreter
        found.substitutions.append(Substitution(logical_id, str(runtime), interpreter.version_text(str(runtime), used),
                                                used.path, used.note))


def can_run_here(home: Any) -> Any:
    """``strata verify``'s question for the local target (``strata.verify.checker.CanRun``): why a deployed function
    (its $LATEST configuration) cannot run here, with the Python settings in force; None when it can."""
    from strata.local.runtime import interpreter
    from strata.local.runtime.runtimes import family, refusal

    def can_run(configuration: dict[str, Any]) -> str | None:
        runtime, package = configuration.get("Runtime"), configuration.get("PackageType")
        why = refusal(runtime, package)
        if why is not None or family(str(runtime)) is None:
            return why
        chosen = interpreter.choice(str(runtime), home)
        if chosen.interpreter is None:
            return f"Runtime {runtime}: {chosen.problem}" + (f" (to fix: {chosen.hint})" if chosen.hint else "")
        return None
    return can_run
