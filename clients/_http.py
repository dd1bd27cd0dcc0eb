"""The one async httpx wrapper every vendor client is built on.

What it adds to httpx:

* `map_exceptions`: httpx errors become `clients.errors` types in one place (like httpx's own
  `map_httpcore_exceptions`), with the URL's secrets removed from messages.
* Retries (tenacity) only on `TransportFailure`, `RateLimited` and `ServerError`, with jittered
  exponential backoff, honouring `Retry-After` on 429/503. A non-idempotent request (POST) is
  retried only when it provably was not processed: connect failures (never sent) and 429.
* `RateLimiter`: a token bucket (requests per minute) that slows down on 429, pauses for
  `Retry-After`, and recovers gradually on success. Shared per service within the process.
* `CircuitBreaker`: closed -> open after N consecutive failed attempts -> one half-open probe
  after `reset_after`. Shared per service within the process, so a service that is down ends a
  run quickly instead of a retry storm.
* `RequestStats`: counters for benchmarks (requests, by status, retries, 429s, waits).

Limiter and breaker state is guarded by `threading.Lock` and never awaited under the lock, so
one instance can be shared by clients running on different event loops (Prefect task threads).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import decimal
import email.utils
import json
import logging
import math
import random
import re
import ssl
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, quote, urlencode

import httpx
import orjson
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from ._config import (
    DEFAULT_BREAKER,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_RETRY,
    DEFAULT_TIMEOUT,
    BreakerConfig,
    RateLimit,
    RetryPolicy,
    create_ssl_context,
    default_deadline,
)
from .errors import (
    ApiError,
    AuthFailed,
    CircuitOpen,
    ClientError,
    Conflict,
    InvalidConfig,
    NotFound,
    RateLimited,
    ResponseTooLarge,
    ServerError,
    TransportFailure,
    truncate,
)

# The machinery itself is imported by name by vendor clients; these two are public.
__all__ = ["RequestStats", "breaker_state", "reset_shared_state"]

logger = logging.getLogger("nxt.clients")

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
BeforeRequest = Callable[[], Awaitable[None]]

# Query parameters that carry credentials: never shown in messages.
SECRET_PARAMS = frozenset(
    {
        "consumer_key",
        "consumer_secret",
        "oauth_consumer_key",
        "oauth_signature",
        "oauth_nonce",
        "access_token",
        "api_key",
        "key",
        "secret",
        "token",
    }
)
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-wc-request-id", "cf-ray", "x-amz-cf-id")
UTF8_BOM = b"\xef\xbb\xbf"
CONNECT_TIMEOUT = 10.0
USER_AGENT = "nxt-integrations (+httpx)"
#: What every vendor client sends unless it says otherwise.
DEFAULT_HEADERS = {"accept": "application/json", "user-agent": USER_AGENT}


# --------------------------------------------------------------------------------------------
# Stats


@dataclass
class RequestStats:
    """Request counters of one client, for benchmarks and run summaries.

    Attributes:
        requests: Attempts sent (each retry counts).
        by_status: Answers received, by HTTP status.
        retries: Retries made after a retryable failure.
        rate_limited: 429 answers seen.
        transport_failures: Attempts that got no usable answer.
        circuit_rejections: Calls refused by an open circuit breaker.
        throttle_seconds: Time spent waiting for the rate limiter.
        backoff_seconds: Time spent waiting between retries.
    """

    requests: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    retries: int = 0
    rate_limited: int = 0
    transport_failures: int = 0
    circuit_rejections: int = 0
    throttle_seconds: float = 0.0
    backoff_seconds: float = 0.0

    def copy(self) -> RequestStats:
        """A snapshot that later requests do not change."""
        return replace(self, by_status=dict(self.by_status))


# --------------------------------------------------------------------------------------------
# Rate limiter


class RateLimiter:
    """Token bucket in requests per minute that adapts to 429 answers.

    `reserve()` takes a token (going into debt when the bucket is empty) and says how long to
    wait before sending, so concurrent callers queue up fairly without holding a lock while
    they sleep. A 429 multiplies the rate by `RateLimit.backoff` once per generation (429s to
    requests reserved before that slowdown do not slow it again), drops any saved-up burst,
    and, with a `Retry-After`, pauses everyone until then. Each success regains
    `RateLimit.recovery * rpm` until the configured rate is back.

    With `config=None` there is no budget, but a `Retry-After` still pauses every request.

    Args:
        config: The budget, or None for "unlimited, but honour Retry-After".
        clock: Monotonic clock in seconds (injectable for tests).
    """

    def __init__(self, config: RateLimit | None, *, clock: Clock = time.monotonic) -> None:
        self.config = config
        self._clock = clock
        self._lock = threading.Lock()
        self._max_rate = config.rpm / 60.0 if config else math.inf
        self._rate = self._max_rate
        self._capacity = float(config.capacity) if config else math.inf
        self._tokens = self._capacity
        self._last = clock()
        self._blocked_until = -math.inf
        self.generation = 0

    @property
    def rpm(self) -> float:
        """The current rate in requests per minute (inf when unlimited)."""
        return self._rate * 60.0

    def _refill(self, now: float) -> None:
        if now > self._last:
            if self.config is not None:
                self._tokens = min(self._capacity, self._tokens + (now - self._last) * self._rate)
            self._last = now

    def reserve(self) -> tuple[float, int]:
        """Take a token; return (seconds to wait before sending, generation of the reservation)."""
        with self._lock:
            now = self._clock()
            if self.config is None:
                return max(0.0, self._blocked_until - now), self.generation
            self._refill(now)
            self._tokens -= 1.0
            # Refill restarts at `_last`, which is in the future while a Retry-After pause lasts.
            start = self._last + max(0.0, -self._tokens) / self._rate
            return max(0.0, start - now), self.generation

    def blocked_for(self) -> float:
        """Seconds left of a Retry-After pause (0 when none)."""
        with self._lock:
            return max(0.0, self._blocked_until - self._clock())

    def on_success(self) -> None:
        """An answer that was not a 429: regain some of the configured rate."""
        if self.config is None:
            return
        with self._lock:
            if self._rate < self._max_rate:
                self._rate = min(self._max_rate, self._rate + self._max_rate * self.config.recovery)

    def on_rate_limited(
        self,
        retry_after: float | None,
        generation: int,
        *,
        max_pause: float = DEFAULT_RETRY.max_retry_after,
    ) -> None:
        """A 429 to a request reserved in `generation`: slow down, and pause for Retry-After.

        The pause stops every request through this limiter (every client of the store in the
        process), so it is clamped to `max_pause`, and a value that is not a finite positive
        number pauses nothing: one hostile header must not stall a store for an hour.
        """
        pause = 0.0
        if retry_after is not None and math.isfinite(retry_after) and retry_after > 0:
            pause = min(retry_after, max(0.0, max_pause))
        with self._lock:
            now = self._clock()
            self._refill(now)
            if pause > 0:
                self._blocked_until = max(self._blocked_until, now + pause)
            if self.config is None:
                return
            if generation == self.generation:
                floor = self._max_rate * self.config.floor
                self._rate = max(floor, self._rate * self.config.backoff)
                self.generation += 1
            self._tokens = min(self._tokens, 0.0)
            self._last = max(self._last, self._blocked_until)


# --------------------------------------------------------------------------------------------
# Circuit breaker


class CircuitBreaker:
    """Closed -> open after `failure_threshold` consecutive failed attempts -> half-open.

    While open, calls fail at once with `CircuitOpen`. After `reset_after` seconds one probe
    request is let through (half-open): its success closes the breaker, its failure opens it
    for another `reset_after`. Failures are transport failures and 5xx answers; any other
    answer (including 4xx) proves the service is up and resets the count. 429 is neutral.

    Args:
        name: The service, as shown in messages ("WooCommerce at https://shop.example.com").
        config: Threshold and reset delay.
        clock: Monotonic clock in seconds (injectable for tests).
    """

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"

    def __init__(
        self, name: str, config: BreakerConfig = DEFAULT_BREAKER, *, clock: Clock = time.monotonic
    ) -> None:
        self.name = name
        self.config = config
        self._clock = clock
        self._lock = threading.Lock()
        self._state = self.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probe_started: float | None = None
        self._last_failure = ""

    @property
    def state(self) -> str:
        """ "closed", "open" or "half-open" (open turns half-open once `reset_after` passed)."""
        with self._lock:
            if self._state == self.OPEN and self._open_for(self._clock()) <= 0:
                return self.HALF_OPEN
            return self._state

    @property
    def failures(self) -> int:
        """Consecutive failed attempts counted so far."""
        return self._failures

    def _open_for(self, now: float) -> float:
        return self.config.reset_after - (now - self._opened_at)

    def before_call(self) -> bool:
        """Raise `CircuitOpen` if calls are refused; return True if this call is the probe."""
        with self._lock:
            if self._state == self.CLOSED:
                return False
            now = self._clock()
            remaining = self._open_for(now)
            probe_busy = (
                self._state == self.HALF_OPEN
                and self._probe_started is not None
                and now - self._probe_started < self.config.reset_after
            )
            if (self._state == self.OPEN and remaining > 0) or probe_busy:
                retry_in = max(remaining, 0.0) if not probe_busy else self.config.reset_after
                raise CircuitOpen(
                    f"{self.name} looks down: {self._failures} consecutive failures, the last: "
                    f"{self._last_failure}; not calling it for {math.ceil(retry_in)}s more "
                    "(circuit breaker). Check that the service is up and reachable, then run again",
                    service=self.name,
                    retry_in=retry_in,
                )
            self._state = self.HALF_OPEN
            self._probe_started = now
            return True

    def record_success(self) -> None:
        """The service answered: close the breaker."""
        with self._lock:
            if self._state != self.CLOSED:
                logger.info("circuit for %s closed again", self.name)
            self._state = self.CLOSED
            self._failures = 0
            self._probe_started = None

    def record_failure(self, reason: str) -> None:
        """An attempt failed (no answer, or 5xx)."""
        with self._lock:
            self._failures += 1
            self._last_failure = reason
            if self._state == self.HALF_OPEN or (
                self._state == self.CLOSED and self._failures >= self.config.failure_threshold
            ):
                if self._state == self.CLOSED:
                    logger.warning(
                        "circuit for %s opened after %d consecutive failures (last: %s)",
                        self.name,
                        self._failures,
                        reason,
                    )
                self._state = self.OPEN
                self._opened_at = self._clock()
                self._probe_started = None

    def release_probe(self) -> None:
        """The probe ended without an outcome (cancelled): let another one through."""
        with self._lock:
            self._probe_started = None


# Process-wide registries, keyed by service and configuration: every client of one store in
# this process shares one breaker and one limiter.
_registry_lock = threading.Lock()
_breakers: dict[tuple[str, BreakerConfig], CircuitBreaker] = {}
_limiters: dict[tuple[str, RateLimit | None], RateLimiter] = {}


def shared_breaker(key: str, config: BreakerConfig, *, name: str | None = None) -> CircuitBreaker:
    """The process-wide breaker for service `key` with `config`."""
    with _registry_lock:
        breaker = _breakers.get((key, config))
        if breaker is None:
            breaker = _breakers[(key, config)] = CircuitBreaker(name or key, config)
        return breaker


def shared_limiter(key: str, config: RateLimit | None) -> RateLimiter:
    """The process-wide rate limiter for service `key` with `config`."""
    with _registry_lock:
        limiter = _limiters.get((key, config))
        if limiter is None:
            limiter = _limiters[(key, config)] = RateLimiter(config)
        return limiter


def breaker_state(key: str) -> tuple[str, int] | None:
    """(state, consecutive failures) of the shared breaker of service `key` (a base URL), or None when
    no client in this process has called that service yet. For status pages."""
    wanted = key.rstrip("/").lower()
    with _registry_lock:
        found = [b for (k, _), b in _breakers.items() if k.rstrip("/").lower() == wanted]
    if not found:
        return None
    worst = max(found, key=lambda b: (b.state != CircuitBreaker.CLOSED, b.failures))
    return worst.state, worst.failures


def reset_shared_state() -> None:
    """Forget every shared circuit breaker and rate limiter in this process.

    For tests that reuse one store URL after tripping its breaker, or to call a store again at
    once after fixing it instead of waiting for `BreakerConfig.reset_after`.
    """
    with _registry_lock:
        _breakers.clear()
        _limiters.clear()


# --------------------------------------------------------------------------------------------
# Helpers


def display_url(url: httpx.URL) -> str:
    """The URL's path and query, without credentials or OAuth parameters."""
    pairs = [(k, v) for k, v in parse_qsl(url.query.decode("ascii", "replace"), True)]
    kept = [(k, v) for k, v in pairs if k.lower() not in SECRET_PARAMS and not k.lower().startswith("oauth_")]
    query = urlencode(kept, quote_via=quote, safe=",:[]")
    path = url.path or "/"
    return f"{path}?{query}" if query else path


