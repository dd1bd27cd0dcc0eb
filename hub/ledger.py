"""The gateways' ledger in the hub: the row contract ingestion writes to, set-based writes, and cursors.

Four gateways (`GATEWAYS`: stripe, paypal, square, authorizenet) write three tables. Amounts are integers
in minor units of their currency (`to_minor` turns a vendor's decimal string into them), currencies ISO
4217 upper case (any case is accepted and stored upper case), times timezone-aware UTC. Ids are the
gateway's own, as text, at most 255 characters.

`gateway_transactions`: charges, refunds and disputes, one row per (gateway, kind, gateway_id), MERGED on
that key because the gateways edit them (a charge is captured, refunded, disputed; a refund completes or
fails; a dispute is won or lost). A later read replaces the mutable columns (below); `created_at` and
`parent_id` never change; a NULL read for `alt_id`, `order_ref`, `order_id` or `payout_id` keeps what the
hub has (a list endpoint that omits them does not erase them); a row whose `updated_at` is older than the
stored one is ignored (an out-of-order read never goes back in time).

Columns (docs/payments.md has the same as a table, with each vendor's field):

- `gateway_id`: the gateway's primary id. Charge: Stripe `ch_…`, PayPal capture id, Square payment id,
  Authorize.Net transId. Refund: Stripe `re_…`, PayPal refund id, Square refund id, Authorize.Net refund
  transId. Dispute: Stripe `du_…`, PayPal `PP-D-…`, Square dispute id (Authorize.Net has none).
- `alt_id` (charges only): the other id an order's `transaction_id` may hold: Stripe payment intent
  `pi_…`, PayPal Orders v2 id, Square order id; else NULL.
- `parent_id` (refunds and disputes, required): the charge's `gateway_id`. NULL for charges.
- `order_ref`, `order_id`: the order reference as the gateway carries it (Stripe `metadata.order_id`,
  PayPal `custom_id` else `invoice_id` `WC-123`, Square `reference_id`, Authorize.Net `invoiceNumber`)
  and parsed into a WooCommerce order id by `order_reference` (NULL when absent or not a number).
- `status`: charge `succeeded | pending | failed | canceled` (`charge_status`), refund
  `succeeded | pending | failed` (`refund_status`), dispute `open | won | lost` (`dispute_status`).
- `captured`: False only for a charge that is an authorisation not captured yet (status `succeeded`).
- `amount_minor` (>= 0), `currency`: charge: the amount charged (captured amount once captured, the
  authorised one before) in the presentment currency; refund: the amount refunded; dispute: disputed.
- `amount_refunded_minor` (charges): what the gateway reports refunded on the charge (Stripe
  `amount_refunded`, Square `refunded_money`); 0 where refunds exist only as their own records.
- `fee_minor`, `net_minor`, `settlement_currency`: charge: the processing fee and what it adds to the
  balance, in the settlement currency (Stripe converts foreign currencies; Authorize.Net bills fees
  monthly: 0); refund: the part of the fee given back (positive); dispute: the dispute fee (positive).
- `failure_code`, `decline_code`, `failure_message` (charges): why it failed.
- `reason` (refunds, disputes): the vendor's reason.
- `payout_id`: the payout or settled batch that carried the charge or refund, once known.
- `created_at`: when the gateway created it (ingestion cursors and reconciliation windows use it);
  `updated_at`: the gateway's last change when it reports one (Square `updated_at`, PayPal
  `update_time`, a dispute's close), else NULL; `raw`: the vendor's object as read (optional).

Mutable columns (replaced by a newer read): `status`, `captured`, `amount_minor`, `amount_refunded_minor`,
`fee_minor`, `net_minor`, `settlement_currency`, `failure_code`, `decline_code`, `failure_message`,
`reason`, `updated_at`, `raw`, and (when the read has them) `alt_id`, `order_ref`, `order_id`, `payout_id`.

`payouts`: money sent to the bank, one row per (gateway, gateway_id), MERGED (`in_transit` becomes `paid`
or `failed`). Stripe payouts (`po_…`), Square payouts (`po_…`), and Authorize.Net settled batches (the
batch id; `amount_minor` = charges minus refunds of its statistics, `fee_minor` 0: fees are billed
monthly). `amount_minor` is signed (positive: to the bank), `fee_minor` what the gateway kept for the
payout itself (Square `payout_fee`), `status` one of `PAYOUT_STATUSES` (`payout_status`), `created_at`,
`arrival_at`, `updated_at`, `raw`. Mutable: `status`, `arrival_at`, `amount_minor`, `fee_minor`,
`updated_at`, `raw`.

`payout_entries`: balance movements, one row per (gateway, gateway_id), APPEND-ONLY: gateways never edit a
balance movement, so a row is inserted once and a later read changes nothing, except `payout_id`, which
is set once when it was NULL (a Stripe balance transaction read before its payout existed). Stripe
balance transactions (`txn_…`; the payout's own one has `type` `payout` and is not part of what it pays
out), Square payout entries (`poe_…`), the transactions of an Authorize.Net batch (their transIds: charges
positive, refunds negative, declined and voided 0). `type` is one of `ENTRY_TYPES` (`entry_type`),
`source_id` the charge, refund, dispute or payout it moves money for, `amount_minor` and `fee_minor`
signed (a fee given back is negative), `net_minor` = amount - fee, `currency`, `created_at`,
`available_at`. A payout is consistent when its `amount_minor` equals the `net_minor` of its entries
(type `payout` left out) minus its `fee_minor`, all in its currency.

Writes are one statement per batch on both backends: `upsert_transactions`, `upsert_payouts`,
`append_payout_entries`. A row breaking the contract raises `LedgerRowError` naming the row and field
before anything is written. Cursors (`read_cursor`, `advance_cursor`, `ingestion_window`) live in
`sync_cursors` under the store name `gateway:<gateway>` and move in the batch's transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hub import cursors
from hub.dialect import upsert_insert
from hub.errors import HubError
from hub.models import (
    CHARGE_STATUSES,
    DISPUTE_STATUSES,
    ENTRY_TYPES,
    GATEWAYS,
    ID_LENGTH,
    LEDGER_KINDS,
    PAYOUT_STATUSES,
    REFUND_STATUSES,
    GatewayTransaction,
    Payout,
    PayoutEntry,
    utcnow,
)

__all__ = [
    "CHARGE_STATUSES",
    "CURRENCY_EXPONENTS",
    "DISPUTE_STATUSES",
    "ENTRY_TYPES",
    "GATEWAYS",
    "LEDGER_KINDS",
    "PAYOUT_STATUSES",
    "REFUND_STATUSES",
    "LedgerRowError",
    "LedgerWrite",
    "advance_cursor",
    "append_payout_entries",
    "charge_status",
    "close_disputes",
    "currency_exponent",
    "cursor_store",
    "dispute_status",
    "entry_type",
    "ingestion_window",
    "open_disputes",
    "order_reference",
    "payout_status",
    "read_cursor",
    "refund_status",
    "to_minor",
    "upsert_payouts",
    "upsert_transactions",
    "write_batch",
]


class LedgerRowError(HubError, ValueError):
    """A ledger row that breaks the contract (a bug in the ingestion that built it, or a vendor record
    that cannot be represented); the message names the row and the field."""


# --- money ------------------------------------------------------------------------------------------------
#: ISO 4217 currencies whose minor unit is not a hundredth (the rest have two decimals).
CURRENCY_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(
        ("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split()),
        0,
    ),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
    **dict.fromkeys("CLF UYW".split(), 4),
}


def currency_exponent(currency: str) -> int:
    """Decimal places of the currency's minor unit (ISO 4217; 2 unless `CURRENCY_EXPONENTS` says)."""
    return CURRENCY_EXPONENTS.get(currency.upper(), 2)


