"""The balance, balance transactions and payouts: the ledger's Stripe movements as Stripe serves them.

Before any of these is served the ledger is advanced to the account's clock (`sync`), so the days that ended
since are paid out, and the account announces what happened on its own: `payout.created` for a new payout,
`payout.paid` once it arrives. `GET /v1/balance_transactions?payout=po_...` lists what an automatic payout
paid out, the payout's own transaction included.
"""

from __future__ import annotations

from typing import Any

from sandbox.ledger import BalanceEntry, LedgerError, Payout

from . import events
from .errors import invalid_request, resource_missing
from .rendering import entry_json, payout_json
from .rest import Req, check_params, get_enum, get_str, page, parse_created, render_one
from .store import State

__all__ = [
    "get_balance",
    "get_balance_transaction",
    "get_payout",
    "list_balance_transactions",
    "list_payouts",
    "sync",
]

_BT_TYPES = {  # Stripe type -> the ledger's entry types
    "charge": {"charge"},
    "refund": {"refund"},
    "adjustment": {"dispute", "dispute_reversal"},
    "payout": {"payout"},
}
_KNOWN_BT_TYPES = """adjustment advance advance_funding anticipation_repayment application_fee
    application_fee_refund charge connect_collection_transfer contribution issuing_authorization_hold
    issuing_authorization_release issuing_dispute issuing_transaction payment payment_failure_refund
    payment_refund payout payout_cancel payout_failure refund refund_failure reserve_transaction
    reserved_funds
    stripe_fee stripe_fx_fee tax_fee topup topup_reversal transfer transfer_cancel transfer_failure
    transfer_refund""".split()


def sync(st: State) -> dict[str, list[str]]:
    """Advance the ledger to the account's clock; emit events for payouts made or arrived since."""
    now = st.now()
    st.ledger.advance(now)
    created: list[str] = []
    paid: list[str] = []
    for p in st.ledger.payouts("stripe", created_gte=st.payout_watermark):
        st.payout_watermark = max(st.payout_watermark, p.created)
        if p.id not in st.announced:
            st.announced.add(p.id)
            created.append(p.id)
            events.emit(st, "payout.created", payout_json(st, p))
            st.in_transit.add(p.id)  # if it already arrived (the clock jumped), `payout.paid` follows now
    for pid in sorted(st.in_transit):
        p = st.ledger.payout("stripe", pid)
        if p.status == "paid":
            st.in_transit.discard(pid)
            paid.append(pid)
            obj = payout_json(st, p)
            events.emit(st, "payout.updated", obj, None, {"status": "in_transit"})
            events.emit(st, "payout.paid", obj)
    return {"created": created, "paid": paid}


def get_balance(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "retrieve")
    sync(st)
    now = st.now()
    available: dict[str, int] = {st.ledger.currency.lower(): 0}
    pending: dict[str, int] = {st.ledger.currency.lower(): 0}
    for e in st.ledger.balance_entries("stripe"):
        if e.payout_id or e.type == "payout":
            continue
        bucket = available if e.available_on <= now else pending
        cur = e.currency.lower()
        bucket[cur] = bucket.get(cur, 0) + e.net_minor

    def amounts(bucket: dict[str, int]) -> list[dict[str, Any]]:
        return [{"amount": v, "currency": k, "source_types": {"card": v}} for k, v in bucket.items()]

    return render_one(
        st,
        req,
        {
            "object": "balance",
            "available": amounts(available),
            "connect_reserved": [{"amount": 0, "currency": c} for c in available],
            "livemode": False,
            "pending": amounts(pending),
        },
    )


def _entry(st: State, entry_id: str, param: str = "id") -> BalanceEntry:
    try:
        return st.ledger.balance_entry("stripe", entry_id)
    except LedgerError:
        raise resource_missing(entry_id, param=param, noun="balance transaction") from None


def _payout(st: State, payout_id: str, param: str = "id") -> Payout:
    try:
        return st.ledger.payout("stripe", payout_id)
    except LedgerError:
        raise resource_missing(payout_id, param=param, noun="payout") from None


def get_balance_transaction(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "retrieve")
    sync(st)
    return render_one(st, req, entry_json(st, _entry(st, req.path_params["id"])))


def list_balance_transactions(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "balance_transactions.list")
    created = parse_created(req)
    payout_id = get_str(req, "payout", empty_ok=False)
    kind = get_enum(req, "type", _KNOWN_BT_TYPES)
    source = get_str(req, "source", empty_ok=False)
    currency = get_str(req, "currency")
    sync(st)
    if payout_id:
        p = _payout(st, payout_id, param="payout")
        items = list(p.entries)
        if p.balance_transaction_id:
            items.append(_entry(st, p.balance_transaction_id))
        items = [e for e in items if e.created in created]
        items.sort(key=lambda e: e.created)
    else:
        items = st.ledger.balance_entries("stripe", created_gte=created.gte, created_lt=created.lt)
    if kind:
        wanted = _BT_TYPES.get(kind, set())
        items = [e for e in items if e.type in wanted]
    if source:
        items = [e for e in items if e.source_id == source]
    if currency:
        items = [e for e in items if e.currency.lower() == currency.lower()]
    items.reverse()

    def find(entry_id: str) -> BalanceEntry | None:
        try:
            return st.ledger.balance_entry("stripe", entry_id)
        except LedgerError:
            return None

    return page(st, req, items, "/v1/balance_transactions", lambda e: entry_json(st, e), find=find)


def get_payout(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "retrieve")
    sync(st)
    return render_one(st, req, payout_json(st, _payout(st, req.path_params["id"])))


def list_payouts(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "payouts.list")
    created = parse_created(req)
    arrival = parse_created(req, "arrival_date")
    status = get_enum(req, "status", ["canceled", "failed", "in_transit", "paid", "pending"])
    destination = get_str(req, "destination", empty_ok=False)
    sync(st)
    items = st.ledger.payouts("stripe", created_gte=created.gte, created_lt=created.lt)
    items = [p for p in items if p.arrival in arrival and (status is None or p.status == status)]
    if destination and destination != st.bank_account_id:
        if not destination.startswith(("ba_", "card_")):
            raise invalid_request(f"Invalid destination: {destination}", param="destination")
        items = []
    items.reverse()

    def find(payout_id: str) -> Payout | None:
        try:
            return st.ledger.payout("stripe", payout_id)
        except LedgerError:
            return None

    return page(st, req, items, "/v1/payouts", lambda p: payout_json(st, p), find=find)
