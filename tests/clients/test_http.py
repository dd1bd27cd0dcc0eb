"""The shared HTTP machinery: retries, rate limiter, circuit breaker, error mapping."""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import socket

import httpx
import pytest
from fake_woocommerce import FAST

from clients import (
    RETRYABLE,
    ApiError,
    AuthFailed,
    BreakerConfig,
    CircuitOpen,
    Conflict,
    InvalidConfig,
    NotFound,
    RateLimit,
    RateLimited,
    ResponseTooLarge,
    RetryPolicy,
    ServerError,
    TransportFailure,
)
from clients._http import (
    ApiClient,
    CircuitBreaker,
    HttpClient,
    RateLimiter,
    aware_utc,
    decode_json,
    http_url,
    parse_retry_after,
    reset_shared_state,
)

pytestmark = pytest.mark.anyio


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Script:
    """MockTransport handler answering from a list; counts requests."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def client(script: Script, **kwargs) -> HttpClient:
    kwargs.setdefault("retry", FAST)
    return HttpClient(
        base_url="https://api.example/v1/",
        service="Example",
        transport=httpx.MockTransport(script),
        **kwargs,
    )


# -- retries


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, ApiError), (401, AuthFailed), (403, AuthFailed), (404, NotFound), (409, Conflict)],
)
async def test_client_errors_are_never_retried(status: int, error: type) -> None:
    script = Script(httpx.Response(status, json={"code": "x", "message": "no"}))
    http = client(script)
    with pytest.raises(error) as caught:
        await http.request("GET", "things")
    assert caught.value.status == status and caught.value.vendor_code == "x"
    assert len(script.requests) == 1
    assert http.stats.retries == 0


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(500),
        httpx.Response(502),
        httpx.Response(503),
        httpx.Response(429),
        httpx.ReadTimeout("slow"),
        httpx.ConnectError("refused"),
        httpx.RemoteProtocolError("dropped"),
    ],
    ids=["500", "502", "503", "429", "read-timeout", "connect-error", "dropped"],
)
async def test_transient_failures_are_retried(failure: httpx.Response | Exception) -> None:
    script = Script(failure, failure, httpx.Response(200, json={"ok": True}))
    http = client(script)
    response = await http.request("GET", "things")
    assert response.json() == {"ok": True}
    assert len(script.requests) == 3
    assert http.stats.retries == 2 and http.stats.requests == 3


async def test_retries_give_up_after_max_retries_with_the_last_error() -> None:
    script = Script(httpx.Response(500, json={"code": "boom", "message": "Internal"}))
    http = client(script, retry=RetryPolicy(max_retries=2, base_delay=0, jitter=0))
    with pytest.raises(ServerError, match="500 boom: Internal"):
        await http.request("GET", "things")
    assert len(script.requests) == 3


async def test_retry_after_is_honoured_on_429_and_503() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    script = Script(
        httpx.Response(429, headers={"Retry-After": "7"}),
        httpx.Response(503, headers={"Retry-After": "3"}),
        httpx.Response(500),
        httpx.Response(200),
    )
    policy = RetryPolicy(max_retries=3, base_delay=0.5, jitter=0.0)
    http = client(script, retry=policy, sleep=sleep)
    await http.request("GET", "things")
    # backoff waits are Retry-After, Retry-After, then exponential 0.5 * 2**2; the limiter
    # (no budget configured) adds nothing here because no limiter was given.
    assert waits == [7.0, 3.0, 2.0]
    assert http.stats.rate_limited == 1
    assert http.stats.backoff_seconds == pytest.approx(12.0)


async def test_a_429_retry_after_beyond_the_cap_is_not_waited_for() -> None:
    script = Script(httpx.Response(429, headers={"Retry-After": "3600"}))
    http = client(script)
    with pytest.raises(RateLimited, match="retry after 3600s") as caught:
        await http.request("GET", "things")
    assert caught.value.retry_after == 3600
    assert len(script.requests) == 1


async def test_a_503_retry_after_beyond_the_cap_is_capped() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    script = Script(httpx.Response(503, headers={"Retry-After": "600"}), httpx.Response(200))
    http = client(script, retry=RetryPolicy(max_retry_after=20), sleep=sleep)
    await http.request("GET", "things")
    assert waits == [20.0]


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(500),
        httpx.Response(502),
        httpx.Response(503, headers={"Retry-After": "0"}),
        httpx.Response(504),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("dropped"),
    ],
    ids=["500", "502", "503", "504", "read-timeout", "dropped"],
)
async def test_post_is_sent_once_when_it_may_have_been_processed(failure) -> None:
    """A proxy's 503 (or a 5xx, or a broken answer) may follow a POST the store applied."""
    script = Script(failure, httpx.Response(200))
    with pytest.raises((ServerError, TransportFailure)):
        await client(script).request("POST", "things", json={"a": 1})
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    "failure",
    [httpx.Response(429), httpx.ConnectError("refused"), httpx.ConnectTimeout("no")],
    ids=["429", "connect-error", "connect-timeout"],
)
async def test_post_is_retried_when_it_provably_was_not_processed(failure) -> None:
    script = Script(failure, httpx.Response(200))
    await client(script).request("POST", "things", json={"a": 1})
    assert len(script.requests) == 2