def to_minor(amount: Decimal | str | int, currency: str) -> int:
    """A major-unit amount (`"12.34"`, as PayPal and WooCommerce send them) in exact minor units.

    Raises:
        LedgerRowError: not a number, or more decimals than the currency has.
    """
    if isinstance(amount, float | bool):
        raise LedgerRowError(f"amount {amount!r} must be a decimal string, Decimal or int, never float")
    try:
        value = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError):
        raise LedgerRowError(f"amount {amount!r} is not a number") from None
    if not value.is_finite():
        raise LedgerRowError(f"amount {amount!r} is not a finite number")
    scaled = value.scaleb(currency_exponent(currency))
    if scaled != scaled.to_integral_value():
        raise LedgerRowError(
            f"amount {amount} has more decimals than {currency.upper()} allows "
            f"({currency_exponent(currency)})"
        )
    return int(scaled)


# --- vendor vocabulary -------------------------------------------------------------------------------------
_ORDER_KEYS = {
    "stripe": ("order_id",),
    "paypal": ("custom_id", "invoice_id"),
    "square": ("reference_id",),
    "authorizenet": ("invoiceNumber", "invoice_number"),
}
# A reference is the order id, maybe after a prefix the plugin adds (PayPal's default `WC-`, a `#`).
_REFERENCE = re.compile(r"^[A-Za-z#_\- ]{0,20}?(\d{1,18})$")


