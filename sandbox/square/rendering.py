"""The ledger's records as Square's API renders them: Payment, PaymentRefund, Payout, PayoutEntry,
Dispute, Location, WebhookSubscription, and the webhook event envelope.

Rendering is a pure function of the ledger record (and the account's ids): nothing is cached, so every
read sees the ledger as it is now. Values Square derives from the card (fingerprint, BIN, expiry, auth
code) are derived from the record's id, so they repeat from run to run.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from sandbox.ledger import BalanceEntry, Charge, Dispute, Payout, Refund

from .encoding import date, money, stamp, stamp_ms, subscription_stamp
from .settings import CARD_BRANDS, DELAY_DURATION, DELAY_SECONDS
from .state import SquareState, Subscription

__all__ = [
    "decline_code",
    "dispute",
    "event",
    "location",
    "payment",
    "payment_status",
    "payout",
    "payout_entry",
    "refund",
    "refund_status",
    "subscription",
]

# The ledger's vendor-neutral decline codes as Square reports them in `card_details.errors`.
_DECLINES = {
    "generic_decline": "GENERIC_DECLINE",
    "do_not_honor": "GENERIC_DECLINE",
    "lost_card": "GENERIC_DECLINE",
    "insufficient_funds": "INSUFFICIENT_FUNDS",
    "expired_card": "CARD_EXPIRED",
    "incorrect_cvc": "CVV_FAILURE",
    "incorrect_zip": "ADDRESS_VERIFICATION_FAILURE",
    "invalid_expiry_year": "INVALID_EXPIRATION",
}
_BINS = {"VISA": "453275", "MASTERCARD": "540988", "AMERICAN_EXPRESS": "371263", "DISCOVER": "601103"}
_DISPUTE_STATES = {"open": "EVIDENCE_REQUIRED", "won": "WON", "lost": "LOST"}
_DISPUTE_REASONS = {
    "fraudulent": "NO_KNOWLEDGE",
    "unrecognized": "NO_KNOWLEDGE",
    "product_not_received": "NOT_RECEIVED",
    "product_unacceptable": "NOT_AS_DESCRIBED",
    "duplicate": "DUPLICATE",
}
_ENTRY_TYPES = {
    "charge": "CHARGE",
    "refund": "REFUND",
    "dispute": "DISPUTE",
    "dispute_reversal": "DISPUTE",
}
_COUNTRIES = {"USD": "US", "CAD": "CA", "GBP": "GB", "AUD": "AU", "EUR": "IE", "JPY": "JP"}


def _digest(*parts: object) -> bytes:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()


def _b64(raw: bytes, n: int) -> str:
    return base64.urlsafe_b64encode(raw).decode().replace("-", "").replace("_", "").rstrip("=")[:n]


# --- payments ------------------------------------------------------------------------------------------
def payment_status(c: Charge) -> str:
    if c.status == "succeeded":
        return "COMPLETED" if c.captured else "APPROVED"
    return {"failed": "FAILED", "canceled": "CANCELED", "pending": "PENDING"}.get(c.status, "FAILED")


def decline_code(c: Charge) -> str:
    return _DECLINES.get(c.decline_code) or _DECLINES.get(c.failure_code) or "GENERIC_DECLINE"


def _card(c: Charge) -> dict[str, Any]:
    brand = CARD_BRANDS.get(c.card_brand, "OTHER_BRAND")
    h = _digest("card", c.customer_email or c.id, c.card_last4)
    card: dict[str, Any] = {
        "card_brand": brand,
        "last_4": c.card_last4 or "0000",
        "exp_month": h[0] % 12 + 1,
        "exp_year": 2027 + h[1] % 5,
        "fingerprint": "sq-1-" + _b64(h + _digest(h), 62),
        "card_type": "CREDIT" if h[2] % 3 else "DEBIT",
        "prepaid_type": "NOT_PREPAID",
    }
    if brand in _BINS:
        card["bin"] = _BINS[brand]
    return card


def payment(st: SquareState, c: Charge) -> dict[str, Any]:
    """A ledger charge at Square as `GET /v2/payments/{id}` renders it."""
    status = payment_status(c)
    amount = money(c.amount_minor, c.currency)
    timeline: dict[str, Any] = {"authorized_at": stamp_ms(c.created)}
    card_status = {"COMPLETED": "CAPTURED", "APPROVED": "AUTHORIZED", "CANCELED": "VOIDED"}.get(
        status, "FAILED"
    )
    if status == "COMPLETED":
        timeline["captured_at"] = stamp_ms(c.captured_at or c.created)
    elif status == "CANCELED":
        timeline["voided_at"] = stamp_ms(c.updated)
    h = _digest("auth", c.id)
    card_details: dict[str, Any] = {
        "status": card_status,
        "card": _card(c),
        "entry_method": "KEYED",
        "cvv_status": "CVV_ACCEPTED",
        "avs_status": "AVS_ACCEPTED",
        "statement_description": "SQ *NXT SANDBOX SHOP",
        "card_payment_timeline": timeline,
    }
    if status == "FAILED":
        code = decline_code(c)
        card_details["cvv_status"] = "CVV_REJECTED" if code == "CVV_FAILURE" else "CVV_ACCEPTED"
        card_details["avs_status"] = (
            "AVS_REJECTED" if code == "ADDRESS_VERIFICATION_FAILURE" else "AVS_ACCEPTED"
        )
        card_details["errors"] = [
            {"code": code, "detail": f"Authorization error: '{code}'", "category": "PAYMENT_METHOD_ERROR"}
        ]
    else:
        card_details["auth_result_code"] = _b64(h, 6)
    out: dict[str, Any] = {
        "id": c.id,
        "created_at": stamp_ms(c.created),
        "updated_at": stamp_ms(max(c.updated, c.created)),
        "amount_money": amount,
        "status": status,
        "delay_duration": DELAY_DURATION,
        "delay_action": "CANCEL",
        "delayed_until": stamp_ms(c.created + DELAY_SECONDS),
        "source_type": "CARD",
        "card_details": card_details,
        "location_id": c.location_id or st.main_location,
        "risk_evaluation": {"created_at": stamp_ms(c.created), "risk_level": "NORMAL"},
        "total_money": amount,
        "application_details": {"square_product": "ECOMMERCE_API", "application_id": st.application_id},
    }
    if c.square_order_id:
        out["order_id"] = c.square_order_id
    if status != "FAILED":
        out["approved_money"] = amount
        out["receipt_number"] = c.id[:4]
        out["receipt_url"] = f"https://squareupsandbox.com/receipt/preview/{c.id}"
    if status == "COMPLETED" and c.fee_minor:
        out["processing_fee"] = [
            {
                "effective_at": stamp_ms(c.captured_at or c.created),
                "type": "INITIAL",
                "amount_money": money(c.fee_minor, c.settlement_currency or c.currency),
            }
        ]
    if c.refunds:
        out["refunded_money"] = money(c.amount_refunded_minor, c.currency)
        out["refund_ids"] = [r.id for r in c.refunds]
    reference = c.metadata.get("reference_id")
    if reference:
        out["reference_id"] = reference
    if c.description:
        out["note"] = c.description
    if c.customer_email:
        out["buyer_email_address"] = c.customer_email
    out["version_token"] = _b64(_digest("v", c.id, c.updated, status, c.amount_refunded_minor), 45)
    return out


# --- refunds -------------------------------------------------------------------------------------------
def refund_status(r: Refund) -> str:
    return {"succeeded": "COMPLETED", "pending": "PENDING", "failed": "FAILED"}.get(r.status, "PENDING")


def refund(st: SquareState, r: Refund) -> dict[str, Any]:
    c = st.ledger.charge("square", r.charge_id)
    out: dict[str, Any] = {
        "id": r.id,
        "status": refund_status(r),
        "location_id": c.location_id or st.main_location,
        "unlinked": False,
        "destination_type": "CARD",
        "amount_money": money(r.amount_minor, r.currency),
        "payment_id": r.charge_id,
        "created_at": stamp_ms(r.created),
        "updated_at": stamp_ms(r.created),
    }
    if c.square_order_id:
        out["order_id"] = c.square_order_id
    if r.reason:
        out["reason"] = r.reason
    return out


# --- payouts -------------------------------------------------------------------------------------------
def payout(st: SquareState, p: Payout) -> dict[str, Any]:
    status = {"in_transit": "SENT", "paid": "PAID", "failed": "FAILED"}.get(p.status, "SENT")
    h = _digest("payout", p.id)
    out: dict[str, Any] = {
        "id": p.id,
        "status": status,
        "location_id": p.location_id or st.main_location,
        "created_at": stamp(p.created),
        "updated_at": stamp(p.arrival if status == "PAID" else p.created),
        "amount_money": money(p.amount_minor, p.currency),
        "destination": {"type": "BANK_ACCOUNT", "id": "bact:" + _b64(_digest("bank", st.merchant_id), 18)},
        "version": 2 if status != "SENT" else 1,
        "type": "BATCH",
        "arrival_date": date(p.arrival),
        "end_to_end_id": "L2" + str(int.from_bytes(h[:5], "big"))[:9].rjust(9, "0"),
    }
    if p.fee_minor:
        out["payout_fee"] = [
            {
                "amount_money": money(p.fee_minor, p.currency),
                "effective_at": stamp(p.created),
                "type": "TRANSFER_FEE",
            }
        ]
    return out


def payout_entry(e: BalanceEntry) -> dict[str, Any]:
    kind = _ENTRY_TYPES.get(e.type, "OTHER")
    out: dict[str, Any] = {
        "id": e.id,
        "payout_id": e.payout_id,
        "effective_at": stamp(e.created),
        "type": kind,
        "gross_amount_money": money(e.amount_minor, e.currency),
        "fee_amount_money": money(e.fee_minor, e.currency),
        "net_amount_money": money(e.net_minor, e.currency),
    }
    if kind == "CHARGE":
        out["type_charge_details"] = {"payment_id": e.charge_id}
    elif kind == "REFUND":
        out["type_refund_details"] = {"payment_id": e.charge_id, "refund_id": e.source_id}
    elif kind == "DISPUTE":
        out["type_dispute_details"] = {"payment_id": e.charge_id, "dispute_id": e.source_id}
    return out


# --- disputes ------------------------------------------------------------------------------------------
def dispute(st: SquareState, d: Dispute) -> dict[str, Any]:
    c = st.ledger.charge("square", d.charge_id)
    updated = d.closed if d.closed is not None else d.created
    return {
        "dispute_id": d.id,
        "id": d.id,
        "amount_money": money(d.amount_minor, d.currency),
        "reason": _DISPUTE_REASONS.get(d.reason, "NO_KNOWLEDGE"),
        "state": _DISPUTE_STATES.get(d.status, "PROCESSING"),
        "due_at": stamp_ms(d.evidence_due_by - d.evidence_due_by % 86_400),
        "disputed_payment": {"payment_id": d.charge_id},
        "card_brand": CARD_BRANDS.get(c.card_brand, "OTHER_BRAND"),
        "created_at": stamp_ms(d.created),
        "updated_at": stamp_ms(updated),
        "brand_dispute_id": _b64(_digest("brand", d.id), 22),
        "reported_at": stamp_ms(d.created - d.created % 86_400),
        "version": 1 if d.status == "open" else 2,
        "location_id": c.location_id or st.main_location,
    }


# --- locations -----------------------------------------------------------------------------------------
def location(st: SquareState, location_id: str) -> dict[str, Any]:
    main = location_id == st.main_location
    currency = st.ledger.currency
    return {
        "id": location_id,
        "name": "Main Street" if main else "Warehouse Pop-up",
        "address": {
            "address_line_1": "1 Main Street" if main else "88 Dock Road",
            "locality": "Springfield",
            "administrative_district_level_1": "IL",
            "postal_code": "62701",
            "country": _COUNTRIES.get(currency, "US"),
        },
        "timezone": "Etc/UTC",
        "capabilities": ["CREDIT_CARD_PROCESSING", "AUTOMATIC_TRANSFERS"],
        "status": "ACTIVE",
        "created_at": stamp(st.world.now - 3 * 365 * 86_400 + (0 if main else 86_400 * 200)),
        "merchant_id": st.merchant_id,
        "country": _COUNTRIES.get(currency, "US"),
        "language_code": "en-US",
        "currency": currency,
        "business_name": "NXT Sandbox Shop",
        "type": "PHYSICAL" if main else "MOBILE",
        "mcc": "5999",
    }


# --- webhooks ------------------------------------------------------------------------------------------
def subscription(sub: Subscription, *, with_key: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": sub.id,
        "name": sub.name,
        "enabled": sub.enabled,
        "event_types": list(sub.event_types),
        "notification_url": sub.notification_url,
        "api_version": sub.api_version,
        "created_at": subscription_stamp(sub.created),
        "updated_at": subscription_stamp(sub.updated),
    }
    if with_key:
        out["signature_key"] = sub.signature_key
    return out


def event(
    st: SquareState,
    event_type: str,
    event_id: str,
    created: float,
    obj_type: str,
    obj: dict[str, Any],
) -> dict[str, Any]:
    """Square's envelope: `{merchant_id, type, event_id, created_at, data: {type, id, object: {<type>}}}`."""
    out: dict[str, Any] = {
        "merchant_id": st.merchant_id,
        "type": event_type,
        "event_id": event_id,
        "created_at": stamp_ms(created),
        "data": {"type": obj_type, "id": obj["id"], "object": {obj_type: obj}},
    }
    if obj_type in ("payout", "dispute") and obj.get("location_id"):
        out["location_id"] = obj["location_id"]
    return out
