"""AuthorizeNetClient behaviour against a fake gateway behind MockTransport: order, BOM, errors, retries."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest

from clients import (
    ApiError,
    AuthFailed,
    AuthorizeNetClient,
    Declined,
    InvalidConfig,
    NotFound,
    RetryPolicy,
    ServerError,
    TransportFailure,
)
from clients.authorizenet import order_members

pytestmark = pytest.mark.anyio

URL = "https://apitest.authorize.example/xml/v1/request.api"
BOM = b"\xef\xbb\xbf"
FAST = RetryPolicy(max_retries=3, base_delay=0.0, jitter=0.0)
OK = {"resultCode": "Ok", "message": [{"code": "I00001", "text": "Successful."}]}


def answer(data: dict[str, Any], *, bom: bool = True) -> httpx.Response:
    return httpx.Response(
        200,
        content=(BOM if bom else b"") + json.dumps(data).encode(),
        headers={"content-type": "application/json; charset=utf-8"},
    )


def error(code: str, text: str, **extra: Any) -> httpx.Response:
    return answer({**extra, "messages": {"resultCode": "Error", "message": [{"code": code, "text": text}]}})


class FakeGateway:
    def __init__(self, respond: Callable[[dict[str, Any]], httpx.Response]) -> None:
        self.respond = respond
        self.bodies: list[bytes] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url == URL and request.method == "POST"
        assert request.headers["content-type"] == "application/json"
        self.bodies.append(request.content)
        return self.respond(json.loads(request.content))


def client(fake: Callable[[httpx.Request], httpx.Response], **kwargs: Any) -> AuthorizeNetClient:
    kwargs.setdefault("retry", FAST)
    return AuthorizeNetClient(
        api_url=URL,
        api_login_id="login123",
        transaction_key="key4567890123456",
        transport=httpx.MockTransport(fake),
        **kwargs,
    )


# --- member order -------------------------------------------------------------------------------------
def test_members_are_put_in_the_xsd_order() -> None:
    scrambled = {
        "transactionRequest": {
            "order": {"description": "d", "invoiceNumber": "1"},
            "billTo": {"zip": "1", "firstName": "A"},
            "payment": {"creditCard": {"cardCode": "1", "expirationDate": "2035-12", "cardNumber": "4111"}},
            "amount": "1.00",
            "transactionType": "authCaptureTransaction",
            "customFutureField": "x",
            "lineItems": {"lineItem": [{"unitPrice": "1", "name": "n", "itemId": "i", "quantity": "1"}]},
        },
        "refId": "r",
        "merchantAuthentication": {"transactionKey": "k", "name": "n"},
    }
    ordered = order_members("createTransactionRequest", scrambled)
    assert list(ordered) == ["merchantAuthentication", "refId", "transactionRequest"]
    tr = ordered["transactionRequest"]
    assert list(tr) == [
        "transactionType",
        "amount",
        "payment",
        "order",
        "lineItems",
        "billTo",
        "customFutureField",
    ]
    assert list(tr["payment"]["creditCard"]) == ["cardNumber", "expirationDate", "cardCode"]
    assert list(tr["lineItems"]["lineItem"][0]) == ["itemId", "name", "quantity", "unitPrice"]
    assert list(ordered["merchantAuthentication"]) == ["name", "transactionKey"]


async def test_requests_carry_the_credentials_first_and_in_order() -> None:
    fake = FakeGateway(
        lambda body: answer(
            {"transactionResponse": {"responseCode": "1", "transId": "60000000001"}, "messages": OK}
        )
    )
    async with client(fake) as anet:
        tr = await anet.charge(
            Decimal("10"),
            card_number="4111111111111111",
            expiration_date="2035-12",
            invoice_number="77",
            bill_to={"zip": "98004", "firstName": "Ann"},
        )
    assert tr["transId"] == "60000000001"
    (raw,) = fake.bodies
    assert raw.startswith(
        b'{"createTransactionRequest":{"merchantAuthentication":{"name":"login123","transactionKey":"key4567890123456"},"transactionRequest":{"transactionType":"authCaptureTransaction","amount":"10.00",'
    )
    assert b'"billTo":{"firstName":"Ann","zip":"98004"}' in raw


# --- answers ------------------------------------------------------------------------------------------
async def test_the_bom_is_stripped_and_money_is_decimal() -> None:
    fake = FakeGateway(
        lambda body: answer(
            {"transaction": {"transId": "1", "settleAmount": 12.50, "authAmount": 0.1}, "messages": OK}
        )
    )
    async with client(fake) as anet:
        t = await anet.transaction_details("1")
    assert t["settleAmount"] == Decimal("12.50") and isinstance(t["authAmount"], Decimal)
    without = FakeGateway(lambda body: answer({"messages": OK}, bom=False))
    async with client(without) as anet:
        await anet.authenticate_test()  # a proxy that drops the BOM changes nothing


@pytest.mark.parametrize(
    ("response", "kind", "vendor_code"),
    [
        (
            error("E00007", "User authentication failed due to invalid authentication values."),
            AuthFailed,
            "E00007",
        ),
        (error("E00040", "The record cannot be found."), NotFound, "E00040"),
        (error("E00003", "The element 'x' has invalid child element 'y'."), ApiError, "E00003"),
        (error("E00001", "An error occurred during processing. Please try again."), ServerError, "E00001"),
    ],
)
async def test_result_code_errors_map_to_client_errors(
    response: httpx.Response, kind: type[ApiError], vendor_code: str
) -> None:
    async with client(FakeGateway(lambda body: response)) as anet:
        with pytest.raises(kind) as info:
            await anet.transaction_details("123")
    assert type(info.value) is kind and info.value.vendor_code == vendor_code and info.value.status == 200
    assert "key4567890123456" not in str(info.value) and "key4567890123456" not in (info.value.body or "")


def _declined(code: str, reason: str, trans_id: str) -> httpx.Response:
    tr = {"responseCode": code, "transId": trans_id, "errors": [{"errorCode": reason, "errorText": "no"}]}
    return error("E00027", "The transaction was unsuccessful.", transactionResponse=tr)


@pytest.mark.parametrize(
    ("response", "kind", "reason", "trans_id"),
    [
        (_declined("2", "2", "60000000002"), Declined, "2", "60000000002"),
        (_declined("3", "11", "0"), Declined, "11", None),
        (_declined("3", "54", "0"), ApiError, "54", None),
        (_declined("3", "6", "0"), ApiError, "6", None),
    ],
)
async def test_transaction_refusals(
    response: httpx.Response, kind: type[ApiError], reason: str, trans_id: str | None
) -> None:
    async with client(FakeGateway(lambda body: response)) as anet:
        with pytest.raises(kind) as info:
            await anet.charge(Decimal("1.00"), card_number="4111111111111111", expiration_date="2035-12")
    e = info.value
    assert type(e) is kind and e.vendor_code == reason and "E00027" in str(e)
    if isinstance(e, Declined):
        assert (e.reason, e.transaction_id) == (reason, trans_id)


async def test_e00001_on_a_transaction_is_not_retryable() -> None:
    response = error("E00001", "An error occurred during processing. Please try again.")
    async with client(FakeGateway(lambda body: response)) as anet:
        with pytest.raises(ApiError) as info:
            await anet.void("60000000001")
    assert not isinstance(info.value, ServerError)  # it may have been processed: no blind retry


# --- retries -------------------------------------------------------------------------------------------
async def test_reports_are_retried_and_transactions_are_not() -> None:
    calls: list[str] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(next(iter(json.loads(request.content))))
        return httpx.Response(503, text="busy") if len(calls) % 2 else answer({"messages": OK})

    async with client(flaky) as anet:
        await anet.transaction_details("1")
        assert calls == ["getTransactionDetailsRequest"] * 2
        calls.clear()
        with pytest.raises(ServerError):
            await anet.capture("60000000001")
        assert calls == ["createTransactionRequest"]


async def test_a_transaction_that_never_left_is_retried() -> None:
    attempts: list[int] = []

    def refuse_first(request: httpx.Request) -> httpx.Response:
        attempts.append(1)
        if len(attempts) == 1:
            raise httpx.ConnectError("connection refused", request=request)
        return answer(
            {"transactionResponse": {"responseCode": "1", "transId": "60000000003"}, "messages": OK}
        )

    async with client(refuse_first) as anet:
        tr = await anet.charge(Decimal("2.00"), card_number="4111111111111111", expiration_date="2035-12")
    assert tr["transId"] == "60000000003" and len(attempts) == 2


async def test_a_transaction_that_timed_out_is_not_retried() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    async with client(slow) as anet:
        with pytest.raises(TransportFailure) as info:
            await anet.charge(Decimal("2.00"), card_number="4111111111111111", expiration_date="2035-12")
        assert info.value.request_sent and anet.stats.requests == 1


# --- paging and windows --------------------------------------------------------------------------------
async def test_lists_are_paged_to_the_end() -> None:
    items = [{"transId": str(60000000000 + i), "settleAmount": 1.0} for i in range(7)]

    def listing(body: dict[str, Any]) -> httpx.Response:
        req = body["getTransactionListRequest"]
        assert list(req) == ["merchantAuthentication", "batchId", "sorting", "paging"]
        limit, page = req["paging"]["limit"], req["paging"]["offset"]
        chunk = items[(page - 1) * limit : page * limit]
        if not chunk:
            return answer(
                {
                    "totalNumInResultSet": 7,
                    "messages": {
                        "resultCode": "Ok",
                        "message": [{"code": "I00004", "text": "No records found."}],
                    },
                }
            )
        return answer({"transactions": chunk, "totalNumInResultSet": 7, "messages": OK})

    fake = FakeGateway(listing)
    async with client(fake) as anet:
        pages = [page async for page in anet.batch_transactions("12345678", page_size=3)]
    assert [len(p) for p in pages] == [3, 3, 1] and len(fake.bodies) == 3


async def test_batch_ranges_are_split_into_31_days() -> None:
    windows: list[tuple[str, str]] = []

    def batches(body: dict[str, Any]) -> httpx.Response:
        req = body["getSettledBatchListRequest"]
        windows.append((req["firstSettlementDate"], req["lastSettlementDate"]))
        return answer({"batchList": [{"batchId": str(len(windows))}], "messages": OK})

    async with client(FakeGateway(batches)) as anet:
        start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        found = [b async for b in anet.settled_batches(start, start + dt.timedelta(days=40))]
    assert [b["batchId"] for b in found] == ["1", "2"]
    assert windows == [
        ("2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"),
        ("2026-02-01T00:00:01Z", "2026-02-10T00:00:00Z"),
    ]


# --- configuration and money --------------------------------------------------------------------------
def test_api_url_takes_a_base_url_too() -> None:
    plain = AuthorizeNetClient(
        api_url="https://apitest.authorize.net/", api_login_id="a", transaction_key="b"
    )
    assert plain.api_url == "https://apitest.authorize.net/xml/v1/request.api"
    full = AuthorizeNetClient(
        api_url="https://apitest.authorize.net/xml/v1/request.api", api_login_id="a", transaction_key="b"
    )
    assert full.api_url == plain.api_url and "b" not in repr(full).replace("apitest.authorize.net", "")
    with pytest.raises(InvalidConfig):
        AuthorizeNetClient(api_url="apitest.authorize.net", api_login_id="a", transaction_key="b")
    with pytest.raises(InvalidConfig):
        AuthorizeNetClient(api_url=URL, api_login_id="", transaction_key="b")


async def test_money_is_decimal_with_two_places_at_most() -> None:
    async with client(FakeGateway(lambda body: answer({"messages": OK}))) as anet:
        with pytest.raises(TypeError, match="never a float"):
            await anet.charge(12.5, card_number="4111111111111111", expiration_date="2035-12")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="two decimals"):
            await anet.refund("1", Decimal("1.001"), card_last4="1111")
        with pytest.raises(ValueError, match="last four"):
            await anet.refund("1", Decimal("1.00"), card_last4="4111111111111111")