def order_reference(gateway: str, metadata: Mapping[str, Any] | None) -> tuple[str | None, int | None]:
    """The order reference a gateway record carries, as carried and as a WooCommerce order id.

    `metadata` holds the vendor's fields (Stripe `metadata`; PayPal `custom_id`/`invoice_id`; Square
    `reference_id`; Authorize.Net `invoiceNumber`). The first key present wins; the id is None when the
    reference is not a number after an optional short prefix (`WC-123` -> 123).
    """
    for key in _ORDER_KEYS[_gateway(gateway)]:
        raw = (metadata or {}).get(key)
        if raw is None or str(raw).strip() == "":
            continue
        text = str(raw).strip()[:ID_LENGTH]
        match = _REFERENCE.match(text)
        return text, int(match.group(1)) if match else None
    return None, None


# (gateway, vendor status) -> (our status, captured); keys are upper case.
_CHARGE = {
    "stripe": {
        "SUCCEEDED": ("succeeded", True),
        "PENDING": ("pending", True),
        "FAILED": ("failed", True),
    },
    "paypal": {
        "COMPLETED": ("succeeded", True),
        "PARTIALLY_REFUNDED": ("succeeded", True),
        "REFUNDED": ("succeeded", True),
        "PENDING": ("pending", True),
        "DECLINED": ("failed", True),
        "FAILED": ("failed", True),
        "CREATED": ("succeeded", False),  # an authorisation
        "CAPTURED": ("succeeded", True),
        "VOIDED": ("canceled", False),
        "EXPIRED": ("canceled", False),
        # Transaction Search `transaction_status` of a capture (T0006): S success, F partially refunded,
        # V reversed (refunded in full: the refunds are rows of their own), P pending, D denied.
        "S": ("succeeded", True),
        "F": ("succeeded", True),
        "V": ("succeeded", True),
        "P": ("pending", True),
        "D": ("failed", True),
    },
    "square": {
        "COMPLETED": ("succeeded", True),
        "APPROVED": ("succeeded", False),  # authorised, not captured (delay_action)
        "PENDING": ("pending", True),
        "CANCELED": ("canceled", False),
        "FAILED": ("failed", True),
    },
    "authorizenet": {
        "SETTLEDSUCCESSFULLY": ("succeeded", True),
        "CAPTUREDPENDINGSETTLEMENT": ("succeeded", True),
        "AUTHORIZEDPENDINGCAPTURE": ("succeeded", False),
        "DECLINED": ("failed", True),
        "GENERALERROR": ("failed", True),
        "SETTLEMENTERROR": ("failed", True),
        "FAILEDREVIEW": ("failed", True),
        "EXPIRED": ("canceled", False),
        "VOIDED": ("canceled", False),
        "COULDNOTVOID": ("succeeded", True),
        "UNDERREVIEW": ("pending", True),
        "FDSPENDINGREVIEW": ("pending", True),
        "FDSAUTHORIZEDPENDINGREVIEW": ("pending", False),
        "APPROVEDREVIEW": ("succeeded", True),
    },
}
_REFUND = {
    "stripe": {
        "SUCCEEDED": "succeeded",
        "PENDING": "pending",
        "REQUIRES_ACTION": "pending",
        "FAILED": "failed",
        "CANCELED": "failed",
    },
    "paypal": {
        "COMPLETED": "succeeded",
        "PENDING": "pending",
        "FAILED": "failed",
        "CANCELLED": "failed",
        "S": "succeeded",
        "P": "pending",
        "D": "failed",
        "V": "failed",
    },
    "square": {"COMPLETED": "succeeded", "PENDING": "pending", "REJECTED": "failed", "FAILED": "failed"},
    "authorizenet": {
        "REFUNDSETTLEDSUCCESSFULLY": "succeeded",
        "REFUNDPENDINGSETTLEMENT": "succeeded",
        "SETTLEDSUCCESSFULLY": "succeeded",
        "CAPTUREDPENDINGSETTLEMENT": "succeeded",
        "DECLINED": "failed",
        "GENERALERROR": "failed",
        "VOIDED": "failed",
        "SETTLEMENTERROR": "failed",
    },
}
_DISPUTE = {
    # Stripe: an inquiry (`warning_*`) that closes without a chargeback took no money: it counts as won.
    "stripe": {
        "WARNING_NEEDS_RESPONSE": "open",
        "WARNING_UNDER_REVIEW": "open",
        "NEEDS_RESPONSE": "open",
        "UNDER_REVIEW": "open",
        "WARNING_CLOSED": "won",
        "WON": "won",
        "LOST": "lost",
        "PREVENTED": "won",
    },
    # PayPal: `status` while open; when RESOLVED pass `dispute_outcome.outcome_code` instead.
    "paypal": {
        "OPEN": "open",
        "WAITING_FOR_BUYER_RESPONSE": "open",
        "WAITING_FOR_SELLER_RESPONSE": "open",
        "UNDER_REVIEW": "open",
        "OTHER": "open",
        "RESOLVED_SELLER_FAVOUR": "won",
        "CANCELED_BY_BUYER": "won",
        "DENIED": "won",
        "RESOLVED_BUYER_FAVOUR": "lost",
        "RESOLVED_WITH_PAYOUT": "lost",
        "ACCEPTED": "lost",
        "REFUNDED": "lost",
    },
    "square": {
        "INQUIRY_EVIDENCE_REQUIRED": "open",
        "INQUIRY_PROCESSING": "open",
        "EVIDENCE_REQUIRED": "open",
        "PROCESSING": "open",
        "INQUIRY_CLOSED": "won",
        "WON": "won",
        "LOST": "lost",
        "ACCEPTED": "lost",
    },
}
_PAYOUT = {
    "stripe": {
        "PENDING": "pending",
        "IN_TRANSIT": "in_transit",
        "PAID": "paid",
        "FAILED": "failed",
        "CANCELED": "canceled",
    },
    "square": {"SENT": "in_transit", "PAID": "paid", "FAILED": "failed"},
    "authorizenet": {
        "SETTLEDSUCCESSFULLY": "paid",
        "SETTLEMENTERROR": "failed",
        "PENDINGSETTLEMENT": "pending",
    },
}
_ENTRY = {
    "stripe": {
        "CHARGE": "charge",
        "PAYMENT": "charge",
        "REFUND": "refund",
        "PAYMENT_REFUND": "refund",
        "ADJUSTMENT": "dispute",
        "PAYOUT": "payout",
        "STRIPE_FEE": "fee",
        "APPLICATION_FEE": "fee",
        "REFUND_FAILURE": "adjustment",
        "PAYMENT_FAILURE_REFUND": "adjustment",
    },
    "square": {
        "CHARGE": "charge",
        "REFUND": "refund",
        "DISPUTE": "dispute",
        "DISPUTE_REVERSAL": "dispute_reversal",
        "FEE": "fee",
        "ADJUSTMENT": "adjustment",
        "PROCESSING_FEE": "fee",
        "PROCESSING_FEE_REFUND": "fee",
        "OTHER": "other",
    },
    "authorizenet": {"CHARGE": "charge", "REFUND": "refund", "VOID": "other", "DECLINE": "other"},
}


