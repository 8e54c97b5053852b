"""Click options of the AWS target and their resolution against samconfig.toml (flag > samconfig > default).

``aws_connection_options`` (profile, endpoint) serve every AWS verb; ``aws_deploy_options`` add what
``strata deploy --target aws`` needs. ``deploy_config`` builds the ``AwsDeployConfig`` from the values click parsed.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from strata.errors import StrataError

F = Callable[..., Any]


class MissingSettingError(StrataError):
    exit_code = 2


def _apply(options: list[F]) -> Callable[[F], F]:
    def decorate(function: F) -> F:
        for option in reversed(options):
            function = option(function)
        return function
    return decorate


CONNECTION = [
    click.option("--profile", default=None, help="AWS named profile (aws target)."),
    click.option("--endpoint-url", default=None,
                 help="Send every AWS call to this endpoint (moto, LocalStack; aws target)."),
    click.option("--config-file", default=None, help="SAM config file (default: samconfig.toml beside the template)."),
    click.option("--config-env", default="default", show_default=True,
                 help="Environment section of the SAM config file."),
]

DEPLOY = [
    click.option("--s3-bucket", default=None, help="Bucket for code artifacts (aws target)."),
    click.option("--s3-prefix", default=None, help="Key prefix (folder) for the artifacts in the bucket (aws target)."),
    click.option("--capabilities", multiple=True,
                 help="CloudFormation capabilities, e.g. CAPABILITY_IAM (default), CAPABILITY_NAMED_IAM (aws target)."),
    click.option("--tags", multiple=True, help="Stack tags as Key=Value pairs (aws target)."),
    click.option("--no-verify", is_flag=True, help="Skip verifying the deployed functions at the end."),
]

aws_connection_options = _apply(CONNECTION)
aws_deploy_options = _apply(CONNECTION + DEPLOY)


def deploy_config(*, template_file: str, stack_name: str | None, parameter_overrides: tuple[str, ...],
                  region: str | None, no_execute: bool, s3_bucket: str | None, s3_prefix: str | None,
                  profile: str | None, endpoint_url: str | None, capabilities: tuple[str, ...], tags: tuple[str, ...],
                  config_file: str | None, config_env: str, no_verify: bool, home: Path | None = None) -> Any:
    """The ``AwsDeployConfig`` for these flags, with samconfig.toml filling what the flags leave out."""
    from strata.aws.deploy import DEFAULT_CAPABILITIES, AwsDeployConfig
    from strata.samconfig import find_samconfig, override_texts, parse_tags, read_samconfig, words
    from strata.template.parameters import parse_parameter_overrides

    template_path = Path(template_file)
    sam = read_samconfig(find_samconfig(template_path, config_file), env=config_env, command="deploy")
    stack_name = stack_name or sam.get("stack_name")
    bucket = s3_bucket or sam.get("s3_bucket")
    if not stack_name:
        raise MissingSettingError("no stack name for the aws target",
                                  hint="pass --stack-name, or set stack_name in samconfig.toml [default.deploy.parameters]")
    if not bucket:
        raise MissingSettingError("no S3 bucket for the code artifacts",
                                  hint="pass --s3-bucket, or set s3_bucket in samconfig.toml [default.deploy.parameters]")
    overrides = parse_parameter_overrides([*override_texts(sam.get("parameter_overrides")), *parameter_overrides])
    tag_values = parse_tags(sam.get("tags"))
    tag_values.update(parse_tags(list(tags)))
    caps = [c for text in capabilities for c in text.replace(",", " ").split()] or words(sam.get("capabilities"))
    execute = not (no_execute or bool(sam.get("no_execute_changeset")))
    return AwsDeployConfig(
        template_path=template_path, stack_name=str(stack_name), s3_bucket=str(bucket),
        s3_prefix=str(s3_prefix if s3_prefix is not None else sam.get("s3_prefix") or ""),
        region=region or sam.get("region"), profile=profile or sam.get("profile"),
        endpoint_url=endpoint_url or sam.get("endpoint_url"),
        capabilities=tuple(caps) or DEFAULT_CAPABILITIES, execute=execute, parameter_overrides=overrides,
        tags=tag_values, verify=not no_verify, home=home)


def connection_settings(*, template_file: str, stack_name: str | None, region: str | None, profile: str | None,
                        endpoint_url: str | None, config_file: str | None, config_env: str) -> dict[str, Any]:
    """stack_name, region, profile and endpoint_url from flags, else samconfig.toml (its deploy section)."""
    from strata.samconfig import find_samconfig, read_samconfig

    sam = read_samconfig(find_samconfig(Path(template_file), config_file), env=config_env, command="deploy")
    return {"stack_name": stack_name or sam.get("stack_name"), "region": region or sam.get("region"),
            "profile": profile or sam.get("profile"), "endpoint_url": endpoint_url or sam.get("endpoint_url")}


def stack_session(*, template_file: str, stack_name: str | None, region: str | None, profile: str | None,
                  endpoint_url: str | None, config_file: str | None, config_env: str) -> tuple[str, Any]:
    """(stack name, AwsSession) for the verbs that act on a deployed AWS stack (verify, rollback, prune, logs):
    flags first, then samconfig.toml, then the template folder's name."""
    from strata.aws.session import AwsSession
    from strata.transform.pipeline import default_stack_name

    settings = connection_settings(template_file=template_file, stack_name=stack_name, region=region,
                                   profile=profile, endpoint_url=endpoint_url, config_file=config_file,
                                   config_env=config_env)
    name = settings["stack_name"] or default_stack_name(Path(template_file))
    return name, AwsSession(settings["region"], settings["profile"], settings["endpoint_url"])
