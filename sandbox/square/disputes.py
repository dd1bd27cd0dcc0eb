"""The Disputes API (ListDisputes, RetrieveDispute) over the ledger's Square disputes, and the admin's
ways to open and settle one (`dispute.created`, `dispute.state.updated`).

An open ledger dispute is EVIDENCE_REQUIRED, a won one WON, a lost one LOST.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from sandbox.ledger import Dispute, NotFound

from . import webhooks
from .errors import not_found
from .locations import check_location
from .pagination import decode_cursor, encode_cursor, keyset_page, query_fingerprint
from .payments import announce, find_payment
from .rendering import dispute
from .rest import Req, json_response
from .state import SquareState

__all__ = ["PAGE_SIZE", "get_dispute", "list_disputes", "open_dispute", "resolve_dispute"]

PAGE_SIZE = 50  # ListDisputes takes no limit
_STATES = (
    "INQUIRY_EVIDENCE_REQUIRED",
    "INQUIRY_PROCESSING",
    "INQUIRY_CLOSED",
    "EVIDENCE_REQUIRED",
    "PROCESSING",
    "WON",
    "LOST",
    "ACCEPTED",
)


def _find(st: SquareState, dispute_id: str) -> Dispute:
    try:
        return st.ledger.dispute("square", dispute_id)
    except NotFound:
        raise not_found("dispute", dispute_id) from None


def get_dispute(st: SquareState, req: Req) -> Response:
    return json_response({"dispute": dispute(st, _find(st, req.params["id"]))}, req)


def list_disputes(st: SquareState, req: Req) -> Response:
    fingerprint = query_fingerprint(req, "disputes")
    cursor = decode_cursor(st, req, fingerprint)
    state = req.q_enum("states", _STATES)
    location_id = req.q("location_id")
    if location_id is not None:
        check_location(st, location_id)
    picked = []
    for d in st.ledger.disputes("square"):
        rendered_state = dispute(st, d)["state"]
        if state is not None and rendered_state != state:
            continue
        if location_id is not None:
            loc = st.ledger.charge("square", d.charge_id).location_id or st.main_location
            if loc != location_id:
                continue
        picked.append(d)

    def key(d: Dispute) -> tuple[Any, ...]:
        return (d.created, d.id)

    picked.sort(key=key)
    chunk, more = keyset_page(picked, key, desc=True, after=cursor.key if cursor else None, limit=PAGE_SIZE)
    out: dict[str, Any] = {}
    if chunk:
        out["disputes"] = [dispute(st, d) for d in chunk]
    if more and chunk:
        out["cursor"] = encode_cursor(st, fingerprint, key(chunk[-1]), ())
    return json_response(out, req)


def open_dispute(
    st: SquareState, payment_id: str, *, reason: str = "fraudulent", amount_minor: int | None = None
) -> Dispute:
    c = find_payment(st, payment_id)
    d = st.ledger.add_dispute("square", c.id, created=int(st.now()), reason=reason, amount_minor=amount_minor)
    webhooks.emit(st, "dispute.created", "dispute", dispute(st, d))
    announce(st, c)
    return d


def resolve_dispute(st: SquareState, dispute_id: str, state: str) -> Dispute:
    d = _find(st, dispute_id)
    st.ledger.resolve_dispute("square", d.id, {"WON": "won", "LOST": "lost"}[state], at=int(st.now()))
    webhooks.emit(st, "dispute.state.updated", "dispute", dispute(st, d))
    return d