def _lookup(table: Mapping[str, Mapping[str, Any]], gateway: str, value: str, what: str) -> Any:
    found = table.get(_gateway(gateway), {}).get(str(value).strip().upper())
    if found is None:
        known = ", ".join(sorted(table.get(gateway, {}))) or "none"
        raise LedgerRowError(f"{gateway} {what} status {value!r} is not one the hub knows ({known})")
    return found


def charge_status(gateway: str, vendor_status: str) -> tuple[str, bool]:
    """(status, captured) of a charge from the vendor's status (Stripe charge `status`, PayPal capture or
    authorization `status` or Transaction Search `transaction_status`, Square payment `status`,
    Authorize.Net `transactionStatus`). Stripe: pass `captured` separately (`status` says succeeded)."""
    return _lookup(_CHARGE, gateway, vendor_status, "charge")  # type: ignore[no-any-return]


def refund_status(gateway: str, vendor_status: str) -> str:
    """Our refund status from the vendor's (`succeeded`, `pending` or `failed`)."""
    return _lookup(_REFUND, gateway, vendor_status, "refund")  # type: ignore[no-any-return]


def dispute_status(gateway: str, vendor_status: str) -> str:
    """Our dispute status (`open`, `won`, `lost`) from the vendor's (PayPal: the outcome code when the
    dispute is RESOLVED). Authorize.Net has no disputes in its API."""
    return _lookup(_DISPUTE, gateway, vendor_status, "dispute")  # type: ignore[no-any-return]


def payout_status(gateway: str, vendor_status: str) -> str:
    """Our payout status from the vendor's (Authorize.Net: the batch's `settlementState`)."""
    return _lookup(_PAYOUT, gateway, vendor_status, "payout")  # type: ignore[no-any-return]


def entry_type(gateway: str, vendor_type: str) -> str:
    """Our payout-entry type from the vendor's (Stripe balance transaction `type`, Square entry `type`).

    Stripe's dispute movements are `adjustment` balance transactions whose `reporting_category` is
    `dispute` (or `dispute_reversal`): pass the reporting category for those.
    """
    gw = _gateway(gateway)
    key = str(vendor_type).strip().upper()
    if gw == "stripe" and key in ("DISPUTE", "DISPUTE_REVERSAL"):
        return key.lower()
    return _ENTRY.get(gw, {}).get(key, "other")


