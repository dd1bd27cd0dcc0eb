"""Payments through the store: refunds reach the gateway's ledger, `set_paid` never creates a charge."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from sandbox.gateway_ids import METHOD_GATEWAY
from sandbox.server import Sandbox
from sandbox.world import Order

CARD_METHODS = tuple(METHOD_GATEWAY)
REFUND_FAILED = "woocommerce_rest_cannot_create_order_refund"


def _refundable(sb: Sandbox, method: str) -> tuple[Order, Any]:
    """A completed order of `method` with no refunds whose charge the gateway can refund in full."""

    def find() -> tuple[Order, Any]:
        ledger = sb.world.ledger
        for o in sb.woocommerce.records("order"):
            if o.status != "completed" or o.payment_method != method or o.refunds:
                continue
            c = ledger.find_charge(METHOD_GATEWAY[method], o.transaction_id)
            if (
                c is not None
                and c.status == "succeeded"
                and c.captured
                and c.dispute is None
                and c.remaining_minor == o.total_cents > 200
            ):
                return o, c
        raise LookupError(f"no refundable {method} order in this world")

    return sb.call(find)


def _refund_ids(sb: Sandbox) -> dict[str, list[str]]:
    return sb.call(lambda: {g: [r.id for r in sb.world.ledger.refunds(g)] for g in METHOD_GATEWAY.values()})


def _pending_order(client: httpx.Client, sb: Sandbox, **fields: Any) -> dict[str, Any]:
    pid = next(p.id for p in sb.world.products.values() if p.type == "simple" and p.status == "publish")
    body = {"line_items": [{"product_id": pid, "quantity": 1}], **fields}
    r = client.post("/orders", json=body)
    assert r.status_code == 201, r.text
    return r.json()


# --- refunds reach the gateway ---------------------------------------------------------------------------
@pytest.mark.parametrize("method", CARD_METHODS)
def test_api_refund_refunds_the_charge_at_the_gateway(fresh_sb, fresh_client, method) -> None:
    o, charge = _refundable(fresh_sb, method)
    before = _refund_ids(fresh_sb)
    r = fresh_client.post(f"/orders/{o.id}/refunds", json={"amount": "1.25", "reason": "Wrong size"})
    assert r.status_code == 201, r.text
    assert r.json()["refunded_payment"] is True and r.json()["amount"] == "1.25"
    refund = fresh_sb.call(lambda: fresh_sb.world.orders[o.id].refunds[-1])
    gateway = METHOD_GATEWAY[method]
    at_gateway = fresh_sb.call(fresh_sb.world.ledger.refund, gateway, refund.gateway_refund_id)
    assert at_gateway.charge_id == charge.id and at_gateway.order_id == o.id
    assert at_gateway.amount_minor == 125 and at_gateway.reason == "Wrong size"
    assert at_gateway.status == "succeeded" and at_gateway.created == refund.created
    assert charge.remaining_minor == o.total_cents - 125
    assert _refund_ids(fresh_sb)[gateway] == [*before[gateway], refund.gateway_refund_id]
    if method == "square_credit_card":
        assert refund.gateway_refund_id.startswith(
            charge.id + "_"
        )  # Square refund ids start with the payment's


def test_full_refund_through_the_pypi_client(fresh_sb, make_api) -> None:
    o, charge = _refundable(fresh_sb, "stripe")
    total = f"{o.total_cents // 100}.{o.total_cents % 100:02d}"
    r = make_api(fresh_sb).post(f"orders/{o.id}/refunds", {"amount": total})
    assert r.status_code == 201, r.text
    assert r.json()["id"] and r.json()["refunded_payment"] is True
    assert make_api(fresh_sb).get(f"orders/{o.id}").json()["status"] == "refunded"
    assert charge.remaining_minor == 0 and [x.id for x in charge.refunds][-1].startswith("re_")


def test_api_refund_false_records_the_refund_in_woocommerce_only(fresh_sb, fresh_client) -> None:
    o, charge = _refundable(fresh_sb, "ppcp-gateway")
    before = _refund_ids(fresh_sb)
    r = fresh_client.post(f"/orders/{o.id}/refunds", json={"amount": "2.00", "api_refund": False})
    assert r.status_code == 201 and r.json()["refunded_payment"] is False
    assert fresh_sb.call(lambda: fresh_sb.world.orders[o.id].refunds[-1].gateway_refund_id) == ""
    assert _refund_ids(fresh_sb) == before and charge.remaining_minor == o.total_cents


def test_gateway_refusal_fails_the_request_and_keeps_no_refund(fresh_sb, fresh_client) -> None:
    """A refund made in the gateway's dashboard leaves less at the gateway than WooCommerce believes."""
    o, charge = _refundable(fresh_sb, "stripe")
    ledger = fresh_sb.world.ledger
    fresh_sb.call(
        ledger.add_refund, "stripe", charge.id, charge.remaining_minor - 50, created=int(time.time())
    )
    before = _refund_ids(fresh_sb)
    r = fresh_client.post(f"/orders/{o.id}/refunds", json={"amount": "1.00"})
    assert r.status_code == 500
    assert r.json() == {
        "code": REFUND_FAILED,
        "message": "There was a problem initiating a refund: Refund amount ($1.00) is greater than "
        "unrefunded amount on charge ($0.50)",
        "data": {"status": 500},
    }
    assert fresh_client.get(f"/orders/{o.id}/refunds").json() == []
    assert fresh_client.get(f"/orders/{o.id}").json()["status"] == "completed"
    assert _refund_ids(fresh_sb) == before
    # What the gateway still holds can be refunded; then it is "already refunded".
    assert fresh_client.post(f"/orders/{o.id}/refunds", json={"amount": "0.50"}).status_code == 201
    again = fresh_client.post(f"/orders/{o.id}/refunds", json={"amount": "0.50"})
    assert again.status_code == 500
    assert again.json()["message"] == (
        f"There was a problem initiating a refund: Charge {charge.id} has already been refunded."
    )


