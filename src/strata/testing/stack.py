"""``StrataStack``: a SAM template deployed into a private state home and served by a real ``strata serve`` on
127.0.0.1, for integration tests that need neither Docker nor AWS. What the pytest fixture ``strata_stack`` hands
out (``strata.testing``); usable without pytest as a context manager.

Deploy and serve run as child processes, exactly the commands a user runs (``strata deploy``, ``strata serve``), with
``STRATA_HOME`` set to the private home: the project folder gets no ``.strata/``, and the test process keeps none of
the deploy's state open. Requests are SigV4-signed with the home's key pair, as the server requires.
"""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from strata.errors import StrataError

LambdaClient = Any          # boto3's Lambda client (no stubs for it are installed)

DEPLOY_TIMEOUT = 600.0      # seconds: a first deploy may build dependencies


class StrataStackError(StrataError):
    """The stack could not be deployed or served, or an invocation failed in a way a test did not ask for."""


class FunctionError(StrataStackError):
    """The handler raised (Lambda's ``FunctionError``): ``error`` is Lambda's error object (errorType,
    errorMessage, stackTrace)."""

    def __init__(self, function: str, error: Any) -> None:
        self.function = function
        self.error = error
        kind = error.get("errorType") if isinstance(error, dict) else None
        message = error.get("errorMessage") if isinstance(error, dict) else error
        super().__init__(f"{function} failed: {kind + ': ' if kind else ''}{message}")


@dataclass(frozen=True)
class StackConfig:
    """Which template to deploy, under which stack name, with which parameter values (None: the stack name
    ``strata deploy`` would pick: samconfig.toml's, else the template folder's name)."""

    template: Path
    stack_name: str | None = None
    parameter_overrides: dict[str, str] = field(default_factory=dict)

    def deploy_args(self) -> list[str]:
        args = ["deploy", "-t", str(self.template)]
        if self.stack_name:
            args += ["--stack-name", self.stack_name]
        if self.parameter_overrides:
            args += ["--parameter-overrides", *(f"{key}={value}" for key, value in self.parameter_overrides.items())]
        return args


class StrataStack:
    """A deployed, served stack: ``invoke``, ``lambda_client``, ``functions`` (logical id -> function name),
    ``http_urls`` (API logical id -> base URL; empty until strata serves HTTP APIs), ``url`` (the Lambda endpoint).
    ``stop()`` (or leaving the ``with`` block) stops the server; the home stays for the caller to remove."""

    def __init__(self, config: StackConfig, home: Path) -> None:
        self.config = config
        self.home = Path(home)
        self.stack_name = ""
        self.url = ""
        self.region = ""
        self.functions: dict[str, str] = {}
        self.http_urls: dict[str, str] = {}
        self._process: subprocess.Popen | None = None
        self._client: LambdaClient | None = None

    @classmethod
    def start(cls, config: StackConfig, home: Path) -> StrataStack:
        """Deploy ``config`` into ``home`` and serve it; raises ``StrataStackError`` saying what went wrong."""
        stack = cls(config, home)
        stack._deploy()
        stack._serve()
        return stack

    def __enter__(self) -> StrataStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what tests use ------------------------------------------------------------------------------------------

    @property
    def lambda_client(self) -> LambdaClient:
        """A boto3 Lambda client for the server, signed with the home's keys (made once)."""
        if self._client is None:
            self._client = self.new_lambda_client()
        return self._client

    def new_lambda_client(self, **config: Any) -> LambdaClient:
        """A fresh boto3 Lambda client for the server; ``config`` goes to ``botocore.config.Config``."""
        import boto3
        from botocore.config import Config

        from strata.local import credentials

        keys = credentials.load(self.home)
        if keys is None:
            raise StrataStackError(f"the state home {self.home} has no credentials file")
        session = boto3.session.Session(aws_access_key_id=keys.access_key_id,
                                        aws_secret_access_key=keys.secret_access_key, region_name=self.region)
        return session.client("lambda", endpoint_url=self.url, config=Config(**config))

    def function_name(self, function: str) -> str:
        """``LOGICAL_ID[:QUALIFIER]`` of the stack -> ``function-name[:qualifier]``; anything else as given."""
        from strata.model.naming import FunctionRef

        if function.startswith("arn:"):
            return function
        ref = FunctionRef.parse(function)
        name = self.functions.get(ref.name, ref.name)
        return f"{name}:{ref.qualifier}" if ref.qualifier else name

    def invoke(self, function: str, event: Any = None, *, qualifier: str | None = None) -> Any:
        """Invoke ``function`` (logical id or function name, ``[:QUALIFIER]``) with ``event`` (JSON; default {}) and
        return its decoded answer; a handler error raises ``FunctionError``."""
        name = self.function_name(function)
        args: dict[str, Any] = {"FunctionName": name, "Payload": json.dumps({} if event is None else event).encode()}
        if qualifier:
            args["Qualifier"] = qualifier
        response = self.lambda_client.invoke(**args)
        body = response["Payload"].read()
        answer = json.loads(body) if body else None
        if response.get("FunctionError"):
            raise FunctionError(function, answer)
        return answer

    def stop(self) -> None:
        """Stop the server (idempotent). A server that did not stop cleanly raises ``StrataStackError``."""
        from strata.testing.server import stop_serve

        process, self._process = self._process, None
        if self._client is not None:
            self._client.close()
            self._client = None
        if process is None:
            return
        stop_serve(process)
        if process.returncode != 0:
            raise StrataStackError(f"strata serve for {self.home} exited with {process.returncode}: "
                                   f"{self._log_tail()}")

    # -- starting ------------------------------------------------------------------------------------------------

    def _deploy(self) -> None:
        from strata.deploy.settings import resolve_stack
        from strata.local.engine.describe import describe
        from strata.testing.server import serve_environment

        template = self.config.template
        if not template.is_file():
            raise StrataStackError(f"no template at {template}",
                                   hint="set strata_template (ini) or override the strata_config fixture")
        self.home.mkdir(parents=True, exist_ok=True)
        try:
            done = subprocess.run([sys.executable, "-m", "strata.cli.main", *self.config.deploy_args()],
                                  env=serve_environment(self.home), cwd=template.parent, capture_output=True,
                                  text=True, timeout=DEPLOY_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise StrataStackError(f"strata deploy of {template} took longer than {DEPLOY_TIMEOUT:.0f} s") from None
        if done.returncode != 0:
            raise StrataStackError(f"strata deploy of {template} failed (exit {done.returncode}):\n"
                                   f"{done.stderr.strip() or done.stdout.strip()}")
        self.stack_name = self.config.stack_name or resolve_stack(template_file=str(template)).name
        described = describe(self.home, self.stack_name)
        self.functions = {logical: info["FunctionName"] for logical, info in described["Functions"].items()}

    def _serve(self) -> None:
        from strata.local.discovery import connect
        from strata.testing.server import start_serve

        try:
            self._process = start_serve(self.home, "--stack-name", self.stack_name, log=self.home / "serve.log")
        except RuntimeError as exc:
            raise StrataStackError(str(exc)) from None
        server = connect(self.home)
        if server is None:
            self.stop()
            raise StrataStackError(f"strata serve for {self.home} stopped answering")
        self.url, self.region = server.url, server.region

    def _log_tail(self) -> str:
        try:
            return (self.home / "serve.log").read_text(errors="replace")[-4000:]
        except OSError:
            return ""