def http_url(value: str, *, name: str, example: str) -> tuple[str, httpx.URL]:
    """A configured address: stripped of spaces and trailing slashes, and parsed.

    Raises:
        InvalidConfig: It is not an http(s) URL with a host (`name` and `example` say what to give).
    """
    text = (value or "").strip().rstrip("/")
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, TypeError) as exc:
        raise InvalidConfig(f"{name} {text!r} is not a valid URL ({exc})") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise InvalidConfig(f"{name} {text!r} must be an http(s) URL, e.g. {example}")
    return text, url


def aware_utc(value: dt.datetime, name: str) -> dt.datetime:
    """`value` in UTC to the second (vendors' date filters take no fractions); a naive one is refused."""
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got {value!r}")
    return value.astimezone(dt.UTC).replace(microsecond=0)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds or HTTP-date).

    None when absent, unreadable or not finite (`inf`, `nan`, `1e309`): such a value says
    nothing usable, and the caller falls back to its own backoff. A negative or past value is 0.
    The result is what the service asked for, unbounded; callers cap it
    (`RetryPolicy.max_retry_after`).
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    current = now if now is not None else time.time()
    return max(0.0, when.timestamp() - current)


def decode_json(content: bytes) -> Any:
    """Decode a JSON body, tolerating a UTF-8 BOM and surrounding whitespace.

    Raises:
        ValueError: The body is not JSON.
    """
    body = content.lstrip()
    if body.startswith(UTF8_BOM):
        body = body[len(UTF8_BOM) :].lstrip()
    if not body:
        raise ValueError("empty body")
    return orjson.loads(body)  # a ValueError on bad JSON or bad UTF-8; ~3x faster than json on big pages


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"cannot send a {type(value).__name__} as JSON")


