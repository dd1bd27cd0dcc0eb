"""Objects as the Stripe API renders them (API version 2026-10-28), and `expand[]`.

Ledger records (charges, refunds, balance transactions, payouts, disputes) and the account's own objects
(customers, payment methods, payment intents, events, webhook endpoints) become Stripe JSON here. Amounts
stay integers in minor units; currencies are lower case; times are epoch seconds. A payment intent of the
seeded history (no `Intent` object) is rendered from its ledger charges, so `pi_` ids WooCommerce stored
retrieve as they would at Stripe. `lookup()` finds any object by its id's prefix, which is what `expand`
uses.
"""

from __future__ import annotations

import random
import zlib
from typing import Any

from sandbox.ledger import BalanceEntry, Charge, Dispute, LedgerError, Payout, Refund

from .encoding import random_id
from .errors import invalid_request
from .settings import ACCOUNT_API_VERSION
from .store import Customer, Endpoint, Event, Intent, State

__all__ = [
    "EXPANDABLE",
    "charge_for_pm",
    "charge_json",
    "customer_json",
    "dispute_json",
    "dispute_status",
    "endpoint_json",
    "entry_json",
    "event_json",
    "expand",
    "find_intent_charges",
    "intent_json",
    "intent_status",
    "last_error",
    "lookup",
    "payment_method_json",
    "payout_json",
    "refund_json",
]

#: Fields each object lets `expand[]` replace by the object (Stripe's `x-expandableFields`).
EXPANDABLE: dict[str, frozenset[str]] = {
    "charge": frozenset(
        {"application", "application_fee", "balance_transaction", "customer", "failure_balance_transaction",
         "invoice", "on_behalf_of", "payment_intent", "refunds", "review", "source_transfer", "transfer"}
    ),
    "payment_intent": frozenset(
        {"application", "customer", "invoice", "latest_charge", "on_behalf_of", "payment_method", "review"}
    ),
    "refund": frozenset(
        {"balance_transaction", "charge", "failure_balance_transaction", "payment_intent",
         "source_transfer_reversal", "transfer_reversal"}
    ),
    "balance_transaction": frozenset({"source"}),
    "payout": frozenset(
        {"balance_transaction", "destination", "failure_balance_transaction", "original_payout",
         "reversed_by"}
    ),
    "dispute": frozenset({"charge", "payment_intent"}),
    "payment_method": frozenset({"customer"}),
    "customer": frozenset({"default_source", "invoice_settings", "test_clock"}),
    "invoice_settings": frozenset({"default_payment_method"}),
}  # fmt: skip
_MAX_DEPTH = 4
_ADDRESS = {"city": None, "country": None, "line1": None, "line2": None, "postal_code": None, "state": None}
_EVIDENCE_FIELDS = (
    "access_activity_log", "billing_address", "cancellation_policy", "cancellation_policy_disclosure",
    "cancellation_rebuttal", "customer_communication", "customer_email_address", "customer_name",
    "customer_purchase_ip", "customer_signature", "duplicate_charge_documentation",
    "duplicate_charge_explanation", "duplicate_charge_id", "product_description", "receipt", "refund_policy",
    "refund_policy_disclosure", "refund_refusal_explanation", "service_date", "service_documentation",
    "shipping_address", "shipping_carrier", "shipping_date", "shipping_documentation",
    "shipping_tracking_number", "uncategorized_file", "uncategorized_text",
)  # fmt: skip
_REFUND_REASONS = {"duplicate", "fraudulent", "requested_by_customer", "expired_uncaptured_charge"}


def _h(text: str) -> int:
    return zlib.crc32(text.encode())


def _card_details(st: State, c: Charge) -> dict[str, Any]:
    """Brand, last 4, expiry, funding, fingerprint of the card a charge was paid with."""
    extra = st.charge_extra.get(c.id, {})
    pm = st.payment_methods.get(extra.get("payment_method", ""))
    if pm is not None:
        return {
            "brand": pm.card.brand,
            "last4": pm.card.last4,
            "exp_month": pm.exp_month,
            "exp_year": pm.exp_year,
            "funding": pm.card.funding,
            "country": pm.card.country,
            "fingerprint": pm.fingerprint,
        }
    h = _h(c.id)
    brand = c.card_brand or "visa"
    return {
        "brand": brand,
        "last4": c.card_last4 or "4242",
        "exp_month": h % 12 + 1,
        "exp_year": 2027 + h % 5,
        "funding": "credit",
        "country": "US",
        "fingerprint": random_id(random.Random(f"{brand}{c.card_last4}"), "", 16),
    }


