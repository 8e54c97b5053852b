"""AWS's JSON 1.1 protocol, for the services the local server answers beside Lambda's rest-json API.

A JSON 1.1 request is ``POST /`` with ``X-Amz-Target: <TargetPrefix>.<Operation>`` and a JSON body; the answer is a
JSON body (``application/x-amz-json-1.1``), an error a status with ``{"__type": code, "message": ...}`` (botocore reads
the code from ``__type``). ``JsonProtocol`` is mounted on the ``LambdaApp`` (``LambdaApp.mounts``): the app keeps
checking Host and browser requests for every request, then hands a request whose target names one of the mounted
services to it. Each service is signed for its own SigV4 service name (``codedeploy``), with the server's key pairs
and region, and signatures are claimed in the same replay set as Lambda's. Operations are plain
``handler(params) -> result`` functions run in a small thread pool (they may touch the state database); what they
raise with a ``code`` (e.g. ``strata.local.hook_executions.LifecycleError``) is that error, a 400.
"""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from strata.local.lambda_service.context import random_uuid
from strata.local.server.auth import Authorization, SignedRequest, Verifier
from strata.local.server.http import Response
from strata.local.server.limits import DEFAULT as BODY_LIMIT
from strata.model.lambda_errors import LambdaError

log = logging.getLogger("strata.local.server")

JsonHandler = Callable[[dict[str, Any]], dict[str, Any]]
CONTENT_TYPE = b"application/x-amz-json-1.1"
_JSON_MEDIA = ("application/x-amz-json-1.1", "application/x-amz-json-1.0", "application/json")
_FORM_MEDIA = ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data")


@dataclass(frozen=True)
class JsonService:
    """One AWS service spoken in JSON 1.1: its target prefix (``CodeDeploy_20141006``), the service name requests
    are signed for (``codedeploy``) and its operations by name."""

    target_prefix: str
    signing_name: str
    operations: Mapping[str, JsonHandler]


class JsonProtocol:
    """The mount answering every ``JsonService`` given; ``verifier`` is the app's (Lambda's), whose key pairs,
    region, clock and replay set each service's own verifier shares. Without one (in-process tests) nothing is
    checked."""

    def __init__(self, services: Iterable[JsonService], verifier: Verifier | None = None, threads: int = 2) -> None:
        self.services = {service.target_prefix: service for service in services}
        self.verifiers: dict[str, Verifier] = {}
        if verifier is not None:
            for service in self.services.values():
                own = Verifier(verifier.keys, verifier.region, service.signing_name, clock=verifier.clock)
                own.seen = verifier.seen            # a signature is taken once, whichever service it names
                self.verifiers[service.target_prefix] = own
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="strata-json")

    def claims(self, method: str, raw_path: str, headers: dict[str, str]) -> bool:
        """A JSON 1.1 request for a mounted service (Lambda's API never sends ``X-Amz-Target``)."""
        target = headers.get("x-amz-target")
        return target is not None and target.partition(".")[0] in self.services

    def admit(self, method: str, raw_path: str, raw_query: str, headers: dict[str, str],
              connection: object | None = None) -> JsonAdmitted:
        """The head is in (Host and browser checked by the app). Never raises: an error is answered with the body."""
        prefix, _, operation = headers.get("x-amz-target", "").partition(".")
        service = self.services[prefix]
        admitted = JsonAdmitted(self, service, operation, method, raw_path, raw_query, headers, connection)
        try:
            if method != "POST" or raw_path != "/":
                raise JsonError("UnknownOperationException", f"{prefix} operations are POST / (got {method} "
                                                             f"{raw_path[:100]})", 404)
            verifier = self.verifiers.get(prefix)
            admitted.auth = verifier.precheck(headers) if verifier is not None else None
            if admitted.auth is not None and "x-amz-target" not in admitted.auth.signed_headers:
                raise JsonError("IncompleteSignatureException", "X-Amz-Target must be signed: it names the "
                                                                "operation.", 403)
            media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if media.startswith(_FORM_MEDIA):
                from strata.local.server.app import FROM_A_BROWSER

                raise JsonError("AccessDeniedException", FROM_A_BROWSER, 403)
            if media not in _JSON_MEDIA:
                raise JsonError("SerializationException",
                                f"The content type '{media}' is not JSON 1.1 (application/x-amz-json-1.1).", 415)
            if operation not in service.operations:
                raise JsonError("UnknownOperationException", f"Unknown operation {prefix}.{operation[:100]}")
        except (JsonError, LambdaError) as exc:
            admitted.error = exc
        return admitted

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


