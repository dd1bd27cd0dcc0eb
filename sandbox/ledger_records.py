"""The gateways' records, vendor-neutral: what `sandbox.ledger.Ledger` holds and the stand-ins render.

Amounts are integers in minor units, times epoch seconds (UTC). The model and the definition of a
consistent ledger are in `sandbox.ledger`, which re-exports every name here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

__all__ = [
    "CATEGORIES",
    "CHARGE_STATUSES",
    "DAY",
    "DISPUTE_GATEWAYS",
    "PAYOUT_GATEWAYS",
    "REFUND_STATUSES",
    "BalanceEntry",
    "Batch",
    "Charge",
    "Dispute",
    "DuplicateId",
    "InvalidAmount",
    "InvalidState",
    "LedgerError",
    "NotFound",
    "Payout",
    "Planted",
    "Refund",
    "RefundExceedsRemaining",
    "order_id_from_metadata",
    "order_metadata",
]

DAY = 86_400
#: The discrepancy categories reconciliation reports, in the answer key's order.
CATEGORIES = (
    "missing_order",
    "missing_payment",
    "amount_mismatch",
    "currency_mismatch",
    "status_mismatch",
    "refund_not_mirrored",
    "duplicate_charge",
    "open_dispute",
    "payout_mismatch",
)
PAYOUT_GATEWAYS = ("stripe", "square")
DISPUTE_GATEWAYS = ("stripe", "paypal", "square")  # Authorize.Net's API has no disputes
CHARGE_STATUSES = ("succeeded", "failed", "pending", "canceled")
REFUND_STATUSES = ("succeeded", "failed", "pending")


# --- errors ----------------------------------------------------------------------------------------------
class LedgerError(Exception):
    """A request the gateway would refuse. `code` is stable, for stand-ins to map onto vendor errors.

    LedgerError
      NotFound                 code "not_found"
      DuplicateId              code "duplicate_id"
      InvalidAmount            code "invalid_amount"
      InvalidState             code "charge_failed", "charge_not_captured", "charge_disputed",
                                    "already_captured", "already_disputed", "unsupported", ...
      RefundExceedsRemaining   code "refund_exceeds_remaining" (.requested_minor, .remaining_minor)
    """

    code = "ledger_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else self.code


class NotFound(LedgerError, KeyError):
    code = "not_found"


class DuplicateId(LedgerError):
    code = "duplicate_id"


class InvalidAmount(LedgerError, ValueError):
    code = "invalid_amount"


class InvalidState(LedgerError):
    code = "invalid_state"


class RefundExceedsRemaining(LedgerError):
    code = "refund_exceeds_remaining"

    def __init__(self, charge_id: str, requested_minor: int, remaining_minor: int) -> None:
        super().__init__(
            f"refund of {requested_minor} exceeds the {remaining_minor} that remains on charge {charge_id}"
        )
        self.charge_id = charge_id
        self.requested_minor = requested_minor
        self.remaining_minor = remaining_minor


# --- records ---------------------------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return dict(value)
    return value


class _Record:
    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields; nested records as their ids."""
        out: dict[str, Any] = {}
        for f in fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            if isinstance(v, list):
                out[f.name] = [x.id if isinstance(x, _Record) else x for x in v]  # type: ignore[attr-defined]
            elif isinstance(v, _Record):
                out[f.name] = v.id  # type: ignore[attr-defined]
            else:
                out[f.name] = _plain(v)
        return out


@dataclass(slots=True, eq=True)
class Refund(_Record):
    gateway: str
    id: str
    charge_id: str
    order_id: int | None
    amount_minor: int  # positive, in the charge's currency
    currency: str
    created: int
    status: str = "succeeded"  # succeeded | failed | pending
    reason: str = ""
    fee_returned_minor: int = 0  # the part of the charge's fee the gateway gives back (PayPal)
    settlement_amount_minor: int = 0  # in the charge's settlement currency
    balance_transaction_id: str = ""  # Stripe
    batch_id: str = ""  # Authorize.Net: "" until settled
    payout_id: str = ""  # Stripe, Square: "" until paid out


