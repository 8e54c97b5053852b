"""One resolution of a deploy's settings for both targets: flag > samconfig.toml > default.

samconfig.toml is SAM CLI's file (``strata.deploy.samconfig`` reads it): its deploy section gives stack_name, region,
parameter_overrides (merged per key under the flags'), no_execute_changeset, for the local target strata's own
python and allow_python_substitute (``strata.model.python``), and for the AWS target s3_bucket,
s3_prefix, profile, endpoint_url, capabilities and tags. ``resolve_deploy`` makes the ``DeploySettings`` both
orchestrators take; ``resolve_stack`` names an already deployed stack for the verbs that act on one (verify,
rollback, prune, describe, events, delete, logs). Reads files only; changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from strata.errors import StrataError
from strata.model.deploy import AWS, DEFAULT_ACCOUNT, DEFAULT_CAPABILITIES, DEFAULT_REGION, LOCAL, DeploySettings


class MissingSettingError(StrataError):
    """A setting the target needs is neither a flag nor in samconfig.toml (a usage error)."""

    exit_code = 2


def samconfig_for(template_file: str | Path, config_file: str | None = None,
                  config_env: str = "default") -> dict[str, Any]:
    """The deploy section of the samconfig.toml that goes with this template (empty when there is none)."""
    from strata.deploy.samconfig import find_samconfig, read_samconfig

    return read_samconfig(find_samconfig(Path(template_file), config_file), env=config_env, command="deploy")


def resolve_deploy(*, template_file: str, target: str = LOCAL, stack_name: str | None = None,
                   parameter_overrides: tuple[str, ...] = (), region: str | None = None,
                   account_id: str = DEFAULT_ACCOUNT, no_execute: bool = False, no_verify: bool = False,
                   config_file: str | None = None, config_env: str = "default", s3_bucket: str | None = None,
                   s3_prefix: str | None = None, profile: str | None = None, endpoint_url: str | None = None,
                   capabilities: tuple[str, ...] = (), tags: tuple[str, ...] = (), strict: bool = False,
                   disable_rollback: bool = False, wait: bool = False, force: bool = False, shift_speed: float = 1.0,
                   error_threshold: float = 0.0, build_progress: bool = False,
                   home: Path | None = None, layer_sources: tuple[str, ...] = (), python_paths: tuple[str, ...] = (),
                   python_substitutes: tuple[str, ...] = (), node_paths: tuple[str, ...] = (),
                   node_substitutes: tuple[str, ...] = (), **aws: Any) -> DeploySettings:
    """The ``DeploySettings`` for these flag values (None or empty: not given), samconfig.toml filling the gaps."""
    from strata.deploy.samconfig import override_texts, parse_tags, words
    from strata.model.python import PythonSettings, resolve_python
    from strata.paths import state_home
    from strata.template.parameters import parse_parameter_overrides
    from strata.transform.pipeline import default_stack_name

    template_path = Path(template_file)
    sam = samconfig_for(template_path, config_file, config_env)
    name = stack_name or sam.get("stack_name")
    bucket = s3_bucket or sam.get("s3_bucket")
    more = _sam_deploy_settings(aws, sam)
    if target == AWS:
        if not name:
            raise MissingSettingError("no stack name for the aws target", hint="pass --stack-name, or set "
                                      "stack_name in samconfig.toml [default.deploy.parameters]")
        if not bucket and not more["resolve_s3"]:
            raise MissingSettingError("no S3 bucket for the code artifacts", hint="pass --s3-bucket or --resolve-s3, "
                                      "or set s3_bucket or resolve_s3 in samconfig.toml [default.deploy.parameters]")
    overrides = parse_parameter_overrides([*override_texts(sam.get("parameter_overrides")), *parameter_overrides])
    tag_values = parse_tags(sam.get("tags"))
    tag_values.update(parse_tags(list(tags)))
    caps = [c for text in capabilities for c in text.replace(",", " ").split()] or words(sam.get("capabilities"))
    layers = _layer_sources(layer_sources, sam, template_path) if target == LOCAL else {}
    python = resolve_python(python_paths, python_substitutes, sam, template_path.resolve().parent,
                            node_paths=node_paths, node_substitutes=node_substitutes) \
        if target == LOCAL else PythonSettings()
    return DeploySettings(
        template_path=template_path, stack_name=str(name or default_stack_name(template_path)), target=target,
        region=_region(region, sam, target),
        parameter_overrides=overrides, execute=not (no_execute or bool(sam.get("no_execute_changeset"))),
        verify=not no_verify, home=home if home is not None else state_home(template_path), samconfig=sam,
        account_id=account_id, strict=strict, wait=wait, force=force,
        disable_rollback=disable_rollback or bool(sam.get("disable_rollback")),
        shift_speed=shift_speed, error_threshold=error_threshold, build_progress=build_progress,
        s3_bucket=str(bucket or ""), s3_prefix=str(s3_prefix if s3_prefix is not None else sam.get("s3_prefix") or ""),
        profile=profile or sam.get("profile"), endpoint_url=endpoint_url or sam.get("endpoint_url"),
        capabilities=tuple(caps) or DEFAULT_CAPABILITIES, tags=tag_values, layer_sources=layers,
        python=python, **more)


# `sam deploy` settings of the AWS target: flag (None: not given) > samconfig.toml key of the same name > default
_SAM_FLAGS = ("resolve_s3", "confirm_changeset", "fail_on_empty_changeset")
_SAM_TEXTS = ("role_arn", "kms_key_id", "on_failure")
ON_FAILURE = ("ROLLBACK", "DELETE", "DO_NOTHING")


def _sam_deploy_settings(flags: dict[str, Any], sam: dict[str, Any]) -> dict[str, Any]:
    """The ``DeploySettings`` fields for ``sam deploy``'s other options (``--resolve-s3``, ``--confirm-changeset``,
    ``--fail-on-empty-changeset``, ``--role-arn``, ``--notification-arns``, ``--kms-key-id``, ``--on-failure``)."""
    from strata.deploy.samconfig import words

    unknown = set(flags) - {*_SAM_FLAGS, *_SAM_TEXTS, "notification_arns"}
    if unknown:
        raise TypeError(f"resolve_deploy() got unexpected settings {sorted(unknown)}")
    out: dict[str, Any] = {}
    for key in _SAM_FLAGS:
        value = flags.get(key)
        out[key] = bool(sam.get(key, False) if value is None else value)
    for key in _SAM_TEXTS:
        value = flags.get(key) or sam.get(key)
        out[key] = str(value) if value else None
    given = [a for text in flags.get("notification_arns") or () for a in str(text).replace(",", " ").split()]
    out["notification_arns"] = tuple(given or words(sam.get("notification_arns")))
    if out["on_failure"] is not None and out["on_failure"].upper() not in ON_FAILURE:
        raise MissingSettingError(f"on_failure {out['on_failure']!r} is not one of {', '.join(ON_FAILURE)}",
                                  hint="fix --on-failure or on_failure in samconfig.toml")
    if out["on_failure"] is not None:
        out["on_failure"] = out["on_failure"].upper()
    return out


def _layer_sources(flags: tuple[str, ...], sam: dict[str, Any], template_path: Path) -> dict[str, Any]:
    """Layer ARN -> source: the flags (paths from the working folder) over samconfig.toml's
    ``strata_layer_sources`` (paths from the template's folder)."""
    from strata.artifacts.external_layers import parse_mappings

    found = parse_mappings(sam.get("strata_layer_sources"), template_path.resolve().parent, "samconfig.toml")
    found.update(parse_mappings(flags, Path.cwd(), "--layer-source"))
    return found


@dataclass(frozen=True)
class StackRef:
    """A deployed stack and where it is: the local state folder, or an AWS account reached through a session."""

    target: str
    name: str
    home: Path
    region: str | None = None
    account_id: str = DEFAULT_ACCOUNT
    profile: str | None = None
    endpoint_url: str | None = None
    template_path: Path | None = None      # the template named (what `verify --repair` builds artifacts from)

    @property
    def local_region(self) -> str:
        """The region the local target uses: the one named, else ``DEFAULT_REGION``."""
        return self.region or DEFAULT_REGION

    def session(self) -> Any:
        """The ``AwsSession`` for an AWS stack."""
        from strata.aws.session import AwsSession

        return AwsSession(self.region, self.profile, self.endpoint_url)


def resolve_stack(*, template_file: str | None = "template.yaml", stack_name: str | None = None,
                  target: str = LOCAL, region: str | None = None, account_id: str = DEFAULT_ACCOUNT,
                  profile: str | None = None, endpoint_url: str | None = None, config_file: str | None = None,
                  config_env: str = "default") -> StackRef:
    """Flags first, then samconfig.toml's deploy section, then the template folder's name (and us-east-1 locally)."""
    from strata.paths import state_home
    from strata.transform.pipeline import default_stack_name

    template_path = Path(template_file or "template.yaml")
    sam = samconfig_for(template_path, config_file, config_env)
    return StackRef(target, str(stack_name or sam.get("stack_name") or default_stack_name(template_path)),
                    state_home(template_file), _region(region, sam, target),
                    account_id, profile or sam.get("profile"), endpoint_url or sam.get("endpoint_url"),
                    template_path)


def _region(flag: str | None, sam: dict[str, Any], target: str) -> str | None:
    """The flag, else samconfig.toml's, else ``DEFAULT_REGION`` locally (None on AWS: boto3's chain decides)."""
    region = flag or sam.get("region")
    return str(region) if region else (DEFAULT_REGION if target == LOCAL else None)
