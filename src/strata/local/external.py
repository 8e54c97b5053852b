"""The local target's ``ExternalValues`` (``strata.transform.external``): the exports of the home's other stacks, the
home's SSM parameter store (``strata.local.ssm_store``), and the layer mappings of this deploy.

Exports come from what each stack recorded at its last completed deploy (``stack_stacks.outputs``: an output with
``Export`` carries its ``ExportName``); the stack being deployed is left out, as CloudFormation forbids a stack to
import its own exports. Reads only.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from strata.local import state_file
from strata.paths import database_path
from strata.template.ssm import SsmValue
from strata.transform.external import Export, ExternalValues


def home_exports(home: Path, *, exclude: str | None = None) -> dict[str, Export]:
    """Every export of the home's stacks (except ``exclude``): export name -> value and stack."""
    path = database_path(Path(home))
    if not path.exists():
        return {}
    db = state_file.connect(path, timeout=60)
    try:
        with state_file.guarded(path):
            if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'stack_stacks'").fetchone():
                return {}
            rows = db.execute("SELECT name, outputs FROM stack_stacks ORDER BY name").fetchall()
    finally:
        db.close()
    exports: dict[str, Export] = {}
    for stack, text in rows:
        if stack == exclude:
            continue
        for output in (json.loads(text) if text else {}).values():
            name = output.get("ExportName") if isinstance(output, dict) else None
            if isinstance(name, str) and name:
                exports[name] = Export(name, output.get("Value"), stack)
    return exports


def external_values(home: Path, stack_name: str, *, account_id: str,
                    layer_sources: Mapping[str, Any] | None = None) -> ExternalValues:
    """What a local deploy of ``stack_name`` in ``home`` may read from outside its template; ``layer_sources``:
    ARN -> ``strata.artifacts.external_layers.LayerSource`` (the defaults apply behind them)."""
    from strata.artifacts.external_layers import LayerSources

    def ssm(name: str) -> SsmValue | None:
        from strata.local.ssm_store import SsmStore

        with SsmStore(home) as store:       # a template reads a few: one short connection each
            found = store.get(name)
        return None if found is None else SsmValue(found.type, found.value, found.version)

    values = ExternalValues(exports=home_exports(home, exclude=stack_name), ssm=ssm,
                            layer_source=LayerSources(layer_sources or {}), account_id=account_id, home=Path(home))
    return values


__all__ = ["external_values", "home_exports"]