async def test_get_is_retried_on_503_and_a_marked_post_too() -> None:
    script = Script(httpx.Response(503), httpx.Response(200))
    await client(script).request("GET", "things")
    assert len(script.requests) == 2
    script = Script(httpx.Response(503), httpx.Response(200))
    await client(script).request("POST", "things/search", json={}, idempotent=True)
    assert len(script.requests) == 2


def test_backoff_is_exponential_capped_and_jittered() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=5.0, jitter=0.5)
    assert [policy.backoff(n, 0.0) for n in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert policy.backoff(1, 0.999) == pytest.approx(1.001, abs=1e-3)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("5", 5.0),
        ("1.5", 1.5),
        (None, None),
        ("", None),
        ("soon", None),
        ("-3", 0.0),
        ("inf", None),
        ("-inf", None),
        ("Infinity", None),
        ("nan", None),
        ("1e309", None),
        ("9" * 400, None),
        ("Fri, 31 Dec 99999 23:59:59 GMT", None),
    ],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header) == expected


@pytest.mark.parametrize(
    "header", ["3600", "inf", "nan", "1e309", "-5", "soon", "Fri, 31 Dec 9999 23:59:59 GMT"]
)
async def test_a_hostile_retry_after_never_pauses_the_shared_limiter_past_the_cap(header: str) -> None:
    """One store's 429 pauses every request to it in the process: never for longer than the cap."""
    clock = FakeClock()
    limiter = RateLimiter(RateLimit(rpm=600), clock=clock)
    script = Script(httpx.Response(429, headers={"Retry-After": header}), httpx.Response(200))
    policy = RetryPolicy(max_retries=1, base_delay=0, jitter=0, max_retry_after=20)

    async def sleep(seconds: float) -> None:
        clock.now += seconds

    http = client(script, retry=policy, limiter=limiter, sleep=sleep)
    with contextlib.suppress(RateLimited):
        await http.request("GET", "things")
    assert 0.0 <= limiter.blocked_for() <= 20.0
    # The next request waits out the pause plus its place in the (slowed) bucket, no more.
    assert limiter.reserve()[0] <= 20.0 + 60.0 / limiter.rpm + 1e-9


def test_limiter_clamps_the_pause_it_is_given() -> None:
    clock = FakeClock()
    limiter = RateLimiter(None, clock=clock)
    limiter.on_rate_limited(3600.0, 0, max_pause=30.0)
    assert limiter.blocked_for() == 30.0
    for bad in (math.inf, math.nan, -1.0):
        fresh = RateLimiter(None, clock=clock)
        fresh.on_rate_limited(bad, 0, max_pause=30.0)
        assert fresh.blocked_for() == 0.0


async def test_a_non_finite_retry_after_falls_back_to_backoff() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    script = Script(httpx.Response(429, headers={"Retry-After": "inf"}), httpx.Response(200))
    http = client(script, retry=RetryPolicy(max_retries=1, base_delay=0.25, jitter=0), sleep=sleep)
    await http.request("GET", "things")
    assert waits == [0.25] and len(script.requests) == 2


def test_parse_retry_after_http_date() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=1445412500.0) == 10.0


# -- error mapping


