"""PayPalClient behaviour against a fake PayPal behind MockTransport: tokens, retries, errors, paging."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from clients import (
    ApiError,
    AuthFailed,
    Declined,
    InvalidConfig,
    NotFound,
    PayPalClient,
    RetryPolicy,
    ServerError,
)
from clients.paypal import format_amount

pytestmark = pytest.mark.anyio

BASE = "https://api-m.paypal.example"
CLIENT_ID, SECRET = "AbcClientId123", "EfgSecretValue456"
FAST = RetryPolicy(max_retries=3, base_delay=0.0, jitter=0.0)


class FakePayPal:
    """Issues tokens, remembers every request, and answers the API from `routes` (path -> handler)."""

    def __init__(self, ttl: int = 3600) -> None:
        self.ttl = ttl
        self.requests: list[httpx.Request] = []
        self.tokens: list[str] = []
        self.revoked: set[str] = set()
        self.routes: dict[str, Callable[[httpx.Request], httpx.Response]] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/v1/oauth2/token":
            expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
            if request.headers.get("authorization") != expected:
                return httpx.Response(
                    401, json={"error": "invalid_client", "error_description": "Client Authentication failed"}
                )
            assert parse_qs(request.content.decode()) == {"grant_type": ["client_credentials"]}
            token = f"A21AA-token-{len(self.tokens) + 1}"
            self.tokens.append(token)
            return httpx.Response(
                200, json={"access_token": token, "token_type": "Bearer", "expires_in": self.ttl}
            )
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.tokens or token in self.revoked:
            return httpx.Response(
                401, json={"error": "invalid_token", "error_description": "Access Token not found in cache"}
            )
        handler = self.routes.get(request.url.path)
        if handler is None:
            return httpx.Response(
                200, json={"id": request.url.path.rsplit("/", 1)[-1], "status": "COMPLETED"}
            )
        return handler(request)

    def api_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path != "/v1/oauth2/token"]

    def token_requests(self) -> int:
        return sum(1 for r in self.requests if r.url.path == "/v1/oauth2/token")


def client(fake: FakePayPal, **kwargs: Any) -> PayPalClient:
    kwargs.setdefault("retry", FAST)
    return PayPalClient(
        base_url=BASE,
        client_id=CLIENT_ID,
        client_secret=SECRET,
        transport=httpx.MockTransport(fake),
        **kwargs,
    )


def paypal_error(
    status: int, name: str, issue: str | None = None, debug: str = "dbg0123456789"
) -> httpx.Response:
    body: dict[str, Any] = {
        "name": name,
        "message": "The requested action could not be performed.",
        "debug_id": debug,
    }
    if issue:
        body["details"] = [{"issue": issue, "description": f"{issue} happened", "field": "/x"}]
    return httpx.Response(status, json=body, headers={"PayPal-Debug-Id": debug})


# --- tokens -------------------------------------------------------------------------------------------
async def test_a_token_is_fetched_once_and_reused() -> None:
    fake = FakePayPal()
    async with client(fake) as pp:
        for _ in range(3):
            await pp.get_capture("CAP1")
    assert fake.token_requests() == 1
    assert {r.headers["authorization"] for r in fake.api_requests()} == {"Bearer A21AA-token-1"}


async def test_an_expired_token_is_replaced_before_use() -> None:
    fake, now = FakePayPal(ttl=600), [1000.0]
    async with client(fake, clock=lambda: now[0], token_margin=60) as pp:
        await pp.get_capture("CAP1")
        now[0] += 539  # still within expires_in - margin
        await pp.get_capture("CAP1")
        now[0] += 2
        await pp.get_capture("CAP1")
    assert fake.token_requests() == 2
    assert fake.api_requests()[-1].headers["authorization"] == "Bearer A21AA-token-2"


async def test_invalid_token_gets_one_new_token_and_one_retry() -> None:
    fake = FakePayPal()
    async with client(fake) as pp:
        await pp.get_capture("CAP1")
        fake.revoked.add("A21AA-token-1")  # revoked at PayPal before our clock says it expired
        assert (await pp.get_capture("CAP2"))["id"] == "CAP2"
        assert fake.token_requests() == 2
        fake.routes["/v2/payments/captures/CAP3"] = lambda r: httpx.Response(
            401, json={"error": "invalid_token", "error_description": "Token signature verification failed"}
        )
        with pytest.raises(AuthFailed) as info:
            await pp.get_capture("CAP3")  # a second refusal is not retried forever
    assert info.value.vendor_code == "invalid_token"
    assert fake.token_requests() == 3


async def test_concurrent_calls_share_one_token_fetch() -> None:
    fake = FakePayPal()
    async with client(fake) as pp:
        await asyncio.gather(*(pp.get_capture(f"CAP{i}") for i in range(6)))
    assert fake.token_requests() == 1


async def test_wrong_credentials_are_auth_failed_without_the_secret() -> None:
    fake = FakePayPal()
    pp = PayPalClient(
        base_url=BASE,
        client_id=CLIENT_ID,
        client_secret="wrong-secret-value",
        transport=httpx.MockTransport(fake),
    )
    async with pp:
        with pytest.raises(AuthFailed) as info:
            await pp.get_capture("CAP1")
    assert info.value.vendor_code == "invalid_client"
    assert "check client_id and client_secret" in str(info.value)
    assert "wrong-secret-value" not in str(info.value) and "wrong-secret-value" not in repr(pp)


# --- idempotency and retries ---------------------------------------------------------------------------
async def test_a_retried_capture_repeats_its_request_id() -> None:
    fake = FakePayPal()
    answers = [
        httpx.Response(503, text="<html>busy</html>"),
        httpx.Response(201, json={"id": "O1", "status": "COMPLETED"}),
    ]
    fake.routes["/v2/checkout/orders/O1/capture"] = lambda r: answers.pop(0)
    async with client(fake) as pp:
        order = await pp.capture_order("O1")
    assert order["status"] == "COMPLETED"
    sent = fake.api_requests()
    ids = {r.headers["paypal-request-id"] for r in sent}
    assert len(sent) == 2 and len(ids) == 1 and len(ids.pop()) == 36  # one UUID for the logical call
    assert sent[0].headers["prefer"] == "return=representation" and sent[0].content == b"{}"


async def test_the_caller_can_pin_the_request_id() -> None:
    fake = FakePayPal()
    async with client(fake) as pp:
        await pp.refund_capture("CAP9", amount=Decimal("12.5"), currency="usd", request_id="refund-order-42")
    request = fake.api_requests()[0]
    assert request.headers["paypal-request-id"] == "refund-order-42"
    assert json.loads(request.content) == {"amount": {"currency_code": "USD", "value": "12.50"}}


async def test_a_post_without_a_request_id_is_not_retried_after_a_5xx() -> None:
    fake = FakePayPal()
    fake.routes["/v1/notifications/webhooks"] = lambda r: httpx.Response(503, text="busy")
    async with client(fake) as pp:
        with pytest.raises(ServerError):
            await pp.create_webhook("https://hooks.example.com/pp", ["*"])
    assert len(fake.api_requests()) == 1


async def test_reads_are_retried_after_a_5xx() -> None:
    fake = FakePayPal()
    answers = [
        httpx.Response(500, json={"name": "INTERNAL_SERVER_ERROR"}),
        httpx.Response(200, json={"id": "R1"}),
    ]
    fake.routes["/v2/payments/refunds/R1"] = lambda r: answers.pop(0)
    async with client(fake) as pp:
        assert (await pp.get_refund("R1"))["id"] == "R1"
    assert len(fake.api_requests()) == 2


# --- errors -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("response", "kind", "code"),
    [
        (paypal_error(422, "UNPROCESSABLE_ENTITY", "ORDER_NOT_APPROVED"), ApiError, "ORDER_NOT_APPROVED"),
        (paypal_error(422, "UNPROCESSABLE_ENTITY", "INSTRUMENT_DECLINED"), Declined, "INSTRUMENT_DECLINED"),
        (paypal_error(422, "UNPROCESSABLE_ENTITY", "DUPLICATE_INVOICE_ID"), Declined, "DUPLICATE_INVOICE_ID"),
        (
            paypal_error(400, "INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER"),
            ApiError,
            "MISSING_REQUIRED_PARAMETER",
        ),
        (paypal_error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID"), NotFound, "INVALID_RESOURCE_ID"),
        (paypal_error(403, "NOT_AUTHORIZED"), AuthFailed, "NOT_AUTHORIZED"),
    ],
)
async def test_paypal_errors_map_to_client_errors(
    response: httpx.Response, kind: type[ApiError], code: str
) -> None:
    fake = FakePayPal()
    fake.routes["/v2/checkout/orders/O1/capture"] = lambda r: response
    async with client(fake) as pp:
        with pytest.raises(kind) as info:
            await pp.capture_order("O1")
    error = info.value
    assert type(error) is kind and error.vendor_code == code and error.request_id == "dbg0123456789"
    assert error.status == response.status_code
    if isinstance(error, NotFound):
        assert error.gone
    if isinstance(error, Declined):
        assert error.reason == code
    assert len(fake.api_requests()) == 1  # a refusal is not retried


async def test_orders_create_sends_paypal_headers() -> None:
    fake = FakePayPal()
    fake.routes["/v2/checkout/orders"] = lambda r: httpx.Response(201, json={"id": "O7", "status": "CREATED"})
    async with client(fake) as pp:
        order = await pp.create_order({"intent": "CAPTURE", "purchase_units": []}, prefer="return=minimal")
    assert order["id"] == "O7"
    request = fake.api_requests()[0]
    assert (
        request.headers["prefer"] == "return=minimal"
        and request.headers["content-type"] == "application/json"
    )
    assert request.headers["paypal-request-id"]


# --- Transaction Search -------------------------------------------------------------------------------
async def test_search_splits_long_ranges_and_reads_every_page() -> None:
    fake = FakePayPal()
    seen: list[dict[str, str]] = []

    def search(request: httpx.Request) -> httpx.Response:
        q = dict(request.url.params)
        seen.append(q)
        page = int(q["page"])
        return httpx.Response(
            200,
            json={
                "transaction_details": [
                    {"transaction_info": {"transaction_id": f"{q['start_date']}-{page}"}}
                ],
                "total_pages": 2,
                "total_items": 2,
                "page": page,
            },
        )

    fake.routes["/v1/reporting/transactions"] = search
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(2026, 3, 12, 12, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    async with client(fake) as pp:
        pages = [p async for p in pp.search_transactions(start, end, page_size=250, transaction_status="S")]
    windows = [(q["start_date"], q["end_date"]) for q in seen if q["page"] == "1"]
    assert windows == [
        ("2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"),
        ("2026-02-01T00:00:01Z", "2026-03-04T00:00:01Z"),
        ("2026-03-04T00:00:02Z", "2026-03-12T10:30:00Z"),
    ]
    assert [p.page for p in pages] == [1, 2, 1, 2, 1, 2] and all(p.total_pages == 2 for p in pages)
    assert {q["page_size"] for q in seen} == {"250"} and {q["transaction_status"] for q in seen} == {"S"}
    assert {q["fields"] for q in seen} == {"all"} and {q["balance_affecting_records_only"] for q in seen} == {
        "Y"
    }


async def test_search_refuses_what_paypal_would() -> None:
    async with client(FakePayPal()) as pp:
        with pytest.raises(ValueError, match="timezone-aware"):
            await anext(pp.search_transactions(dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 2)))
        aware = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        with pytest.raises(ValueError, match="page_size"):
            await anext(pp.search_transactions(aware, aware, page_size=501))
        with pytest.raises(ValueError, match="before start"):
            await anext(pp.search_transactions(aware, aware - dt.timedelta(days=1)))


# --- webhooks -----------------------------------------------------------------------------------------
async def test_verify_sends_the_event_bytes_verbatim() -> None:
    fake = FakePayPal()
    bodies: list[bytes] = []

    def verify(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        return httpx.Response(200, json={"verification_status": "SUCCESS"})

    fake.routes["/v1/notifications/verify-webhook-signature"] = verify
    event = b'{"id":"WH-1","resource":{"amount":{"value":"30.0"}}}'
    headers = {
        "PAYPAL-AUTH-ALGO": "SHA256withRSA",
        "PAYPAL-CERT-URL": "https://api.paypal.com/v1/notifications/certs/CERT-1",
        "PAYPAL-TRANSMISSION-ID": "t-1",
        "PAYPAL-TRANSMISSION-SIG": "sig==",
        "PAYPAL-TRANSMISSION-TIME": "2026-01-01T00:00:00Z",
    }
    async with client(fake) as pp:
        assert await pp.verify_webhook_signature(headers=headers, body=event, webhook_id="WH1")
        assert not await pp.verify_webhook_signature(
            headers=headers | {"PAYPAL-TRANSMISSION-SIG": ""}, body=event, webhook_id="WH1"
        )
    (sent,) = bodies
    assert sent.endswith(b'"webhook_event":' + event + b"}")  # "30.0" kept as sent, not re-serialised
    assert json.loads(sent)["webhook_id"] == "WH1"


# --- money and configuration --------------------------------------------------------------------------
def test_amounts_are_formatted_per_currency() -> None:
    assert format_amount(Decimal("12.5"), "USD") == "12.50"
    assert format_amount(Decimal("1500"), "JPY") == "1500"
    with pytest.raises(ValueError, match="JPY"):
        format_amount(Decimal("1500.5"), "JPY")
    with pytest.raises(ValueError, match="more decimals"):
        format_amount(Decimal("1.005"), "USD")
    with pytest.raises(TypeError, match="never a float"):
        format_amount(12.5, "USD")  # type: ignore[arg-type]


async def test_refund_amount_needs_a_currency() -> None:
    async with client(FakePayPal()) as pp:
        with pytest.raises(ValueError, match="currency"):
            await pp.refund_capture("CAP1", amount=Decimal("1.00"))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"base_url": "api-m.paypal.com", "client_id": "a", "client_secret": "b"},
        {"base_url": BASE, "client_id": "", "client_secret": "b"},
        {"base_url": BASE, "client_id": "a", "client_secret": ""},
    ],
)
def test_bad_configuration_is_invalid_config(kwargs: dict[str, str]) -> None:
    with pytest.raises(InvalidConfig):
        PayPalClient(**kwargs)
