"""Transaction Search: `GET /v1/reporting/transactions`, rendered from the ledger.

One row per money movement, as PayPal reports them (transaction event codes in `settings.EVENT_CODES`):

- a capture: `T0006`, `transaction_id` = the capture id, `paypal_reference_id` = the order (`ODR`), gross
  amount positive, `fee_amount` NEGATIVE (PayPal prints fees as debits), status `S`, `F` once partially
  refunded, `V` once fully refunded; a declined capture is status `D` and not balance-affecting;
- a refund: `T1107`, negative amount, the fee PayPal gives back as a positive `fee_amount`, referencing the
  capture (`TXN`);
- a dispute on a PayPal wallet payment: `T1110` (hold, negative) when opened, `T1111` (release) when the
  merchant wins, `T1111` + `T1106` (reversal) when they lose; on a card payment a chargeback `T1201`,
  reversed by `T1202` when won.

`invoice_id` and `custom_field` carry the shop's order as the capture did. Rows appear `reporting_lag_hours`
after they happen, spread deterministically over that window (PayPal: "up to three hours"); 0 shows
everything at once. Validation follows PayPal: `start_date`/`end_date` required, RFC 3339 with seconds,
at most 31 days apart (400 `INVALID_REQUEST`, issue "Date range is greater than 31 days"), `page_size`
1-500, `page` from 1, `fields` of `transaction_info` (default), `payer_info`, ..., or `all`.
"""

from __future__ import annotations

import hashlib
import math
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response

from sandbox.ledger import Charge, Dispute, Refund

from .encoding import iso_reporting, money, parse_rfc3339
from .errors import PayPalError
from .rest import Req, json_response
from .settings import EVENT_CODES, MAX_RANGE_SECONDS, REPORTING_FIELDS, SEARCH_HISTORY_SECONDS
from .state import PayPalState

__all__ = ["Row", "rows_between", "search_transactions"]

_UPPER = string.ascii_uppercase + string.digits
# What Transaction Search's text fields may hold (the contract's pattern); other characters are dropped.
_REPORT_TEXT = re.compile(r"[^a-zA-Z0-9_'\-., \":;!?]")


def _text(value: str) -> str:
    return _REPORT_TEXT.sub("", value)


@dataclass(slots=True)
class Row:
    """One reported money movement (what a `transaction_details[]` item is rendered from)."""

    when: float
    transaction_id: str
    event_code: str
    status: str  # S | P | D | V | F
    amount_minor: int  # signed
    fee_minor: int | None  # signed, as reported
    currency: str
    charge: Charge
    reference_id: str
    reference_type: str  # ODR | TXN
    balance_affecting: bool = True
    updated: float = 0.0


def _bad(field: str, value: str | None, issue: str) -> PayPalError:
    return PayPalError(
        400,
        "INVALID_REQUEST",
        [{"field": field, "value": value or "", "location": "query", "issue": issue}],
        message="Invalid request - see details.",
        extra={"links": []},
    )


def _derived_id(*parts: str) -> str:
    digest = hashlib.sha256(":".join(parts).encode()).digest()
    return "".join(_UPPER[b % len(_UPPER)] for b in digest[:17])


def _charge_status(c: Charge) -> str:
    if c.status == "failed":
        return "D"
    if c.status in ("pending", "canceled"):
        return "P"
    if c.amount_captured_minor and c.remaining_minor == 0:
        return "V"
    if c.amount_refunded_minor:
        return "F"
    return "S"


def rows_between(st: PayPalState, start: float, end: float) -> list[Row]:
    """Every row whose initiation time is in [start, end], in time order (before lag and filters)."""
    ledger = st.ledger
    lo, hi = int(math.floor(start)), int(math.floor(end)) + 1
    rows: list[Row] = []
    for c in ledger.charges("paypal", created_gte=lo, created_lt=hi):
        fee = -c.fee_minor if c.status == "succeeded" and c.captured else None
        rows.append(
            Row(
                when=c.created,
                transaction_id=c.id,
                event_code=EVENT_CODES["capture"],
                status=_charge_status(c),
                amount_minor=c.amount_minor,
                fee_minor=fee,
                currency=c.currency,
                charge=c,
                reference_id=c.paypal_order_id,
                reference_type="ODR",
                balance_affecting=c.status == "succeeded",
                updated=c.updated or c.created,
            )
        )
    for r in ledger.refunds("paypal", created_gte=lo, created_lt=hi):
        rows.append(_refund_row(st, r))
    for d in ledger.disputes("paypal"):
        rows.extend(row for row in _dispute_rows(st, d) if start <= row.when <= end)
    rows.sort(key=lambda row: (row.when, row.transaction_id))
    return rows