async def test_timeouts_and_connection_errors_become_transport_failures() -> None:
    script = Script(httpx.ConnectTimeout("no"))
    with pytest.raises(TransportFailure, match="did not accept a connection") as caught:
        await client(script, retry=RetryPolicy(max_retries=0)).request("GET", "x")
    assert caught.value.request_sent is False
    script = Script(httpx.ReadTimeout("no"))
    with pytest.raises(TransportFailure, match="did not answer GET /v1/x in time") as caught:
        await client(script, retry=RetryPolicy(max_retries=0)).request("GET", "x")
    assert caught.value.request_sent is True
    assert caught.value.__cause__ is None  # no httpx type leaks through `raise ... from`


async def test_connection_refused_on_a_real_port() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    http = HttpClient(
        base_url=f"http://127.0.0.1:{port}/",
        service="Nowhere",
        retry=RetryPolicy(max_retries=1, base_delay=0),
    )
    with pytest.raises(TransportFailure, match="could not connect to Nowhere"):
        await http.request("GET", "x")
    assert http.stats.requests == 2 and http.stats.transport_failures == 2
    await http.aclose()


async def test_a_read_timeout_against_a_real_slow_server(live_store) -> None:
    live_store.behaviour.update(mode="hang")  # until the test ends
    http = HttpClient(base_url=live_store.url, service="Slow", timeout=0.1, retry=RetryPolicy(max_retries=0))
    with pytest.raises(TransportFailure, match="did not answer"):
        await http.request("GET", "/wp-json/wc/v3")
    await http.aclose()


async def test_a_dropped_connection_is_a_transport_failure(live_store) -> None:
    live_store.behaviour.update(mode="drop")
    http = HttpClient(base_url=live_store.url, service="Dropper", retry=RetryPolicy(max_retries=0))
    with pytest.raises(TransportFailure, match="dropped the connection"):
        await http.request("GET", "/wp-json/wc/v3")
    await http.aclose()


async def test_bad_scheme_is_invalid_config() -> None:
    http = HttpClient(base_url="ftp://x/", service="X")
    with pytest.raises(InvalidConfig):
        await http.request("GET", "y")
    await http.aclose()


def test_json_decoding_tolerates_a_bom() -> None:
    assert decode_json(b'\xef\xbb\xbf[{"id": 1}]') == [{"id": 1}]
    assert decode_json(b'  \n\xef\xbb\xbf {"a": "\xc3\xa9"}') == {"a": "é"}
    with pytest.raises(ValueError):
        decode_json(b"<html></html>")


async def test_secrets_are_redacted_from_messages_and_bodies() -> None:
    secret = "cs_supersecretvalue"
    script = Script(httpx.Response(400, text=f"bad request for consumer_secret={secret}"))
    http = client(script, secrets=[secret])
    with pytest.raises(ApiError) as caught:
        await http.request("GET", "things", params=[("consumer_secret", secret)])
    error = caught.value
    assert secret not in str(error) and secret not in repr(error) and secret not in error.body
    assert "***" in error.body


# -- rate limiter


def test_limiter_paces_requests_at_the_configured_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimit(rpm=60, burst=2), clock=clock)
    waits = [limiter.reserve()[0] for _ in range(5)]
    assert waits == [0.0, 0.0, 1.0, 2.0, 3.0]  # burst of 2, then one per second
    clock.now += 10  # idle: the debt is repaid and the bucket refills to its burst only
    assert [limiter.reserve()[0] for _ in range(3)] == [0.0, 0.0, 1.0]


def test_limiter_backs_off_on_429_honours_retry_after_and_recovers() -> None:
    clock = FakeClock()
    config = RateLimit(rpm=60, burst=1, backoff=0.5, recovery=0.25, floor=0.1)
    limiter = RateLimiter(config, clock=clock)
    wait, generation = limiter.reserve()
    assert wait == 0.0
    limiter.on_rate_limited(retry_after=5.0, generation=generation)
    assert limiter.rpm == 30.0
    assert limiter.blocked_for() == 5.0
    # 429s to requests reserved before the slowdown do not slow it down again.
    limiter.on_rate_limited(retry_after=None, generation=generation)
    assert limiter.rpm == 30.0
    # Nothing goes out before Retry-After; then one request every 2 s (30 rpm).
    assert [limiter.reserve()[0] for _ in range(3)] == [7.0, 9.0, 11.0]
    # A 429 in the new generation halves again, down to the floor at most.
    _, generation = limiter.reserve()
    limiter.on_rate_limited(None, generation)
    _, generation = limiter.reserve()
    limiter.on_rate_limited(None, generation)
    _, generation = limiter.reserve()
    limiter.on_rate_limited(None, generation)
    assert limiter.rpm == 6.0  # floor: 10% of 60
    # Recovery: each success regains 25% of the configured rate, up to it.
    rates = []
    for _ in range(5):
        limiter.on_success()
        rates.append(limiter.rpm)
    assert rates == [21.0, 36.0, 51.0, 60.0, 60.0]


