"""Authorize.Net transaction reporting over raw HTTP: settled batches, batch and unsettled lists, details."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from gateway_testing import anet_post

from sandbox.server import Sandbox, run_sandbox
from sandbox.world import DEFAULT_END

SIZES = {"products": 20, "customers": 20, "orders": 400, "seed": 21, "now": DEFAULT_END}


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with run_sandbox(services=("authorizenet",), **SIZES) as sandbox:
        yield sandbox


def ok(answer: dict[str, Any]) -> str:
    assert answer["messages"]["resultCode"] == "Ok", answer
    return str(answer["messages"]["message"][0]["code"])


def test_settled_batches_with_statistics(sb: Sandbox) -> None:
    first, last = DEFAULT_END - 30 * 86_400, DEFAULT_END
    raw, answer = anet_post(
        sb,
        "getSettledBatchListRequest",
        {"includeStatistics": True, "firstSettlementDate": iso(first), "lastSettlementDate": iso(last)},
    )
    assert ok(answer) == "I00001" and raw.startswith(b"\xef\xbb\xbf")
    batches = sb.world.ledger.batches(settled_gte=first, settled_lt=last + 1)
    assert [b["batchId"] for b in answer["batchList"]] == [b.id for b in batches] and batches
    for got, b in zip(answer["batchList"], batches, strict=True):
        assert got["settlementTimeUTC"] == iso(b.settlement_time) and got["settlementTimeUTC"].endswith(
            "T23:00:00Z"
        )
        assert got["settlementTimeLocal"].endswith("T15:00:00")
        assert got["settlementState"] == "settledSuccessfully" and got["paymentMethod"] == "creditCard"
        stats = {s["accountType"]: s for s in got["statistics"]}
        for expected in b.statistics():
            name = {
                "visa": "Visa",
                "mastercard": "MasterCard",
                "amex": "AmericanExpress",
                "discover": "Discover",
            }[expected["card_brand"]]
            row = stats[name]
            assert row["chargeAmount"] == Decimal(expected["charge_amount_minor"]) / 100
            assert (row["chargeCount"], row["refundCount"], row["declineCount"]) == (
                expected["charge_count"],
                expected["refund_count"],
                expected["decline_count"],
            )


def test_batch_list_validation(sb: Sandbox) -> None:
    _, answer = anet_post(
        sb,
        "getSettledBatchListRequest",
        {"firstSettlementDate": "2025-10-01T00:00:00Z", "lastSettlementDate": "2025-11-02T00:00:00Z"},
    )
    assert (
        answer["messages"]["resultCode"] == "Error" and answer["messages"]["message"][0]["code"] == "E00013"
    )
    _, answer = anet_post(sb, "getSettledBatchListRequest", {"firstSettlementDate": "yesterday"})
    assert answer["messages"]["message"][0]["code"] == "E00003"
    _, empty = anet_post(
        sb,
        "getSettledBatchListRequest",
        {"firstSettlementDate": "2020-01-01T00:00:00Z", "lastSettlementDate": "2020-01-05T00:00:00Z"},
    )
    assert ok(empty) == "I00004" and "batchList" not in empty
    assert empty["messages"]["message"][0]["text"] == "No records found."


def test_batch_transactions_page_to_the_end(sb: Sandbox) -> None:
    batch = max(sb.world.ledger.batches(), key=lambda b: len(b.transactions))
    expected = [t.id for t in batch.transactions]
    assert len(expected) >= 3
    seen: list[str] = []
    page = 1
    while True:
        _, answer = anet_post(
            sb,
            "getTransactionListRequest",
            {
                "batchId": batch.id,
                "sorting": {"orderBy": "submitTimeUTC", "orderDescending": "false"},
                "paging": {"limit": 2, "offset": page},
            },
        )
        if ok(answer) == "I00004":
            break
        assert answer["totalNumInResultSet"] == len(expected)
        seen += [t["transId"] for t in answer["transactions"]]
        page += 1
    assert seen == expected and page == math.ceil(len(expected) / 2) + 1
    first = anet_post(sb, "getTransactionListRequest", {"batchId": batch.id})[1]["transactions"][0]
    assert first["transactionStatus"] in (
        "settledSuccessfully",
        "refundSettledSuccessfully",
        "declined",
        "voided",
    )
    assert set(first) >= {
        "transId",
        "submitTimeUTC",
        "submitTimeLocal",
        "accountType",
        "accountNumber",
        "settleAmount",
    }


def test_sorting_by_id_descending(sb: Sandbox) -> None:
    batch = max(sb.world.ledger.batches(), key=lambda b: len(b.transactions))
    _, answer = anet_post(
        sb,
        "getTransactionListRequest",
        {"batchId": batch.id, "sorting": {"orderBy": "id", "orderDescending": True}},
    )
    ids = [t["transId"] for t in answer["transactions"]]
    assert ids == sorted(ids, key=int, reverse=True)


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({"batchId": "1", "paging": {"limit": 1001, "offset": 1}}, "The MaxInclusive constraint failed."),
        ({"batchId": "1", "paging": {"limit": 10, "offset": 0}}, "The MinInclusive constraint failed."),
        ({"batchId": "abc"}, "The Pattern constraint failed."),
        ({"batchId": "1", "paging": {"offset": 1, "limit": 5}}, "has invalid child element 'offset'"),
        (
            {"batchId": "1", "sorting": {"orderBy": "amount", "orderDescending": False}},
            "The Enumeration constraint failed.",
        ),
    ],
)
def test_list_validation_is_e00003(sb: Sandbox, body: dict[str, Any], text: str) -> None:
    _, answer = anet_post(sb, "getTransactionListRequest", body)
    message = answer["messages"]["message"][0]
    assert message["code"] == "E00003" and text in message["text"]


def test_unknown_batch_has_no_records(sb: Sandbox) -> None:
    _, answer = anet_post(sb, "getTransactionListRequest", {"batchId": "99999999"})
    assert ok(answer) == "I00004" and answer["totalNumInResultSet"] == 0


def test_unsettled_list_and_details_follow_a_new_transaction(sb: Sandbox) -> None:
    tr = {
        "transactionType": "authCaptureTransaction",
        "amount": "44.10",
        "payment": {"creditCard": {"cardNumber": "5424000000000015", "expirationDate": "2035-01"}},
        "order": {"invoiceNumber": "700001", "description": "Order #700001"},
        "billTo": {"firstName": "Ann", "lastName": "Lee"},
    }
    trans_id = anet_post(sb, "createTransactionRequest", {"transactionRequest": tr})[1][
        "transactionResponse"
    ]["transId"]
    _, unsettled = anet_post(sb, "getUnsettledTransactionListRequest", {})
    mine = [t for t in unsettled["transactions"] if t["transId"] == trans_id]
    assert mine == [
        {
            "transId": trans_id,
            "submitTimeUTC": mine[0]["submitTimeUTC"],
            "submitTimeLocal": mine[0]["submitTimeLocal"],
            "transactionStatus": "capturedPendingSettlement",
            "invoiceNumber": "700001",
            "firstName": "Ann",
            "lastName": "Lee",
            "accountType": "MasterCard",
            "accountNumber": "XXXX0015",
            "settleAmount": Decimal("44.10"),
            "marketType": "eCommerce",
            "product": "Card Not Present",
            "hasReturnedItems": False,
        }
    ]
    _, details = anet_post(sb, "getTransactionDetailsRequest", {"transId": trans_id})
    t = details["transaction"]
    assert (t["transactionType"], t["transactionStatus"], t["responseCode"]) == (
        "authCaptureTransaction",
        "capturedPendingSettlement",
        1,
    )
    assert t["authAmount"] == t["settleAmount"] == Decimal("44.10") and "batch" not in t
    assert t["order"] == {"invoiceNumber": "700001", "description": "Order #700001"}
    assert list(t)[:4] == ["transId", "submitTimeUTC", "submitTimeLocal", "transactionType"]
    sb.call(sb.authorizenet.settle_now)
    t = anet_post(sb, "getTransactionDetailsRequest", {"transId": trans_id})[1]["transaction"]
    assert t["transactionStatus"] == "settledSuccessfully" and t["batch"]["batchId"]
    _, after = anet_post(sb, "getUnsettledTransactionListRequest", {})
    assert trans_id not in {x["transId"] for x in after.get("transactions", [])}


def test_details_of_a_settled_refund_and_an_unknown_id(sb: Sandbox) -> None:
    refund = next(r for r in sb.world.ledger.refunds("authorizenet") if r.batch_id)
    t = anet_post(sb, "getTransactionDetailsRequest", {"transId": refund.id})[1]["transaction"]
    assert (t["transactionType"], t["transactionStatus"], t["refTransId"]) == (
        "refundTransaction",
        "refundSettledSuccessfully",
        refund.charge_id,
    )
    _, answer = anet_post(sb, "getTransactionDetailsRequest", {"transId": "11111111111"})
    assert answer["messages"]["resultCode"] == "Error"
    assert answer["messages"]["message"][0] == {"code": "E00040", "text": "The record cannot be found."}


def test_answer_key_lists_the_planted_authorizenet_breaks(sb: Sandbox) -> None:
    import httpx

    doc = httpx.get(sb.admin_url("authorizenet") + "/answer-key", params={"gateway": "authorizenet"}).json()
    assert (
        doc["items"] == [k for k in sb.world.answer_key() if k.get("gateway") == "authorizenet"]
        and doc["items"]
    )
    # Every planted duplicate charge is a transaction the reporting API serves.
    for item in doc["items"]:
        if item["category"] == "duplicate_charge":
            t = anet_post(sb, "getTransactionDetailsRequest", {"transId": item["gateway_id"]})[1][
                "transaction"
            ]
            assert t["order"]["invoiceNumber"] == str(item["order_id"])
