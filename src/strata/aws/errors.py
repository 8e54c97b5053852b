"""The one place where botocore's exceptions become ``StrataError``s that say where, what and what to do.

Call sites wrap AWS calls in ``with aws_errors("uploading code to s3://b/k", bucket="b"):``; the context names the
action and the resources, the mapping below turns the service's code into advice. Modelled on httpx's
``map_httpcore_exceptions``: nothing else in strata catches botocore exceptions.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from strata.errors import StrataError


class AwsError(StrataError):
    """An AWS call failed; ``code`` is the service's error code when there is one."""

    def __init__(self, message: str, *, hint: str | None = None, code: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.code = code


class CredentialsError(AwsError):
    """No usable credentials: missing, expired or rejected."""


class AccessDeniedError(AwsError):
    """The credentials work but lack a permission."""


class BucketNotFoundError(AwsError):
    """The deployment bucket does not exist (or not in this account)."""


class EndpointError(AwsError):
    """The service endpoint could not be reached."""


class StackStateError(AwsError):
    """The stack is in a state that does not allow this operation (ROLLBACK_COMPLETE, in progress, ...)."""


class StackNotFoundError(AwsError):
    """The stack does not exist."""


class DeployFailedError(AwsError):
    """The change set or the stack operation failed."""


CREDENTIALS_HINT = ("configure credentials (aws configure, AWS_PROFILE / --profile, or AWS_ACCESS_KEY_ID and "
                    "AWS_SECRET_ACCESS_KEY)")
_CREDENTIAL_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId",
                               "UnrecognizedClientException", "SignatureDoesNotMatch", "InvalidAccessKeyId",
                               "AuthFailure", "IncompleteSignature", "RequestExpired"})
_ACCESS_CODES = frozenset({"AccessDenied", "AccessDeniedException", "403", "Forbidden", "UnauthorizedOperation",
                           "AuthorizationError"})
_THROTTLE_CODES = frozenset({"Throttling", "ThrottlingException", "TooManyRequestsException", "SlowDown",
                             "RequestLimitExceeded"})


def translate(exc: BaseException, where: str, **context: Any) -> StrataError:
    """The ``StrataError`` for a botocore exception raised while ``where`` (e.g. "creating change set for s")."""
    from botocore import exceptions as bx

    if isinstance(exc, StrataError):
        return exc
    if isinstance(exc, (bx.NoCredentialsError, bx.PartialCredentialsError)):
        return CredentialsError(f"no AWS credentials found while {where}", hint=CREDENTIALS_HINT)
    if isinstance(exc, bx.ProfileNotFound):
        return CredentialsError(
            f"AWS profile {context.get('profile') or ''!s} not found while {where}".replace("  ", " "),
            hint="list profiles with `aws configure list-profiles`, or drop --profile")
    if isinstance(exc, (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ReadTimeoutError)):
        return EndpointError(f"cannot reach AWS while {where}: {exc}",
                             hint="check the network, the region (--region) and --endpoint-url")
    if isinstance(exc, bx.WaiterError):
        reason = _waiter_reason(exc)
        return DeployFailedError(f"{where} failed: {reason}")
    if isinstance(exc, bx.ClientError):
        return _client_error(exc, where, context)
    if isinstance(exc, bx.BotoCoreError):
        return AwsError(f"AWS error while {where}: {exc}")
    return AwsError(f"unexpected error while {where}: {type(exc).__name__}: {exc}")