def test_unlimited_limiter_still_pauses_for_retry_after() -> None:
    clock = FakeClock()
    limiter = RateLimiter(None, clock=clock)
    assert limiter.reserve()[0] == 0.0
    limiter.on_rate_limited(4.0, 0)
    assert limiter.reserve()[0] == 4.0
    clock.now += 4
    assert limiter.reserve()[0] == 0.0


async def test_client_waits_for_the_limiter_and_slows_down_on_429() -> None:
    clock = FakeClock()
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.now += seconds

    limiter = RateLimiter(RateLimit(rpm=120, burst=1), clock=clock)
    script = Script(httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(200))
    http = client(script, limiter=limiter, sleep=sleep)
    await http.request("GET", "a")  # 429 (pause 2 s, rate halved to 60 rpm), then 200
    await http.request("GET", "b")
    # retry waits Retry-After (2 s) then a token; the next request waits ~1 s (60 rpm minus
    # the recovery the success earned).
    assert waits[0] == 2.0
    assert http.stats.rate_limited == 1
    assert http.stats.throttle_seconds > 0
    assert limiter.rpm < 120


# -- circuit breaker


def test_breaker_opens_after_consecutive_failures_and_probes_after_reset() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("Shop", BreakerConfig(failure_threshold=3, reset_after=30), clock=clock)
    for _ in range(2):
        breaker.before_call()
        breaker.record_failure("502")
    breaker.record_success()  # a success resets the count
    for _ in range(3):
        breaker.before_call()
        breaker.record_failure("502")
    assert breaker.state == "open"
    with pytest.raises(CircuitOpen, match=r"Shop looks down: 3 consecutive failures.*30s") as caught:
        breaker.before_call()
    assert caught.value.retry_in == 30
    clock.now += 30
    assert breaker.before_call() is True  # the half-open probe
    with pytest.raises(CircuitOpen):
        breaker.before_call()  # only one probe at a time
    breaker.record_failure("502")  # probe failed: open again for reset_after
    assert breaker.state == "open"
    clock.now += 30
    assert breaker.before_call() is True
    breaker.record_success()
    assert breaker.state == "closed"
    assert breaker.before_call() is False


async def test_a_down_service_ends_quickly_instead_of_a_retry_storm() -> None:
    script = Script(httpx.ConnectError("refused"))
    breaker = CircuitBreaker("Shop", BreakerConfig(failure_threshold=5, reset_after=60))
    http = client(script, breaker=breaker)
    with pytest.raises(TransportFailure):
        await http.request("GET", "a")  # 4 attempts
    with pytest.raises(CircuitOpen, match="Shop looks down"):
        await http.request("GET", "b")  # fifth attempt opens it; no more retries
    with pytest.raises(CircuitOpen):
        await http.request("GET", "c")  # refused without a request
    assert len(script.requests) == 5
    assert http.stats.circuit_rejections == 2


async def test_client_errors_do_not_trip_the_breaker() -> None:
    script = Script(httpx.Response(404))
    breaker = CircuitBreaker("Shop", BreakerConfig(failure_threshold=2))
    http = client(script, breaker=breaker)
    for _ in range(5):
        with pytest.raises(NotFound):
            await http.request("GET", "a")
    assert breaker.state == "closed"


# -- bounds: response size and overall deadline, against a real server on 127.0.0.1


