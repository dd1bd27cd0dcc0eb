"""Thin API clients for each external service, with retry, rate limit and circuit breaker. No Prefect.

Everything public is importable from here; implementation modules start with `_`.
"""

from __future__ import annotations

from ._config import (
    DEFAULT_BREAKER,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_RETRY,
    DEFAULT_TIMEOUT,
    BreakerConfig,
    RateLimit,
    RetryPolicy,
)
from ._http import RequestStats, breaker_state, reset_shared_state
from ._rate import SenderRateLimit, reset_sender_limits, sender_limit
from .authorizenet import AuthorizeNetClient
from .errors import (
    RETRYABLE,
    ApiError,
    AuthFailed,
    CircuitOpen,
    ClientError,
    Conflict,
    Declined,
    InvalidConfig,
    NotFound,
    NotWooCommerce,
    RateLimited,
    ResponseTooLarge,
    ServerError,
    TransportFailure,
)
from .paypal import PayPalClient, TransactionPage
from .sendgrid import MailResult, send_mail
from .twilio import LookupFailed, SendResult, SentMessage, find_sent, send_sms
from .woocommerce import BatchResult, FetchResult, Page, WooCommerceClient

__all__ = [
    "ApiError",
    "AuthFailed",
    "AuthorizeNetClient",
    "BatchResult",
    "BreakerConfig",
    "CircuitOpen",
    "ClientError",
    "Conflict",
    "DEFAULT_BREAKER",
    "DEFAULT_MAX_CONCURRENCY",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_RETRY",
    "DEFAULT_TIMEOUT",
    "Declined",
    "FetchResult",
    "InvalidConfig",
    "LookupFailed",
    "MailResult",
    "NotFound",
    "NotWooCommerce",
    "Page",
    "PayPalClient",
    "RETRYABLE",
    "RateLimit",
    "RateLimited",
    "RequestStats",
    "ResponseTooLarge",
    "RetryPolicy",
    "SendResult",
    "SenderRateLimit",
    "SentMessage",
    "ServerError",
    "TransactionPage",
    "TransportFailure",
    "WooCommerceClient",
    "breaker_state",
    "find_sent",
    "reset_sender_limits",
    "reset_shared_state",
    "send_mail",
    "send_sms",
    "sender_limit",
]
