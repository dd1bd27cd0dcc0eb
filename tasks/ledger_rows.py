"""Vendor records as hub ledger rows: what the ingestion tasks (`tasks.ledger`) share.

Pure functions, one family per gateway, each taking the record exactly as the vendor's API (or official SDK)
hands it over as a plain dict and returning a row for `hub.ledger.upsert_transactions`, `upsert_payouts` or
`append_payout_entries`. Vendor states go through `hub.ledger`'s normalisers (`charge_status`, ...), so an
unknown vendor state is a `LedgerRowError` instead of a guess.

Not a task module: nothing here talks to a vendor or the hub.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine

from clients.errors import AuthFailed, RateLimited, ServerError, TransportFailure
from hub.ledger import (
    charge_status,
    dispute_status,
    entry_type,
    order_reference,
    payout_status,
    refund_status,
    to_minor,
)

__all__ = [
    "LedgerBatch",
    "unreadable_sdk",
    "vendor_errors",
    "write_lock",
    "PAYPAL_DISPUTE_CLOSE",
    "PAYPAL_DISPUTE_OPEN",
    "anet_batch_row",
    "anet_entry_row",
    "anet_transaction_row",
    "epoch",
    "iso",
    "paypal_charge_row",
    "paypal_dispute_row",
    "paypal_refund_row",
    "square_dispute_row",
    "square_entry_row",
    "square_payment_row",
    "square_payout_row",
    "square_refund_row",
    "stripe_charge_row",
    "stripe_dispute_row",
    "stripe_entry_row",
    "stripe_payout_row",
    "stripe_refund_row",
]


@dataclass
class LedgerBatch:
    """What one ingestion task read for one gateway window, before it is written."""

    gateway: str
    start: datetime
    end: datetime
    transactions: list[dict[str, Any]] = field(default_factory=list)
    payouts: list[dict[str, Any]] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    disputes_closed: list[tuple[str, str, datetime]] = field(default_factory=list)
    unreadable: list[dict[str, Any]] = field(default_factory=list)
    skipped_events: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        kinds: dict[str, int] = {}
        for row in self.transactions:
            kinds[row["kind"]] = kinds.get(row["kind"], 0) + 1
        return {
            "gateway": self.gateway,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "read": {
                "charges": kinds.get("charge", 0),
                "refunds": kinds.get("refund", 0),
                "disputes": kinds.get("dispute", 0),
                "disputes_closed": len(self.disputes_closed),
                "payouts": len(self.payouts),
                "entries": len(self.entries),
            },
            "unreadable": list(self.unreadable),
            "skipped_events": dict(self.skipped_events),
        }


def unreadable_sdk(what: str, status: int | None, message: str) -> dict[str, Any]:
    """A record or listing the vendor refused to show (403, 404), as the run summary reports it."""
    return {"resource": what, "status": status, "message": str(message).strip().splitlines()[0][:300]}


@contextlib.contextmanager
def vendor_errors(service: str) -> Iterator[None]:
    """Translate the official SDKs' failures into the clients' error types, so the retry policy retries
    the transient ones (connection failures, 429, 5xx) and reports the rest in one line."""
    import httpx

    try:
        yield
    except httpx.TransportError as exc:
        raise TransportFailure(f"{service}: {type(exc).__name__}", service=service) from exc
    except Exception as exc:
        status = getattr(exc, "http_status", None) or getattr(exc, "status_code", None)
        name = type(exc).__name__
        if name in ("APIConnectionError", "Timeout"):
            raise TransportFailure(f"{service}: {exc}", service=service) from exc
        if not isinstance(status, int) or status not in (401, 429) and status < 500:
            raise  # a fact about the request (400, 402, 403, 404, ...): the caller reads the SDK's error
        text = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else name
        message = f"{service} answered {status}: {text}"
        if status == 429:
            raise RateLimited(message, service=service, status=status) from exc
        if status >= 500:
            raise ServerError(message, service=service, status=status) from exc
        raise AuthFailed(message, service=service, status=status) from exc


_LOCKS: dict[str, threading.Lock] = {}


def write_lock(engine: Engine) -> threading.Lock | contextlib.nullcontext[None]:
    """SQLite has one writer: the gateways' concurrent tasks take turns in-process; PostgreSQL does not
    need to."""
    if engine.dialect.name != "sqlite":
        return contextlib.nullcontext()
    return _LOCKS.setdefault(str(engine.url), threading.Lock())


def epoch(value: int | None) -> datetime | None:
    """Stripe's epoch seconds as an aware UTC time."""
    return None if value is None else datetime.fromtimestamp(int(value), UTC)