def encode_json(payload: Any) -> bytes:
    """JSON body bytes; Decimal goes out as a string (vendors take money as decimal strings)."""
    return json.dumps(payload, default=_json_default, ensure_ascii=False).encode("utf-8")


def plain_text(text: str, limit: int = 300) -> str:
    """One line of text: HTML tags dropped (WordPress puts HTML in some messages), cut short."""
    flat = " ".join(re.sub(r"<[^>]*>", " ", text).split())
    return flat if len(flat) <= limit else flat[:limit] + "..."


def request_id_of(response: httpx.Response) -> str | None:
    """The first request-id style header of `response`, if any."""
    for name in REQUEST_ID_HEADERS:
        value: str | None = response.headers.get(name)
        if value:
            return value
    return None


def _is_tls_verification_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        if "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@contextlib.contextmanager
def map_exceptions(service: str, request: httpx.Request, redact: Callable[[str], str]) -> Iterator[None]:
    """Translate httpx exceptions raised inside the block into `clients.errors` types."""
    what = f"{request.method} {display_url(request.url)}"
    try:
        yield
    except (httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise TransportFailure(
            f"{service} did not accept a connection for {what} in time "
            f"({type(exc).__name__}); check that it is up, or raise the timeout",
            service=service,
            request_sent=False,
            reason=type(exc).__name__,
        ) from None
    except httpx.TimeoutException as exc:
        raise TransportFailure(
            f"{service} did not answer {what} in time ({type(exc).__name__}); it may be "
            "overloaded: retry later, lower the concurrency, or raise the timeout",
            service=service,
            reason=type(exc).__name__,
        ) from None
    except httpx.ConnectError as exc:
        if _is_tls_verification_error(exc):
            raise InvalidConfig(
                f"TLS certificate of {service} could not be verified ({redact(str(exc))}); "
                "install its CA and pass verify='/path/to/ca.pem' (or SSL_CERT_FILE), "
                "or verify=False for a test store only",
                service=service,
            ) from None
        detail = redact(str(exc)) or "connect error"
        raise TransportFailure(
            f"could not connect to {service} for {what} ({detail}); "
            "check base_url and that the service is up",
            service=service,
            request_sent=False,
            reason=f"ConnectError: {detail}",
        ) from None
    except httpx.ProxyError as exc:
        raise TransportFailure(
            f"the proxy refused {what} to {service} ({redact(str(exc))}); check HTTP(S)_PROXY",
            service=service,
            request_sent=False,
            reason="ProxyError",
        ) from None
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise InvalidConfig(
            f"cannot call {service}: {redact(str(exc))}; base_url must be an http(s) URL",
            service=service,
        ) from None
    except httpx.TransportError as exc:
        # ReadError, WriteError, RemoteProtocolError, ...: the connection broke mid-exchange.
        detail = f"{type(exc).__name__}: {redact(str(exc)) or 'no detail'}"
        raise TransportFailure(
            f"{service} dropped the connection during {what} ({detail}); if it keeps "
            "happening, check the server's error log and any proxy in between",
            service=service,
            reason=detail,
        ) from None
    except httpx.DecodingError as exc:
        raise TransportFailure(
            f"{service} sent a body for {what} that could not be decoded ({redact(str(exc))})",
            service=service,
            reason="DecodingError",
        ) from None


# --------------------------------------------------------------------------------------------
# Errors from answers


@dataclass(frozen=True)
class ErrorInfo:
    """What a vendor said in an error answer."""

    code: str | None = None
    message: str | None = None


def generic_error_info(response: httpx.Response) -> ErrorInfo:
    """Pull `code`/`message` out of common JSON error shapes."""
    try:
        data = decode_json(response.content)
    except (ValueError, UnicodeDecodeError):
        return ErrorInfo()
    if not isinstance(data, dict):
        return ErrorInfo()
    code = data.get("code") or data.get("error")
    message = data.get("message") or data.get("error_description")
    return ErrorInfo(str(code) if code is not None else None, str(message) if message is not None else None)


def api_error(
    response: httpx.Response,
    *,
    service: str,
    info: ErrorInfo,
    hint: str | None,
    redact: Callable[[str], str],
) -> ApiError:
    """Build the `ApiError` subclass for an error answer, with a one-line message."""
    status = response.status_code
    request = response.request
    what = f"{request.method} {display_url(request.url)}"
    said = " ".join(x for x in (str(status), info.code) if x)
    if info.message:
        said = f"{said}: {plain_text(info.message)}"
    said = redact(said)
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    kwargs: dict[str, Any] = {
        "service": service,
        "status": status,
        "vendor_code": info.code,
        "request_id": request_id_of(response),
        "body": redact(response.text) if response.content else None,
    }
    if status in (401, 403):
        fix = hint or "check the credentials"
        return AuthFailed(f"{service} rejected the credentials ({said}); {fix}", **kwargs)
    if status == 404:
        fix = hint or "check the id or path"
        return NotFound(f"{service} has nothing at {what} ({said}); {fix}", **kwargs)
    if status == 409:
        fix = hint or "re-read the object and try again"
        return Conflict(f"{service} reported a conflict for {what} ({said}); {fix}", **kwargs)
    if status == 429:
        wait = f"retry after {retry_after:g}s" if retry_after is not None else "retry later"
        fix = hint or f"{wait}, or lower the rate limit"
        return RateLimited(
            f"{service} is rate limiting requests ({said}); {fix}",
            retry_after=retry_after,
            **kwargs,
        )
    if status >= 500:
        fix = hint or "retry later; if it persists, check the service's error log"
        return ServerError(
            f"{service} failed on {what} ({said}); {fix}",
            retry_after=retry_after if status == 503 else None,
            **kwargs,
        )
    fix = f"; {hint}" if hint else ""
    return ApiError(f"{service} refused {what} ({said}){fix}", **kwargs)


ErrorFactory = Callable[[httpx.Response], ApiError]


# --------------------------------------------------------------------------------------------
# The client


class HttpClient:
    """Async HTTP with error mapping, retries, rate limiting and a circuit breaker.

    Vendor clients own one of these and call `request()`; it returns the `httpx.Response` of a
    2xx answer (body read) and raises a `clients.errors` type for anything else.

    Args:
        base_url: Prefix of relative request URLs.
        service: Display name used in messages, e.g. "WooCommerce at https://shop.example.com".
        auth: httpx auth applied to every attempt (so signatures are fresh per retry).
        headers: Default headers.
        timeout: Seconds for connect, read, write and pool waits (httpx's, per operation: a
            server sending a byte now and then never trips the read timeout).
        deadline: Seconds one attempt may take in all, from sending the request to the last
            byte of the body; past it the attempt fails with a retryable `TransportFailure`.
            Default `max(2 * timeout, 60)`. Waits for the rate limiter or a free connection
            slot are not counted.
        max_response_bytes: Largest body accepted (after content decoding); a larger one
            raises `ResponseTooLarge`. Content-Length is checked before reading. Default 64 MiB.
        verify: TLS verification: True, False, or a CA bundle path.
        retry: Retry policy.
        limiter: Rate limiter (usually `shared_limiter(...)`), or None for none at all.
        breaker: Circuit breaker (usually `shared_breaker(...)`), or None for none.
        max_concurrency: Requests in flight at once through this client.
        transport: httpx transport (e.g. `httpx.MockTransport`) for tests.
        secrets: Strings that must never appear in messages or error bodies.
        error_factory: Builds the `ApiError` for a non-2xx answer; defaults to `api_error`.
        before_request: Awaited before every attempt that is going to be sent (retries
            included; not when the circuit breaker refuses the call), before the local rate
            limiter and before waiting for a concurrency slot: the hook for a request budget
            shared beyond this process (e.g. a Prefect rate limit). An exception it raises
            propagates and nothing is sent.
        sleep: Async sleep (injectable for tests).
    """

    def __init__(
        self,
        *,
        base_url: str,
        service: str,
        auth: httpx.Auth | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        deadline: float | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        verify: bool | str = True,
        retry: RetryPolicy = DEFAULT_RETRY,
        limiter: RateLimiter | None = None,
        breaker: CircuitBreaker | None = None,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        transport: httpx.AsyncBaseTransport | None = None,
        secrets: Sequence[str] = (),
        error_factory: ErrorFactory | None = None,
        before_request: BeforeRequest | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if max_concurrency < 1:
            raise InvalidConfig("max_concurrency must be >= 1")
        if timeout <= 0 or not math.isfinite(timeout):
            raise InvalidConfig(f"timeout must be a positive number of seconds, got {timeout!r}")
        if deadline is not None and (deadline <= 0 or not math.isfinite(deadline)):
            raise InvalidConfig(f"deadline must be a positive number of seconds, got {deadline!r}")
        if max_response_bytes < 1:
            raise InvalidConfig(f"max_response_bytes must be >= 1, got {max_response_bytes!r}")
        self.service = service
        self.deadline = deadline if deadline is not None else default_deadline(timeout)
        self.max_response_bytes = max_response_bytes
        self.retry = retry
        self.limiter = limiter
        self.breaker = breaker
        self._auth = auth
        self._before_request = before_request
        self._sleep = sleep
        self._secrets = [s for s in secrets if s and len(s) >= 4]
        self._error_factory = error_factory or self._default_error
        self._stats = RequestStats()
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._client = httpx.AsyncClient(
            base_url=base_url,
            headers=dict(headers or {}),
            # A healthy server accepts connections in milliseconds: do not wait the full
            # read timeout on a store that is down.
            timeout=httpx.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT)),
            verify=create_ssl_context(verify) if transport is None else True,
            transport=transport,
            follow_redirects=False,
            limits=httpx.Limits(
                max_connections=max(10, max_concurrency * 2),
                max_keepalive_connections=max(10, max_concurrency * 2),
            ),
        )

    @classmethod
    def for_service(
        cls,
        *,
        base_url: str,
        service: str,
        rate_limit: RateLimit | None,
        breaker: BreakerConfig,
        share_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> HttpClient:
        """An `HttpClient` for a vendor client: JSON accepted, the project's User-Agent, and a rate limiter
        and circuit breaker shared by every client of `share_key` (default `base_url`) in the process.
        Other keyword arguments are the constructor's."""
        key = share_key or base_url
        return cls(
            base_url=base_url,
            service=service,
            headers=headers if headers is not None else DEFAULT_HEADERS,
            limiter=shared_limiter(key, rate_limit),
            breaker=shared_breaker(key, breaker, name=service),
            **kwargs,
        )

    # -- lifecycle

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    @property
    def stats(self) -> RequestStats:
        """A snapshot of the request counters."""
        return self._stats.copy()

    def redact(self, text: str) -> str:
        """`text` with every secret (raw and URL-encoded) replaced by `***`."""
        for secret in self._secrets:
            for form in {secret, quote(secret, safe=""), quote(secret)}:
                text = text.replace(form, "***")
        return text

    def _default_error(self, response: httpx.Response) -> ApiError:
        return api_error(
            response,
            service=self.service,
            info=generic_error_info(response),
            hint=None,
            redact=self.redact,
        )

    # -- requests

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | Sequence[tuple[str, str]] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        retry: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        """Send a request with retries; return the 2xx response or raise a `ClientError`.

        Args:
            method: HTTP method.
            url: URL, relative to `base_url` or absolute.
            params: Query parameters (already stringified).
            json: JSON body (Decimal and datetime values are sent as strings).
            headers: Extra headers for this request (e.g. an idempotency key or a bearer token).
            data: A form body (`application/x-www-form-urlencoded`) instead of JSON.
            content: Raw body bytes instead of JSON (set the content type in `headers`).
            idempotent: Whether repeating the request is harmless; defaults to True for
                GET/HEAD/OPTIONS/PUT/DELETE. A non-idempotent request is only retried when it
                provably was not processed: a connect failure (never sent) or a 429. Never
                after a 5xx (a proxy may answer 503 after the origin applied it), a timeout
                or a dropped connection.
            retry: Override of the client's retry policy for this call.

        A `Retry-After` on a 429 is waited for, or, when longer than
        `RetryPolicy.max_retry_after`, the `RateLimited` error is raised at once. On a 503 it
        is waited for up to `max_retry_after`, then the request is retried anyway.

        Raises:
            ClientError: see `clients.errors`.
        """
        method = method.upper()
        policy = retry or self.retry
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        sent_headers: dict[str, str] = {}
        if json is not None:
            content = encode_json(json)
            sent_headers["content-type"] = "application/json"
        elif data is not None:
            content = urlencode(list(data.items())).encode("ascii")
            sent_headers["content-type"] = "application/x-www-form-urlencoded"
        sent_headers.update(headers or {})
        extra = sent_headers or None  # per-request headers (auth, idempotency key, content type)

        def should_retry(exc: BaseException) -> bool:
            if isinstance(exc, RateLimited):
                # The service refuses everything until then: waiting less is pointless.
                return exc.retry_after is None or exc.retry_after <= policy.max_retry_after
            if isinstance(exc, ServerError):
                # A 503 may come from a proxy after the origin processed the request.
                return idempotent
            if isinstance(exc, TransportFailure):
                return idempotent or not exc.request_sent
            return False

        def delay_after(exc: BaseException | None, attempt: int) -> float:
            retry_after = getattr(exc, "retry_after", None)
            if retry_after is not None:
                # A 503's Retry-After is the service's guess at the outage: capped, not refused.
                return min(float(retry_after), policy.max_retry_after)
            return policy.backoff(attempt - 1, random.random())

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            return delay_after(exc, state.attempt_number + 1)

        def note_retry(delay: float, attempt: int, exc: BaseException | None) -> None:
            self._stats.retries += 1
            self._stats.backoff_seconds += delay
            logger.info("retrying in %.2fs after attempt %d: %s", delay, attempt, exc)

        def before_sleep(state: RetryCallState) -> None:
            delay = state.next_action.sleep if state.next_action else 0.0
            exc = state.outcome.exception() if state.outcome else None
            note_retry(delay, state.attempt_number + 1, exc)

        # Fast path: most requests succeed at once, and building a tenacity loop per request cost
        # about 0.8 ms of event-loop time (measured in bench/woocommerce_sync.py's profile).
        try:
            return await self._attempt(method, url, params, content, extra, policy)
        except ClientError as exc:
            if policy.max_retries == 0 or not should_retry(exc):
                raise
            delay = delay_after(exc, 1)
            note_retry(delay, 1, exc)
            await self._sleep(delay)

        retrying = AsyncRetrying(
            stop=stop_after_attempt(policy.max_retries),
            wait=wait,
            retry=retry_if_exception(should_retry),
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._attempt(method, url, params, content, extra, policy)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _attempt(
        self,
        method: str,
        url: str,
        params: Any,
        content: bytes | None,
        headers: Mapping[str, str] | None,
        policy: RetryPolicy,
    ) -> httpx.Response:
        probe = False
        if self.breaker is not None:
            try:
                probe = self.breaker.before_call()
            except CircuitOpen:
                self._stats.circuit_rejections += 1
                raise
        try:
            if self._before_request is not None:
                await self._before_request()
            async with self._semaphore:
                generation = await self._throttle()
                request = self._client.build_request(
                    method, url, params=params, content=content, headers=headers
                )
                self._stats.requests += 1
                try:
                    response = await self._exchange(request)
                except TransportFailure as exc:
                    self._stats.transport_failures += 1
                    if self.breaker is not None:
                        self.breaker.record_failure(_short(exc.reason or exc.message))
                    raise
        except BaseException:
            if probe and self.breaker is not None and self.breaker.state == CircuitBreaker.HALF_OPEN:
                self.breaker.release_probe()
            raise
        return self._settle(response, generation, policy)

    async def _exchange(self, request: httpx.Request) -> httpx.Response:
        """Send `request` and read its body, within the deadline and the size limit."""
        try:
            async with asyncio.timeout(self.deadline):
                with map_exceptions(self.service, request, self.redact):
                    response = await self._client.send(request, auth=self._auth, stream=True)
                    try:
                        body = await self._read_body(response)
                    finally:
                        await response.aclose()
        except TimeoutError:
            what = f"{request.method} {display_url(request.url)}"
            raise TransportFailure(
                f"{self.service} did not finish answering {what} within {self.deadline:g}s "
                "(overall deadline of one attempt); it may be overloaded or sending very "
                "slowly: retry later, or raise the deadline",
                service=self.service,
                reason=f"Deadline {self.deadline:g}s",
            ) from None
        # The body is decoded already: drop the headers that describe the wire form.
        headers = [
            (name, value)
            for name, value in response.headers.multi_items()
            if name.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx.Response(
            response.status_code,
            headers=headers,
            content=body,
            request=request,
            extensions=response.extensions,
        )

    async def _read_body(self, response: httpx.Response) -> bytes:
        """The decoded body, refused past `max_response_bytes` (announced or streamed)."""
        limit = self.max_response_bytes
        announced = response.headers.get("content-length", "")
        if announced.isdigit() and int(announced) > limit:
            raise self._too_large(response, size=int(announced))
        chunks: list[bytes] = []
        received = 0
        async for chunk in response.aiter_bytes():
            received += len(chunk)
            if received > limit:
                raise self._too_large(response, size=None)
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self, response: httpx.Response, *, size: int | None) -> ResponseTooLarge:
        request = response.request
        what = f"{request.method} {display_url(request.url)}"
        limit = self.max_response_bytes
        how_big = f"of {size} bytes" if size is not None else f"of more than {limit} bytes"
        return ResponseTooLarge(
            f"{self.service} answered {what} ({response.status_code}) with a body {how_big}, "
            f"over the limit of {limit} bytes (max_response_bytes); ask for less (a smaller "
            "per_page, fewer _fields) or raise max_response_bytes",
            service=self.service,
            status=response.status_code,
            request_id=request_id_of(response),
            limit=limit,
            size=size,
        )

    def _settle(self, response: httpx.Response, generation: int, policy: RetryPolicy) -> httpx.Response:
        status = response.status_code
        self._stats.by_status[status] = self._stats.by_status.get(status, 0) + 1
        if status == 429:
            self._stats.rate_limited += 1
            error = self._error_factory(response)
            if self.limiter is not None:
                self.limiter.on_rate_limited(
                    getattr(error, "retry_after", None), generation, max_pause=policy.max_retry_after
                )
            raise error
        if status >= 500:
            error = self._error_factory(response)
            if self.breaker is not None:
                self.breaker.record_failure(f"HTTP {status}")
            # A 503's Retry-After delays this request's retry only (see `request`); unlike a
            # 429 it is not a rate signal, so it does not pause every other request.
            raise error
        if self.breaker is not None:
            self.breaker.record_success()
        if self.limiter is not None:
            self.limiter.on_success()
        if status >= 300:
            raise self._error_factory(response)
        return response

    async def _throttle(self) -> int:
        if self.limiter is None:
            return 0
        delay, generation = self.limiter.reserve()
        waited = 0.0
        while delay > 0:
            await self._sleep(delay)
            waited += delay
            # A 429 may have paused everyone while we slept.
            delay = self.limiter.blocked_for()
        self._stats.throttle_seconds += waited
        return generation


class ApiClient:
    """What every vendor client built on one `HttpClient` (in `_http`) shares: `async with`, `aclose()`,
    and the request counters."""

    _http: HttpClient

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    @property
    def stats(self) -> RequestStats:
        """Request counters so far: requests, by status, retries, 429s seen, waits."""
        return self._http.stats


def _short(text: str, limit: int = 200) -> str:
    return truncate(text, limit) or ""