@dataclass(slots=True, eq=True)
class Dispute(_Record):
    gateway: str
    id: str
    charge_id: str
    order_id: int | None
    amount_minor: int
    currency: str
    reason: str  # fraudulent | product_not_received | product_unacceptable | duplicate | ...
    created: int
    status: str = "open"  # open | won | lost
    evidence_due_by: int = 0
    closed: int | None = None
    fee_minor: int = 0
    balance_transaction_ids: list[str] = field(default_factory=list)


@dataclass(slots=True, eq=True)
class Charge(_Record):
    gateway: str
    id: str
    order_id: int | None
    amount_minor: int
    currency: str
    status: str  # succeeded | failed | pending | canceled
    created: int
    updated: int = 0
    captured: bool = True
    captured_at: int | None = None
    amount_captured_minor: int = 0
    fee_minor: int = 0  # in settlement_currency
    settlement_currency: str = ""
    settlement_amount_minor: int = 0
    exchange_rate: Decimal | None = None  # set when the balance is in another currency (Stripe)
    failure_code: str = ""  # card_declined | expired_card | incorrect_cvc | processing_error
    decline_code: str = ""  # generic_decline | insufficient_funds | lost_card | do_not_honor | ...
    failure_message: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    description: str = ""
    customer_id: int = 0  # the world's customer id, 0 for a guest
    customer_email: str = ""
    customer_name: str = ""
    card_brand: str = ""  # visa | mastercard | amex | discover ("" for a PayPal wallet payment)
    card_last4: str = ""
    payment_intent_id: str = ""  # Stripe
    balance_transaction_id: str = ""  # Stripe
    paypal_order_id: str = ""  # PayPal (Orders v2)
    square_order_id: str = ""  # Square
    location_id: str = ""  # Square
    batch_id: str = ""  # Authorize.Net: "" until settled
    payout_id: str = ""  # Stripe, Square: "" until paid out
    refunds: list[Refund] = field(default_factory=list)
    dispute: Dispute | None = None

    @property
    def net_minor(self) -> int:
        """What the charge adds to the balance: settlement amount minus fee (0 unless captured)."""
        return self.settlement_amount_minor - self.fee_minor

    @property
    def amount_refunded_minor(self) -> int:
        return sum(r.amount_minor for r in self.refunds if r.status != "failed")

    @property
    def remaining_minor(self) -> int:
        """What can still be refunded."""
        return self.amount_captured_minor - self.amount_refunded_minor

    @property
    def refunded(self) -> bool:
        """Fully refunded."""
        return self.amount_captured_minor > 0 and self.remaining_minor == 0

    def to_dict(self) -> dict[str, Any]:
        out = super(Charge, self).to_dict()
        out["refunds"] = [r.to_dict() for r in self.refunds]
        out["dispute"] = self.dispute.to_dict() if self.dispute else None
        out["net_minor"] = self.net_minor
        return out


@dataclass(slots=True, eq=True)
class BalanceEntry(_Record):
    gateway: str
    id: str  # Stripe txn_..., Square poe_...
    type: str  # charge | refund | dispute | dispute_reversal | payout
    source_id: str  # the charge, refund, dispute or payout id
    charge_id: str  # the charge it belongs to ("" for a payout)
    order_id: int | None
    amount_minor: int  # signed
    fee_minor: int  # signed: positive is a cost, negative a fee given back
    currency: str
    created: int
    available_on: int
    payout_id: str = ""
    exchange_rate: Decimal | None = None

    @property
    def net_minor(self) -> int:
        return self.amount_minor - self.fee_minor

    def status(self, now: int) -> str:
        """Stripe's `pending` until `available_on`, then `available`."""
        return "available" if self.available_on <= now else "pending"

    def to_dict(self) -> dict[str, Any]:
        out = super(BalanceEntry, self).to_dict()
        out["net_minor"] = self.net_minor
        return out