async def test_a_body_announced_too_large_is_refused_before_reading(live_store) -> None:
    live_store.behaviour.update(content_length=50 * 1024 * 1024)  # a lie: never sent
    http = HttpClient(base_url=live_store.url, service="Big", max_response_bytes=1024 * 1024)
    with pytest.raises(ResponseTooLarge) as caught:
        await http.request("GET", "/wp-json/wc/v3")
    error = caught.value
    assert (error.size, error.limit) == (50 * 1024 * 1024, 1024 * 1024)
    assert "52428800 bytes" in str(error) and "max_response_bytes" in str(error)
    assert not isinstance(error, RETRYABLE)
    assert len(live_store.served) == 1  # not retried: it would be as big again
    await http.aclose()


async def test_an_endless_body_is_cut_at_the_limit(live_store) -> None:
    live_store.behaviour.update(mode="endless")
    http = HttpClient(base_url=live_store.url, service="Firehose", max_response_bytes=1024 * 1024)
    with pytest.raises(ResponseTooLarge, match="more than 1048576 bytes") as caught:
        await http.request("GET", "/wp-json/wc/v3")
    assert caught.value.size is None and caught.value.status == 200
    await http.aclose()


async def test_a_body_exactly_at_the_limit_is_read() -> None:
    body = b"[" + b" " * 98 + b"]"
    script = Script(httpx.Response(200, content=body))
    http = client(script, max_response_bytes=100)
    assert (await http.request("GET", "x")).content == body
    script = Script(httpx.Response(200, content=body + b" "))
    with pytest.raises(ResponseTooLarge):
        await client(script, max_response_bytes=100).request("GET", "x")


async def test_a_gzipped_body_is_measured_decoded() -> None:
    import gzip

    body = b"[" + b"0," * 50_000 + b"0]"
    packed = gzip.compress(body)
    headers = {"content-encoding": "gzip", "content-type": "application/json"}
    script = Script(httpx.Response(200, content=packed, headers=headers))
    assert decode_json((await client(script).request("GET", "x")).content)[-1] == 0
    script = Script(httpx.Response(200, content=packed, headers=headers))
    with pytest.raises(ResponseTooLarge):
        await client(script, max_response_bytes=len(packed) * 2).request("GET", "x")


async def test_a_trickling_server_hits_the_overall_deadline(live_store) -> None:
    """httpx's read timeout is per read: one byte now and then never trips it; the deadline does."""
    live_store.behaviour.update(mode="trickle", interval=0.02)
    http = HttpClient(
        base_url=live_store.url,
        service="Trickle",
        timeout=5.0,
        deadline=0.3,
        retry=RetryPolicy(max_retries=1, base_delay=0, jitter=0),
    )
    with pytest.raises(TransportFailure, match=r"did not finish answering GET /wp-json/wc/v3 within 0.3s"):
        await http.request("GET", "/wp-json/wc/v3")
    assert len(live_store.served) == 2  # retryable, like a timeout
    assert http.stats.transport_failures == 2
    await http.aclose()


async def test_a_post_past_the_deadline_is_not_repeated(live_store) -> None:
    live_store.behaviour.update(mode="trickle", interval=0.02)
    http = HttpClient(base_url=live_store.url, service="Trickle", timeout=5.0, deadline=0.3, retry=FAST)
    with pytest.raises(TransportFailure, match="did not finish answering"):
        await http.request("POST", "/wp-json/wc/v3/orders", json={})
    assert len(live_store.served) == 1
    await http.aclose()


def test_deadline_and_size_defaults_and_validation() -> None:
    assert HttpClient(base_url="http://x/", service="X").deadline == 60.0
    assert HttpClient(base_url="http://x/", service="X", timeout=45).deadline == 90.0
    assert HttpClient(base_url="http://x/", service="X").max_response_bytes == 64 * 1024 * 1024
    for bad in ({"deadline": 0}, {"deadline": -1}, {"max_response_bytes": 0}):
        with pytest.raises(InvalidConfig):
            HttpClient(base_url="http://x/", service="X", **bad)


# -- before_request: a hook for a budget shared beyond this process


async def test_before_request_is_awaited_before_every_attempt_and_before_the_bucket() -> None:
    events: list[str] = []

    async def take_slot() -> None:
        events.append("slot")

    class Recording(RateLimiter):
        def reserve(self) -> tuple[float, int]:
            events.append("bucket")
            return super().reserve()

    script = Script(httpx.Response(503), httpx.ReadTimeout("slow"), httpx.Response(429), httpx.Response(200))
    http = client(script, before_request=take_slot, limiter=Recording(None))
    await http.request("GET", "things")
    assert len(script.requests) == 4
    assert events == ["slot", "bucket"] * 4  # retries included, always before the local bucket