def _gateway(gateway: str) -> str:
    if gateway not in GATEWAYS:
        raise LedgerRowError(f"unknown gateway {gateway!r}; one of {', '.join(GATEWAYS)}")
    return gateway


# --- row checks --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Field:
    kind: str  # id | text | int | nonneg | bool | time | currency | json
    required: bool = False
    limit: int = ID_LENGTH


_TX_FIELDS: dict[str, _Field] = {
    "gateway": _Field("text", True, 30),
    "kind": _Field("text", True, 10),
    "gateway_id": _Field("id", True),
    "alt_id": _Field("id"),
    "parent_id": _Field("id"),
    "order_ref": _Field("text"),
    "order_id": _Field("nonneg"),
    "status": _Field("text", True, 20),
    "captured": _Field("bool"),
    "amount_minor": _Field("nonneg", True),
    "currency": _Field("currency", True),
    "amount_refunded_minor": _Field("nonneg"),
    "fee_minor": _Field("int"),
    "net_minor": _Field("int"),
    "settlement_currency": _Field("currency"),
    "failure_code": _Field("text", limit=100),
    "decline_code": _Field("text", limit=100),
    "failure_message": _Field("text", limit=10_000),
    "reason": _Field("text", limit=100),
    "payout_id": _Field("id"),
    "created_at": _Field("time", True),
    "updated_at": _Field("time"),
    "raw": _Field("json"),
}
_PAYOUT_FIELDS: dict[str, _Field] = {
    "gateway": _Field("text", True, 30),
    "gateway_id": _Field("id", True),
    "amount_minor": _Field("int", True),
    "fee_minor": _Field("int"),
    "currency": _Field("currency", True),
    "status": _Field("text", True, 20),
    "created_at": _Field("time", True),
    "arrival_at": _Field("time"),
    "updated_at": _Field("time"),
    "raw": _Field("json"),
}
_ENTRY_FIELDS: dict[str, _Field] = {
    "gateway": _Field("text", True, 30),
    "gateway_id": _Field("id", True),
    "payout_id": _Field("id"),
    "type": _Field("text", True, 30),
    "source_id": _Field("id"),
    "amount_minor": _Field("int", True),
    "fee_minor": _Field("int"),
    "net_minor": _Field("int"),
    "currency": _Field("currency", True),
    "created_at": _Field("time", True),
    "available_at": _Field("time"),
    "raw": _Field("json"),
}
_INT64 = 2**63


