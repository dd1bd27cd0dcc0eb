"""Records as PayPal's Orders v2 and Payments v2 render them: orders, captures, refunds, authorizations.

Captures and refunds are read from the ledger (`sandbox.ledger.Charge`/`Refund`), so the seeded history and
the payments made through the API render the same way. Orders made through the API are `state.Order`s;
an order of the seeded history is rebuilt from its capture (it was created, approved and captured at the
capture's time). `minimal` answers what `Prefer: return=minimal` asks for.
"""

from __future__ import annotations

from typing import Any

from sandbox.ledger import Charge, Refund

from .encoding import iso_z, money
from .state import Authorization, Order, PayPalState, PurchaseUnit

__all__ = [
    "capture_status",
    "historic_order",
    "render_authorization",
    "render_capture",
    "render_order",
    "render_refund",
]

_CARD_BRANDS = {"visa": "VISA", "mastercard": "MASTERCARD", "amex": "AMEX", "discover": "DISCOVER"}


def _link(href: str, rel: str, method: str = "GET") -> dict[str, str]:
    return {"href": href, "rel": rel, "method": method}


def payee(st: PayPalState) -> dict[str, str]:
    return {"email_address": st.merchant_email, "merchant_id": st.account_number}


def capture_status(c: Charge) -> str:
    if c.status == "failed":
        return "DECLINED"
    if c.status == "pending":
        return "PENDING"
    if c.status == "canceled":
        return "FAILED"
    if c.amount_captured_minor and c.remaining_minor == 0:
        return "REFUNDED"
    if c.amount_refunded_minor:
        return "PARTIALLY_REFUNDED"
    return "COMPLETED"


def render_capture(st: PayPalState, c: Charge, *, standalone: bool = False) -> dict[str, Any]:
    """A capture as it appears inside an order (`standalone=False`) or from `GET /v2/payments/captures`."""
    base = st.base_url
    status = capture_status(c)
    card = bool(c.card_brand)
    out: dict[str, Any] = {"id": c.id, "status": status}
    if status == "DECLINED":
        out["status_details"] = {"reason": "OTHER"}
    elif status == "PENDING":
        out["status_details"] = {"reason": "PENDING_REVIEW"}
    out["amount"] = money(c.amount_minor, c.currency)
    out["final_capture"] = True
    out["seller_protection"] = (
        {"status": "NOT_ELIGIBLE"}
        if card
        else {"status": "ELIGIBLE", "dispute_categories": ["ITEM_NOT_RECEIVED", "UNAUTHORIZED_TRANSACTION"]}
    )
    if c.status == "succeeded" and c.captured:
        out["seller_receivable_breakdown"] = {
            "gross_amount": money(c.amount_captured_minor, c.currency),
            "paypal_fee": money(c.fee_minor, c.currency),
            "net_amount": money(c.net_minor, c.currency),
        }
    if c.metadata.get("invoice_id"):
        out["invoice_id"] = c.metadata["invoice_id"]
    if c.metadata.get("custom_id"):
        out["custom_id"] = c.metadata["custom_id"]
    if card:
        declined = c.status == "failed"
        out["processor_response"] = {
            "avs_code": "Y",
            "cvv_code": "M",
            "response_code": "0500" if declined else "0000",
        }
    if standalone:
        out["supplementary_data"] = {"related_ids": {"order_id": c.paypal_order_id}}
        out["payee"] = payee(st)
    out["links"] = [
        _link(f"{base}/v2/payments/captures/{c.id}", "self"),
        _link(f"{base}/v2/payments/captures/{c.id}/refund", "refund", "POST"),
        _link(f"{base}/v2/checkout/orders/{c.paypal_order_id}", "up"),
    ]
    out["create_time"] = iso_z(c.created)
    out["update_time"] = iso_z(c.updated or c.created)
    return out


