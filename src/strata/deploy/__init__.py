"""Deploying, one shape for both targets: resolve the settings (``settings``: flag > samconfig.toml > default), run
the target's orchestrator (``strata.local.deploy`` or ``strata.aws.deploy``: transform -> plan -> apply -> verify ->
report), return one ``DeployResult`` (``strata.model.deploy``). ``stack`` acts on a stack already deployed (verify,
rollback, prune) on either target.

This package sits above the targets and ``strata.ops``: it imports them, and none of them imports it.
"""
from __future__ import annotations

from collections.abc import Callable

from strata.model.deploy import AWS, DeployResult, DeploySettings


def deploy(settings: DeploySettings, *, out: Callable[[str], None] = print,
           progress: Callable[[str], None] | None = None, warn: Callable[[str], None] | None = None,
           confirm: Callable[[str], bool] | None = None) -> DeployResult:
    """Deploy with the orchestrator of ``settings.target``; ``out`` gets the plan and results, ``progress`` each step,
    ``warn`` what went wrong on the side (each defaults to ``out``); ``confirm`` asks ``confirm_changeset``'s
    question (aws target)."""
    if settings.target == AWS:
        from strata.aws.deploy import deploy_to_aws

        return deploy_to_aws(settings, out=out, progress=progress, warn=warn, confirm=confirm)
    from strata.local.deploy import deploy_local

    return deploy_local(settings, out=out, progress=progress, warn=warn)