async def test_a_failing_before_request_sends_nothing() -> None:
    class BudgetDown(Exception):
        pass

    async def take_slot() -> None:
        raise BudgetDown("the shared budget cannot be reached")

    script = Script(httpx.Response(200))
    with pytest.raises(BudgetDown):
        await client(script, before_request=take_slot).request("GET", "things")
    assert script.requests == []


async def test_before_request_is_not_awaited_for_a_call_the_breaker_refuses() -> None:
    calls: list[int] = []

    async def take_slot() -> None:
        calls.append(1)

    breaker = CircuitBreaker("Shop", BreakerConfig(failure_threshold=1, reset_after=60))
    script = Script(httpx.ConnectError("refused"))
    http = client(script, breaker=breaker, before_request=take_slot)
    with pytest.raises(TransportFailure):
        await http.request("GET", "a", retry=RetryPolicy(max_retries=0))
    with pytest.raises(CircuitOpen):
        await http.request("GET", "b")
    assert len(calls) == 1 == len(script.requests)


# -- what every vendor client is built from


def test_http_url_takes_an_http_address_and_names_the_setting_it_refuses() -> None:
    text, url = http_url(" https://api.example.com/v1/ ", name="base_url", example="https://x")
    assert (text, url.host, url.path) == ("https://api.example.com/v1", "api.example.com", "/v1")
    with pytest.raises(
        InvalidConfig, match=r"api_url 'ftp://files' must be an http\(s\) URL, e\.g\. https://x"
    ):
        http_url("ftp://files", name="api_url", example="https://x")
    with pytest.raises(InvalidConfig, match="base_url '' must be"):
        http_url("", name="base_url", example="https://x")
    with pytest.raises(InvalidConfig, match="is not a valid URL"):
        http_url("https://exa mple.com:port", name="base_url", example="https://x")


def test_aware_utc_converts_and_refuses_naive_times() -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    when = dt.datetime(2026, 1, 1, 1, 30, 15, 999_999, tzinfo=paris)
    assert aware_utc(when, "start") == dt.datetime(2026, 1, 1, 0, 30, 15, tzinfo=dt.UTC)
    with pytest.raises(ValueError, match="end must be timezone-aware"):
        aware_utc(dt.datetime(2026, 1, 1), "end")


async def test_for_service_shares_limiter_and_breaker_per_key_and_sends_the_default_headers() -> None:
    reset_shared_state()
    script = Script(httpx.Response(200, json={}))
    common = {"rate_limit": RateLimit(rpm=600), "breaker": BreakerConfig()}
    a = HttpClient.for_service(
        base_url="https://one.example", service="One", transport=httpx.MockTransport(script), **common
    )
    b = HttpClient.for_service(base_url="https://one.example", service="One", **common)
    c = HttpClient.for_service(
        base_url="https://one.example/api/", service="One", share_key="https://other.example", **common
    )
    try:
        assert a.limiter is b.limiter and a.breaker is b.breaker
        assert c.limiter is not a.limiter and c.breaker is not a.breaker
        await a.request("GET", "/x")
        (sent,) = script.requests
        assert sent.headers["user-agent"] == "nxt-integrations (+httpx)"
        assert sent.headers["accept"] == "application/json"
    finally:
        for h in (a, b, c):
            await h.aclose()
        reset_shared_state()


async def test_an_api_client_closes_its_pool_and_counts_requests() -> None:
    class Vendor(ApiClient):
        def __init__(self, transport: httpx.AsyncBaseTransport) -> None:
            self._http = HttpClient(base_url="https://v.example", service="V", transport=transport)

        async def ping(self) -> int:
            return (await self._http.request("GET", "/ping")).status_code

    script = Script(httpx.Response(204))
    async with Vendor(httpx.MockTransport(script)) as vendor:
        assert await vendor.ping() == 204
        assert vendor.stats.requests == 1
    with pytest.raises(RuntimeError, match="closed"):
        await vendor.ping()