def _pm_id_of(st: State, c: Charge) -> str:
    """The PaymentMethod a charge was paid with (for the seeded history: one derived from the charge)."""
    pm = st.charge_extra.get(c.id, {}).get("payment_method")
    return str(pm) if pm else "pm_1" + c.id[4:]


def charge_for_pm(st: State, pm_id: str) -> Charge | None:
    """The seeded charge behind a derived PaymentMethod id (`pm_1` + the charge's suffix)."""
    if not pm_id.startswith("pm_1") or len(pm_id) != 27:
        return None
    c = st.ledger.find_charge("stripe", "ch_3" + pm_id[4:])
    return c if c is not None and c.id not in st.charge_extra else None


def _status(c: Charge) -> str:
    # A voided authorisation stays `succeeded` at Stripe: captured false, refunded in full.
    return "succeeded" if c.status == "canceled" else c.status


def _amount_refunded(c: Charge) -> int:
    if c.status == "canceled":
        return c.amount_minor
    released = c.amount_minor - c.amount_captured_minor if c.captured else 0  # partial capture's rest
    return c.amount_refunded_minor + released


def charge_json(st: State, c: Charge) -> dict[str, Any]:
    extra = st.charge_extra.get(c.id, {})
    card = _card_details(st, c)
    failed = c.status == "failed"
    refunded = _amount_refunded(c)
    h = _h(c.id)
    if failed:
        outcome = {
            "advice_code": extra.get("advice_code"),
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "declined_by_network",
            "reason": c.decline_code or "generic_decline",
            "risk_level": "normal",
            "risk_score": h % 60,
            "seller_message": "The bank did not return any further details with this decline.",
            "type": "issuer_declined",
        }
    else:
        outcome = {
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "normal",
            "risk_score": h % 60,
            "seller_message": "Payment complete.",
            "type": "authorized",
        }
    return {
        "id": c.id,
        "object": "charge",
        "amount": c.amount_minor,
        "amount_captured": c.amount_captured_minor if c.captured else 0,
        "amount_refunded": refunded,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": c.balance_transaction_id or None,
        "billing_details": {
            "address": dict(_ADDRESS),
            "email": c.customer_email or None,
            "name": c.customer_name or None,
            "phone": None,
            "tax_id": None,
        },
        "calculated_statement_descriptor": "SANDBOX STORE",
        "captured": c.captured,
        "created": c.created,
        "currency": c.currency.lower(),
        "customer": extra.get("customer"),
        "description": c.description or None,
        "disputed": c.dispute is not None,
        "failure_balance_transaction": None,
        "failure_code": c.failure_code or None,
        "failure_message": c.failure_message or None,
        "fraud_details": {},
        "livemode": False,
        "metadata": dict(c.metadata),
        "on_behalf_of": None,
        "outcome": outcome,
        "paid": c.status in ("succeeded", "canceled"),
        "payment_intent": c.payment_intent_id or None,
        "payment_method": _pm_id_of(st, c),
        "payment_method_details": {
            "card": {
                "amount_authorized": None if failed else c.amount_minor,
                "authorization_code": None if failed else f"{h % 1_000_000:06d}",
                "brand": card["brand"],
                "checks": {
                    "address_line1_check": None,
                    "address_postal_code_check": None,
                    "cvc_check": "pass",
                },
                "country": card["country"],
                "exp_month": card["exp_month"],
                "exp_year": card["exp_year"],
                "extended_authorization": {"status": "disabled"},
                "fingerprint": card["fingerprint"],
                "funding": card["funding"],
                "incremental_authorization": {"status": "unavailable"},
                "installments": None,
                "last4": card["last4"],
                "mandate": None,
                "multicapture": {"status": "unavailable"},
                "network": card["brand"],
                "network_token": {"used": False},
                "overcapture": {"maximum_amount_capturable": c.amount_minor, "status": "unavailable"},
                "three_d_secure": None,
                "wallet": None,
            },
            "type": "card",
        },
        "radar_options": {},
        "receipt_email": extra.get("receipt_email"),
        "receipt_number": None,
        "receipt_url": f"https://pay.stripe.com/receipts/payment/{c.id}",
        "refunded": c.status == "canceled" or (refunded >= c.amount_minor and refunded > 0),
        "review": None,
        "shipping": None,
        "source_transfer": None,
        "statement_descriptor": extra.get("statement_descriptor"),
        "statement_descriptor_suffix": extra.get("statement_descriptor_suffix"),
        "status": _status(c),
        "transfer_data": None,
        "transfer_group": None,
    }