class JsonError(Exception):
    """An error this module answers itself (routing, content): ``code``, ``message``, HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class JsonAdmitted:
    """A JSON 1.1 request whose head is in: answers itself (``respond``), for ``LambdaApp.respond``."""

    def __init__(self, protocol: JsonProtocol, service: JsonService, operation: str, method: str, raw_path: str,
                 raw_query: str, headers: dict[str, str], connection: object | None) -> None:
        self.protocol, self.service, self.operation = protocol, service, operation
        self.method, self.raw_path, self.raw_query, self.headers = method, raw_path, raw_query, headers
        self.connection = connection
        self.auth: Authorization | None = None
        self.error: Exception | None = None
        self.limit = BODY_LIMIT

    def too_large(self, size: int) -> LambdaError:
        from strata.local.server.limits import too_large

        return too_large(self.operation, None, size)

    def respond(self, body: bytes) -> Response | Any:
        """The response, or an awaitable of it (the operation runs in the protocol's threads)."""
        if self.error is not None:
            return error_response(self.error)
        try:
            headers = self.headers
            if self.auth is not None:
                verifier = self.protocol.verifiers[self.service.target_prefix]
                verifier.verify(SignedRequest(self.method, self.raw_path, self.raw_query, headers, body), self.auth,
                                self.connection)
            try:
                params = json.loads(body) if body.strip() else {}
            except ValueError:
                raise JsonError("SerializationException", "The request body is not valid JSON.") from None
            if not isinstance(params, dict):
                raise JsonError("SerializationException", "The request body must be a JSON object.")
        except (JsonError, LambdaError) as exc:
            return error_response(exc)
        return self._run(self.service.operations[self.operation], params)

    async def _run(self, handler: JsonHandler, params: dict[str, Any]) -> Response:
        try:
            result = await asyncio.get_running_loop().run_in_executor(self.protocol.pool, handler, params)
        except Exception as exc:  # noqa: BLE001 - every failure is an answer; the server keeps serving
            return error_response(exc, f"{self.service.target_prefix}.{self.operation}")
        return 200, [(b"x-amzn-RequestId", random_uuid().encode()), (b"content-type", CONTENT_TYPE)], \
            json.dumps(result, separators=(",", ":")).encode(), False


def error_response(error: Exception, serving: str = "") -> Response:
    """JSON 1.1's error: ``__type`` and ``message`` in the body (and ``x-amzn-ErrorType``), 400 unless the error says
    otherwise. An error with no ``code`` is a bug: logged, answered as a 500."""
    code = getattr(error, "code", None)
    if not isinstance(code, str):
        log.error("internal error serving %s", serving, exc_info=error)
        code, message, status = "InternalFailure", "An internal error occurred.", 500
    else:
        message = str(getattr(error, "message", error))
        status = int(getattr(error, "status", 400)) if isinstance(error, JsonError | LambdaError) else 400
    body = json.dumps({"__type": code, "message": message}, separators=(",", ":")).encode()
    close = bool(getattr(error, "close_connection", False))
    return status, [(b"x-amzn-RequestId", random_uuid().encode()), (b"x-amzn-ErrorType", code.encode()),
                    (b"content-type", CONTENT_TYPE)], body, close

