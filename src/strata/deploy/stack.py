"""The verbs that act on a deployed stack, on either target: verify, rollback, prune. Each picks the target's
implementation for a ``StackRef`` (``strata.deploy.settings.resolve_stack``) and returns its report."""
from __future__ import annotations

from typing import Any

from strata.deploy.settings import StackRef
from strata.model.deploy import AWS


def verify_stack(stack: StackRef, *, repair: bool = False) -> Any:
    """Does every function of the stack serve what was deployed? (``VerifyReport``; ``repair`` fixes what differs.)"""
    if stack.target == AWS:
        from strata.aws.verify import verify_aws

        return verify_aws(stack.session(), stack.name, repair=repair)
    from strata.local.verify import verify_local

    return verify_local(stack.home, stack.name, region=stack.local_region, account_id=stack.account_id,
                        repair=repair, template_path=stack.template_path)


def rollback_stack(stack: StackRef, function: str, *, alias: str = "live", to_version: str | None = None) -> Any:
    """Move ``alias`` of ``function`` back (``strata.ops.rollback``; a ``RollbackReport``)."""
    if stack.target == AWS:
        from strata.ops.rollback import rollback_aws

        return rollback_aws(stack.session(), stack.name, function, alias=alias, to_version=to_version)
    from strata.ops.rollback import rollback_local

    return rollback_local(stack.home, stack.name, function, alias=alias, to_version=to_version,
                          region=stack.local_region, account_id=stack.account_id)


def prune_stack(stack: StackRef, *, keep: int, include_layers: bool = False, dry_run: bool = False) -> Any:
    """Delete old versions nothing needs (``strata.ops.prune``; a ``PruneReport``)."""
    if stack.target == AWS:
        from strata.ops.prune import prune_aws

        return prune_aws(stack.session(), stack.name, keep=keep, include_layers=include_layers, dry_run=dry_run)
    from strata.ops.prune import prune_local

    return prune_local(stack.home, stack.name, keep=keep, include_layers=include_layers, dry_run=dry_run,
                       region=stack.local_region, account_id=stack.account_id)
