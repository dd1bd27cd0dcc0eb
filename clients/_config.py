"""Configuration value objects shared by every client, with their named defaults."""

from __future__ import annotations

import functools
import math
import os
import ssl
from dataclasses import dataclass

from .errors import InvalidConfig

__all__ = [
    "BreakerConfig",
    "DEFAULT_BREAKER",
    "DEFAULT_MAX_CONCURRENCY",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_RETRY",
    "DEFAULT_TIMEOUT",
    "RateLimit",
    "RetryPolicy",
]

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_CONCURRENCY = 4
# Largest response body accepted (decoded). A WooCommerce page of 100 orders is 1-2 MB.
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
# The overall deadline of one attempt is this many timeouts, and never less than the floor.
DEADLINE_TIMEOUTS = 2.0
MIN_DEADLINE = 60.0


def default_deadline(timeout: float) -> float:
    """Seconds one attempt may take in all (send, headers, body) for a per-operation `timeout`."""
    return max(DEADLINE_TIMEOUTS * timeout, MIN_DEADLINE)


@dataclass(frozen=True)
class RetryPolicy:
    """How a request is retried after a retryable failure.

    Only `TransportFailure`, `RateLimited` and `ServerError` are retried. The wait before retry
    `n` (0-based) is `min(max_delay, base_delay * 2**n)`, shortened by up to `jitter` of itself
    at random (0 = no jitter, 1 = "full jitter"). A `Retry-After` on a 429 or 503 replaces that
    wait. On a 429, one longer than `max_retry_after` is not waited for: `RateLimited` is raised
    at once. On a 503 (an estimate of the outage) the wait is capped at `max_retry_after`. The
    pause a 429 puts on the store's shared rate limiter is clamped to `max_retry_after` too, and
    a `Retry-After` that is not a finite number is ignored.

    Args:
        max_retries: Retries after the first attempt (0 disables retrying).
        base_delay: Seconds before the first retry.
        max_delay: Upper bound of the exponential wait, in seconds.
        jitter: Fraction of the wait that is randomised, 0..1.
        max_retry_after: Longest `Retry-After`, in seconds, that is waited for.
    """

    max_retries: int = 3
    base_delay: float = 1.0
    max_delay: float = 30.0
    jitter: float = 0.5
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("RetryPolicy.max_retries must be >= 0")
        if self.base_delay < 0 or self.max_delay < 0 or self.max_retry_after < 0:
            raise ValueError("RetryPolicy delays must be >= 0")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("RetryPolicy.jitter must be between 0 and 1")

    def backoff(self, retry_number: int, rand: float) -> float:
        """Seconds to wait before retry `retry_number` (0-based); `rand` is uniform in [0, 1)."""
        delay = min(self.max_delay, self.base_delay * (2.0**retry_number))
        return delay * (1.0 - self.jitter * rand)


@dataclass(frozen=True)
class RateLimit:
    """A client-side request budget (token bucket) that adapts to 429 answers.

    Args:
        rpm: Requests per minute when the service is happy.
        burst: Requests that may go out back to back after an idle spell; default one
            second's worth (`ceil(rpm / 60)`, at least 1).
        backoff: Factor applied to the current rate on a 429 (at most once per "generation":
            429s to requests sent before the slowdown do not slow it down again).
        recovery: Fraction of `rpm` regained after each successful answer, until back at `rpm`.
        floor: The rate never drops below `floor * rpm`.
    """

    rpm: float = 600.0
    burst: int | None = None
    backoff: float = 0.5
    recovery: float = 0.05
    floor: float = 0.05

    def __post_init__(self) -> None:
        if self.rpm <= 0:
            raise ValueError("RateLimit.rpm must be > 0")
        if self.burst is not None and self.burst < 1:
            raise ValueError("RateLimit.burst must be >= 1")
        if not 0.0 < self.backoff <= 1.0 or not 0.0 < self.floor <= 1.0:
            raise ValueError("RateLimit.backoff and RateLimit.floor must be in (0, 1]")
        if self.recovery < 0:
            raise ValueError("RateLimit.recovery must be >= 0")

    @property
    def capacity(self) -> int:
        """Size of the token bucket."""
        return self.burst if self.burst is not None else max(1, math.ceil(self.rpm / 60.0))


@dataclass(frozen=True)
class BreakerConfig:
    """Circuit breaker settings (one breaker per service, shared by the whole process).

    Args:
        failure_threshold: Consecutive failed attempts (transport failures and 5xx) that open it.
        reset_after: Seconds it stays open before letting one probe request through.
    """

    failure_threshold: int = 5
    reset_after: float = 30.0

    def __post_init__(self) -> None:
        if self.failure_threshold < 1:
            raise ValueError("BreakerConfig.failure_threshold must be >= 1")
        if self.reset_after < 0:
            raise ValueError("BreakerConfig.reset_after must be >= 0")


DEFAULT_RETRY = RetryPolicy()
DEFAULT_BREAKER = BreakerConfig()


def create_ssl_context(verify: bool | str = True) -> ssl.SSLContext:
    """Build the TLS context for `verify` (True, False, or a CA bundle file or directory).

    With `verify=True` the `SSL_CERT_FILE` / `SSL_CERT_DIR` environment variables are honoured
    (httpx's handling of them has changed between releases, so we do it ourselves), falling back
    to certifi's bundle. Contexts are cached: loading a CA bundle costs tens of milliseconds.

    Raises:
        InvalidConfig: `verify` names a path that does not exist, or a file that holds no
            PEM certificate.
    """
    if verify is True:
        return _ssl_context(True, os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    return _ssl_context(verify, None, None)


@functools.lru_cache(maxsize=16)
def _ssl_context(verify: bool | str, cafile: str | None, capath: str | None) -> ssl.SSLContext:
    if verify is False:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    if isinstance(verify, str):
        if os.path.isdir(verify):
            return ssl.create_default_context(capath=verify)
        if not os.path.isfile(verify):
            raise InvalidConfig(
                f"verify={verify!r} is neither a CA bundle file nor a directory; "
                "give the path of the store's CA certificate (PEM)"
            )
        try:
            return ssl.create_default_context(cafile=verify)
        except ssl.SSLError as exc:
            raise InvalidConfig(
                f"{verify} is not a CA bundle (PEM certificates): {exc.reason or exc}; give the "
                "path of the store's CA certificate in PEM form"
            ) from None
    if cafile and os.path.isfile(cafile):
        return ssl.create_default_context(cafile=cafile)
    if capath and os.path.isdir(capath):
        return ssl.create_default_context(capath=capath)
    import certifi

    return ssl.create_default_context(cafile=certifi.where())