@dataclass(slots=True, eq=True)
class Payout(_Record):
    gateway: str
    id: str
    amount_minor: int
    currency: str
    created: int
    arrival: int
    status: str  # in_transit | paid | failed (Square: the bank refused it)
    fee_minor: int = 0  # Square's payout_fee (0 for standard payouts)
    entries: list[BalanceEntry] = field(default_factory=list)
    balance_transaction_id: str = ""  # Stripe: the payout's own balance transaction
    location_id: str = ""  # Square

    @property
    def entries_net_minor(self) -> int:
        return sum(e.net_minor for e in self.entries)


@dataclass(slots=True, eq=True)
class Batch(_Record):
    """An Authorize.Net settlement batch."""

    id: str
    settlement_time: int
    charges: list[Charge] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)
    settlement_state: str = "settledSuccessfully"
    gateway: str = "authorizenet"

    @property
    def transactions(self) -> list[Charge | Refund]:
        """Charges and refunds in submission order."""
        txs: list[Charge | Refund] = [*self.charges, *self.refunds]
        txs.sort(key=lambda t: (t.created, t.id))
        return txs

    def statistics(self) -> list[dict[str, Any]]:
        """Per card brand (Authorize.Net's per-accountType statistics), brands in first-seen order."""
        stats: dict[str, dict[str, Any]] = {}

        def row(brand: str) -> dict[str, Any]:
            return stats.setdefault(
                brand,
                {
                    "card_brand": brand,
                    "charge_amount_minor": 0,
                    "charge_count": 0,
                    "refund_amount_minor": 0,
                    "refund_count": 0,
                    "void_count": 0,
                    "decline_count": 0,
                    "error_count": 0,
                },
            )

        for c in self.charges:
            r = row(c.card_brand)
            if c.status == "succeeded":
                r["charge_amount_minor"] += c.amount_captured_minor
                r["charge_count"] += 1
            elif c.status == "failed":
                r["decline_count"] += 1
            elif c.status == "canceled":
                r["void_count"] += 1
        brand_of = {c.id: c.card_brand for c in self.charges}
        for rf in self.refunds:
            r = row(brand_of.get(rf.charge_id, ""))
            r["refund_amount_minor"] += rf.amount_minor
            r["refund_count"] += 1
        return list(stats.values())


@dataclass(frozen=True, slots=True)
class Planted:
    """One planted discrepancy, as the answer key lists it."""

    category: str
    gateway: str
    order_id: int | None
    gateway_id: str  # the charge, refund, dispute or payout involved (missing_payment: the order's txn id)
    detail: str

    def to_key(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "gateway": self.gateway,
            "order_id": self.order_id,
            "gateway_id": self.gateway_id,
            "detail": self.detail,
        }


# --- the order reference each vendor carries -------------------------------------------------------------
def order_metadata(gateway: str, order_id: int) -> dict[str, str]:
    """Where the WooCommerce plugins put the order on the gateway's record."""
    if gateway == "stripe":
        return {"order_id": str(order_id)}
    if gateway == "paypal":
        return {"invoice_id": f"WC-{order_id}", "custom_id": str(order_id)}
    if gateway == "square":
        return {"reference_id": str(order_id)}
    if gateway == "authorizenet":
        return {"invoiceNumber": str(order_id)}
    raise ValueError(f"unknown gateway {gateway!r}")


def order_id_from_metadata(gateway: str, metadata: Mapping[str, str]) -> int | None:
    """The order id a gateway record names, or None."""
    keys = {
        "stripe": ("order_id",),
        "paypal": ("custom_id", "invoice_id"),
        "square": ("reference_id",),
        "authorizenet": ("invoiceNumber",),
    }.get(gateway, ())
    for k in keys:
        raw = str(metadata.get(k) or "").strip()
        if raw.startswith("WC-"):
            raw = raw[3:]
        if raw.isdigit():
            return int(raw)
    return None
