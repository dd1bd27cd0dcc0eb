"""Payment operations' rules and records: request checks, idempotency keys, what a payment or refund leaves
in the hub, and the old service's payment statistics.

- `check_payment` / `check_refund` refuse bad input with a `PaymentError` (a code, an HTTP status and one
  line), before any gateway is called: amounts with more decimals than the currency has, zero or negative
  amounts, unknown currencies or gateways, refunds above what remains of the charge.
- `payment_key` / `refund_key`: the idempotency key every gateway call carries: the caller's, else one
  derived from the order and the operation, so a repeated request makes one payment or refund.
- `record_payment` / `record_refund` write the ledger row and the `real_time_data` row (`payment_processed`,
  `refund_processed`, as the old service logged them) in the caller's transaction: both or neither.
- `payment_status(conn)`: `GET /api/integrations/payments/status`'s `data`, computed from the ledger.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hub.analytics import record_real_time
from hub.errors import HubError
from hub.ledger import GATEWAYS, currency_exponent, upsert_transactions
from hub.models import GatewayTransaction, RealTimeData

__all__ = [
    "CURRENCIES",
    "ChargeInfo",
    "PaymentError",
    "check_payment",
    "check_refund",
    "find_charge",
    "major",
    "payment_key",
    "payment_status",
    "record_payment",
    "record_refund",
    "refund_key",
]

#: ISO 4217 active codes (2024).
CURRENCIES = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD
    CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD
    GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT
    LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR
    NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP
    STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF
    XPF YER ZAR ZMW ZWL""".split()
)
#: The gateways that take payments through `process_payment` (PayPal payments need the buyer's approval in
#: PayPal's checkout; Authorize.Net needs card data from Accept.js in the shop).
PROCESS_GATEWAYS = ("stripe", "square")
REFUND_GATEWAYS = ("stripe", "paypal", "square")


