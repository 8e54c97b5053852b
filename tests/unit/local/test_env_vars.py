"""``strata.local.env_vars``: SAM CLI's --env-vars format parsed at the edge, matched to functions in SAM CLI's order
of precedence, applied to a snapshot (declared variables only) and never to the version the service stores."""
from __future__ import annotations

import json

import pytest
from strata_testkit import zip_bytes

from strata.local.env_vars import EnvVarsError, FunctionEntry, load, match

ROLE = "arn:aws:iam::123456789012:role/r"


def _file(tmp_path, data) -> str:
    path = tmp_path / "env.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def test_values_are_written_as_sam_cli_writes_them(tmp_path):
    parsed = load(_file(tmp_path, {"Parameters": {"A": 1, "B": True, "C": None, "D": 1.5}, "Fn": {"E": "x"}}))
    assert parsed.parameters == {"A": "1", "B": "true", "C": "", "D": "1.5"}
    assert parsed.functions == {"Fn": {"E": "x"}}


@pytest.mark.parametrize(("text", "message"), [
    ("[1]", "the top level must be an object"),
    ('{"Fn": "x"}', "'Fn' must be an object of variables"),
    ('{"Fn": {"A": {"Ref": "X"}}}', "Fn.A must be a string, number or boolean, not an object"),
])
def test_a_file_not_in_the_format_says_what_is_wrong(tmp_path, text, message):
    with pytest.raises(EnvVarsError) as info:
        load(_file(tmp_path, text))
    assert message in info.value.render() and "env.json" in info.value.render()


def test_bad_json_names_the_line_and_column(tmp_path):
    path = _file(tmp_path, '{\n  "Fn": {\n    "A": 1\n    "B": 2}}')
    with pytest.raises(EnvVarsError) as info:
        load(path)
    assert info.value.render().startswith(f"{path}:4:5: the --env-vars file is not valid JSON")


def test_match_follows_sam_cli_precedence_and_declared_variables(tmp_path):
    parsed = load(_file(tmp_path, {"Parameters": {"STAGE": "dev", "NOBODY": "x"}, "fn-name": {"A": "by-name"},
                                   "Fn": {"A": "by-id", "UNDECLARED": "u"}, "Ghost": {"A": "x"}}))
    fn = FunctionEntry("stack", "Fn", "fn-name", frozenset({"A", "STAGE"}))
    other = FunctionEntry("stack", "Other", "other-name", frozenset({"STAGE"}))
    matched = match(parsed, [fn, other])
    assert matched.applied == {fn: {"A": "by-id", "STAGE": "dev"}, other: {"STAGE": "dev"}}
    assert matched.unknown_keys == ("fn-name", "Ghost")     # fn-name lost to the logical id: SAM CLI uses one key
    assert matched.unused_parameters == ("NOBODY",)
    assert any("Fn does not declare UNDECLARED" in w for w in matched.warnings())
    overrides = matched.overrides()
    assert overrides.apply("fn-name", {"A": "prod", "STAGE": "prod", "KEEP": "k"}) == (
        {"A": "by-id", "STAGE": "dev", "KEEP": "k"}, ("A", "STAGE"))
    assert overrides.apply("unknown", {"A": "prod"}) == ({"A": "prod"}, ())
    assert overrides.apply("made-by-the-api", {"STAGE": "prod"}) == ({"STAGE": "dev"}, ("STAGE",))  # Parameters
    view = matched.view()
    assert view["Stacks"] == {"stack": {"Fn": {"A": "****", "STAGE": "****"}, "Other": {"STAGE": "****"}}}


def test_the_service_applies_overrides_to_the_snapshot_only(tmp_path, monkeypatch):
    """The invoked environment sees the override; the version's configuration keeps its values, and a snapshot with
    overrides is keyed apart from the plain one (their warm workers are never shared)."""
    from strata.local.lambda_service import invoke as invoke_module
    from strata.local.lambda_service.overrides import EnvOverrides
    from strata.local.lambda_service.service import LambdaService
    from strata.local.lambda_service.shapes import Environment, FunctionCode

    code = "import os\ndef handler(event, context):\n    return os.environ.get('TABLE')\n"
    home = tmp_path / "home"
    seen = []
    real = invoke_module._snapshot

    def spy(*args):
        snapshot = real(*args)
        seen.append(snapshot)
        return snapshot

    with LambdaService(home) as plain:
        plain.create_function(function_name="fn", role=ROLE, runtime="python3.12", handler="app.handler",
                              code=FunctionCode(zip_file=zip_bytes({"app.py": code})), publish=True,
                              environment=Environment(variables={"TABLE": "prod"}))
    overrides = EnvOverrides("env.json", {"fn": {"TABLE": "local", "OTHER": "x"}})
    monkeypatch.setattr(invoke_module, "_snapshot", spy)
    with LambdaService(home, env_overrides=overrides) as service:
        assert service.invoke("fn", qualifier="1").payload == b'"local"'
        assert service.get_function_configuration(function_name="fn", qualifier="1").environment.variables == {
            "TABLE": "prod"}
    with LambdaService(home) as plain:
        assert plain.invoke("fn", qualifier="1").payload == b'"prod"'
    overridden, unchanged = seen[0], seen[-1]
    assert overridden.overridden == ("TABLE",) and dict(overridden.environment) == {"TABLE": "local"}
    assert unchanged.overridden == () and overridden.key != unchanged.key
