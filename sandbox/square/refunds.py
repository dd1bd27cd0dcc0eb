"""The Refunds API: RefundPayment, GetPaymentRefund and ListPaymentRefunds over the world's ledger.

A refund starts PENDING, as at Square, and completes in the background `refund_delay` seconds later
(`refund.updated`); its money leaves the balance (a payout entry) when it is created. Only a COMPLETED
payment can be refunded, never above what remains, and not while a dispute is open.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

from starlette.responses import Response

from sandbox.ledger import NotFound, Refund

from . import webhooks
from .errors import SquareError, not_found
from .idempotency import run_idempotent
from .locations import check_location
from .pagination import decode_cursor, encode_cursor, keyset_page, query_fingerprint, time_window
from .payments import announce, find_payment
from .rendering import payment_status, refund, refund_status
from .rest import Req, json_response, money_field, string_field
from .settings import CURRENCIES, REASON_MAX, YEAR
from .state import Received, SquareState

__all__ = ["complete_refund", "create_refund", "get_refund", "list_refunds"]

_STATUSES = ("PENDING", "COMPLETED", "REJECTED", "FAILED")
_SOURCE_TYPES = ("CARD", "BANK_ACCOUNT", "WALLET", "CASH", "EXTERNAL")
_REFUND = "REFUND_ERROR"


def _find(st: SquareState, refund_id: str) -> Refund:
    try:
        return st.ledger.refund("square", refund_id)
    except NotFound:
        raise not_found("refund", refund_id) from None


def create_refund(st: SquareState, req: Req) -> Response:
    body = req.json()
    key = string_field(body, "idempotency_key", required=True)
    assert key is not None
    amount, currency = money_field(body, "amount_money", CURRENCIES)
    payment_id = string_field(body, "payment_id", required=True)
    assert payment_id is not None
    reason = string_field(body, "reason", max_len=REASON_MAX)
    if body.get("app_fee_money") is not None:
        money_field(body, "app_fee_money", CURRENCIES)
    for name in ("location_id", "customer_id", "payment_version_token", "team_member_id"):
        string_field(body, name)
    c = find_payment(st, payment_id)
    if currency != c.currency:
        raise SquareError(
            400,
            "INVALID_VALUE",
            f"The refund must be in the payment's currency {c.currency}, not {currency}.",
            field="amount_money.currency",
        )

    def execute() -> tuple[int, dict[str, Any], str]:
        status = payment_status(c)
        if status == "APPROVED":
            raise SquareError(
                400,
                "REFUND_ERROR_PAYMENT_NEEDS_COMPLETION",
                f"Payment `{c.id}` is APPROVED: complete it (or cancel it) instead of refunding.",
                category=_REFUND,
            )
        if status != "COMPLETED":
            raise SquareError(
                400,
                "PAYMENT_NOT_REFUNDABLE",
                f"Payment `{c.id}` is {status} and cannot be refunded.",
                category=_REFUND,
            )
        if c.dispute is not None and c.dispute.status == "open":
            raise SquareError(
                400,
                "PAYMENT_NOT_REFUNDABLE_DUE_TO_DISPUTE",
                f"Payment `{c.id}` has an open dispute.",
                category=_REFUND,
            )
        if amount > c.remaining_minor:
            raise SquareError(
                400,
                "REFUND_AMOUNT_INVALID",
                f"The requested refund amount {amount} exceeds the amount available to refund "
                f"({c.remaining_minor}).",
                field="amount_money.amount",
                category=_REFUND,
            )
        r = st.ledger.add_refund(
            "square", c.id, amount, created=int(st.now()), reason=reason or "", status="pending"
        )
        received = Received("refund", r.id, key, body, r.created)
        st.received["refund"].append(received)
        st.received_by_id[r.id] = received
        rendered = refund(st, r)
        webhooks.emit(st, "refund.created", "refund", rendered)
        announce(st, c)
        st.courier.schedule(_complete_later(st, r.id))
        return 200, {"refund": rendered}, r.id

    status, raw = run_idempotent(st, "RefundPayment", key, body, execute)
    return Response(raw, status, headers={"Square-Version": req.version}, media_type="application/json")


async def _complete_later(st: SquareState, refund_id: str) -> None:
    await asyncio.sleep(st.refund_delay)
    complete_refund(st, refund_id)


def complete_refund(st: SquareState, refund_id: str) -> bool:
    """PENDING -> COMPLETED (refund.updated); False when it was not pending any more."""
    r = _find(st, refund_id)
    if r.status != "pending":
        return False
    st.ledger.complete_refund("square", r.id, at=int(st.now()))
    webhooks.emit(st, "refund.updated", "refund", refund(st, r))
    return True


def get_refund(st: SquareState, req: Req) -> Response:
    return json_response({"refund": refund(st, _find(st, req.params["id"]))}, req)


def list_refunds(st: SquareState, req: Req) -> Response:
    fingerprint = query_fingerprint(req, "refunds")
    cursor = decode_cursor(st, req, fingerprint)
    lo, hi = time_window(st, req, cursor, default_span=YEAR)
    ulo, uhi = time_window(st, req, None, begin="updated_at_begin_time", end="updated_at_end_time")
    desc = req.q_sort_order("DESC") == "DESC"
    req.q_enum("sort_field", ("CREATED_AT", "UPDATED_AT"))  # refunds are not updated after creation here
    location_id = req.q("location_id")
    if location_id is not None:
        check_location(st, location_id)
    status = req.q_enum("status", _STATUSES)
    source_type = req.q_enum("source_type", _SOURCE_TYPES)
    limit = req.q_limit()
    assert lo is not None and hi is not None
    picked = []
    for r in st.ledger.refunds("square", created_gte=math.ceil(lo), created_lt=math.ceil(hi)):
        c = st.ledger.charge("square", r.charge_id)
        if location_id is not None and (c.location_id or st.main_location) != location_id:
            continue
        if status is not None and refund_status(r) != status:
            continue
        if source_type not in (None, "CARD"):
            continue
        if (ulo is not None and r.created < ulo) or (uhi is not None and r.created >= uhi):
            continue
        picked.append(r)

    def key(r: Refund) -> tuple[Any, ...]:
        return (r.created, r.id)

    picked.sort(key=key)
    chunk, more = keyset_page(picked, key, desc=desc, after=cursor.key if cursor else None, limit=limit)
    out: dict[str, Any] = {}
    if chunk:
        out["refunds"] = [refund(st, r) for r in chunk]
    if more and chunk:
        out["cursor"] = encode_cursor(st, fingerprint, key(chunk[-1]), (lo, hi))
    return json_response(out, req)