class PaymentError(HubError, ValueError):
    """A payment or refund refused: `code` (e.g. `INVALID_AMOUNT`), `status` (HTTP), one-line message."""

    def __init__(self, code: str, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message

    def as_json(self) -> dict[str, Any]:
        """The old service's error body."""
        return {"success": False, "message": self.message, "error": self.code}


@dataclass(frozen=True)
class ChargeInfo:
    """A charge in the ledger, as a refund needs it."""

    gateway: str
    gateway_id: str
    alt_id: str | None
    order_id: int | None
    status: str
    amount_minor: int
    currency: str
    refunded_minor: int


def major(minor: int, currency: str) -> Decimal:
    """Minor units as a major-unit Decimal (`1999, "USD"` -> `Decimal("19.99")`)."""
    return Decimal(minor).scaleb(-currency_exponent(currency))


def _minor(amount: Any, currency: str, what: str) -> int:
    if isinstance(amount, bool) or amount is None:
        raise PaymentError("INVALID_AMOUNT", f"{what} must be a number, not {amount!r}")
    try:
        value = Decimal(str(amount)) if isinstance(amount, float | int) else Decimal(amount)
    except (InvalidOperation, TypeError, ValueError):
        raise PaymentError("INVALID_AMOUNT", f"{what} {amount!r} is not a number") from None
    if not value.is_finite():
        raise PaymentError("INVALID_AMOUNT", f"{what} {amount!r} is not a finite number")
    if value <= 0:
        raise PaymentError("INVALID_AMOUNT", f"{what} must be more than 0, not {value}")
    exp = currency_exponent(currency)
    scaled = value.scaleb(exp)
    if scaled != scaled.to_integral_value():
        raise PaymentError(
            "INVALID_AMOUNT", f"{what} {value} has more decimals than {currency} allows ({exp})"
        )
    return int(scaled)


def check_payment(gateway: str, amount: Any, currency: str) -> tuple[str, int, str]:
    """(gateway, amount in minor units, currency upper case), or a `PaymentError` naming the problem."""
    if gateway not in GATEWAYS:
        raise PaymentError("UNKNOWN_GATEWAY", f"unknown gateway {gateway!r}; one of {', '.join(GATEWAYS)}")
    if gateway not in PROCESS_GATEWAYS:
        raise PaymentError(
            "UNSUPPORTED_GATEWAY",
            f"{gateway} payments are taken in the shop's checkout (buyer approval or card data), not through "
            f"this API; process_payment takes {', '.join(PROCESS_GATEWAYS)}",
        )
    code = str(currency or "").strip().upper()
    if code not in CURRENCIES:
        raise PaymentError("UNKNOWN_CURRENCY", f"unknown currency {currency!r}; give an ISO 4217 code (USD)")
    return gateway, _minor(amount, code, "amount"), code


def check_refund(charge: ChargeInfo, amount: Any | None) -> int:
    """The amount to refund in minor units (what remains when `amount` is None), or a `PaymentError`."""
    if charge.gateway not in REFUND_GATEWAYS:
        raise PaymentError(
            "UNSUPPORTED_GATEWAY",
            f"{charge.gateway} refunds need the card's last four digits: refund them in the shop's admin",
        )
    if charge.status != "succeeded":
        raise PaymentError(
            "NOT_REFUNDABLE",
            f"{charge.gateway_id} is {charge.status}: only a succeeded payment can be refunded",
        )
    remaining = charge.amount_minor - charge.refunded_minor
    wanted = remaining if amount is None else _minor(amount, charge.currency, "amount")
    if remaining <= 0:
        raise PaymentError("ALREADY_REFUNDED", f"{charge.gateway_id} is refunded in full already")
    if wanted > remaining:
        raise PaymentError(
            "REFUND_EXCEEDS_REMAINING",
            f"refund of {major(wanted, charge.currency)} {charge.currency} is more than the "
            f"{major(remaining, charge.currency)} {charge.currency} that remains of {charge.gateway_id}",
        )
    return wanted


def _digest(*parts: Any) -> str:
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def order_of(metadata: Mapping[str, Any] | None) -> str | None:
    for key in ("orderId", "order_id"):
        value = (metadata or {}).get(key)
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


def _given_key(metadata: Mapping[str, Any] | None, given: str | None) -> str | None:
    for value in (given, (metadata or {}).get("idempotencyKey"), (metadata or {}).get("idempotency_key")):
        if value is not None and str(value).strip():
            text = str(value).strip()
            if len(text) > 200:
                raise PaymentError(
                    "INVALID_IDEMPOTENCY_KEY", "the idempotency key is longer than 200 characters"
                )
            return text
    return None


def payment_key(
    gateway: str,
    amount_minor: int,
    currency: str,
    customer_id: str | None,
    payment_method_id: str | None,
    metadata: Mapping[str, Any] | None,
    given: str | None = None,
) -> str:
    """The payment's idempotency key: the caller's, else `nxt-pay-<gateway>-order-<id>` (one payment per
    order), else a digest of the whole request (the same request twice is one payment)."""
    key = _given_key(metadata, given)
    if key:
        return key
    order = order_of(metadata)
    if order:
        return f"nxt-pay-{gateway}-order-{order}"
    return f"nxt-pay-{gateway}-{_digest(amount_minor, currency, customer_id, payment_method_id, metadata)}"


def refund_key(
    charge: ChargeInfo, amount_minor: int, metadata: Mapping[str, Any] | None, given: str | None = None
) -> str:
    """The refund's idempotency key: the caller's (or metadata `refundRequestId`), else derived from the
    order (or charge) and the amount: one refund of that amount per order. Two partial refunds of the same
    amount need a key of their own."""
    key = _given_key(metadata, given)
    if key:
        return key
    request = (metadata or {}).get("refundRequestId")
    subject = f"order-{charge.order_id}" if charge.order_id is not None else charge.gateway_id
    suffix = f"-{_digest(str(request))[:12]}" if request else ""
    return f"nxt-refund-{charge.gateway}-{subject}-{amount_minor}{suffix}"


_tx = GatewayTransaction.__table__


def find_charge(conn: Connection, transaction_id: str) -> ChargeInfo | None:
    """The charge whose id (or alternate id: a Stripe payment intent, a PayPal order) is
    `transaction_id`, with what its succeeded and pending refunds in the ledger took back."""
    text = str(transaction_id or "").strip()
    if not text:
        return None
    row = conn.execute(
        sa.select(_tx)
        .where(_tx.c.kind == "charge", sa.or_(_tx.c.gateway_id == text, _tx.c.alt_id == text))
        .order_by(_tx.c.status != "succeeded", _tx.c.created_at)
        .limit(1)
    ).first()
    if row is None:
        return None
    refunds = conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(_tx.c.amount_minor), 0)).where(
            _tx.c.gateway == row.gateway,
            _tx.c.kind == "refund",
            _tx.c.parent_id == row.gateway_id,
            _tx.c.status.in_(("succeeded", "pending")),
        )
    ).scalar_one()
    return ChargeInfo(
        gateway=row.gateway,
        gateway_id=row.gateway_id,
        alt_id=row.alt_id,
        order_id=row.order_id,
        status=row.status,
        amount_minor=row.amount_minor,
        currency=row.currency,
        refunded_minor=max(int(refunds), int(row.amount_refunded_minor or 0)),
    )


