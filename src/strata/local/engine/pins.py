"""Rollback pins applied to a deploy: an alias that ``strata rollback`` pinned keeps its version until ``--force``.

Why a template rewrite: the pinned alias's desired FunctionVersion becomes the pinned number (and its routing goes),
so plan and apply both see "no change" through the one rule book (``planner.decide``), the stored template says what
the stack really serves, and an interrupted deploy completes the same way. The plan carries a note per pin, so
``strata plan``/``deploy`` say why the alias did not move. Reads only.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from strata.local.engine.history import Pin


@dataclass(frozen=True)
class PinnedTemplate:
    template: dict[str, Any]
    notes: tuple[str, ...]             # plan warnings, one per pin
    released: tuple[str, ...]          # alias logical ids whose pin goes when this deploy completes


def apply_pins(template: dict[str, Any], pins: dict[str, Pin], *, force: bool) -> PinnedTemplate:
    """``template`` with each pinned alias held at its pin (unless ``force``); pins of aliases that left the
    template are released."""
    if not pins:
        return PinnedTemplate(template, (), ())
    resources = template.get("Resources") or {}
    notes: list[str] = []
    released: list[str] = []
    out = template
    for logical_id, pin in pins.items():
        body = resources.get(logical_id)
        if not isinstance(body, dict) or body.get("Type") != "AWS::Lambda::Alias":
            released.append(logical_id)
            continue
        if force:
            notes.append(f"{logical_id}: alias {pin.alias} was pinned by rollback to version {pin.version}; "
                         "--force moves it forward")
            released.append(logical_id)
            continue
        if out is template:
            out = copy.deepcopy(template)
        props = out["Resources"][logical_id].setdefault("Properties", {})
        props["FunctionVersion"] = pin.version
        props.pop("RoutingConfig", None)
        notes.append(f"{logical_id}: alias {pin.alias} update skipped: {pin.reason}")
    return PinnedTemplate(out, tuple(notes), tuple(released))
