"""Payment rules in the hub: request checks and their codes, idempotency keys, and the seed's payment
statistics computed from the ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from hub import ledger
from hub.db import create_hub_engine
from hub.payments import (
    ChargeInfo,
    PaymentError,
    check_payment,
    check_refund,
    payment_key,
    payment_status,
    refund_key,
)

T = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def charge(
    gateway: str, gid: str, amount: int, currency: str = "USD", status: str = "succeeded"
) -> dict[str, Any]:
    return {
        "gateway": gateway,
        "kind": "charge",
        "gateway_id": gid,
        "status": status,
        "amount_minor": amount,
        "currency": currency,
        "created_at": T,
    }


def test_payment_status_in_the_seed_shape(hub_url: str) -> None:
    engine = create_hub_engine(hub_url)
    with engine.begin() as conn:
        ledger.upsert_transactions(
            conn,
            [
                charge("stripe", "ch_1", 10000),
                charge("stripe", "ch_2", 5025),
                charge("stripe", "ch_3", 700, status="failed"),
                charge("paypal", "PP1", 2500),
                charge("square", "SQ1", 999, currency="EUR"),
            ],
        )
        data = payment_status(conn, configured=["stripe", "paypal"])
    assert data["totalPayments"] == 5 and data["successfulPayments"] == 4 and data["failedPayments"] == 1
    assert data["currency"] == "USD" and data["totalVolume"] == 175.25 and data["averageAmount"] == 58.42
    assert data["volumeByCurrency"] == {"EUR": 9.99, "USD": 175.25}
    assert data["byGateway"] == {
        "stripe": {"count": 2, "volume": 150.25},
        "paypal": {"count": 1, "volume": 25.0},
        "square": {"count": 1, "volume": 0.0},
    }
    assert data["gateways"] == {
        "total": 4,
        "active": 3,
        "available": ["stripe", "paypal", "square", "authorizenet"],
        "configured": ["stripe", "paypal"],
    }


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("stripe", "1.234", "USD"), "INVALID_AMOUNT"),
        (("stripe", "1.5", "JPY"), "INVALID_AMOUNT"),
        (("stripe", "1.0001", "KWD"), "INVALID_AMOUNT"),
        (("stripe", 0, "USD"), "INVALID_AMOUNT"),
        (("stripe", True, "USD"), "INVALID_AMOUNT"),
        (("stripe", "NaN", "USD"), "INVALID_AMOUNT"),
        (("stripe", "1", "usdx"), "UNKNOWN_CURRENCY"),
        (("venmo", "1", "USD"), "UNKNOWN_GATEWAY"),
        (("paypal", "1", "USD"), "UNSUPPORTED_GATEWAY"),
    ],
)
def test_bad_payments_get_specific_codes(args: tuple[Any, ...], code: str) -> None:
    with pytest.raises(PaymentError) as caught:
        check_payment(*args)
    assert caught.value.code == code


def test_amounts_and_keys() -> None:
    assert check_payment("stripe", 99.99, "usd") == ("stripe", 9999, "USD")
    assert check_payment("square", "1.001", "KWD") == ("square", 1001, "KWD")
    assert payment_key("stripe", 100, "USD", None, "pm", {"orderId": "7"}) == "nxt-pay-stripe-order-7"
    assert payment_key("stripe", 100, "USD", None, "pm", {"orderId": "7"}, given="mine") == "mine"
    same = payment_key("stripe", 100, "USD", None, "pm", {})
    assert (
        same
        == payment_key("stripe", 100, "USD", None, "pm", {})
        != payment_key("stripe", 101, "USD", None, "pm", {})
    )
    c = ChargeInfo("stripe", "ch_1", "pi_1", 7, "succeeded", 5000, "USD", 1000)
    assert check_refund(c, None) == 4000 and check_refund(c, "40.00") == 4000
    with pytest.raises(PaymentError) as caught:
        check_refund(c, "40.01")
    assert caught.value.code == "REFUND_EXCEEDS_REMAINING"
    assert refund_key(c, 2000, {}) == "nxt-refund-stripe-order-7-2000"
    assert refund_key(c, 2000, {"refundRequestId": "r1"}) != refund_key(c, 2000, {"refundRequestId": "r2"})
    with pytest.raises(PaymentError) as refused:
        check_refund(ChargeInfo("authorizenet", "1", None, None, "succeeded", 5, "USD", 0), None)
    assert refused.value.code == "UNSUPPORTED_GATEWAY"


def test_payment_status_of_an_empty_ledger(hub_url: str) -> None:
    with create_hub_engine(hub_url).connect() as conn:
        data = payment_status(conn)
    assert (data["totalPayments"], data["totalVolume"], data["averageAmount"], data["currency"]) == (
        0,
        0.0,
        0.0,
        None,
    )
    assert data["byGateway"] == {} and data["gateways"]["active"] == 0