def find_intent_charges(st: State, pi_id: str) -> list[Charge]:
    """A payment intent's charges, oldest first ([] for an unknown id or one with no attempt yet)."""
    if not pi_id.startswith("pi_"):
        return []
    return st.ledger.charges_for("stripe", pi_id)


def intent_status(st: State, pi: Intent | None, charges: list[Charge]) -> str:
    if pi is not None:
        return pi.status
    latest = charges[-1]
    if latest.status == "failed":
        return "requires_payment_method"
    if latest.status == "canceled":
        return "canceled"
    if latest.status == "pending":
        return "processing"
    return "succeeded" if latest.captured else "requires_capture"


def last_error(st: State, c: Charge) -> dict[str, Any]:
    extra = st.charge_extra.get(c.id, {})
    code = c.failure_code or "card_declined"
    err = {
        "advice_code": extra.get("advice_code"),
        "charge": c.id,
        "code": code,
        "decline_code": c.decline_code or None,
        "doc_url": "https://stripe.com/docs/error-codes/" + code.replace("_", "-"),
        "message": c.failure_message or "Your card was declined.",
        "param": extra.get("param"),
        "payment_method": payment_method_json(st, _pm_id_of(st, c)),
        "type": "card_error",
    }
    return {k: v for k, v in err.items() if v is not None}  # Stripe leaves out what does not apply


