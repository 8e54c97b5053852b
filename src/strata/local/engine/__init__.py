"""The local stack engine: a small CloudFormation for the emulated Lambda resource types.

Pipeline stages here: plan (``planner``: changes nothing) and apply (``apply``: the only stage that changes a
target), over state in the shared SQLite database (``state``), guarded by a per-stack lock (``lock``) and a journal
(``journal``) so an interrupted deploy is completed by the next one. ``api.Engine`` ties them together;
``describe`` holds the read models and ``resolve_function``. ``history`` records every alias move (and the pins
``strata rollback`` leaves), ``pins`` applies them to a deploy; an alias under a CodeDeploy ``UpdatePolicy`` is
moved by ``strata.local.shift`` instead of its handler. ``operations`` runs ``strata rollback``'s alias move and
``strata prune``'s deletions through the same journal, so an interrupted one is completed like a deploy.
"""
from __future__ import annotations

from strata.local.engine.describe import resolve_function

__all__ = ["resolve_function"]