@contextmanager
def aws_errors(where: str, **context: Any) -> Iterator[None]:
    """Translate any botocore exception raised inside the block (see ``translate``)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        raise translate(exc, where, **context) from exc


def error_code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    return (response.get("Error") or {}).get("Code") if isinstance(response, dict) else None


def error_message(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str((response.get("Error") or {}).get("Message") or "")
    return str(exc)


def _client_error(exc: Any, where: str, context: dict[str, Any]) -> StrataError:
    code = error_code(exc) or ""
    message = error_message(exc)
    status = (exc.response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
    for rule in _RULES:
        found = rule(code, message, status, where, context)
        if found is not None:
            return found
    text = f"{where} failed: {code}: {message}" if message else f"{where} failed: {code}"
    return AwsError(text, code=code)


def _bucket_missing(code: str, message: str, status: Any, where: str, ctx: dict[str, Any]) -> StrataError | None:
    if code in ("NoSuchBucket",) or (code in ("404", "NotFound") and ctx.get("bucket") and not ctx.get("key")):
        bucket = ctx.get("bucket", "?")
        return BucketNotFoundError(
            f"S3 bucket {bucket} does not exist (while {where})", code=code,
            hint=f"create it (aws s3 mb s3://{bucket}) or pass --s3-bucket with an existing bucket you can write to")
    if code in ("301", "PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException"):
        return AwsError(f"S3 bucket {ctx.get('bucket', '?')} is in another region (while {where})", code=code,
                        hint="pass --region with the bucket's region, or use a bucket in the stack's region")
    return None


def _credentials(code: str, message: str, status: Any, where: str, ctx: dict[str, Any]) -> StrataError | None:
    if code in _CREDENTIAL_CODES:
        return CredentialsError(f"AWS rejected the credentials while {where}: {message or code}", code=code,
                                hint="refresh them (aws sso login, new session token) or choose another --profile")
    return None


def _access(code: str, message: str, status: Any, where: str, ctx: dict[str, Any]) -> StrataError | None:
    if code in _ACCESS_CODES or (status == 403 and code not in _CREDENTIAL_CODES):
        who = f" (profile {ctx['profile']})" if ctx.get("profile") else ""
        return AccessDeniedError(f"access denied while {where}{who}" + (f": {message}" if message else ""),
                                 code=code, hint="grant the credentials' role the permission named above, "
                                                 "or use a profile that has it")
    return None


def _stack_state(code: str, message: str, status: Any, where: str, ctx: dict[str, Any]) -> StrataError | None:
    stack = ctx.get("stack", "?")
    if "ROLLBACK_COMPLETE" in message and "UPDATE_ROLLBACK_COMPLETE" not in message:
        return StackStateError(
            f"stack {stack} is in ROLLBACK_COMPLETE: its first creation failed, and it cannot be updated", code=code,
            hint=f"delete it (aws cloudformation delete-stack --stack-name {stack}) and deploy again")
    if "_IN_PROGRESS state" in message:
        return StackStateError(f"stack {stack} is busy with another operation ({message})", code=code,
                               hint="wait until it finishes (aws cloudformation describe-stacks), then deploy again")
    if code == "ValidationError" and "does not exist" in message and "Stack" in message:
        return StackNotFoundError(f"stack {stack} does not exist (while {where})", code=code,
                                  hint="check --stack-name and --region, or deploy it first")
    return None


def _capabilities(code: str, message: str, status: Any, where: str, ctx: dict[str, Any]) -> StrataError | None:
    if code == "InsufficientCapabilitiesException" or "Requires capabilities" in message:
        return DeployFailedError(f"{where} failed: {message}", code=code,
                                 hint="pass --capabilities CAPABILITY_IAM (or CAPABILITY_NAMED_IAM for named roles)")
    return None


def _throttled(code: str, message: str, status: Any, where: str, ctx: dict[str, Any]) -> StrataError | None:
    if code in _THROTTLE_CODES:
        return AwsError(f"AWS throttled the requests while {where}", code=code, hint="wait a minute and run again")
    return None


def _lambda_not_found(code: str, message: str, status: Any, where: str, ctx: dict[str, Any]) -> StrataError | None:
    if code == "ResourceNotFoundException":
        return AwsError(f"{where} failed: {message}", code=code,
                        hint="the resource is gone; deploy the stack again to recreate it")
    return None


_RULES: tuple[Callable[[str, str, Any, str, dict[str, Any]], StrataError | None], ...] = (
    _credentials, _bucket_missing, _stack_state, _capabilities, _access, _throttled, _lambda_not_found)


def _waiter_reason(exc: Any) -> str:
    last = getattr(exc, "last_response", None) or {}
    if isinstance(last, dict):
        for key in ("StatusReason", "StackStatusReason"):
            if last.get(key):
                return str(last[key])
        error = last.get("Error")
        if isinstance(error, dict) and error.get("Message"):
            return str(error["Message"])
    return str(getattr(exc, "reason", exc))