def _record(conn: Connection, row: Mapping[str, Any], data_type: str, data: Mapping[str, Any]) -> bool:
    logged = conn.execute(
        sa.select(RealTimeData.__table__.c.id).where(
            RealTimeData.__table__.c.data_type == data_type,
            RealTimeData.__table__.c.source == f"{row['gateway']}:{row['gateway_id']}",
        )
    ).first()
    upsert_transactions(conn, [row])
    if logged is not None:
        return False  # a repeated request the gateway answered with the same payment or refund
    record_real_time(conn, data_type, data, source=f"{row['gateway']}:{row['gateway_id']}")
    return True


def record_payment(conn: Connection, row: Mapping[str, Any], data: Mapping[str, Any]) -> bool:
    """The payment's ledger row and its `payment_processed` row (source `<gateway>:<id>`), in the caller's
    transaction. A repeat of a payment already logged merges the ledger row and logs nothing more: returns
    False."""
    return _record(conn, row, "payment_processed", data)


def record_refund(conn: Connection, row: Mapping[str, Any], data: Mapping[str, Any]) -> bool:
    """The refund's ledger row and its `refund_processed` row, as `record_payment`."""
    return _record(conn, row, "refund_processed", data)


def payment_status(conn: Connection, configured: list[str] | None = None) -> dict[str, Any]:
    """`GET /api/integrations/payments/status`'s `data`, from the ledger's charges.

    `totalPayments` counts charges; `successfulPayments` the succeeded ones, `failedPayments` the failed
    and cancelled ones; `totalVolume` and `averageAmount` are over succeeded charges in major units (one
    currency: the most used; `volumeByCurrency` has every currency); `gateways.available` the four
    gateways, `active` those with a charge, `configured` those with a block when the caller knows them.
    """
    rows = conn.execute(
        sa.select(
            _tx.c.gateway,
            _tx.c.currency,
            _tx.c.status,
            sa.func.count().label("n"),
            sa.func.coalesce(sa.func.sum(_tx.c.amount_minor), 0).label("minor"),
        )
        .where(_tx.c.kind == "charge")
        .group_by(_tx.c.gateway, _tx.c.currency, _tx.c.status)
    ).all()
    total = sum(r.n for r in rows)
    ok = [r for r in rows if r.status == "succeeded"]
    failed = sum(r.n for r in rows if r.status in ("failed", "canceled"))
    by_currency: dict[str, Decimal] = {}
    counts: dict[str, int] = {}
    for r in ok:
        by_currency[r.currency] = by_currency.get(r.currency, Decimal(0)) + major(int(r.minor), r.currency)
        counts[r.currency] = counts.get(r.currency, 0) + r.n
    main = max(counts, key=lambda c: counts[c]) if counts else None
    volume = by_currency.get(main, Decimal(0)) if main else Decimal(0)
    succeeded = sum(r.n for r in ok)
    by_gateway: dict[str, dict[str, Any]] = {}
    for r in ok:
        entry = by_gateway.setdefault(r.gateway, {"count": 0, "volume": 0.0})
        entry["count"] += r.n
        if r.currency == main:
            entry["volume"] = float(Decimal(str(entry["volume"])) + major(int(r.minor), r.currency))
    active = sorted({r.gateway for r in rows})
    gateways: dict[str, Any] = {"total": len(GATEWAYS), "active": len(active), "available": list(GATEWAYS)}
    if configured is not None:
        gateways["configured"] = configured
    main_count = counts.get(main, 0) if main else 0
    return {
        "totalPayments": total,
        "successfulPayments": succeeded,
        "failedPayments": failed,
        "totalVolume": float(volume),
        "averageAmount": float((volume / main_count).quantize(Decimal("0.01"))) if main_count else 0.0,
        "currency": main,
        "volumeByCurrency": {c: float(v) for c, v in sorted(by_currency.items())},
        "gateways": gateways,
        "byGateway": by_gateway,
    }