def _refund_row(st: PayPalState, r: Refund) -> Row:
    c = st.ledger.charge("paypal", r.charge_id)
    status = {"succeeded": "S", "failed": "D", "pending": "P"}.get(r.status, "S")
    return Row(
        when=r.created,
        transaction_id=r.id,
        event_code=EVENT_CODES["refund"],
        status=status,
        amount_minor=-r.amount_minor,
        fee_minor=r.fee_returned_minor or None,
        currency=r.currency,
        charge=c,
        reference_id=c.id,
        reference_type="TXN",
        balance_affecting=r.status == "succeeded",
        updated=r.created,
    )


def _dispute_rows(st: PayPalState, d: Dispute) -> list[Row]:
    c = st.ledger.charge("paypal", d.charge_id)
    card = bool(c.card_brand)

    def row(kind: str, when: float, sign: int) -> Row:
        return Row(
            when=when,
            transaction_id=_derived_id(d.id, kind),
            event_code=EVENT_CODES[kind],
            status="S",
            amount_minor=sign * d.amount_minor,
            fee_minor=None,
            currency=d.currency,
            charge=c,
            reference_id=c.id,
            reference_type="TXN",
            updated=when,
        )

    out = [row("chargeback" if card else "hold", d.created, -1)]
    if d.closed is not None and d.status == "won":
        out.append(row("chargeback_reversal" if card else "release", d.closed, +1))
    elif d.closed is not None and d.status == "lost" and not card:
        out += [row("release", d.closed, +1), row("reversal", d.closed, -1)]
    return out


def _visible(st: PayPalState, row: Row, now: float) -> bool:
    lag = st.reporting_lag_hours * 3600
    if lag <= 0:
        return row.when <= now
    share = int.from_bytes(hashlib.sha256(row.transaction_id.encode()).digest()[:4], "big") / 2**32
    return row.when + lag * share <= now


def _payer(st: PayPalState, c: Charge) -> dict[str, Any]:
    email = c.customer_email or "buyer@example.com"
    given, _, surname = (c.customer_name or "PayPal Buyer").partition(" ")
    return {
        "account_id": st.payer_id_for(email),
        "email_address": email,
        "address_status": "Y",
        "payer_status": "Y",
        "payer_name": {
            "given_name": given,
            "surname": surname,
            "alternate_full_name": c.customer_name or email,
        },
        "country_code": "US",
    }


def _cart(st: PayPalState, c: Charge) -> dict[str, Any]:
    order = st.world.orders.get(c.order_id) if c.order_id is not None else None
    if order is None or order.currency != c.currency or not order.line_items:
        return {}
    items = []
    for li in order.line_items:
        item: dict[str, Any] = {}
        if _text(li.sku):
            item["item_code"] = _text(li.sku)
        item["item_name"] = _text(li.name) or "Item"
        item["item_quantity"] = str(li.quantity)
        item["item_unit_price"] = money(li.unit_cents, c.currency)
        item["item_amount"] = money(li.total_cents, c.currency)
        if li.tax_cents:
            item["tax_amounts"] = [{"tax_amount": money(li.tax_cents, c.currency)}]
        item["total_item_amount"] = money(li.total_cents + li.tax_cents, c.currency)
        if _text(c.metadata.get("invoice_id", "")):
            item["invoice_number"] = _text(c.metadata["invoice_id"])
        items.append(item)
    return {"item_details": items, "tax_inclusive": False}


def _render(st: PayPalState, row: Row, fields: set[str]) -> dict[str, Any]:
    c = row.charge
    info: dict[str, Any] = {
        "paypal_account_id": st.payer_id_for(c.customer_email or "buyer@example.com"),
        "transaction_id": row.transaction_id,
        "paypal_reference_id": row.reference_id,
        "paypal_reference_id_type": row.reference_type,
        "transaction_event_code": row.event_code,
        "transaction_initiation_date": iso_reporting(row.when),
        "transaction_updated_date": iso_reporting(row.updated or row.when),
        "transaction_amount": money(row.amount_minor, row.currency),
    }
    if row.fee_minor:
        info["fee_amount"] = money(row.fee_minor, row.currency)
    info["transaction_status"] = row.status
    if _text(c.description):
        info["transaction_subject"] = _text(c.description)
    if _text(c.metadata.get("invoice_id", "")):
        info["invoice_id"] = _text(c.metadata["invoice_id"])
    if _text(c.metadata.get("custom_id", "")):
        info["custom_field"] = _text(c.metadata["custom_id"])
    info["protection_eligibility"] = "02" if c.card_brand else "01"
    info["instrument_type"] = "CREDIT_CARD" if c.card_brand else "PAYPAL"
    out: dict[str, Any] = {"transaction_info": info}
    if "payer_info" in fields:
        out["payer_info"] = _payer(st, c)
    if "shipping_info" in fields:
        given, _, surname = (c.customer_name or "PayPal Buyer").partition(" ")
        out["shipping_info"] = {"name": f"{surname}, {given}" if surname else given}
    if "cart_info" in fields:
        out["cart_info"] = _cart(st, c)
    for name in ("store_info", "auction_info", "incentive_info"):
        if name in fields:
            out[name] = {}
    return out


