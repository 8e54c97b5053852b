"""Options shared by several verbs, spelled as SAM CLI spells them (what they mean is resolved in
``strata.deploy.settings``, not here)."""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from click.core import ParameterSource

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_TEMPLATES = ("template.yaml", "template.yml", "template.json")


def _sam_default_template(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """Without -t, SAM CLI takes the first of template.yaml, template.yml, template.json in the current folder (many
    public apps ship a template.yml); an explicit -t is taken as given."""
    if param.name and ctx.get_parameter_source(param.name) is ParameterSource.DEFAULT:
        return next((name for name in DEFAULT_TEMPLATES if Path(name).is_file()), value)
    return value


template_option = click.option(
    "-t", "--template-file", "--template", "template_file", default="template.yaml", show_default=True,
    type=click.Path(dir_okay=False), callback=_sam_default_template,
    help="The SAM or CloudFormation template (default: template.yaml, else template.yml, else template.json).")


class ManyValuesOption(click.Option):
    """An option that takes every argument after it up to the next option, as SAM CLI's ``--parameter-overrides``
    and ``--tags`` do (``--parameter-overrides A=1 B=2`` unquoted); repeatable. Click has no such nargs, so the
    parser's option is wrapped as SAM CLI does it (``samcli.cli.types``' OptionNargs)."""

    def add_to_parser(self, parser: Any, ctx: click.Context) -> None:
        super().add_to_parser(parser, ctx)
        for name in self.opts:
            found = parser._long_opt.get(name) or parser._short_opt.get(name)
            if found is not None:
                found.process = _greedy(found.process)


def _greedy(process: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    def take_all(value: Any, state: Any) -> None:
        process(value, state)
        while state.rargs and not state.rargs[0].startswith("-"):
            process(state.rargs.pop(0), state)
    return take_all


parameter_overrides_option = click.option(
    "--parameter-overrides", "parameter_overrides", multiple=True, cls=ManyValuesOption,
    help="Parameter values: Key=Value pairs (one or several arguments; quote values with spaces), "
         "ParameterKey=K,ParameterValue=V, or JSON (inline or file://params.json). Parameters not given keep "
         "the value of the previous deploy (as sam deploy does).")
region_option = click.option(
    "--region", default=None, help="Region for pseudo parameters and ARNs (default us-east-1).")
def _load_env_vars(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    """Parse the --env-vars file at the edge: a bad file is an error naming it (exit 1) before anything runs."""
    if value is None:
        return None
    from strata.local.env_vars import load

    return load(value)


env_vars_option = click.option(
    "--env-vars", "env_vars", default=None, metavar="FILE", type=click.Path(dir_okay=False), callback=_load_env_vars,
    help='Local environment overrides in SAM CLI\'s JSON format: {"Parameters": {"VAR": "v"}, "Function": '
         '{"VAR": "v"}} (a function by logical id, function name or Stack/LogicalId; only variables it declares). '
         'Never deployed: no new version.')
def _load_jwks(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> Any:
    """--jwks ISSUER=LOCATION entries (over STRATA_JWKS) as the gateway's key source; a bad entry is a usage error."""
    from strata.local.gateway.jwks import JwksSource

    try:
        return JwksSource.from_settings(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from exc


jwks_option = click.option(
    "--jwks", "jwks", multiple=True, metavar="ISSUER=PATH", callback=_load_jwks,
    help="Signing keys of a JWT authorizer's issuer, locally: a JWKS file, file:// URL or http(s) URL on 127.0.0.1 "
         "(repeatable; also STRATA_JWKS=\"ISSUER=PATH ...\"). Keys are never fetched from the internet.")
output_option = click.option(
    "--output", "output", type=click.Choice(["text", "json"]), default="text", show_default=True,
    help="text for people, json for scripts.")


def echo_json(value: Any) -> None:
    """Print ``value`` as JSON on stdout (the only thing a ``--output json`` command prints there)."""
    click.echo(json.dumps(value, indent=2, sort_keys=True, default=str))


def apply_options(options: list[Callable[[F], F]]) -> Callable[[F], F]:
    """One decorator for a list of click options, in the order listed."""
    def decorate(function: F) -> F:
        for option in reversed(options):
            function = option(function)
        return function
    return decorate


# --- which Python runs a pythonX.Y function (local target; strata.model.python) --------------------------------------
PYTHON = [
    click.option("--python", "python_paths", multiple=True, metavar="X.Y=PATH",
                 help="Local target: run pythonX.Y functions on this interpreter (it must be Python X.Y). "
                      "Repeatable; samconfig.toml: python; environment: STRATA_PYTHON. Default: found on PATH, in "
                      "pyenv, uv or asdf installs."),
    click.option("--allow-python-substitute", "python_substitutes", multiple=True, metavar="X.Y=A.B",
                 help="Local target: when no Python X.Y is found, run pythonX.Y functions on Python A.B (said in "
                      "deploy, describe and each cold start's INIT_START line). Repeatable; samconfig.toml: "
                      "allow_python_substitute; environment: STRATA_ALLOW_PYTHON_SUBSTITUTE."),
    click.option("--node", "node_paths", multiple=True, metavar="N=PATH",
                 help="Local target: run nodejsN.x functions on this node binary (it must be Node.js N). "
                      "Repeatable; samconfig.toml: node; environment: STRATA_NODE. Default: found on PATH, in nvm, "
                      "volta, fnm or asdf installs."),
    click.option("--allow-node-substitute", "node_substitutes", multiple=True, metavar="N=M",
                 help="Local target: when no Node.js N is found, run nodejsN.x functions on Node.js M (said like "
                      "--allow-python-substitute). Repeatable; samconfig.toml: allow_node_substitute; environment: "
                      "STRATA_ALLOW_NODE_SUBSTITUTE."),
]
python_options = apply_options(PYTHON)


def use_python_flags(paths: tuple[str, ...], substitutes: tuple[str, ...], node_paths: tuple[str, ...] = (),
                     node_substitutes: tuple[str, ...] = ()) -> None:
    """For the commands that run functions without deploying (invoke, serve): these flags over the settings the last
    deploy recorded in the state home."""
    from strata.local.runtime.interpreter import use
    from strata.model.python import from_flags

    if paths or substitutes or node_paths or node_substitutes:
        use(from_flags(paths, substitutes, node_paths, node_substitutes))


# --- where settings come from: samconfig.toml (both targets), and the AWS connection ---------------------------------
CONFIG = [
    click.option("--config-file", default=None, help="SAM config file (default: samconfig.toml beside the template)."),
    click.option("--config-env", default="default", show_default=True,
                 help="Environment section of the SAM config file."),
]
CONNECTION = [
    click.option("--profile", default=None, help="AWS named profile (aws target)."),
    click.option("--endpoint-url", default=None,
                 help="Send every AWS call to this endpoint (moto, LocalStack; aws target)."),
    *CONFIG,
]
AWS_DEPLOY = [
    click.option("--s3-bucket", default=None, help="Bucket for code artifacts (aws target)."),
    click.option("--s3-prefix", default=None, help="Key prefix (folder) for the artifacts in the bucket (aws target)."),
    click.option("--capabilities", multiple=True,
                 help="CloudFormation capabilities, e.g. CAPABILITY_IAM (default), CAPABILITY_NAMED_IAM (aws target)."),
    click.option("--tags", multiple=True, cls=ManyValuesOption, help="Stack tags as Key=Value pairs (aws target)."),
    click.option("--no-verify", is_flag=True, help="Skip verifying the deployed functions at the end."),
    # sam deploy's other options (aws target); None when not given, so samconfig.toml's keys fill them
    click.option("--resolve-s3", is_flag=True, default=None,
                 help="No --s3-bucket: use SAM's managed bucket (stack aws-sam-cli-managed-default), made once."),
    click.option("--confirm-changeset/--no-confirm-changeset", default=None,
                 help="Show the change set and ask before executing it."),
    click.option("--fail-on-empty-changeset/--no-fail-on-empty-changeset", default=None,
                 help="Exit 1 when the deploy has no changes (default: no changes is a success)."),
    click.option("--role-arn", default=None, help="Service role CloudFormation assumes for the stack operation."),
    click.option("--notification-arns", multiple=True, cls=ManyValuesOption,
                 help="SNS topic ARNs CloudFormation notifies of stack events."),
    click.option("--kms-key-id", default=None, help="KMS key to encrypt the uploaded artifacts with."),
    click.option("--on-failure", type=click.Choice(["ROLLBACK", "DELETE", "DO_NOTHING"], case_sensitive=False),
                 default=None, help="What a failed deploy leaves: roll back (default), delete a new stack, nothing."),
]

config_options = apply_options(CONFIG)
aws_connection_options = apply_options(CONNECTION)
aws_deploy_options = apply_options(CONNECTION + AWS_DEPLOY)


# --- debugging (invoke, serve, dev): one function's worker under debugpy ---------------------------------------------
DEBUG = [
    click.option("--debug", "debug_function", default=None, metavar="FUNCTION",
                 help="Run FUNCTION (logical id or function name) under debugpy: its worker listens on 127.0.0.1 "
                      "(--debug-port) and waits for a debugger to attach before its code is imported. Lambda's "
                      "timeout is not enforced while debugging; one invocation of it at a time."),
    click.option("--debug-port", default=5678, show_default=True, type=click.IntRange(1, 65535),
                 help="The port the debugged function's worker listens on for the debugger (127.0.0.1 only)."),
]
debug_options = apply_options(DEBUG)
