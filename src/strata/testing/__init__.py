"""strata's pytest plugin: integration tests against a SAM template deployed and served locally, without Docker or
AWS. Registered as the pytest entry point ``strata`` (``pytest11`` in pyproject.toml): installing strata is enough.

The session fixture ``strata_stack`` deploys the template once per test session into a temporary state home,
serves it on 127.0.0.1 (a real ``strata serve``), and stops the server at the end. It is a ``StrataStack``
(``strata.testing.stack``): ``strata_stack.invoke("HelloFunction", {"name": "x"})`` returns the handler's decoded
answer (a handler error raises ``FunctionError``), ``strata_stack.lambda_client`` is a boto3 Lambda client signed
with the home's keys, ``strata_stack.functions`` maps logical ids to function names, ``strata_stack.http_urls`` the
HTTP APIs' base URLs (empty until strata serves HTTP APIs).

Which template: the ini options ``strata_template`` (relative to the ini file's folder), ``strata_stack_name``,
``strata_parameter_overrides`` (``Key=Value`` lines), or override the session fixture ``strata_config`` to return a
``StackConfig``. With pytest-xdist each worker deploys and serves its own copy.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from strata.testing.stack import FunctionError, StackConfig, StrataStack, StrataStackError

__all__ = ["FunctionError", "StackConfig", "StrataStack", "StrataStackError"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("strata_template", "strata_stack: the SAM template to deploy (relative to the ini file)",
                  default="")
    parser.addini("strata_stack_name", "strata_stack: the stack name (default: the one strata deploy picks)",
                  default="")
    parser.addini("strata_parameter_overrides", "strata_stack: template parameter values, Key=Value per line",
                  type="linelist", default=[])


@pytest.fixture(scope="session")
def strata_config(pytestconfig: pytest.Config) -> StackConfig:
    """The stack ``strata_stack`` deploys, from the ini options; override this fixture to choose it in code."""
    template = str(pytestconfig.getini("strata_template") or "")
    if not template:
        raise pytest.UsageError("strata_stack needs a template: set `strata_template = template.yaml` in the "
                                "[pytest] section of your ini file, or override the `strata_config` fixture to "
                                "return strata.testing.StackConfig(...)")
    base = pytestconfig.inipath.parent if pytestconfig.inipath else pytestconfig.rootpath
    overrides: dict[str, str] = {}
    for line in pytestconfig.getini("strata_parameter_overrides"):
        key, sep, value = str(line).partition("=")
        if not sep or not key.strip():
            raise pytest.UsageError(f"strata_parameter_overrides: {line!r} is not Key=Value")
        overrides[key.strip()] = value.strip()
    return StackConfig((base / template).resolve(), str(pytestconfig.getini("strata_stack_name") or "") or None,
                       overrides)


@pytest.fixture(scope="session")
def strata_stack(strata_config: StackConfig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StrataStack]:
    """The template of ``strata_config`` deployed into a temporary state home and served, for the whole session."""
    home: Path = tmp_path_factory.mktemp("strata-home")
    stack = StrataStack.start(strata_config, home)
    try:
        yield stack
    finally:
        stack.stop()
