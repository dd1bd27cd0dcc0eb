"""The sandbox world's ledger as hub ledger rows, mapped exactly as each vendor's API presents the records.

A stand-in for ledger ingestion (issue 10, part B) until it exists: part B reads the same records over the
stand-ins' APIs through the gateways' clients, and reconciliation against the answer key must hold the
same. Every vendor-specific value goes through the vendor's vocabulary first (Stripe's lower-case
currencies and dispute statuses, PayPal's capture and dispute statuses and its `WC-` invoice ids, Square's
payment and payout-entry names, Authorize.Net's transaction and batch states), then through
`hub.ledger`'s normalisers, as ingestion will.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hub.ledger import (
    charge_status,
    dispute_status,
    entry_type,
    order_reference,
    payout_status,
    refund_status,
)
from sandbox.ledger import PAYOUT_GATEWAYS, Charge, Dispute, Ledger, Refund

GATEWAYS = ("stripe", "paypal", "square", "authorizenet")


def _t(epoch: int | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


@dataclass
class LedgerRows:
    transactions: list[dict[str, Any]] = field(default_factory=list)
    payouts: list[dict[str, Any]] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)


# --- what each vendor calls a record's state ------------------------------------------------------------
def _vendor_charge_status(c: Charge) -> str:
    g = c.gateway
    if g == "stripe":  # Stripe charges are succeeded, pending or failed; `captured` says the rest
        return "succeeded" if c.status in ("succeeded", "canceled") else c.status
    if g == "paypal":
        if c.status == "succeeded":
            if not c.captured:
                return "CREATED"
            if c.refunded:
                return "REFUNDED"
            return "PARTIALLY_REFUNDED" if c.amount_refunded_minor else "COMPLETED"
        return {"failed": "DECLINED", "pending": "PENDING", "canceled": "VOIDED"}[c.status]
    if g == "square":
        if c.status == "succeeded":
            return "COMPLETED" if c.captured else "APPROVED"
        return {"failed": "FAILED", "pending": "PENDING", "canceled": "CANCELED"}[c.status]
    if c.status == "succeeded":
        if not c.captured:
            return "authorizedPendingCapture"
        return "settledSuccessfully" if c.batch_id else "capturedPendingSettlement"
    return {"failed": "declined", "canceled": "voided", "pending": "FDSPendingReview"}[c.status]


def _vendor_refund_status(r: Refund) -> str:
    g = r.gateway
    if g == "stripe":
        return r.status
    if g == "paypal":
        return {"succeeded": "COMPLETED", "pending": "PENDING", "failed": "FAILED"}[r.status]
    if g == "square":
        return {"succeeded": "COMPLETED", "pending": "PENDING", "failed": "FAILED"}[r.status]
    if r.status == "failed":
        return "declined"
    return "refundSettledSuccessfully" if r.batch_id else "refundPendingSettlement"


def _vendor_dispute_status(d: Dispute) -> str:
    return {
        "stripe": {"open": "needs_response", "won": "won", "lost": "lost"},
        "paypal": {"open": "UNDER_REVIEW", "won": "RESOLVED_SELLER_FAVOUR", "lost": "RESOLVED_BUYER_FAVOUR"},
        "square": {"open": "EVIDENCE_REQUIRED", "won": "WON", "lost": "LOST"},
    }[d.gateway][d.status]


def _vendor_currency(gateway: str, currency: str) -> str:
    return currency.lower() if gateway == "stripe" else currency  # Stripe sends `usd`


# --- records as rows ------------------------------------------------------------------------------------
def charge_row(c: Charge) -> dict[str, Any]:
    g = c.gateway
    status, captured = charge_status(g, _vendor_charge_status(c))
    if g == "stripe":
        captured = c.captured
    order_ref, order_id = order_reference(g, c.metadata)
    alt = {"stripe": c.payment_intent_id, "paypal": c.paypal_order_id, "square": c.square_order_id}.get(g, "")
    row: dict[str, Any] = {
        "gateway": g,
        "kind": "charge",
        "gateway_id": c.id,
        "alt_id": alt or None,
        "order_ref": order_ref,
        "order_id": order_id,
        "status": status,
        "captured": captured,
        "amount_minor": c.amount_captured_minor if c.captured else c.amount_minor,
        "currency": _vendor_currency(g, c.currency),
        # Stripe reports `amount_refunded` and Square `refunded_money`; PayPal and Authorize.Net only list
        # refunds as records of their own.
        "amount_refunded_minor": c.amount_refunded_minor if g in ("stripe", "square") else 0,
        "fee_minor": 0 if g == "authorizenet" else c.fee_minor,
        "net_minor": None if g == "authorizenet" or not c.captured else c.net_minor,
        "settlement_currency": c.settlement_currency or None,
        "failure_code": c.failure_code or None,
        "decline_code": c.decline_code or None,
        "failure_message": c.failure_message or None,
        "payout_id": (c.batch_id if g == "authorizenet" else c.payout_id) or None,
        "created_at": _t(c.created),
        "updated_at": _t(c.updated) if g in ("paypal", "square") else None,
        "raw": {"metadata": dict(c.metadata)},
    }
    return row


def refund_row(r: Refund) -> dict[str, Any]:
    g = r.gateway
    return {
        "gateway": g,
        "kind": "refund",
        "gateway_id": r.id,
        "parent_id": r.charge_id,
        "status": refund_status(g, _vendor_refund_status(r)),
        "amount_minor": r.amount_minor,
        "currency": _vendor_currency(g, r.currency),
        "fee_minor": r.fee_returned_minor,
        "reason": r.reason or None,
        "payout_id": (r.batch_id if g == "authorizenet" else r.payout_id) or None,
        "created_at": _t(r.created),
    }


def dispute_row(d: Dispute) -> dict[str, Any]:
    return {
        "gateway": d.gateway,
        "kind": "dispute",
        "gateway_id": d.id,
        "parent_id": d.charge_id,
        "status": dispute_status(d.gateway, _vendor_dispute_status(d)),
        "amount_minor": d.amount_minor,
        "currency": _vendor_currency(d.gateway, d.currency),
        "fee_minor": d.fee_minor,
        "reason": d.reason or None,
        "created_at": _t(d.created),
        "updated_at": _t(d.closed),
    }


_SQUARE_PAYOUT = {"in_transit": "SENT", "paid": "PAID", "failed": "FAILED"}
_STRIPE_ENTRY = {  # (type, reporting_category) of Stripe balance transactions
    "charge": "charge",
    "refund": "refund",
    "dispute": "dispute",  # an `adjustment` whose reporting category is `dispute`
    "dispute_reversal": "dispute_reversal",
    "payout": "payout",
}


def ledger_rows(ledger: Ledger) -> LedgerRows:
    """Every record of the ledger as rows for `upsert_transactions`, `upsert_payouts` and
    `append_payout_entries`."""
    out = LedgerRows()
    for g in GATEWAYS:
        for c in ledger.charges(g):
            out.transactions.append(charge_row(c))
        for r in ledger.refunds(g):
            out.transactions.append(refund_row(r))
        for d in ledger.disputes(g):
            out.transactions.append(dispute_row(d))
    for g in PAYOUT_GATEWAYS:
        for p in ledger.payouts(g):
            vendor = p.status if g == "stripe" else _SQUARE_PAYOUT[p.status]
            out.payouts.append(
                {
                    "gateway": g,
                    "gateway_id": p.id,
                    "amount_minor": p.amount_minor,
                    "fee_minor": p.fee_minor,
                    "currency": _vendor_currency(g, p.currency),
                    "status": payout_status(g, vendor),
                    "created_at": _t(p.created),
                    "arrival_at": _t(p.arrival),
                }
            )
        for e in ledger.balance_entries(g):
            vendor_type = _STRIPE_ENTRY[e.type] if g == "stripe" else e.type.upper()
            out.entries.append(
                {
                    "gateway": g,
                    "gateway_id": e.id,
                    "payout_id": e.payout_id or None,
                    "type": entry_type(g, vendor_type),
                    "source_id": e.source_id or None,
                    "amount_minor": e.amount_minor,
                    "fee_minor": e.fee_minor,
                    "net_minor": e.net_minor,
                    "currency": _vendor_currency(g, e.currency),
                    "created_at": _t(e.created),
                    "available_at": _t(e.available_on),
                }
            )
    # Authorize.Net: a settled batch is its payout; its transactions are the payout's entries.
    for b in ledger.batches():
        stats = b.statistics()
        amount = sum(s["charge_amount_minor"] for s in stats) - sum(s["refund_amount_minor"] for s in stats)
        out.payouts.append(
            {
                "gateway": "authorizenet",
                "gateway_id": b.id,
                "amount_minor": amount,
                "currency": ledger.currency,
                "status": payout_status("authorizenet", b.settlement_state),
                "created_at": _t(b.settlement_time),
            }
        )
        for t in b.transactions:
            if isinstance(t, Refund):
                kind, amount_minor = "refund", -t.amount_minor
            elif t.status == "succeeded":
                kind, amount_minor = "charge", t.amount_captured_minor
            else:
                kind, amount_minor = ("decline" if t.status == "failed" else "void"), 0
            out.entries.append(
                {
                    "gateway": "authorizenet",
                    "gateway_id": t.id,
                    "payout_id": b.id,
                    "type": entry_type("authorizenet", kind),
                    "source_id": t.id,
                    "amount_minor": amount_minor,
                    "currency": ledger.currency,
                    "created_at": _t(t.created),
                }
            )
    return out
