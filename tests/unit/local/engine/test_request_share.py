"""The engine takes the preflight's parse of the stack template (``Request.share_parse``) only when that parse was of
the same template object with the same Conditions inputs; the deploy is the same either way."""
from __future__ import annotations

from pathlib import Path

import pytest
from engine_helpers import app, result

from strata.local.engine import desired as desired_module
from strata.local.engine.api import Engine
from strata.local.engine.request import Request


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    seen: list[int] = []
    real = desired_module.parse_stack

    def counting(template, resolver):  # type: ignore[no-untyped-def]
        seen.append(id(template))
        return real(template, resolver)

    monkeypatch.setattr(desired_module, "parse_stack", counting)
    return seen


def _checked(template: dict, parameters: dict | None = None, stack: str = "s") -> Request:
    checked = Request(stack, template, dict(parameters or {}), {}, "us-east-1", "123456789012")
    checked.desired()
    return checked


def test_the_deploy_reuses_the_preflight_parse_of_its_template(engine: Engine, home: Path, parses: list[int]) -> None:
    template = app(home)
    checked = _checked(template)
    parses.clear()
    report = engine.deploy("s", result(template), parsed_by=checked)
    assert report.status == "complete" and parses == []
    plain = Engine(home)
    try:
        assert plain.plan("s", result(app(home))).is_empty      # the same deploy, parsed again: nothing to change
    finally:
        plain.close()


def test_another_template_or_other_inputs_are_parsed_again(engine: Engine, home: Path, parses: list[int]) -> None:
    template = app(home)
    for checked in (_checked(app(home)), _checked(template, {"P": "1"}), _checked(template, stack="other")):
        parses.clear()
        engine.deploy("s", result(template), execute=False, parsed_by=checked)
        assert parses == [id(template)]
