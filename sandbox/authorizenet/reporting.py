"""The Transaction Reporting calls: settled batches, a batch's transactions, unsettled ones, details.

Batches come from the ledger (`Ledger.batches`, settled daily at the cutoff), after `Ledger.advance(now)`
so the days since the last request are settled first. `getSettledBatchListRequest` takes UTC
`firstSettlementDate`/`lastSettlementDate` at most 31 days apart (default: the last 24 hours) and
`includeStatistics`; the transaction lists take `sorting` (`id` or `submitTimeUTC`) and `paging`
(`limit` 1-1000, `offset` the 1-based page). An empty list answers `I00004` "No records found."
"""

from __future__ import annotations

from typing import Any

from sandbox.ledger import Charge, NotFound, Refund

from .encoding import parse_datetime
from .errors import AnetError
from .rendering import render_batch, render_details, render_summary
from .settings import MAX_RANGE_SECONDS
from .state import AnetState

__all__ = ["settled_batch_list", "transaction_details", "transaction_list", "unsettled_transaction_list"]

Txn = Charge | Refund


def settled_batch_list(st: AnetState, request: dict[str, Any]) -> tuple[dict[str, Any], str]:
    st.settle()
    now = st.now()
    first_raw, last_raw = request.get("firstSettlementDate"), request.get("lastSettlementDate")
    last = parse_datetime(last_raw) if last_raw else None
    first = parse_datetime(first_raw) if first_raw else None
    if last is None:
        last = now if first is None or first + MAX_RANGE_SECONDS > now else first + MAX_RANGE_SECONDS
    if first is None:
        first = last - 86_400
    if first > last:
        raise AnetError("E00013", "The first settlement date cannot be later than the last settlement date.")
    if last - first > MAX_RANGE_SECONDS:
        raise AnetError("E00013", "The date range cannot exceed 31 days.")
    batches = st.ledger.batches(settled_gte=int(first), settled_lt=int(last) + 1)
    stats = bool(request.get("includeStatistics"))
    if not batches:
        return {}, "I00004"
    return {"batchList": [render_batch(b, statistics=stats) for b in batches]}, "I00001"


def _page(st: AnetState, txns: list[Txn], request: dict[str, Any]) -> tuple[dict[str, Any], str]:
    sorting = request.get("sorting")
    if sorting:
        if sorting["orderBy"] == "id":
            txns.sort(key=lambda t: int(t.id), reverse=sorting["orderDescending"])
        else:
            txns.sort(key=lambda t: (t.created, int(t.id)), reverse=sorting["orderDescending"])
    total = len(txns)
    paging = request.get("paging")
    if paging:
        limit, page = paging["limit"], paging["offset"]
        txns = txns[(page - 1) * limit : page * limit]
    if not txns:
        return {"totalNumInResultSet": total}, "I00004"
    return {"transactions": [render_summary(st, t) for t in txns], "totalNumInResultSet": total}, "I00001"


def transaction_list(st: AnetState, request: dict[str, Any]) -> tuple[dict[str, Any], str]:
    st.settle()
    try:
        batch = st.ledger.batch(request["batchId"])
    except NotFound:
        return {"totalNumInResultSet": 0}, "I00004"
    return _page(st, list(batch.transactions), request)


def unsettled_transaction_list(st: AnetState, request: dict[str, Any]) -> tuple[dict[str, Any], str]:
    st.settle()
    if request.get("status") == "pendingApproval":  # fraud-filter holds: the sandbox has none
        return {"totalNumInResultSet": 0}, "I00004"
    return _page(st, list(st.ledger.unsettled()), request)


def transaction_details(st: AnetState, request: dict[str, Any]) -> tuple[dict[str, Any], str]:
    st.settle()
    trans_id = request["transId"]
    t: Txn
    try:
        t = st.ledger.charge("authorizenet", trans_id)
    except NotFound:
        try:
            t = st.ledger.refund("authorizenet", trans_id)
        except NotFound:
            raise AnetError("E00040") from None
    return {"transaction": render_details(st, t)}, "I00001"
