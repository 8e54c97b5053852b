"""samconfig.toml (SAM's file) and the flag > samconfig > default resolution of ``strata deploy``, both targets."""
from __future__ import annotations

from pathlib import Path

import pytest

from strata.deploy.samconfig import SamConfigError, parse_tags, read_samconfig
from strata.deploy.settings import MissingSettingError, resolve_deploy, resolve_stack

SAMCONFIG = """\
version = 0.1
[default.global.parameters]
stack_name = "from-global"
region = "eu-west-1"

[default.deploy.parameters]
stack_name = "shop"
s3_bucket = "art-bucket"
s3_prefix = "shop"
capabilities = "CAPABILITY_IAM CAPABILITY_AUTO_EXPAND"
parameter_overrides = "Stage=prod Greeting=\\"Hello there\\""
tags = "team=web \\"cost center\\"=42"
confirm_changeset = true

[staging.deploy.parameters]
stack_name = "shop-staging"
s3_bucket = "art-staging"
capabilities = ["CAPABILITY_NAMED_IAM"]
parameter_overrides = ["Stage=staging"]
tags = ["team=web"]
no_execute_changeset = true
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "samconfig.toml").write_text(SAMCONFIG)
    (tmp_path / "template.yaml").write_text("Resources: {}\n")
    return tmp_path / "template.yaml"


def _config(template: Path, **flags):
    values = dict(template_file=str(template), target="aws", stack_name=None, parameter_overrides=(), region=None,
                  no_execute=False, s3_bucket=None, s3_prefix=None, profile=None, endpoint_url=None, capabilities=(),
                  tags=(), config_file=None, config_env="default", no_verify=False)
    values.update(flags)
    return resolve_deploy(**values)


def test_sam_settings_are_used(project):
    config = _config(project)
    assert (config.stack_name, config.s3_bucket, config.s3_prefix, config.region) == ("shop", "art-bucket", "shop",
                                                                                      "eu-west-1")
    assert config.capabilities == ("CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND")
    assert config.parameter_overrides == {"Stage": "prod", "Greeting": "Hello there"}
    assert config.tags == {"team": "web", "cost center": "42"}
    assert config.execute and config.verify


def test_flags_win_and_overrides_merge_per_key(project):
    config = _config(project, stack_name="other", s3_bucket="b2", region="us-west-2",
                     parameter_overrides=("Stage=dev",), capabilities=("CAPABILITY_NAMED_IAM",), tags=("team=api",),
                     no_verify=True)
    assert (config.stack_name, config.s3_bucket, config.region) == ("other", "b2", "us-west-2")
    assert config.parameter_overrides == {"Stage": "dev", "Greeting": "Hello there"}
    assert config.capabilities == ("CAPABILITY_NAMED_IAM",)
    assert config.tags == {"team": "api", "cost center": "42"}
    assert not config.verify


def test_config_env_lists_and_no_execute(project):
    config = _config(project, config_env="staging")
    assert (config.stack_name, config.s3_bucket) == ("shop-staging", "art-staging")
    assert config.capabilities == ("CAPABILITY_NAMED_IAM",) and config.parameter_overrides == {"Stage": "staging"}
    assert not config.execute


def test_unknown_env_and_missing_settings_say_what_to_do(project, tmp_path):
    with pytest.raises(SamConfigError, match="no environment 'prod'"):
        _config(project, config_env="prod")
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "template.yaml").write_text("Resources: {}\n")
    with pytest.raises(MissingSettingError) as info:
        _config(bare / "template.yaml", stack_name="s")
    assert "--s3-bucket" in info.value.hint


def test_defaults_without_samconfig(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "template.yaml").write_text("Resources: {}\n")
    config = _config(tmp_path / "template.yaml", stack_name="s", s3_bucket="b")
    assert config.capabilities == ("CAPABILITY_IAM",) and config.s3_prefix == "" and config.region is None


def test_bad_toml_is_located(tmp_path):
    path = tmp_path / "samconfig.toml"
    path.write_text("[default.deploy.parameters\n")
    with pytest.raises(SamConfigError) as info:
        read_samconfig(path)
    assert "samconfig.toml" in str(info.value.location)


def test_parse_tags_rejects_garbage():
    assert parse_tags(["a=1 b=two=2"]) == {"a": "1", "b": "two=2"}
    with pytest.raises(SamConfigError):
        parse_tags("novalue")


def test_local_target_reads_the_same_samconfig(project):
    settings = resolve_deploy(template_file=str(project), parameter_overrides=("Stage=dev",))
    assert (settings.target, settings.stack_name, settings.region) == ("local", "shop", "eu-west-1")
    assert settings.parameter_overrides == {"Stage": "dev", "Greeting": "Hello there"}
    assert settings.samconfig["s3_bucket"] == "art-bucket" and settings.execute and settings.verify


def test_local_target_defaults_without_samconfig(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my app").mkdir()
    (tmp_path / "my app" / "template.yaml").write_text("Resources: {}\n")
    settings = resolve_deploy(template_file=str(tmp_path / "my app" / "template.yaml"))
    assert (settings.stack_name, settings.region, settings.parameter_overrides) == ("my-app", "us-east-1", {})


def test_deployed_stack_is_named_by_flag_then_samconfig_then_folder(project):
    assert resolve_stack(template_file=str(project)).name == "shop"
    assert resolve_stack(template_file=str(project), config_env="staging").name == "shop-staging"
    assert resolve_stack(template_file=str(project), stack_name="other").name == "other"
    aws = resolve_stack(template_file=str(project), target="aws", endpoint_url="http://127.0.0.1:1")
    assert (aws.region, aws.endpoint_url) == ("eu-west-1", "http://127.0.0.1:1")


GUIDED = Path(__file__).resolve().parents[2] / "data" / "sam-guided" / "samconfig.toml"


def test_the_samconfig_sam_deploy_guided_writes_resolves_for_the_aws_target(tmp_path: Path) -> None:
    (tmp_path / "samconfig.toml").write_bytes(GUIDED.read_bytes())
    (tmp_path / "template.yaml").write_text("Resources: {}\n")
    settings = resolve_deploy(template_file=str(tmp_path / "template.yaml"), target="aws")
    assert (settings.stack_name, settings.region, settings.s3_bucket, settings.s3_prefix) == \
        ("sam-app", "us-east-1", "", "sam-app")
    assert settings.resolve_s3 and settings.confirm_changeset and not settings.disable_rollback
    assert settings.capabilities == ("CAPABILITY_IAM",) and dict(settings.parameter_overrides) == {"Stage": "dev"}


def test_sam_deploy_options_flag_over_samconfig_over_default(tmp_path: Path) -> None:
    (tmp_path / "samconfig.toml").write_text(
        'version = 0.1\n[default.deploy.parameters]\nstack_name = "s"\nresolve_s3 = true\nconfirm_changeset = true\n'
        'role_arn = "arn:aws:iam::1:role/cfn"\nnotification_arns = "arn:a arn:b"\nkms_key_id = "k1"\n'
        'on_failure = "delete"\nfail_on_empty_changeset = true\ndisable_rollback = true\n'
        'parameter_overrides = { Stage = "prod", Memory = 256 }\n')
    (tmp_path / "template.yaml").write_text("Resources: {}\n")
    template = str(tmp_path / "template.yaml")
    from_file = resolve_deploy(template_file=template, target="aws")
    assert (from_file.role_arn, from_file.notification_arns, from_file.kms_key_id, from_file.on_failure) == \
        ("arn:aws:iam::1:role/cfn", ("arn:a", "arn:b"), "k1", "DELETE")
    assert from_file.fail_on_empty_changeset and from_file.disable_rollback
    assert dict(from_file.parameter_overrides) == {"Stage": "prod", "Memory": "256"}
    flags = resolve_deploy(template_file=template, target="aws", confirm_changeset=False, role_arn="arn:r",
                           notification_arns=("arn:c",), on_failure="DO_NOTHING", fail_on_empty_changeset=False)
    assert (flags.confirm_changeset, flags.role_arn, flags.notification_arns, flags.on_failure) == \
        (False, "arn:r", ("arn:c",), "DO_NOTHING")
    assert not flags.fail_on_empty_changeset
    with pytest.raises(MissingSettingError):
        resolve_deploy(template_file=template, target="aws", on_failure="SOMETIMES")
    (tmp_path / "samconfig.toml").write_text('version = 0.1\n[default.deploy.parameters]\nstack_name = "s"\n')
    with pytest.raises(MissingSettingError) as info:
        resolve_deploy(template_file=template, target="aws")
    assert "--resolve-s3" in (info.value.hint or "")


def test_parameter_overrides_take_every_argument_up_to_the_next_option() -> None:
    import click
    from click.testing import CliRunner

    from strata.cli.options import output_option, parameter_overrides_option

    @click.command()
    @parameter_overrides_option
    @output_option
    def show(parameter_overrides: tuple[str, ...], output: str) -> None:
        click.echo(f"{list(parameter_overrides)} {output}")

    done = CliRunner().invoke(show, ["--parameter-overrides", "A=1", "B='x y'", "--output", "json",
                                     "--parameter-overrides", "ParameterKey=C,ParameterValue=3"])
    assert done.exit_code == 0, done.output
    assert done.output.strip() == """['A=1', "B='x y'", 'ParameterKey=C,ParameterValue=3'] json"""