@pytest.mark.parametrize(
    ("method", "message"),
    [
        (
            "ppcp-gateway",
            "The refund amount must be less than or equal to the capture amount that has not yet been "
            "refunded.",
        ),
        ("square_credit_card", "The requested refund amount exceeds the amount available to refund."),
        (
            "authorize_net_cim_credit_card",
            "The sum of credits against the referenced transaction would exceed original debit amount.",
        ),
    ],
)
def test_other_gateways_refusals_carry_their_message(fresh_sb, fresh_client, method, message) -> None:
    o, charge = _refundable(fresh_sb, method)
    gateway = METHOD_GATEWAY[method]
    fresh_sb.call(
        fresh_sb.world.ledger.add_refund, gateway, charge.id, o.total_cents - 10, created=int(time.time())
    )
    r = fresh_client.post(f"/orders/{o.id}/refunds", json={"amount": "1.00"})
    assert (r.status_code, r.json()["code"], r.json()["message"]) == (500, REFUND_FAILED, message)


def test_disputed_charge_is_refused(fresh_sb, fresh_client) -> None:
    o, charge = _refundable(fresh_sb, "stripe")
    fresh_sb.call(fresh_sb.world.ledger.add_dispute, "stripe", charge.id, created=int(time.time()))
    r = fresh_client.post(f"/orders/{o.id}/refunds", json={"amount": "1.00"})
    assert r.status_code == 500
    assert r.json()["message"] == (
        f"There was a problem initiating a refund: Charge {o.transaction_id} has been charged back; "
        "cannot issue a refund."
    )


def test_planted_missing_payment_has_no_charge_to_refund(fresh_sb, fresh_client) -> None:
    planted = next(k for k in fresh_sb.world.answer_key() if k["category"] == "missing_payment")
    o = fresh_sb.world.orders[planted["order_id"]]
    txn = o.transaction_id
    expected = {
        "stripe": f"There was a problem initiating a refund: No such charge: '{txn}'",
        "paypal": "The specified resource does not exist.",
        "square": f"no square charge {txn}",
        "authorizenet": "The referenced transaction does not meet the criteria for issuing a credit.",
    }[planted["gateway"]]
    r = fresh_client.post(f"/orders/{o.id}/refunds", json={"amount": "1.00"})
    assert (r.status_code, r.json()["code"], r.json()["message"]) == (500, REFUND_FAILED, expected)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"payment_method": "bacs"},
            "The payment gateway for this order does not support automatic refunds.",
        ),
        ({"payment_method": "cod"}, "The payment gateway for this order does not support automatic refunds."),
        (
            {"payment_method": "stripe"},
            "An error occurred while attempting to create the refund using the payment gateway API.",
        ),
        ({"payment_method": "paypal"}, "The payment gateway for this order does not exist."),
        ({"payment_method": ""}, "The payment gateway for this order does not exist."),
    ],
    ids=["bacs", "cod", "no-transaction-id", "unknown-gateway", "no-gateway"],
)
def test_orders_the_gateway_cannot_refund(fresh_sb, fresh_client, fields, message) -> None:
    o = _pending_order(fresh_client, fresh_sb, set_paid=True, **fields)
    before = _refund_ids(fresh_sb)
    r = fresh_client.post(f"/orders/{o['id']}/refunds", json={"amount": "1.00"})
    assert (r.status_code, r.json()["code"], r.json()["message"]) == (500, REFUND_FAILED, message)
    assert fresh_client.get(f"/orders/{o['id']}/refunds").json() == []
    manual = fresh_client.post(f"/orders/{o['id']}/refunds", json={"amount": "1.00", "api_refund": "false"})
    assert manual.status_code == 201 and manual.json()["refunded_payment"] is False
    assert _refund_ids(fresh_sb) == before


