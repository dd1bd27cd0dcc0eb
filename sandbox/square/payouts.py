"""The Payouts API (ListPayouts, GetPayout, ListPayoutEntries) over the ledger's Square payouts, and the
passing of days that makes them: `advance()` runs the ledger's daily payouts up to now and announces
what changed (`payout.sent` for a new payout, `payout.paid` when it arrives, `payout.failed` when the
admin fails one).

The payout that does not add up (the answer key's `payout_mismatch`) is served as the ledger holds it: its
`amount_money` differs from the net of its entries.
"""

from __future__ import annotations

import math
from typing import Any

from starlette.responses import Response

from sandbox.ledger import BalanceEntry, NotFound, Payout

from . import webhooks
from .errors import not_found
from .locations import check_location
from .pagination import decode_cursor, encode_cursor, keyset_page, query_fingerprint, time_window
from .rendering import payout, payout_entry
from .rest import Req, json_response
from .state import SquareState

__all__ = ["advance", "fail_payout", "get_payout", "list_entries", "list_payouts", "maybe_advance"]

_STATUSES = {"SENT": "in_transit", "PAID": "paid", "FAILED": "failed"}
_DAY = 86_400


def advance(st: SquareState, now: int | None = None) -> list[str]:
    """Pay out every day that ended by `now` (default: the clock) and announce new and arrived payouts.

    Returns the ids of payouts that were announced."""
    t = int(st.now()) if now is None else now
    st.ledger.advance(t)
    st.advanced_day = t // _DAY
    announced: list[str] = []
    for p in st.ledger.payouts("square"):
        if p.id in st.payouts_seen:
            continue
        st.payouts_seen.add(p.id)
        webhooks.emit(st, "payout.sent", "payout", {**payout(st, p), "status": "SENT"})
        if p.status == "in_transit":
            st.payouts_in_transit.add(p.id)
        elif p.status == "paid":
            webhooks.emit(st, "payout.paid", "payout", payout(st, p))
        announced.append(p.id)
    for pid in sorted(st.payouts_in_transit):
        p = st.ledger.payout("square", pid)
        if p.status != "in_transit":
            st.payouts_in_transit.discard(pid)
            if p.status == "paid":
                webhooks.emit(st, "payout.paid", "payout", payout(st, p))
                announced.append(pid)
    return announced


def maybe_advance(st: SquareState) -> None:
    """Payouts are made and arrive at midnight UTC: advance once per day the clock enters."""
    if int(st.now()) // _DAY != st.advanced_day:
        advance(st)


def fail_payout(st: SquareState, payout_id: str) -> Payout:
    p = _find(st, payout_id)
    st.ledger.fail_payout("square", p.id)
    st.payouts_in_transit.discard(p.id)
    webhooks.emit(st, "payout.failed", "payout", payout(st, p))
    return p


def _find(st: SquareState, payout_id: str) -> Payout:
    try:
        return st.ledger.payout("square", payout_id)
    except NotFound:
        raise not_found("payout", payout_id) from None


def list_payouts(st: SquareState, req: Req) -> Response:
    advance(st)
    fingerprint = query_fingerprint(req, "payouts")
    # ListPayouts documents that changed parameters only risk duplicates or gaps: not strict.
    cursor = decode_cursor(st, req, fingerprint, strict=False)
    lo, hi = time_window(st, req, cursor, default_span=365 * _DAY)
    location_id = check_location(st, req.q("location_id") or st.main_location)
    status = req.q_enum("status", tuple(_STATUSES))
    desc = req.q_sort_order("DESC") == "DESC"
    limit = req.q_limit()
    assert lo is not None and hi is not None
    picked = [
        p
        for p in st.ledger.payouts("square", created_gte=math.ceil(lo), created_lt=math.ceil(hi))
        if (p.location_id or st.main_location) == location_id
        and (status is None or p.status == _STATUSES[status])
    ]

    def key(p: Payout) -> tuple[Any, ...]:
        return (p.created, p.id)

    picked.sort(key=key)
    chunk, more = keyset_page(picked, key, desc=desc, after=cursor.key if cursor else None, limit=limit)
    out: dict[str, Any] = {}
    if chunk:
        out["payouts"] = [payout(st, p) for p in chunk]
    if more and chunk:
        out["cursor"] = encode_cursor(st, fingerprint, key(chunk[-1]), (lo, hi))
    return json_response(out, req)


def get_payout(st: SquareState, req: Req) -> Response:
    advance(st)
    return json_response({"payout": payout(st, _find(st, req.params["id"]))}, req)


def list_entries(st: SquareState, req: Req) -> Response:
    advance(st)
    p = _find(st, req.params["id"])
    fingerprint = query_fingerprint(req, "payout-entries:" + p.id)
    cursor = decode_cursor(st, req, fingerprint, strict=False)
    desc = req.q_sort_order("DESC") == "DESC"
    limit = req.q_limit()

    def key(e: BalanceEntry) -> tuple[Any, ...]:
        return (e.created, e.id)

    entries = sorted(p.entries, key=key)
    chunk, more = keyset_page(entries, key, desc=desc, after=cursor.key if cursor else None, limit=limit)
    out: dict[str, Any] = {}
    if chunk:
        out["payout_entries"] = [payout_entry(e) for e in chunk]
    if more and chunk:
        out["cursor"] = encode_cursor(st, fingerprint, key(chunk[-1]), ())
    return json_response(out, req)