def _filters(req: Req) -> list[Callable[[Row], bool]]:
    checks: list[Callable[[Row], bool]] = []
    txn = req.arg("transaction_id")
    if txn is not None:
        if not 17 <= len(txn) <= 19:
            raise _bad("transaction_id", txn, "Transaction Id should be 17 to 19 characters long")
        checks.append(lambda r: r.transaction_id == txn)
    ttype = req.arg("transaction_type")
    if ttype:
        checks.append(lambda r: r.event_code == ttype)
    status = req.arg("transaction_status")
    if status is not None:
        if status not in ("D", "P", "S", "V", "F"):
            raise _bad("transaction_status", status, "Invalid transaction status")
        checks.append(lambda r: r.status == status)
    amount = req.arg("transaction_amount")
    if amount:
        parts = amount.strip().strip("[]").split(" TO ")
        try:
            lo, hi = int(parts[0]), int(parts[1])
        except (ValueError, IndexError):
            raise _bad("transaction_amount", amount, "Invalid transaction amount range") from None
        checks.append(lambda r: lo <= r.amount_minor <= hi)
    currency = req.arg("transaction_currency")
    if currency:
        checks.append(lambda r: r.currency == currency.upper())
    balance = (req.arg("balance_affecting_records_only") or "Y").upper()
    if balance not in ("Y", "N"):
        raise _bad("balance_affecting_records_only", balance, "Invalid value, should be Y or N")
    if balance == "Y":
        checks.append(lambda r: r.balance_affecting)
    return checks


def _int_arg(req: Req, name: str, default: int, lo: int, hi: int, issue: str) -> int:
    raw = req.arg(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _bad(name, raw, issue) from None
    if not lo <= value <= hi:
        raise _bad(name, raw, issue)
    return value


def search_transactions(st: PayPalState, req: Req) -> Response:
    now = st.now()
    raw_start, raw_end = req.arg("start_date"), req.arg("end_date")
    if not raw_start:
        raise _bad("start_date", raw_start, "Start date is required")
    if not raw_end:
        raise _bad("end_date", raw_end, "End date is required")
    start, end = parse_rfc3339(raw_start), parse_rfc3339(raw_end)
    if start is None:
        raise _bad(
            "start_date", raw_start, "Invalid date format. Date should be in RFC3339 format with seconds"
        )
    if end is None:
        raise _bad("end_date", raw_end, "Invalid date format. Date should be in RFC3339 format with seconds")
    if end < start:
        raise _bad("end_date", raw_end, "End date should be greater than start date")
    if end - start > MAX_RANGE_SECONDS:
        raise _bad("end_date", raw_end, "Date range is greater than 31 days")
    if start < now - SEARCH_HISTORY_SECONDS:
        raise PayPalError(
            400,
            "INVALID_REQUEST",
            [],
            message="Data for the given start date is not available.",
            extra={"details": [], "links": []},
        )
    page_size = _int_arg(req, "page_size", 100, 1, 500, "Page size should be between 1 and 500")
    page = _int_arg(req, "page", 1, 1, 2_147_483_647, "Page should be greater than 0")
    fields_arg = (req.arg("fields") or "transaction_info").strip()
    if fields_arg == "all":
        fields = set(REPORTING_FIELDS)
    else:
        fields = {f.strip() for f in fields_arg.split(",") if f.strip()}
        unknown = fields - set(REPORTING_FIELDS)
        if unknown or not fields:
            raise _bad("fields", fields_arg, "Invalid fields value")
    checks = _filters(req)
    rows = [r for r in rows_between(st, start, end) if _visible(st, r, now) and all(f(r) for f in checks)]
    total = len(rows)
    pages = math.ceil(total / page_size) if total else 0
    chosen = rows[(page - 1) * page_size : page * page_size]
    base = f"{st.base_url}/v1/reporting/transactions"
    links = [{"href": f"{base}?{urlencode(req.query)}", "rel": "self", "method": "GET"}]
    if page < pages:
        query = [(k, v) for k, v in req.query if k != "page"] + [("page", str(page + 1))]
        links.append({"href": f"{base}?{urlencode(query)}", "rel": "next", "method": "GET"})
    return json_response(
        {
            "transaction_details": [_render(st, r, fields) for r in chosen],
            "account_number": st.account_number,
            "start_date": iso_reporting(start),
            "end_date": iso_reporting(min(end, now)),
            "last_refreshed_datetime": iso_reporting(now),
            "page": page,
            "total_items": total,
            "total_pages": pages,
            "links": links,
        }
    )
