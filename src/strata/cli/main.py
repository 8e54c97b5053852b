"""The ``strata`` command group and the single error boundary.

Sub-commands are imported only when invoked (``LazyGroup``), so ``strata --help`` imports neither boto3 nor
aws-sam-translator. Every ``StrataError`` becomes its message on stderr and its exit code (1); click's usage errors
exit 2; anything else is a bug: a one-line report (full traceback with ``STRATA_DEBUG=1``) and exit 1.
"""
from __future__ import annotations

import importlib
import os
import sys
from typing import TYPE_CHECKING

import click

from strata import __version__

if TYPE_CHECKING:
    from strata.errors import StorageError

# verb -> "module:attribute". One line per verb; the module holds a click command named after the verb.
COMMANDS: dict[str, str] = {
    "daemon": "strata.cli.daemon:daemon",
    "validate": "strata.cli.validate:validate",
    "build": "strata.cli.build:build",
    "transform": "strata.cli.transform:transform",
    "invoke": "strata.cli.invoke:invoke",
    "generate-event": "strata.cli.generate_event:generate_event",
    "logs": "strata.cli.logs:logs",
    "verify": "strata.cli.verify:verify",
    "serve": "strata.cli.serve:serve",
    "dev": "strata.cli.dev:dev",
    "env": "strata.cli.env:env",
    "deploy": "strata.cli.deploy:deploy",
    "plan": "strata.cli.plan:plan",
    "describe": "strata.cli.describe:describe",
    "stacks": "strata.cli.stacks:stacks",
    "events": "strata.cli.events:events",
    "delete": "strata.cli.delete:delete",
    "rollback": "strata.cli.rollback:rollback",
    "prune": "strata.cli.prune:prune",
    "ssm": "strata.cli.ssm:ssm",
}

HELP_SUMMARIES: dict[str, str] = {
    "daemon": "Start/stop the opt-in warm daemon that removes start-up cost.",
    "validate": "Check a template: syntax, tags, parameters, SAM rules.",
    "build": "Build code and layer folders into deterministic, cached zips.",
    "transform": "Produce the stack template, with exact Version ids.",
    "invoke": "Invoke a function on the local Lambda service.",
    "generate-event": "Print a sample event (API Gateway, SQS, SNS, S3, ...) for `strata invoke --event -`.",
    "logs": "Show a function's invocation logs.",
    "verify": "Check that every function and alias serves what was deployed.",
    "serve": "Serve the local Lambda service over Lambda's REST API (boto3/AWS CLI --endpoint-url).",
    "dev": "Deploy locally, serve the Lambda API, and deploy every save (watch mode).",
    "env": "Print the exports that point boto3 and the AWS CLI at the running server: eval \"$(strata env)\".",
    "deploy": "Deploy the template to the local Lambda service (plan, then apply).",
    "plan": "Show what deploy would change, and why each version is published.",
    "describe": "Show a stack's resources, versions, aliases and outputs.",
    "stacks": "List the locally deployed stacks.",
    "events": "Show a stack's deploy events.",
    "delete": "Delete a stack and its resources.",
    "rollback": "Move an alias back to its previous version (checked, verified, pinned).",
    "prune": "Delete old function and layer versions that no alias, pin or template needs.",
    "ssm": "The local SSM parameter store that SSM-typed parameters and {{resolve:ssm:...}} read.",
}


class LazyGroup(click.Group):
    """A click group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List verbs from ``HELP_SUMMARIES`` instead of importing every command module."""
        rows = [(name, HELP_SUMMARIES.get(name, "")) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="strata")
def cli() -> None:
    """strata deploys AWS SAM apps so that a Lambda function gets a new version exactly when
    something a version contains (code, configuration, layers) changes, and never otherwise."""


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the group inside the error boundary."""
    from strata.errors import StrataError

    _collect_less()

    try:
        rv = cli.main(args=argv, prog_name="strata", standalone_mode=False)
    except StrataError as exc:
        click.echo(f"Error: {exc.render()}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(1)
    except Exception as exc:  # a bug: say so plainly, unless it is storage failing (damaged, read-only, full)
        if os.environ.get("STRATA_DEBUG"):
            raise
        storage = _storage_error(exc)
        if storage is not None:
            click.echo(f"Error: {storage.render()}", err=True)
            sys.exit(storage.exit_code)
        click.echo(f"Internal error ({type(exc).__name__}: {exc}). Re-run with STRATA_DEBUG=1 for the traceback.",
                   err=True)
        sys.exit(1)
    sys.exit(rv if isinstance(rv, int) else 0)


def _storage_error(exc: Exception) -> StorageError | None:
    """A damaged database, read-only folder or full disk that reached the boundary without a state-layer translation
    (``strata.local.state_file.translate`` decides, and names the file)."""
    if not isinstance(exc, OSError) and type(exc).__module__ != "sqlite3":
        return None
    from strata.local.state_file import translate

    return translate(exc)


def _collect_less() -> None:
    """Run the cyclic garbage collector every 50,000 net allocations instead of 700. A command allocates in bursts
    and keeps most of it until it exits (a 500-function stack is ~35,000 dicts and lists, read several times): at the
    default thresholds the collector ran ~650 times in a template-edit deploy, re-walking what stays alive, a quarter
    of the deploy's time. Reference counting still frees everything else at once; only cycles wait longer."""
    import gc

    gc.set_threshold(50_000, 20, 10)


if __name__ == "__main__":  # pragma: no cover
    main()