def test_store_admin_refund_goes_through_the_gateway_too(fresh_sb) -> None:
    o, charge = _refundable(fresh_sb, "authorize_net_cim_credit_card")
    r = httpx.post(f"{fresh_sb.admin_url()}/woocommerce/orders/{o.id}/refunds", json={"amount": "3.00"})
    assert r.status_code == 200 and r.json()["refunded_payment"] is True
    (refund,) = charge.refunds
    assert refund.amount_minor == 300 and refund.id.isdigit() and len(refund.id) == 11  # a transId


# --- set_paid marks an order paid; the gateway is not asked -------------------------------------------------
def test_set_paid_creates_no_charge(fresh_sb, fresh_client) -> None:
    o = _pending_order(
        fresh_client,
        fresh_sb,
        payment_method="stripe",
        transaction_id="ch_3Q0notatstripe0000000000",
        set_paid=True,
    )
    assert o["status"] == "processing" and o["date_paid_gmt"] and o["transaction_id"].startswith("ch_3Q0")
    ledger = fresh_sb.world.ledger
    assert fresh_sb.call(ledger.find_charge, "stripe", o["transaction_id"]) is None
    assert fresh_sb.call(ledger.charges_for_order, "stripe", o["id"]) == []


def test_set_paid_links_the_charge_its_transaction_id_names(fresh_sb, fresh_client) -> None:
    """A payment taken at the gateway (no order in its metadata), then the order marked paid with its id."""
    ledger = fresh_sb.world.ledger
    now = int(time.time())
    charge = fresh_sb.call(ledger.add_charge, "paypal", amount_minor=1999, currency="USD", created=now)
    assert charge.order_id is None and charge.metadata == {}
    o = _pending_order(
        fresh_client, fresh_sb, payment_method="ppcp-gateway", transaction_id=charge.id, set_paid=True
    )
    assert charge.order_id == o["id"]
    assert charge.metadata == {"invoice_id": f"WC-{o['id']}", "custom_id": str(o["id"])}
    assert fresh_sb.call(ledger.charges_for_order, "paypal", o["id"]) == [charge]
    r = fresh_client.post(f"/orders/{o['id']}/refunds", json={"amount": "1.00"})
    assert r.status_code == 201 and charge.refunds[-1].order_id == o["id"]


def test_moving_to_processing_sets_date_paid_and_links(fresh_sb, fresh_client) -> None:
    ledger = fresh_sb.world.ledger
    charge = fresh_sb.call(
        ledger.add_charge, "square", amount_minor=500, currency="USD", created=int(time.time())
    )
    o = _pending_order(fresh_client, fresh_sb, payment_method="square_credit_card")
    assert o["date_paid_gmt"] is None and charge.order_id is None
    # A transaction id alone does not mark the order paid, so nothing is linked yet.
    fresh_client.put(f"/orders/{o['id']}", json={"transaction_id": charge.id})
    assert charge.order_id is None
    moved = fresh_client.put(f"/orders/{o['id']}", json={"status": "processing"}).json()
    assert moved["status"] == "processing" and moved["date_paid_gmt"]
    assert charge.order_id == o["id"] and charge.metadata["reference_id"] == str(o["id"])


def test_a_charge_naming_another_order_is_left_alone(fresh_sb, fresh_client) -> None:
    other, charge = _refundable(fresh_sb, "stripe")
    metadata = dict(charge.metadata)
    o = _pending_order(
        fresh_client, fresh_sb, payment_method="stripe", transaction_id=charge.id, set_paid=True
    )
    assert o["status"] == "processing"
    assert charge.order_id == other.id and charge.metadata == metadata


def test_date_paid_follows_woocommerce_whatever_the_payment_method(fresh_sb, fresh_client) -> None:
    bacs = _pending_order(fresh_client, fresh_sb, payment_method="bacs", status="on-hold")
    assert bacs["date_paid_gmt"] is None
    done = fresh_client.put(f"/orders/{bacs['id']}", json={"status": "processing"}).json()
    assert done["date_paid_gmt"]  # maybe_set_date_paid(): processing is "paid", bank transfer or not
    created_done = _pending_order(fresh_client, fresh_sb, payment_method="cod", status="completed")
    assert created_done["date_paid_gmt"] and created_done["date_completed_gmt"]
    # set_paid on an order that no longer needs payment changes nothing.
    again = fresh_client.put(f"/orders/{created_done['id']}", json={"set_paid": True}).json()
    assert again["status"] == "completed" and again["date_paid_gmt"] == created_done["date_paid_gmt"]
    cancelled = _pending_order(fresh_client, fresh_sb, status="cancelled", set_paid=True)
    assert cancelled["status"] == "processing" and cancelled["date_paid_gmt"]  # payment_complete() takes it
