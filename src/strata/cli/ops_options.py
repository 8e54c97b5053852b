"""What ``strata deploy`` gains from the ops features: ``--force`` (move rollback-pinned aliases forward),
``--shift-speed``/``--error-threshold`` (local traffic shifting, ``strata.local.shift``), and automatic pruning after a
deploy (``Metadata: strata: prune`` in the template, or ``strata_prune_keep`` in samconfig.toml). Kept apart from
``deploy.py`` so that module only wires them in."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

OPTIONS = [
    click.option("--force", is_flag=True,
                 help="Move aliases pinned by `strata rollback` forward to the template's version."),
    click.option("--shift-speed", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
                 help="Traffic shifting (DeploymentPreference, local target): run the schedule F times faster "
                      "(60: a minute takes a second)."),
    click.option("--error-threshold", type=click.FloatRange(0, 100), default=0.0, show_default=True,
                 help="Traffic shifting (local target): roll back when the new version's error rate exceeds this "
                      "percentage (stands in for CloudWatch alarms; 0: any error)."),
]


def ops_deploy_options(function: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(OPTIONS):
        function = option(function)
    return function


def deployed_stack_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """Where a deployed stack is, for the verbs that act on one (rollback, prune): template (for its folder's
    name and samconfig.toml), stack name, target, region/account, AWS connection, output format."""
    from strata.aws.options import aws_connection_options
    from strata.cli.options import output_option, region_option, template_option

    for option in reversed([
        template_option,
        click.option("--stack-name", default=None, help="Stack name (default: the template folder's name)."),
        click.option("--target", type=click.Choice(["local", "aws"]), default="local", show_default=True,
                     help="Where the stack is deployed."),
        region_option,
        click.option("--account-id", default="123456789012", show_default=True, help="Account id (local target)."),
        aws_connection_options,
        output_option,
    ]):
        function = option(function)
    return function


@dataclass(frozen=True)
class OpsFlags:
    force: bool = False
    shift_speed: float = 1.0
    error_threshold: float = 0.0        # percent


def take_ops(kwargs: dict[str, Any]) -> OpsFlags:
    """Remove the ops options from the deploy command's extra keyword arguments."""
    return OpsFlags(bool(kwargs.pop("force", False)), float(kwargs.pop("shift_speed", 1.0)),
                    float(kwargs.pop("error_threshold", 0.0)))


def shifter_for(flags: OpsFlags, echo: Callable[[str], None] | None) -> Any:
    """The engine's traffic shifter, built on first use (a deploy without DeploymentPreference never imports
    ``strata.local.shift``); ``echo`` prints its progress live: phase or weight changes at once, counts at most once a
    second."""
    return _LazyShifter(flags, echo)


class _LazyShifter:
    def __init__(self, flags: OpsFlags, echo: Callable[[str], None] | None) -> None:
        self.flags, self.echo = flags, echo
        self._shifter: Any = None
        self._last: tuple[Any, float] = (None, 0.0)

    def _show(self, progress: Any) -> None:
        if self.echo is None:
            return
        key, now = (progress.phase, progress.weight), time.monotonic()
        if key != self._last[0] or now - self._last[1] >= 1.0 or progress.phase in ("complete", "failed"):
            self.echo(progress.text())
            self._last = (key, now)

    def update_alias(self, *args: Any) -> Any:
        if self._shifter is None:
            from strata.local.shift.shifter import Shifter

            self._shifter = Shifter(speed=self.flags.shift_speed, error_threshold=self.flags.error_threshold / 100,
                                    on_progress=self._show)
        return self._shifter.update_alias(*args)


def auto_prune(home: Path, stack_name: str, template: dict[str, Any], template_file: str, aws: dict[str, Any], *,
               region: str, account_id: str, echo: Callable[[str], None] | None) -> Any:
    """After a local deploy: prune as the template's Metadata or samconfig.toml asks (None when neither does)."""
    from strata.samconfig import find_samconfig, read_samconfig
    from strata.ops.prune import prune_local, prune_settings

    sam = read_samconfig(find_samconfig(Path(template_file), aws.get("config_file")),
                         env=aws.get("config_env") or "default", command="deploy")
    settings = prune_settings(template, sam)
    if settings is None:
        return None
    report = prune_local(home, stack_name, keep=settings.keep, include_layers=settings.include_layers,
                         region=region, account_id=account_id)
    if echo is not None and (report.deleted or report.failures):
        echo(f"Automatic prune ({settings.source}):\n" + report.text())
    return report
