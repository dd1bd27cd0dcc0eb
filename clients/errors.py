"""Errors raised by every client in `clients/`.

The hierarchy (httpx style: callers only ever catch these, never httpx's own):

* ClientError                 - base class; one line naming what is wrong and the fix.
  * InvalidConfig             - the request cannot be made as configured (bad base_url, TLS failure).
  * TransportFailure          - no usable answer: timeout, overall deadline passed, connection
                                refused/reset, dropped connection, protocol error. Retryable.
  * CircuitOpen               - the circuit breaker refuses to call a service that looks down.
  * ApiError                  - the service answered with an error: `.status`, `.vendor_code`,
                                `.request_id`, `.body` (truncated, secrets removed).
    * AuthFailed              - 401/403: wrong credentials or missing permission.
    * NotFound                - 404: no such object or route; `.gone` is True only when the
                                service said the object does not exist.
    * Conflict                - 409: the object changed or already exists.
    * RateLimited             - 429: slow down; `.retry_after` seconds if the service said so.
    * ServerError             - 5xx: the service failed; `.retry_after` on a 503 that says so.
    * Declined                - a payment gateway processed the payment and refused it (card
                                declined, duplicate, ...): `.reason` is the gateway's reason,
                                `.transaction_id` the refused transaction's id when it has one.
    * NotWooCommerce          - the URL answers, but not as a WooCommerce REST API (HTML, no
                                `wc/v3` route, `rest_no_route`, a redirect elsewhere).
    * ResponseTooLarge        - the answer's body is larger than `max_response_bytes`.

Retryable: `TransportFailure`, `RateLimited` and `ServerError` (see `RETRYABLE`). Everything else
is a fact about the request or the configuration and fails the same way when repeated.

Every attribute is optional so that exceptions survive pickling (Prefect stores task failures).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ApiError",
    "AuthFailed",
    "CircuitOpen",
    "ClientError",
    "Conflict",
    "Declined",
    "InvalidConfig",
    "NotFound",
    "NotWooCommerce",
    "RETRYABLE",
    "RateLimited",
    "ResponseTooLarge",
    "ServerError",
    "TransportFailure",
]

BODY_LIMIT = 500


class ClientError(Exception):
    """Base class of every error raised by `clients/`.

    Attributes:
        message: One line naming what is wrong and how to fix it. Never contains a secret.
        service: Who was being called, e.g. "WooCommerce at https://shop.example.com".
        batch_result: For `WooCommerceClient.batch`, what earlier requests of the same call
            already did when a later request failed as a whole; otherwise None.
    """

    def __init__(self, message: str, *, service: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.service = service
        self.batch_result: Any = None

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class InvalidConfig(ClientError, ValueError):
    """The request cannot be made as configured (bad URL, TLS verification failure, ...)."""


class TransportFailure(ClientError):
    """No usable answer: timeout, deadline, refused or dropped connection, protocol error.

    Retryable; a non-idempotent request only when `request_sent` is False.

    Attributes:
        request_sent: False when the request provably never reached the server (connect
            failures), so even a non-idempotent request may be retried.
        reason: A short cause, e.g. "ReadTimeout" or "ConnectError: connection refused".
    """

    def __init__(
        self,
        message: str,
        *,
        service: str | None = None,
        request_sent: bool = True,
        reason: str | None = None,
    ) -> None:
        super().__init__(message, service=service)
        self.request_sent = request_sent
        self.reason = reason


class CircuitOpen(ClientError):
    """The circuit breaker refuses to call a service that failed repeatedly.

    Attributes:
        retry_in: Seconds until the breaker lets one probe request through.
    """

    def __init__(self, message: str, *, service: str | None = None, retry_in: float = 0.0) -> None:
        super().__init__(message, service=service)
        self.retry_in = retry_in


class ApiError(ClientError):
    """The service answered with an error status.

    Attributes:
        status: HTTP status code (200 for a success answer that is not what was expected).
        vendor_code: The vendor's error code, e.g. "woocommerce_rest_authentication_error".
        request_id: The vendor's or proxy's request id header, when one was sent.
        body: The start of the response body (at most ~500 characters), secrets removed.
    """

    def __init__(
        self,
        message: str,
        *,
        service: str | None = None,
        status: int = 0,
        vendor_code: str | None = None,
        request_id: str | None = None,
        body: str | None = None,
    ) -> None:
        super().__init__(message, service=service)
        self.status = status
        self.vendor_code = vendor_code
        self.request_id = request_id
        self.body = truncate(body)


class AuthFailed(ApiError):
    """401/403: the credentials are wrong or lack a permission."""


class NotFound(ApiError):
    """404: no such object, or no such route.

    Attributes:
        gone: True only when the service said that the object does not exist (for WooCommerce:
            a `woocommerce_rest_invalid_id` or `woocommerce_rest_<type>_invalid_id` code). A
            missing route (`rest_no_route`: a plugin, security rule or proxy in the way) or any
            other 404 leaves it False. Only `gone` justifies treating a record as deleted.
    """

    def __init__(self, message: str, *, gone: bool = False, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.gone = gone


class Conflict(ApiError):
    """409: the object changed meanwhile or already exists."""


class RateLimited(ApiError):
    """429: the service asks us to slow down.

    Attributes:
        retry_after: Seconds the service asked us to wait (Retry-After), or None.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(ApiError):
    """5xx: the service failed. Retried for idempotent requests only (a POST may have been applied).

    Attributes:
        retry_after: Seconds the service asked us to wait (Retry-After on a 503), or None.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class Declined(ApiError):
    """A payment gateway processed the payment and said no: a card decline, a duplicate, a refusal.

    Not retryable: repeating it is a new attempt at the same payment (a duplicate, at best).

    Attributes:
        reason: The gateway's reason (Authorize.Net's response reason code, e.g. "2"; PayPal's issue,
            e.g. "INSTRUMENT_DECLINED").
        transaction_id: The refused transaction's id when the gateway recorded it (a declined
            Authorize.Net transaction has one), else None.
    """

    def __init__(
        self, message: str, *, reason: str | None = None, transaction_id: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.reason = reason
        self.transaction_id = transaction_id


class NotWooCommerce(ApiError):
    """The URL answers, but is not a WooCommerce REST API (HTML, no `wc/v3` namespace, ...)."""


class ResponseTooLarge(ApiError):
    """The answer's body is larger than the client accepts (`max_response_bytes`).

    Not retried: the same request would get the same body. Ask for less (a smaller `per_page`,
    fewer `_fields`) or raise the limit.

    Attributes:
        limit: The limit in bytes.
        size: The size the service announced (Content-Length), or None when the body was
            streamed past the limit without one.
    """

    def __init__(self, message: str, *, limit: int = 0, size: int | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.limit = limit
        self.size = size


RETRYABLE: tuple[type[ClientError], ...] = (TransportFailure, RateLimited, ServerError)


def truncate(text: str | None, limit: int = BODY_LIMIT) -> str | None:
    """Cut `text` to about `limit` characters, saying how much was dropped."""
    if text is None or len(text) <= limit:
        return text
    return f"{text[:limit]}... [{len(text) - limit} more characters]"