def render_refund(st: PayPalState, r: Refund, *, minimal: bool = False) -> dict[str, Any]:
    base = st.base_url
    status = {"succeeded": "COMPLETED", "failed": "FAILED", "pending": "PENDING"}.get(r.status, "COMPLETED")
    links = [
        _link(f"{base}/v2/payments/refunds/{r.id}", "self"),
        _link(f"{base}/v2/payments/captures/{r.charge_id}", "up"),
    ]
    if minimal:
        return {"id": r.id, "status": status, "links": links}
    c = st.ledger.charge("paypal", r.charge_id)
    refunded = sum(x.amount_minor for x in c.refunds if x.status != "failed" and x.created <= r.created)
    out: dict[str, Any] = {"id": r.id, "amount": money(r.amount_minor, r.currency)}
    if c.metadata.get("invoice_id"):
        out["invoice_id"] = c.metadata["invoice_id"]
    if c.metadata.get("custom_id"):
        out["custom_id"] = c.metadata["custom_id"]
    if r.reason:
        out["note_to_payer"] = r.reason
    out["seller_payable_breakdown"] = {
        "gross_amount": money(r.amount_minor, r.currency),
        "paypal_fee": money(r.fee_returned_minor, r.currency),
        "net_amount": money(r.amount_minor - r.fee_returned_minor, r.currency),
        "total_refunded_amount": money(refunded, r.currency),
    }
    out["status"] = status
    out["create_time"] = iso_z(r.created)
    out["update_time"] = iso_z(r.created)
    out["links"] = links
    return out


def render_authorization(st: PayPalState, a: Authorization, *, standalone: bool = False) -> dict[str, Any]:
    base = st.base_url
    out: dict[str, Any] = {
        "id": a.id,
        "status": a.status,
        "amount": money(a.amount_minor, a.currency),
    }
    o = st.orders.get(a.order_id)
    pu = next((p for p in o.purchase_units if p.reference_id == a.reference_id), None) if o else None
    if pu is not None and pu.invoice_id:
        out["invoice_id"] = pu.invoice_id
    if pu is not None and pu.custom_id:
        out["custom_id"] = pu.custom_id
    out["seller_protection"] = {"status": "NOT_ELIGIBLE"}
    out["expiration_time"] = iso_z(a.expires)
    if standalone:
        out["supplementary_data"] = {"related_ids": {"order_id": a.order_id}}
        out["payee"] = payee(st)
    out["links"] = [
        _link(f"{base}/v2/payments/authorizations/{a.id}", "self"),
        _link(f"{base}/v2/payments/authorizations/{a.id}/capture", "capture", "POST"),
        _link(f"{base}/v2/payments/authorizations/{a.id}/void", "void", "POST"),
        _link(f"{base}/v2/checkout/orders/{a.order_id}", "up"),
    ]
    out["create_time"] = iso_z(a.created)
    out["update_time"] = iso_z(a.updated)
    return out


def _order_links(st: PayPalState, o: Order) -> list[dict[str, str]]:
    base = st.base_url
    links = [_link(f"{base}/v2/checkout/orders/{o.id}", "self")]
    if o.status == "CREATED":
        links.append(_link(f"{base}/checkoutnow?token={o.id}", "approve"))
    elif o.status == "PAYER_ACTION_REQUIRED":
        links.append(_link(f"{base}/checkoutnow?token={o.id}", "payer-action"))
    if o.status in ("CREATED", "APPROVED", "PAYER_ACTION_REQUIRED"):
        links.append(_link(f"{base}/v2/checkout/orders/{o.id}", "update", "PATCH"))
        action = "capture" if o.intent == "CAPTURE" else "authorize"
        links.append(_link(f"{base}/v2/checkout/orders/{o.id}/{action}", action, "POST"))
    return links