def iso(value: str | None) -> datetime | None:
    """An ISO 8601 / RFC 3339 time (`...Z`, `+0000`, `+00:00`) as an aware UTC time."""
    if not value:
        return None
    text = str(value).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _get(obj: Mapping[str, Any] | None, *path: str) -> Any:
    cur: Any = obj
    for key in path:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(key)
    return cur


# --- Stripe -------------------------------------------------------------------------------------------------
def _bt(obj: Mapping[str, Any], field: str = "balance_transaction") -> Mapping[str, Any] | None:
    value = obj.get(field)
    return value if isinstance(value, Mapping) else None  # expanded, else just an id


def stripe_charge_row(ch: Mapping[str, Any], intent: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A Stripe charge (`balance_transaction` expanded when the fee is wanted); `intent` its payment intent
    when the charge's own metadata names no order."""
    metadata = dict(ch.get("metadata") or {})
    if "order_id" not in metadata and intent is not None:
        metadata.update(intent.get("metadata") or {})
    order_ref, order_id = order_reference("stripe", metadata)
    status, _ = charge_status("stripe", str(ch["status"]))
    captured = bool(ch.get("captured"))
    bt = _bt(ch)
    amount = ch.get("amount_captured") if captured else ch.get("amount")
    return {
        "gateway": "stripe",
        "kind": "charge",
        "gateway_id": ch["id"],
        "alt_id": ch.get("payment_intent") if isinstance(ch.get("payment_intent"), str) else None,
        "order_ref": order_ref,
        "order_id": order_id,
        "status": status,
        "captured": captured,
        "amount_minor": int(amount or 0),
        "currency": ch["currency"],
        "amount_refunded_minor": int(ch.get("amount_refunded") or 0),
        "fee_minor": int(bt["fee"]) if bt else 0,
        "net_minor": int(bt["net"]) if bt else None,
        "settlement_currency": bt["currency"] if bt else None,
        "failure_code": ch.get("failure_code"),
        "decline_code": _get(ch, "outcome", "reason") if ch.get("status") == "failed" else None,
        "failure_message": ch.get("failure_message"),
        "created_at": epoch(ch["created"]),
        "raw": {"metadata": metadata},
    }


def stripe_refund_row(re: Mapping[str, Any]) -> dict[str, Any]:
    bt = _bt(re)
    charge = re.get("charge")
    return {
        "gateway": "stripe",
        "kind": "refund",
        "gateway_id": re["id"],
        "parent_id": charge if isinstance(charge, str) else _get(re, "charge", "id"),
        "status": refund_status("stripe", str(re["status"])),
        "amount_minor": int(re["amount"]),
        "currency": re["currency"],
        "fee_minor": abs(int(bt["fee"])) if bt else 0,  # the fee given back, as a positive amount
        "reason": re.get("reason"),
        "created_at": epoch(re["created"]),
    }


def stripe_dispute_row(du: Mapping[str, Any]) -> dict[str, Any]:
    charge = du.get("charge")
    fee = sum(int(bt.get("fee") or 0) for bt in du.get("balance_transactions") or [])
    return {
        "gateway": "stripe",
        "kind": "dispute",
        "gateway_id": du["id"],
        "parent_id": charge if isinstance(charge, str) else _get(du, "charge", "id"),
        "status": dispute_status("stripe", str(du["status"])),
        "amount_minor": int(du["amount"]),
        "currency": du["currency"],
        "fee_minor": fee,
        "reason": du.get("reason"),
        "created_at": epoch(du["created"]),
    }


def stripe_payout_row(po: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "gateway": "stripe",
        "gateway_id": po["id"],
        "amount_minor": int(po["amount"]),
        "currency": po["currency"],
        "status": payout_status("stripe", str(po["status"])),
        "created_at": epoch(po["created"]),
        "arrival_at": epoch(po.get("arrival_date")),
    }


def stripe_entry_row(bt: Mapping[str, Any], payout_id: str | None) -> dict[str, Any]:
    """A balance transaction; `payout_id` the payout it was listed under (None when listed by time)."""
    vendor = bt.get("type") or "other"
    if vendor == "adjustment" and bt.get("reporting_category") in ("dispute", "dispute_reversal"):
        vendor = bt["reporting_category"]
    source = bt.get("source")
    return {
        "gateway": "stripe",
        "gateway_id": bt["id"],
        "payout_id": payout_id,
        "type": entry_type("stripe", str(vendor)),
        "source_id": source if isinstance(source, str) else _get(bt, "source", "id"),
        "amount_minor": int(bt["amount"]),
        "fee_minor": int(bt.get("fee") or 0),
        "net_minor": int(bt["net"]),
        "currency": bt["currency"],
        "created_at": epoch(bt["created"]),
        "available_at": epoch(bt.get("available_on")),
    }


# --- PayPal (Transaction Search) ----------------------------------------------------------------------------
#: Transaction event codes: T0006 a capture, T1107 a refund; a dispute opens with T1110 (hold on a wallet
#: payment) or T1201 (chargeback on a card payment) and is closed by T1111 (release), T1202 (chargeback
#: reversal: won) or T1106 (reversal: lost).
PAYPAL_CAPTURE = ("T0006", "T0003", "T0004", "T0005", "T0007")
PAYPAL_REFUND = ("T1107",)
PAYPAL_DISPUTE_OPEN = ("T1110", "T1201")
PAYPAL_DISPUTE_CLOSE = {"T1111": "won", "T1202": "won", "T1106": "lost"}


def _money(value: Mapping[str, Any] | None) -> tuple[int, str] | None:
    if not value or value.get("value") is None:
        return None
    currency = str(value["currency_code"])
    return to_minor(str(value["value"]), currency), currency


def _paypal_ref(info: Mapping[str, Any]) -> tuple[str | None, int | None]:
    return order_reference(
        "paypal", {"custom_id": info.get("custom_field"), "invoice_id": info.get("invoice_id")}
    )


def paypal_charge_row(info: Mapping[str, Any]) -> dict[str, Any]:
    """A capture row (`transaction_info`) of Transaction Search."""
    amount, currency = _money(info["transaction_amount"]) or (0, "USD")
    fee = _money(info.get("fee_amount"))
    fee_minor = -fee[0] if fee else 0  # PayPal prints fees as debits
    status, captured = charge_status("paypal", str(info.get("transaction_status") or "S"))
    order_ref, order_id = _paypal_ref(info)
    alt = info.get("paypal_reference_id") if info.get("paypal_reference_id_type") == "ODR" else None
    return {
        "gateway": "paypal",
        "kind": "charge",
        "gateway_id": info["transaction_id"],
        "alt_id": alt,
        "order_ref": order_ref,
        "order_id": order_id,
        "status": status,
        "captured": captured,
        "amount_minor": abs(amount),
        "currency": currency,
        "amount_refunded_minor": 0,  # PayPal lists refunds only as their own rows
        "fee_minor": fee_minor,
        "net_minor": abs(amount) - fee_minor if status == "succeeded" else None,
        "created_at": iso(info["transaction_initiation_date"]),
        "updated_at": iso(info.get("transaction_updated_date")),
    }


def paypal_refund_row(info: Mapping[str, Any]) -> dict[str, Any]:
    amount, currency = _money(info["transaction_amount"]) or (0, "USD")
    fee = _money(info.get("fee_amount"))
    order_ref, order_id = _paypal_ref(info)
    return {
        "gateway": "paypal",
        "kind": "refund",
        "gateway_id": info["transaction_id"],
        "parent_id": info.get("paypal_reference_id"),
        "order_ref": order_ref,
        "order_id": order_id,
        "status": refund_status("paypal", str(info.get("transaction_status") or "S")),
        "amount_minor": abs(amount),
        "currency": currency,
        "fee_minor": abs(fee[0]) if fee else 0,
        "created_at": iso(info["transaction_initiation_date"]),
    }


def paypal_dispute_row(info: Mapping[str, Any]) -> dict[str, Any]:
    """The row that opens a dispute (T1110 hold, T1201 chargeback). Transaction Search does not carry
    PayPal's case id (`PP-D-…`): the dispute's id is the opening transaction's id."""
    amount, currency = _money(info["transaction_amount"]) or (0, "USD")
    order_ref, order_id = _paypal_ref(info)
    return {
        "gateway": "paypal",
        "kind": "dispute",
        "gateway_id": info["transaction_id"],
        "parent_id": info.get("paypal_reference_id"),
        "order_ref": order_ref,
        "order_id": order_id,
        "status": "open",
        "amount_minor": abs(amount),
        "currency": currency,
        "created_at": iso(info["transaction_initiation_date"]),
    }


# --- Square -------------------------------------------------------------------------------------------------
def _sq_money(value: Mapping[str, Any] | None) -> tuple[int, str] | None:
    if not value or value.get("amount") is None:
        return None
    return int(value["amount"]), str(value["currency"])


def square_payment_row(p: Mapping[str, Any]) -> dict[str, Any]:
    status, captured = charge_status("square", str(p["status"]))
    amount = _sq_money(p.get("total_money")) or _sq_money(p.get("amount_money")) or (0, "USD")
    refunded = _sq_money(p.get("refunded_money"))
    fee = sum(int(_get(f, "amount_money", "amount") or 0) for f in p.get("processing_fee") or [])
    order_ref, order_id = order_reference("square", {"reference_id": p.get("reference_id")})
    errors = _get(p, "card_details", "errors") or []
    code = errors[0].get("code") if errors and isinstance(errors[0], Mapping) else None
    return {
        "gateway": "square",
        "kind": "charge",
        "gateway_id": p["id"],
        "alt_id": p.get("order_id"),
        "order_ref": order_ref,
        "order_id": order_id,
        "status": status,
        "captured": captured,
        "amount_minor": amount[0],
        "currency": amount[1],
        "amount_refunded_minor": refunded[0] if refunded else 0,
        "fee_minor": fee,
        "net_minor": amount[0] - fee if status == "succeeded" and captured else None,
        "failure_code": code,
        "failure_message": errors[0].get("detail") if code else None,
        "created_at": iso(p["created_at"]),
        "updated_at": iso(p.get("updated_at")),
    }


def square_refund_row(r: Mapping[str, Any]) -> dict[str, Any]:
    amount = _sq_money(r.get("amount_money")) or (0, "USD")
    fee = _sq_money(r.get("processing_fee_money"))
    return {
        "gateway": "square",
        "kind": "refund",
        "gateway_id": r["id"],
        "parent_id": r.get("payment_id"),
        "status": refund_status("square", str(r["status"])),
        "amount_minor": amount[0],
        "currency": amount[1],
        "fee_minor": abs(fee[0]) if fee else 0,
        "reason": r.get("reason"),
        "created_at": iso(r["created_at"]),
    }


def square_dispute_row(d: Mapping[str, Any]) -> dict[str, Any]:
    amount = _sq_money(d.get("amount_money")) or (0, "USD")
    status = dispute_status("square", str(d["state"]))
    return {
        "gateway": "square",
        "kind": "dispute",
        "gateway_id": d.get("dispute_id") or d["id"],
        "parent_id": _get(d, "disputed_payment", "payment_id"),
        "status": status,
        "amount_minor": amount[0],
        "currency": amount[1],
        "reason": d.get("reason"),
        "created_at": iso(d["created_at"]),
        "updated_at": iso(d.get("updated_at")) if status != "open" else None,
    }


def square_payout_row(p: Mapping[str, Any]) -> dict[str, Any]:
    amount = _sq_money(p.get("amount_money")) or (0, "USD")
    fee = sum(int(_get(f, "amount_money", "amount") or 0) for f in p.get("payout_fee") or [])
    arrival = p.get("arrival_date")
    return {
        "gateway": "square",
        "gateway_id": p["id"],
        "amount_minor": amount[0],
        "fee_minor": fee,
        "currency": amount[1],
        "status": payout_status("square", str(p["status"])),
        "created_at": iso(p["created_at"]),
        "arrival_at": iso(f"{arrival}T00:00:00Z") if arrival else None,
    }


def square_entry_row(e: Mapping[str, Any]) -> dict[str, Any]:
    gross = _sq_money(e.get("gross_amount_money")) or (0, "USD")
    fee = _sq_money(e.get("fee_amount_money"))
    net = _sq_money(e.get("net_amount_money"))
    source = None
    for key, value in e.items():
        if key.startswith("type_") and key.endswith("_details") and isinstance(value, Mapping):
            source = value.get("payment_id") or value.get("refund_id") or value.get("dispute_id")
            if source:
                break
    return {
        "gateway": "square",
        "gateway_id": e["id"],
        "payout_id": e.get("payout_id"),
        "type": entry_type("square", str(e.get("type") or "OTHER")),
        "source_id": source,
        "amount_minor": gross[0],
        "fee_minor": fee[0] if fee else 0,
        "net_minor": net[0] if net else None,
        "currency": gross[1],
        "created_at": iso(e["effective_at"]),
    }


# --- Authorize.Net ------------------------------------------------------------------------------------------
def _anet_is_refund(t: Mapping[str, Any]) -> bool:
    return str(t.get("transactionStatus") or "").lower().startswith("refund") or str(
        t.get("transactionType") or ""
    ).startswith("refund")


def anet_transaction_row(
    t: Mapping[str, Any], currency: str, *, batch_id: str | None, parent_id: str | None = None
) -> dict[str, Any]:
    """A transaction of a batch (or of the unsettled list): a charge, or a refund (`parent_id` = its
    `refTransId`, read from the transaction's details)."""
    amount = to_minor(str(t.get("settleAmount") or t.get("authAmount") or "0"), currency)
    status_text = str(t["transactionStatus"])
    order_ref, order_id = order_reference("authorizenet", {"invoiceNumber": t.get("invoiceNumber")})
    row: dict[str, Any] = {
        "gateway": "authorizenet",
        "gateway_id": str(t["transId"]),
        "order_ref": order_ref,
        "order_id": order_id,
        "amount_minor": abs(amount),
        "currency": currency,
        "fee_minor": 0,  # billed monthly
        "payout_id": batch_id,
        "created_at": iso(t["submitTimeUTC"]),
    }
    if _anet_is_refund(t):
        row.update(kind="refund", parent_id=parent_id, status=refund_status("authorizenet", status_text))
        row.pop("order_ref"), row.pop("order_id")
        if order_id is not None:
            row.update(order_ref=order_ref, order_id=order_id)
        return row
    status, captured = charge_status("authorizenet", status_text)
    row.update(kind="charge", status=status, captured=captured, amount_refunded_minor=0)
    return row


def anet_batch_row(batch: Mapping[str, Any], currency: str) -> dict[str, Any]:
    """A settled batch as a payout: the charges minus the refunds of its statistics."""
    amount = 0
    for s in batch.get("statistics") or []:
        amount += to_minor(str(s.get("chargeAmount") or "0"), currency)
        amount -= to_minor(str(s.get("refundAmount") or "0"), currency)
    return {
        "gateway": "authorizenet",
        "gateway_id": str(batch["batchId"]),
        "amount_minor": amount,
        "currency": currency,
        "status": payout_status("authorizenet", str(batch["settlementState"])),
        "created_at": iso(batch["settlementTimeUTC"]),
    }


def anet_entry_row(t: Mapping[str, Any], currency: str, batch_id: str) -> dict[str, Any]:
    """A transaction of a settled batch as what the batch pays out: charges positive, refunds negative,
    declined and voided ones 0."""
    amount = to_minor(str(t.get("settleAmount") or "0"), currency)
    status, _ = (
        (None, None) if _anet_is_refund(t) else charge_status("authorizenet", str(t["transactionStatus"]))
    )
    if _anet_is_refund(t):
        kind, value = "refund", -abs(amount)
    elif status == "succeeded":
        kind, value = "charge", abs(amount)
    else:
        kind, value = ("decline" if status == "failed" else "void"), 0
    return {
        "gateway": "authorizenet",
        "gateway_id": str(t["transId"]),
        "payout_id": batch_id,
        "type": entry_type("authorizenet", kind),
        "source_id": str(t["transId"]),
        "amount_minor": value,
        "currency": currency,
        "created_at": iso(t["submitTimeUTC"]),
    }