def intent_json(st: State, pi_id: str) -> dict[str, Any] | None:
    pi = st.intents.get(pi_id)
    charges = find_intent_charges(st, pi_id)
    if pi is None and not charges:
        return None
    latest = charges[-1] if charges else None
    status = intent_status(st, pi, charges)
    if pi is not None:
        amount, currency, created = pi.amount, pi.currency, pi.created
        fields: dict[str, Any] = {
            "automatic_payment_methods": pi.automatic_payment_methods,
            "canceled_at": pi.canceled_at,
            "cancellation_reason": pi.cancellation_reason,
            "capture_method": pi.capture_method,
            "client_secret": pi.client_secret,
            "confirmation_method": pi.confirmation_method,
            "customer": pi.customer,
            "description": pi.description,
            "last_payment_error": pi.last_payment_error,
            "metadata": dict(pi.metadata),
            "payment_method": pi.payment_method,
            "payment_method_types": list(pi.payment_method_types),
            "receipt_email": pi.receipt_email,
            "setup_future_usage": pi.setup_future_usage,
            "shipping": pi.shipping,
            "statement_descriptor": pi.statement_descriptor,
            "statement_descriptor_suffix": pi.statement_descriptor_suffix,
        }
    else:
        assert latest is not None
        amount, currency, created = latest.amount_minor, latest.currency.lower(), charges[0].created
        fields = {
            "automatic_payment_methods": None,
            "canceled_at": latest.updated if latest.status == "canceled" else None,
            "cancellation_reason": None,
            "capture_method": "automatic" if latest.captured or latest.status == "failed" else "manual",
            "client_secret": f"{pi_id}_secret_{random_id(random.Random(pi_id), '', 25)}",
            "confirmation_method": "automatic",
            "customer": None,
            "description": latest.description or None,
            "last_payment_error": last_error(st, latest) if latest.status == "failed" else None,
            "metadata": dict(latest.metadata),
            "payment_method": None if latest.status == "failed" else _pm_id_of(st, latest),
            "payment_method_types": ["card"],
            "receipt_email": None,
            "setup_future_usage": None,
            "shipping": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": None,
        }
    capturable = latest.amount_minor if latest and status == "requires_capture" else 0
    received = (
        latest.amount_captured_minor if latest and latest.captured and latest.status == "succeeded" else 0
    )
    return {
        "id": pi_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": capturable,
        "amount_details": {"tip": {}},
        "amount_received": received,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": fields["automatic_payment_methods"],
        "canceled_at": fields["canceled_at"],
        "cancellation_reason": fields["cancellation_reason"],
        "capture_method": fields["capture_method"],
        "client_secret": fields["client_secret"],
        "confirmation_method": fields["confirmation_method"],
        "created": created,
        "currency": currency,
        "customer": fields["customer"],
        "description": fields["description"],
        "last_payment_error": fields["last_payment_error"],
        "latest_charge": latest.id if latest else None,
        "livemode": False,
        "metadata": fields["metadata"],
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": fields["payment_method"],
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {
                "installments": None,
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "payment_method_types": fields["payment_method_types"],
        "processing": None,
        "receipt_email": fields["receipt_email"],
        "review": None,
        "setup_future_usage": fields["setup_future_usage"],
        "shipping": fields["shipping"],
        "source": None,
        "statement_descriptor": fields["statement_descriptor"],
        "statement_descriptor_suffix": fields["statement_descriptor_suffix"],
        "status": status,
        "transfer_data": None,
        "transfer_group": None,
    }


def refund_json(st: State, r: Refund) -> dict[str, Any]:
    extra = st.refund_extra.get(r.id, {})
    c = st.ledger.charge("stripe", r.charge_id)
    reason = extra.get("reason")
    if reason is None and r.reason:
        text = r.reason.strip().lower()
        reason = (
            text
            if text in _REFUND_REASONS
            else ("duplicate" if "duplicate" in text else "requested_by_customer")
        )
    out: dict[str, Any] = {
        "id": r.id,
        "object": "refund",
        "amount": r.amount_minor,
        "balance_transaction": r.balance_transaction_id or None,
        "charge": r.charge_id,
        "created": r.created,
        "currency": r.currency.lower(),
        "destination_details": {
            "card": {
                "reference_status": "pending",
                "reference_type": "acquirer_reference_number",
                "type": "refund",
            },
            "type": "card",
        },
        "metadata": dict(extra.get("metadata", {})),
        "payment_intent": c.payment_intent_id or None,
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": r.status,
        "transfer_reversal": None,
    }
    if r.status == "failed":
        out["failure_balance_transaction"] = None
        out["failure_reason"] = "unknown"
    return out


_BT_KINDS = {  # ledger entry type -> (Stripe type, reporting_category)
    "charge": ("charge", "charge"),
    "refund": ("refund", "refund"),
    "dispute": ("adjustment", "dispute"),
    "dispute_reversal": ("adjustment", "dispute_reversal"),
    "payout": ("payout", "payout"),
}


def entry_json(st: State, e: BalanceEntry) -> dict[str, Any]:
    kind, category = _BT_KINDS.get(e.type, (e.type, e.type))
    cur = e.currency.lower()
    fee_details: list[dict[str, Any]] = []
    if e.fee_minor:
        what = "Dispute fee" if e.type == "dispute" else "Stripe processing fees"
        fee_details.append(
            {
                "amount": e.fee_minor,
                "application": None,
                "currency": cur,
                "description": what,
                "type": "stripe_fee",
            }
        )
    if e.type == "payout":
        description = "STRIPE PAYOUT"
    else:
        try:
            c = st.ledger.charge("stripe", e.charge_id)
            label = c.description or c.id
        except LedgerError:
            label = e.charge_id
        description = {
            "charge": label,
            "refund": f"REFUND FOR CHARGE ({label})",
            "dispute": f"Chargeback withdrawal for {e.charge_id}",
            "dispute_reversal": f"Chargeback reversal for {e.charge_id}",
        }.get(e.type, label)
    return {
        "id": e.id,
        "object": "balance_transaction",
        "amount": e.amount_minor,
        "available_on": e.available_on,
        "created": e.created,
        "currency": cur,
        "description": description,
        "exchange_rate": float(e.exchange_rate) if e.exchange_rate is not None else None,
        "fee": e.fee_minor,
        "fee_details": fee_details,
        "net": e.net_minor,
        "reporting_category": category,
        "source": e.source_id,
        "status": e.status(st.now()),
        "type": kind,
    }


def payout_json(st: State, p: Payout) -> dict[str, Any]:
    return {
        "id": p.id,
        "object": "payout",
        "amount": p.amount_minor,
        "application_fee": None,
        "application_fee_amount": None,
        "arrival_date": p.arrival,
        "automatic": True,
        "balance_transaction": p.balance_transaction_id or None,
        "created": p.created,
        "currency": p.currency.lower(),
        "description": "STRIPE PAYOUT",
        "destination": st.bank_account_id,
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "livemode": False,
        "metadata": {},
        "method": "standard",
        "original_payout": None,
        "reconciliation_status": "completed",
        "reversed_by": None,
        "source_type": "card",
        "statement_descriptor": None,
        "status": p.status,
        "trace_id": {"status": "supported" if p.status == "paid" else "pending", "value": None},
        "type": "bank_account",
    }


def dispute_status(st: State, d: Dispute) -> str:
    if d.status != "open":
        return d.status
    return "under_review" if st.dispute_extra.get(d.id, {}).get("submitted") else "needs_response"


def dispute_json(st: State, d: Dispute) -> dict[str, Any]:
    extra = st.dispute_extra.get(d.id, {})
    evidence = dict.fromkeys(_EVIDENCE_FIELDS)
    evidence.update(extra.get("evidence", {}))
    c = st.ledger.charge("stripe", d.charge_id)
    entries = []
    for bt in d.balance_transaction_ids:
        try:
            entries.append(entry_json(st, st.ledger.balance_entry("stripe", bt)))
        except LedgerError:
            continue
    return {
        "id": d.id,
        "object": "dispute",
        "amount": d.amount_minor,
        "balance_transactions": entries,
        "charge": d.charge_id,
        "created": d.created,
        "currency": d.currency.lower(),
        "evidence": evidence,
        "evidence_details": {
            "due_by": d.evidence_due_by if d.status == "open" else None,
            "has_evidence": any(v is not None for v in extra.get("evidence", {}).values()),
            "past_due": d.status == "open" and d.evidence_due_by < st.now(),
            "submission_count": int(extra.get("submission_count", 0)),
        },
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": dict(extra.get("metadata", {})),
        "payment_intent": c.payment_intent_id or None,
        "payment_method_details": {
            "card": {
                "brand": c.card_brand or "visa",
                "case_type": "chargeback",
                "network_reason_code": "10.4",
            },
            "type": "card",
        },
        "reason": d.reason,
        "status": dispute_status(st, d),
    }


def customer_json(st: State, cu: Customer) -> dict[str, Any]:
    if cu.deleted:
        return {"id": cu.id, "object": "customer", "deleted": True}
    return {
        "id": cu.id,
        "object": "customer",
        "address": cu.address,
        "balance": cu.balance,
        "created": cu.created,
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": cu.description,
        "discount": None,
        "email": cu.email,
        "invoice_prefix": cu.invoice_prefix,
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": cu.default_payment_method,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": dict(cu.metadata),
        "name": cu.name,
        "next_invoice_sequence": 1,
        "phone": cu.phone,
        "preferred_locales": list(cu.preferred_locales),
        "shipping": cu.shipping,
        "tax_exempt": cu.tax_exempt,
        "test_clock": None,
    }


def payment_method_json(st: State, pm_id: str) -> dict[str, Any] | None:
    pm = st.payment_methods.get(pm_id)
    if pm is not None:
        brand, last4, funding, country = pm.card.brand, pm.card.last4, pm.card.funding, pm.card.country
        exp_month, exp_year, fingerprint, created = pm.exp_month, pm.exp_year, pm.fingerprint, pm.created
        customer, metadata = pm.customer, dict(pm.metadata)
        billing: dict[str, Any] = {"address": dict(_ADDRESS), "email": None, "name": None, "phone": None}
        billing["tax_id"] = None
        billing.update(pm.billing_details)
    else:
        c = charge_for_pm(st, pm_id)
        if c is None:
            return None
        card = _card_details(st, c)
        brand, last4, funding, country = card["brand"], card["last4"], card["funding"], card["country"]
        exp_month, exp_year, fingerprint, created = (
            card["exp_month"],
            card["exp_year"],
            card["fingerprint"],
            c.created,
        )
        customer, metadata = None, {}
        billing = {
            "address": dict(_ADDRESS),
            "email": c.customer_email or None,
            "name": c.customer_name or None,
            "phone": None,
            "tax_id": None,
        }
    return {
        "id": pm_id,
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": billing,
        "card": {
            "brand": brand,
            "checks": {
                "address_line1_check": None,
                "address_postal_code_check": None,
                "cvc_check": "unchecked",
            },
            "country": country,
            "display_brand": brand,
            "exp_month": exp_month,
            "exp_year": exp_year,
            "fingerprint": fingerprint,
            "funding": funding,
            "generated_from": None,
            "last4": last4,
            "networks": {"available": [brand], "preferred": None},
            "regulated_status": "unregulated",
            "three_d_secure_usage": {"supported": True},
            "wallet": None,
        },
        "created": created,
        "customer": customer,
        "livemode": False,
        "metadata": metadata,
        "type": "card",
    }


def event_json(st: State, ev: Event) -> dict[str, Any]:
    return {
        "id": ev.id,
        "object": "event",
        "api_version": ACCOUNT_API_VERSION,
        "created": ev.created,
        "data": ev.data,
        "livemode": False,
        "pending_webhooks": len(ev.pending),
        "request": {"id": ev.request_id, "idempotency_key": ev.idempotency_key},
        "type": ev.type,
    }


def endpoint_json(st: State, ep: Endpoint, *, with_secret: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": ep.id,
        "object": "webhook_endpoint",
        "api_version": ep.api_version,
        "application": None,
        "created": ep.created,
        "description": ep.description,
        "enabled_events": list(ep.enabled_events),
        "livemode": False,
        "metadata": dict(ep.metadata),
        "status": ep.status,
        "url": ep.url,
    }
    if with_secret:
        out["secret"] = ep.secret
    return out


def _bank_account(st: State) -> dict[str, Any]:
    return {
        "id": st.bank_account_id,
        "object": "bank_account",
        "account_holder_name": None,
        "account_holder_type": None,
        "account_type": None,
        "available_payout_methods": ["standard", "instant"],
        "bank_name": "STRIPE TEST BANK",
        "country": "US",
        "currency": st.ledger.currency.lower(),
        "default_for_currency": True,
        "fingerprint": st.bank_account_id[-16:],
        "last4": "6789",
        "metadata": {},
        "routing_number": "110000000",
        "status": "new",
    }


# --- lookups and expansion ------------------------------------------------------------------------------
def lookup(st: State, object_id: str) -> dict[str, Any] | None:
    """Any object of the account by id (for `expand`), or None."""
    led = st.ledger
    prefix = object_id.split("_", 1)[0]
    try:
        if prefix in ("ch", "py"):
            return charge_json(st, led.charge("stripe", object_id))
        if prefix == "pi":
            return intent_json(st, object_id)
        if prefix == "re":
            return refund_json(st, led.refund("stripe", object_id))
        if prefix == "txn":
            return entry_json(st, led.balance_entry("stripe", object_id))
        if prefix == "po":
            return payout_json(st, led.payout("stripe", object_id))
        if prefix == "du":
            return dispute_json(st, led.dispute("stripe", object_id))
    except LedgerError:
        return None
    if prefix == "cus":
        cu = st.customers.get(object_id)
        return customer_json(st, cu) if cu else None
    if prefix == "pm":
        return payment_method_json(st, object_id)
    if prefix == "ba" and object_id == st.bank_account_id:
        return _bank_account(st)
    return None


def _charge_refunds(st: State, charge_id: str) -> dict[str, Any]:
    c = st.ledger.charge("stripe", charge_id)
    data = [refund_json(st, r) for r in reversed(c.refunds)]
    return {
        "object": "list",
        "data": data,
        "has_more": False,
        "total_count": len(data),
        "url": f"/v1/charges/{charge_id}/refunds",
    }


def _expand_path(st: State, obj: dict[str, Any], parts: list[str], full: str) -> None:
    kind = str(obj.get("object", ""))
    name = parts[0]
    if name not in EXPANDABLE.get(kind, ()):
        raise invalid_request(f"This property cannot be expanded ({full}).", param="expand")
    value = obj.get(name)
    if kind == "charge" and name == "refunds":
        value = obj[name] = _charge_refunds(st, str(obj["id"]))
    elif kind == "customer" and name == "invoice_settings":
        value = obj[name]
        if isinstance(value, dict):
            value = dict(value, object="invoice_settings")
    elif isinstance(value, str):
        found = lookup(st, value)
        if found is not None:
            obj[name] = value = found
    if len(parts) > 1 and isinstance(value, dict):
        if value.get("object") == "list":
            if parts[1] != "data" or len(parts) < 3:
                raise invalid_request(f"This property cannot be expanded ({full}).", param="expand")
            for item in value["data"]:
                _expand_path(st, item, parts[2:], full)
        else:
            _expand_path(st, value, parts[1:], full)
            if kind == "customer" and name == "invoice_settings":
                value.pop("object", None)
                obj[name] = value


def expand(st: State, obj: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """Apply `expand[]` paths to one object (in place; returns it). Unknown fields are Stripe's 400."""
    for path in paths:
        parts = [p for p in path.split(".")]
        if len(parts) > _MAX_DEPTH:
            raise invalid_request(
                f"You cannot expand more than {_MAX_DEPTH} levels of a property. Property: {path}",
                param="expand",
            )
        if any(not p for p in parts):
            raise invalid_request(f"This property cannot be expanded ({path}).", param="expand")
        _expand_path(st, obj, parts, path)
    return obj