def _payment_source(o: Order) -> dict[str, Any] | None:
    if o.source == "card":
        return {"card": dict(o.card)}
    if o.source == "paypal" or (o.payer and o.status not in ("CREATED", "PAYER_ACTION_REQUIRED")):
        src: dict[str, Any] = {}
        if o.payer:
            src = {
                "email_address": o.payer.get("email_address", ""),
                "account_id": o.payer.get("payer_id", ""),
                "account_status": "VERIFIED",
                "name": o.payer.get("name", {}),
                "address": o.payer.get("address", {"country_code": "US"}),
            }
        return {"paypal": src}
    return None


def _payments(st: PayPalState, pu: PurchaseUnit) -> dict[str, Any] | None:
    payments: dict[str, Any] = {}
    if pu.authorization_ids:
        payments["authorizations"] = [
            render_authorization(st, st.authorizations[a]) for a in pu.authorization_ids
        ]
    if pu.capture_ids:
        payments["captures"] = [render_capture(st, st.ledger.charge("paypal", c)) for c in pu.capture_ids]
    return payments or None


def render_order(
    st: PayPalState, o: Order, *, minimal: bool = False, after_action: bool = False
) -> dict[str, Any]:
    """The order; `minimal` is `Prefer: return=minimal` (`after_action`: the capture/authorize answer,
    which still carries the payments, as PayPal's does)."""
    links = _order_links(st, o)
    if minimal and not after_action:
        return {"id": o.id, "status": o.status, "links": links}
    out: dict[str, Any] = {"id": o.id}
    if not minimal:
        out["intent"] = o.intent
    out["status"] = o.status
    src = _payment_source(o)
    if src is not None:
        out["payment_source"] = src
    units = []
    for pu in o.purchase_units:
        unit: dict[str, Any] = {"reference_id": pu.reference_id}
        if not minimal:
            amount: dict[str, Any] = money(pu.amount_minor, pu.currency)
            if pu.breakdown:
                amount["breakdown"] = pu.breakdown
            unit["amount"] = amount
            unit["payee"] = payee(st)
            for key in ("description", "custom_id", "invoice_id", "soft_descriptor"):
                if getattr(pu, key):
                    unit[key] = getattr(pu, key)
            if pu.items:
                unit["items"] = pu.items
        payments = _payments(st, pu)
        if payments is not None:
            unit["payments"] = payments
        units.append(unit)
    out["purchase_units"] = units
    if o.payer:
        out["payer"] = o.payer
    if not minimal:
        out["create_time"] = iso_z(o.created)
        out["update_time"] = iso_z(o.updated)
    out["links"] = links
    return out


def historic_order(st: PayPalState, order_id: str) -> Order | None:
    """An order of the seeded history (or any order whose captures the ledger holds), rebuilt from them."""
    charges = [c for c in st.ledger.charges_for("paypal", order_id) if c.paypal_order_id == order_id]
    if not charges:
        return None
    first = charges[0]
    pu = PurchaseUnit(
        reference_id="default",
        amount_minor=first.amount_minor,
        currency=first.currency,
        invoice_id=first.metadata.get("invoice_id", ""),
        custom_id=first.metadata.get("custom_id", ""),
        capture_ids=[c.id for c in charges],
    )
    given, _, surname = (first.customer_name or "PayPal Buyer").partition(" ")
    email = first.customer_email or "buyer@example.com"
    payer = {
        "name": {"given_name": given, "surname": surname},
        "email_address": email,
        "payer_id": st.payer_id_for(email),
        "address": {"country_code": "US"},
    }
    return Order(
        id=order_id,
        intent="CAPTURE",
        status="COMPLETED",
        purchase_units=[pu],
        created=first.created,
        updated=max(c.updated or c.created for c in charges),
        source="card" if first.card_brand else "paypal",
        card=card_source(first.card_brand, first.card_last4) if first.card_brand else {},
        payer=payer,
    )


def card_source(brand: str, last4: str, *, name: str = "", expiry: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if name:
        out["name"] = name
    out["last_digits"] = last4
    if expiry:
        out["expiry"] = expiry
    out["brand"] = _CARD_BRANDS.get(brand, brand.upper())
    out["type"] = "CREDIT"
    return out
