"""The ``context`` argument a handler receives, built inside the worker (members as in Lambda's Python runtime).

Runs in the worker process: standard library only, nothing that costs import time (no dataclasses, no base64).
"""
from __future__ import annotations

import binascii
import os
import sys
import time

TYPE_CHECKING = False           # typing.TYPE_CHECKING without importing typing (the worker's start-up is cold start)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


class CognitoIdentity:
    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, identity: dict | None = None) -> None:
        if not identity:                    # every invocation without one: skip the look-ups
            self.cognito_identity_id = self.cognito_identity_pool_id = None
            return
        self.cognito_identity_id = identity.get("cognitoIdentityId", identity.get("cognito_identity_id"))
        self.cognito_identity_pool_id = identity.get("cognitoIdentityPoolId",
                                                     identity.get("cognito_identity_pool_id"))

    def __repr__(self) -> str:
        return (f"CognitoIdentity([cognito_identity_id={self.cognito_identity_id}, "
                f"cognito_identity_pool_id={self.cognito_identity_pool_id}])")


class Client:
    __slots__ = ("installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name")

    def __init__(self, data: dict) -> None:
        for name in self.__slots__:
            setattr(self, name, data.get(name))

    def __repr__(self) -> str:
        return "Client(" + ", ".join(f"{name}={getattr(self, name)}" for name in self.__slots__) + ")"


class ClientContext:
    __slots__ = ("client", "custom", "env")

    def __init__(self, data: dict) -> None:
        client = data.get("client")
        self.client = Client(client) if isinstance(client, dict) else None
        self.custom = data.get("custom")
        self.env = data.get("env")

    def __repr__(self) -> str:
        return f"ClientContext([client={self.client}, custom={self.custom}, env={self.env}])"


class ClientContextError(Exception):
    """The client context header was not base64 JSON (Lambda: ``Runtime.LambdaContextUnmarshalError``)."""


def parse_client_context(encoded: str | None, loads: Callable[[bytes], Any]) -> ClientContext | None:
    """Decode the base64 JSON client context as sent on the wire (``loads`` is the worker's json.loads)."""
    if not encoded:
        return None
    try:
        data = loads(binascii.a2b_base64(encoded.encode("ascii")))
    except (ValueError, TypeError, binascii.Error, UnicodeError) as exc:
        raise ClientContextError(f"Unable to parse Client Context JSON: {exc}") from None
    return ClientContext(data if isinstance(data, dict) else {})


class LambdaContext:
    """The per-invocation context. Function-level members are read from the environment once per worker, as the
    runtime sets them before the handler module is imported."""

    __slots__ = ("aws_request_id", "invoked_function_arn", "client_context", "_identity", "tenant_id",
                 "_deadline_ms")

    function_name = ""
    function_version = ""
    memory_limit_in_mb = ""
    log_group_name = ""
    log_stream_name = ""

    @classmethod
    def configure(cls) -> None:
        env = os.environ
        cls.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME", "")
        cls.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION", "")
        cls.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "")
        cls.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        cls.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME", "")

    def __init__(self, request_id: str, deadline_ms: float, invoked_function_arn: str,
                 client_context: ClientContext | None = None, identity: dict | None = None,
                 tenant_id: str | None = None) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_function_arn
        self.client_context = client_context
        if identity:
            self._identity = CognitoIdentity(identity)
        self.tenant_id = tenant_id
        self._deadline_ms = deadline_ms

    @property
    def identity(self) -> CognitoIdentity:
        """Made when first read: an invocation without one (all of them, here) does not pay for the object. Each
        invocation gets its own, as in Lambda."""
        try:
            return self._identity
        except AttributeError:
            identity = self._identity = CognitoIdentity(None)
            return identity

    @identity.setter
    def identity(self, value: CognitoIdentity) -> None:
        self._identity = value

    def get_remaining_time_in_millis(self) -> int:
        remaining = int(self._deadline_ms - time.time() * 1000)
        return remaining if remaining > 0 else 0

    def log(self, msg: str) -> None:
        sys.stdout.write(str(msg))

    def __repr__(self) -> str:
        return (f"LambdaContext([aws_request_id={self.aws_request_id},log_group_name={self.log_group_name},"
                f"log_stream_name={self.log_stream_name},function_name={self.function_name},"
                f"memory_limit_in_mb={self.memory_limit_in_mb},function_version={self.function_version},"
                f"invoked_function_arn={self.invoked_function_arn},client_context={self.client_context},"
                f"identity={self.identity},tenant_id={self.tenant_id}])")