def _checked(
    rows: Sequence[Mapping[str, Any]],
    fields: Mapping[str, _Field],
    what: str,
    extra: Callable[[dict[str, Any], str], None],
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for index, given in enumerate(rows):
        if not isinstance(given, Mapping):
            raise LedgerRowError(f"{what} row {index} is not a mapping ({type(given).__name__})")
        where = f"{what} row {index} ({given.get('gateway')} {given.get('gateway_id')})"
        unknown = sorted(set(given) - set(fields))
        if unknown:
            raise LedgerRowError(f"{where}: unknown columns {', '.join(map(str, unknown))}")
        row: dict[str, Any] = {}
        for name, spec in fields.items():
            value = given.get(name)
            if value is None or (isinstance(value, str) and value.strip() == ""):
                if spec.required:
                    raise LedgerRowError(f"{where}: {name} is required")
                continue
            row[name] = _value(value, spec, name, where)
        _gateway_checked(row["gateway"], where)
        extra(row, where)
        out.append(row)
    return out


def _value(value: Any, spec: _Field, name: str, where: str) -> Any:
    kind = spec.kind
    if kind in ("id", "text"):
        if not isinstance(value, str):
            raise LedgerRowError(f"{where}: {name} must be text, not {type(value).__name__}")
        value = value.strip() if kind == "id" else value
        if len(value) > spec.limit:
            if kind == "id" or name in ("gateway", "kind", "status"):
                raise LedgerRowError(f"{where}: {name} is longer than {spec.limit} characters")
            value = value[: spec.limit]  # free text (messages, reasons) is cut, not refused
        return value
    if kind in ("int", "nonneg"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise LedgerRowError(
                f"{where}: {name} must be an integer in minor units, not {type(value).__name__} {value!r}"
            )
        if not -_INT64 < value < _INT64 or (kind == "nonneg" and value < 0):
            raise LedgerRowError(f"{where}: {name} {value} is out of range")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise LedgerRowError(f"{where}: {name} must be true or false, not {value!r}")
        return value
    if kind == "time":
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise LedgerRowError(f"{where}: {name} must be a timezone-aware datetime, not {value!r}")
        return value
    if kind == "currency":
        if not isinstance(value, str) or len(value.strip()) != 3 or not value.strip().isalpha():
            raise LedgerRowError(f"{where}: {name} must be a 3-letter ISO 4217 code, not {value!r}")
        return value.strip().upper()
    if not isinstance(value, dict):
        raise LedgerRowError(f"{where}: {name} must be a JSON object")
    return value


def _gateway_checked(gateway: str, where: str) -> None:
    if gateway not in GATEWAYS:
        raise LedgerRowError(f"{where}: unknown gateway {gateway!r}; one of {', '.join(GATEWAYS)}")


def _transaction_extra(row: dict[str, Any], where: str) -> None:
    kind = row["kind"]
    statuses = {"charge": CHARGE_STATUSES, "refund": REFUND_STATUSES, "dispute": DISPUTE_STATUSES}.get(kind)
    if statuses is None:
        raise LedgerRowError(f"{where}: kind must be one of {', '.join(LEDGER_KINDS)}, not {kind!r}")
    if row["status"] not in statuses:
        raise LedgerRowError(
            f"{where}: a {kind}'s status is one of {', '.join(statuses)}, not {row['status']!r}"
        )
    if kind == "charge":
        if row.get("parent_id"):
            raise LedgerRowError(f"{where}: a charge has no parent_id")
    else:
        if not row.get("parent_id"):
            raise LedgerRowError(f"{where}: a {kind} needs parent_id (its charge's gateway_id)")
        if row.get("captured") is False:
            raise LedgerRowError(f"{where}: only a charge can be uncaptured")
        if row.get("alt_id"):
            raise LedgerRowError(f"{where}: only a charge has an alt_id")
    if row["gateway"] == "authorizenet" and kind == "dispute":
        raise LedgerRowError(f"{where}: Authorize.Net has no disputes in its API")


def _payout_extra(row: dict[str, Any], where: str) -> None:
    if row["status"] not in PAYOUT_STATUSES:
        raise LedgerRowError(f"{where}: status is one of {', '.join(PAYOUT_STATUSES)}, not {row['status']!r}")
    if row["gateway"] == "paypal":
        raise LedgerRowError(f"{where}: PayPal payouts are not part of the ledger")


def _entry_extra(row: dict[str, Any], where: str) -> None:
    if row["type"] not in ENTRY_TYPES:
        raise LedgerRowError(f"{where}: type is one of {', '.join(ENTRY_TYPES)}, not {row['type']!r}")
    fee = row.get("fee_minor") or 0
    expected = row["amount_minor"] - fee
    if row.get("net_minor") is None:
        row["net_minor"] = expected
    elif row["net_minor"] != expected:
        raise LedgerRowError(f"{where}: net_minor {row['net_minor']} is not amount - fee ({expected})")
    row.setdefault("fee_minor", fee)


# --- writes ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LedgerWrite:
    """What one write did: rows inserted or changed, and rows that changed nothing."""

    written: int
    unchanged: int


_MUTABLE_TX = (
    "status",
    "captured",
    "amount_minor",
    "amount_refunded_minor",
    "fee_minor",
    "net_minor",
    "settlement_currency",
    "failure_code",
    "decline_code",
    "failure_message",
    "reason",
    "updated_at",
    "raw",
)
_KEPT_UNLESS_READ = ("alt_id", "order_ref", "order_id", "payout_id")
_MUTABLE_PAYOUT = ("status", "arrival_at", "amount_minor", "fee_minor", "updated_at", "raw")
# SQLAlchemy reports an INSERT's rowcount (inserted + updated by ON CONFLICT) only when asked to.
_ROWCOUNT = {"preserve_rowcount": True}
_PARAMS_PER_STATEMENT = 30_000  # SQLite allows 32,766 bound parameters; PostgreSQL 65,535


def upsert_transactions(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> LedgerWrite:
    """Merge charges, refunds and disputes on (gateway, kind, gateway_id): one statement per batch.

    Rows follow the contract in this module's docstring; later duplicates in `rows` win. Runs in the
    caller's transaction (move the ingestion cursor in the same one).

    Raises:
        LedgerRowError: a row breaks the contract (nothing is written).
    """
    checked = _checked(rows, _TX_FIELDS, "transaction", _transaction_extra)
    for row in checked:  # NOT NULL columns with a contract default
        row.setdefault("captured", True)
        row.setdefault("amount_refunded_minor", 0)
        row.setdefault("fee_minor", 0)
    table = GatewayTransaction.__table__
    return _merge(
        conn,
        table,
        _last_wins(checked, ("gateway", "kind", "gateway_id")),
        ("gateway", "kind", "gateway_id"),
        _MUTABLE_TX,
        _KEPT_UNLESS_READ,
    )


def upsert_payouts(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> LedgerWrite:
    """Merge payouts (and Authorize.Net settled batches) on (gateway, gateway_id): one statement a batch.

    Raises:
        LedgerRowError: a row breaks the contract (nothing is written).
    """
    checked = _checked(rows, _PAYOUT_FIELDS, "payout", _payout_extra)
    for row in checked:
        row.setdefault("fee_minor", 0)
    table = Payout.__table__
    return _merge(
        conn,
        table,
        _last_wins(checked, ("gateway", "gateway_id")),
        ("gateway", "gateway_id"),
        _MUTABLE_PAYOUT,
        (),
    )


def append_payout_entries(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> LedgerWrite:
    """Append balance movements; an entry already stored changes only by getting its `payout_id` once.

    `net_minor` may be left out (it is amount - fee). One statement per batch.

    Raises:
        LedgerRowError: a row breaks the contract (nothing is written).
    """
    checked = _checked(rows, _ENTRY_FIELDS, "payout entry", _entry_extra)
    table = PayoutEntry.__table__
    batch = _last_wins(checked, ("gateway", "gateway_id"))
    if not batch:
        return LedgerWrite(0, 0)
    now = utcnow()
    for row in batch:
        row["ingested_at"] = now
    columns = _columns(batch)
    written = 0
    for chunk in _statement_chunks(batch, len(columns)):
        stmt = _insert(conn)(table).values([{c: r.get(c) for c in columns} for r in chunk])
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.gateway, table.c.gateway_id],
            set_={"payout_id": stmt.excluded.payout_id},
            where=sa.and_(table.c.payout_id.is_(None), stmt.excluded.payout_id.is_not(None)),
        )
        written += max(conn.execute(stmt, execution_options=_ROWCOUNT).rowcount, 0)
    return LedgerWrite(written, len(batch) - written)


def _merge(
    conn: Connection,
    table: sa.Table,
    batch: list[dict[str, Any]],
    key: tuple[str, ...],
    mutable: tuple[str, ...],
    kept_unless_read: tuple[str, ...],
) -> LedgerWrite:
    if not batch:
        return LedgerWrite(0, 0)
    now = utcnow()
    for row in batch:
        row["ingested_at"] = now
    columns = _columns(batch)
    written = 0
    for chunk in _statement_chunks(batch, len(columns)):
        stmt = _insert(conn)(table).values([{c: r.get(c) for c in columns} for r in chunk])
        ex = stmt.excluded
        present_mutable = [c for c in mutable if c in columns]
        present_kept = [c for c in kept_unless_read if c in columns]
        set_: dict[str, Any] = {c: ex[c] for c in present_mutable}
        set_.update({c: sa.func.coalesce(ex[c], table.c[c]) for c in present_kept})
        set_["ingested_at"] = ex.ingested_at
        changed = sa.or_(
            *(table.c[c].is_distinct_from(ex[c]) for c in present_mutable if c != "raw"),
            *(sa.and_(ex[c].is_not(None), table.c[c].is_distinct_from(ex[c])) for c in present_kept),
        )
        not_older = sa.or_(
            table.c.updated_at.is_(None), ex.updated_at.is_(None), ex.updated_at >= table.c.updated_at
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c[k] for k in key], set_=set_, where=sa.and_(changed, not_older)
        )
        written += max(conn.execute(stmt, execution_options=_ROWCOUNT).rowcount, 0)
    return LedgerWrite(written, len(batch) - written)


def _insert(conn: Connection) -> Any:
    return partial(upsert_insert, conn)


def _columns(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    return sorted(set().union(*(r.keys() for r in rows)))


def _statement_chunks(rows: list[dict[str, Any]], width: int) -> Iterable[list[dict[str, Any]]]:
    size = max(1, _PARAMS_PER_STATEMENT // max(width, 1))
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _last_wins(rows: list[dict[str, Any]], key: tuple[str, ...]) -> list[dict[str, Any]]:
    # One statement cannot touch a row twice (PostgreSQL refuses it): the batch's last version wins.
    return list({tuple(r[k] for k in key): r for r in rows}.values())


# --- ingestion cursors -------------------------------------------------------------------------------------
def cursor_store(gateway: str) -> str:
    """The `sync_cursors.store` under which a gateway's ingestion cursors live."""
    return f"gateway:{_gateway(gateway)}"


def read_cursor(conn: Connection, gateway: str, resource: str) -> datetime | None:
    """Up to when (exclusive, by `created`) `resource` of `gateway` has been ingested; None if never."""
    return cursors.read(conn, cursor_store(gateway), resource).modified_after


def advance_cursor(conn: Connection, gateway: str, resource: str, until: datetime) -> None:
    """Record that `resource` was ingested up to `until` (exclusive), in the batch's transaction. A cursor
    never moves back."""
    if until.tzinfo is None:
        raise LedgerRowError(f"cursor time {until!r} must be timezone-aware")
    cursors.advance(conn, cursor_store(gateway), resource, modified_after=until)


def ingestion_window(
    cursor: datetime | None,
    *,
    now: datetime,
    lookback: timedelta,
    max_span: timedelta,
    first_start: datetime,
) -> tuple[datetime, datetime]:
    """The next `[start, end)` window of `created` times to read.

    Starts `lookback` before the cursor (late arrivals: PayPal's reporting lags up to 3 hours), or at
    `first_start` on the first run, and spans at most `max_span` (PayPal Transaction Search: 31 days)
    and never past `now`. Read it, write its rows, then `advance_cursor(..., end)`; repeat until `end`
    reaches `now`. Re-reading the lookback is harmless: transactions merge, entries append once.
    """
    if now.tzinfo is None or first_start.tzinfo is None:
        raise LedgerRowError("ingestion times must be timezone-aware")
    if max_span <= timedelta(0):
        raise LedgerRowError("max_span must be positive")
    start = first_start if cursor is None else cursor - lookback
    start = min(start, now)
    return start, min(now, start + max_span)


# --- one ingestion batch ------------------------------------------------------------------------------------
def close_disputes(conn: Connection, gateway: str, closings: Sequence[tuple[str, str, datetime]]) -> int:
    """Close the open disputes of charges: `(parent_id, status, closed_at)` each, status `won` or `lost`.

    For gateways whose reports name a dispute's outcome only by a later movement on the charge (PayPal's
    Transaction Search: a release `T1111`, a chargeback reversal `T1202`, a reversal `T1106`). Returns the
    disputes changed.
    """
    _gateway(gateway)
    table = GatewayTransaction.__table__
    changed = 0
    for parent_id, status, closed_at in closings:
        if status not in ("won", "lost"):
            raise LedgerRowError(f"{gateway} dispute of {parent_id}: closed as {status!r}, not won or lost")
        result = conn.execute(
            sa.update(table)  # type: ignore[arg-type]
            .where(
                table.c.gateway == gateway,
                table.c.kind == "dispute",
                table.c.parent_id == parent_id,
                sa.or_(
                    table.c.status == "open", sa.and_(table.c.status == "won", sa.literal(status) == "lost")
                ),
            )
            .values(status=status, updated_at=closed_at, ingested_at=utcnow()),
            execution_options=_ROWCOUNT,
        )
        changed += max(result.rowcount, 0)
    return changed


def open_disputes(conn: Connection, gateway: str, limit: int = 1000) -> list[str]:
    """The ids of `gateway`'s disputes the hub has as open (oldest first): what ingestion re-reads, since
    a dispute's outcome comes long after the window that created it."""
    _gateway(gateway)
    table = GatewayTransaction.__table__
    return list(
        conn.execute(
            sa.select(table.c.gateway_id)
            .where(table.c.gateway == gateway, table.c.kind == "dispute", table.c.status == "open")
            .order_by(table.c.created_at)
            .limit(limit)
        ).scalars()
    )


def write_batch(
    conn: Connection,
    *,
    gateway: str,
    transactions: Sequence[Mapping[str, Any]] = (),
    payouts: Sequence[Mapping[str, Any]] = (),
    entries: Sequence[Mapping[str, Any]] = (),
    disputes_closed: Sequence[tuple[str, str, datetime]] = (),
    cursor: tuple[str, datetime] | None = None,
) -> dict[str, int]:
    """Write one ingestion batch of `gateway` and move its cursor, all in the caller's transaction.

    Every row is checked before anything is written (`LedgerRowError`); the cursor `(resource, until)`
    moves only with the rows, so a crash keeps both or neither.

    Returns:
        Rows written and unchanged per table, and disputes closed.
    """
    _gateway(gateway)
    for rows in (transactions, payouts, entries):
        wrong = [r.get("gateway") for r in rows if r.get("gateway") != gateway]
        if wrong:
            raise LedgerRowError(f"a {gateway} batch holds rows of {wrong[0]!r}")
    tx = upsert_transactions(conn, transactions)
    po = upsert_payouts(conn, payouts)
    en = append_payout_entries(conn, entries)
    closed = close_disputes(conn, gateway, disputes_closed)
    if cursor is not None:
        advance_cursor(conn, gateway, cursor[0], cursor[1])
    return {
        "transactions_written": tx.written,
        "transactions_unchanged": tx.unchanged,
        "payouts_written": po.written,
        "payouts_unchanged": po.unchanged,
        "entries_written": en.written,
        "entries_unchanged": en.unchanged,
        "disputes_closed": closed,
    }
