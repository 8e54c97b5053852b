"""Errors only the HTTP door can raise: routing, authentication, malformed HTTP, slow clients.

They are ``LambdaError``s, so the server renders them like every other (``x-amzn-ErrorType`` + JSON body); the texts
are the ones AWS's front end sends (authentication errors carry only ``message``, like ``ValidationException``).
"""
from __future__ import annotations

from strata.model.lambda_errors import LambdaError, RequestEntityTooLargeException


class _FrontEndError(LambdaError):
    """An error from AWS's front end (not from Lambda itself): body is just ``{"message": ...}``."""

    message_key = "message"

    def to_body(self) -> dict[str, object]:
        return {"message": self.message}


class UnknownOperationException(LambdaError):
    code, status, message_key = "UnknownOperationException", 404, "message"


class MissingAuthenticationTokenException(_FrontEndError):
    code, status = "MissingAuthenticationTokenException", 403


class IncompleteSignatureException(_FrontEndError):
    code, status = "IncompleteSignatureException", 403


class UnrecognizedClientException(_FrontEndError):
    code, status = "UnrecognizedClientException", 403


class InvalidSignatureException(_FrontEndError):
    code, status = "InvalidSignatureException", 403


class MisdirectedRequestException(_FrontEndError):
    """A ``Host`` this server does not answer to: a DNS name an attacker points at 127.0.0.1 (DNS rebinding) gives
    a web page's requests a ``Host`` of its own choosing; the connection is closed afterwards."""

    code, status = "MisdirectedRequestException", 421
    close_connection = True


class BrowserRequestException(_FrontEndError):
    """A request a web page made (``Origin``, ``Sec-Fetch-*``, a form's content type): the API has no CORS and
    takes no request from a browser."""

    code, status = "AccessDeniedException", 403


class SignatureReusedException(_FrontEndError):
    """A signature already used on another connection: refused, as a replay would be. SigV4 stamps whole seconds, so
    two clients sending the same request in the same second also sign it alike; answered as a throttle (429), which
    SDKs retry after a pause, signing afresh, so they get through and a replayer never does."""

    code, status = "TooManyRequestsException", 429


class BadRequestException(_FrontEndError):
    """The bytes are not an HTTP/1.1 request (the parser gave up); the connection is closed afterwards."""

    code, status = "BadRequestException", 400


class HeaderTooLargeException(_FrontEndError):
    """Request line plus headers over the server's limit; the connection is closed afterwards."""

    code, status = "RequestHeaderFieldsTooLarge", 431


class RequestTimeoutException(_FrontEndError):
    """The client stopped sending its body (a slow or stuck client); the connection is closed afterwards."""

    code, status = "RequestTimeoutException", 408
    close_connection = True


class UndrainableBodyException(RequestEntityTooLargeException):
    """The 413 for a body declared larger than ``limits.DRAIN_CAP``: the same answer, but it goes out at once and the
    connection closes (``close_connection``, which the HTTP layer honours on any error) instead of reading the body
    only to discard it."""

    close_connection = True


MISSING_TOKEN = "Missing Authentication Token"
UNRECOGNIZED_CLIENT = "The security token included in the request is invalid."
SIGNATURE_MISMATCH = ("The request signature we calculated does not match the signature you provided. "
                      "Check your AWS Secret Access Key and signing method. "
                      "Consult the service documentation for details.")
