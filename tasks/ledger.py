"""Ledger ingestion tasks: one task reads one `[start, end)` window of one gateway and commits it.

Each task reads the window through what the gateway's block builds (`StripeGateway.client()`, ...), maps
the records to ledger rows (`tasks.ledger_rows`), and writes them with the gateway's cursor in one hub
transaction (`hub.ledger.write_batch`), so the cursor moves only after its rows are committed. A task is a
batch (a window of up to 31 days of every resource of the gateway), never one record.

What the SDK could not read (403, 404) is listed in the task's summary under `unreadable`, with the
resource and the vendor's message, never dropped silently. Vendor errors that a later attempt may not meet
(connection failures, 429, 5xx) are raised as the clients' retryable errors, so the project's retry
policy (`tasks.policy.batch_task`) retries the window.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from blocks import AuthorizeNetGateway, PayPalGateway, SquareGateway, StripeGateway
from clients.errors import NotFound
from hub.ledger import open_disputes, write_batch
from tasks.context import shared_engine
from tasks.ledger_rows import (
    PAYPAL_CAPTURE,
    PAYPAL_DISPUTE_CLOSE,
    PAYPAL_DISPUTE_OPEN,
    PAYPAL_REFUND,
    LedgerBatch,
    anet_batch_row,
    anet_entry_row,
    anet_transaction_row,
    iso,
    paypal_charge_row,
    paypal_dispute_row,
    paypal_refund_row,
    square_dispute_row,
    square_entry_row,
    square_payment_row,
    square_payout_row,
    square_refund_row,
    stripe_charge_row,
    stripe_dispute_row,
    stripe_entry_row,
    stripe_payout_row,
    stripe_refund_row,
    unreadable_sdk,
    vendor_errors,
    write_lock,
)
from tasks.log import run_logger
from tasks.policy import batch_task

CURSOR_RESOURCE = "ledger"
_SECOND = timedelta(seconds=1)


def _span(start: str, end: str) -> tuple[datetime, datetime]:
    return datetime.fromisoformat(start), datetime.fromisoformat(end)


async def _commit(
    hub_key: str, gateway: str, batch: LedgerBatch, end: datetime, move: bool
) -> dict[str, Any]:
    engine = shared_engine(hub_key)

    def write() -> dict[str, int]:
        with write_lock(engine), engine.begin() as conn:
            return write_batch(
                conn,
                gateway=gateway,
                transactions=batch.transactions,
                payouts=batch.payouts,
                entries=batch.entries,
                disputes_closed=batch.disputes_closed,
                cursor=(CURSOR_RESOURCE, end) if move else None,
            )

    written = await asyncio.to_thread(write)
    summary = batch.summary() | {"written": written}
    run_logger().info(
        "ingested %s %s..%s: %s transactions, %s payouts, %s entries%s",
        gateway,
        batch.start.isoformat(),
        end.isoformat(),
        len(batch.transactions),
        len(batch.payouts),
        len(batch.entries),
        f"; {len(batch.unreadable)} records unreadable" if batch.unreadable else "",
    )
    return summary


# --- Stripe -------------------------------------------------------------------------------------------------
def _open_disputes(hub_key: str, gateway: str) -> list[str]:
    with shared_engine(hub_key).connect() as conn:
        return open_disputes(conn, gateway)


def _stripe_read(
    block: StripeGateway, start: datetime, end: datetime, refresh: list[str] | None = None
) -> LedgerBatch:
    import stripe

    client = block.client()
    batch = LedgerBatch("stripe", start, end)
    created = {"gte": int(start.timestamp()), "lt": int(end.timestamp())}

    def listing(resource: str, params: dict[str, Any], what: str) -> list[dict[str, Any]]:
        try:
            with vendor_errors("Stripe"):
                pager = getattr(client.v1, resource).list(params={"limit": 100, **params})
                return [o.to_dict() for o in pager.auto_paging_iter()]
        except (stripe.PermissionError, stripe.InvalidRequestError) as exc:
            if exc.http_status in (403, 404):
                batch.unreadable.append(unreadable_sdk(what, exc.http_status, exc.user_message or str(exc)))
                return []
            raise

    intents = {
        pi.get("latest_charge"): pi
        for pi in listing("payment_intents", {"created": created}, "payment intents")
        if isinstance(pi.get("latest_charge"), str)
    }
    for ch in listing("charges", {"created": created, "expand": ["data.balance_transaction"]}, "charges"):
        batch.transactions.append(stripe_charge_row(ch, intents.get(ch["id"])))
    for re in listing("refunds", {"created": created, "expand": ["data.balance_transaction"]}, "refunds"):
        batch.transactions.append(stripe_refund_row(re))
    for du in listing("disputes", {"created": created}, "disputes"):
        batch.transactions.append(stripe_dispute_row(du))
    for bt in listing("balance_transactions", {"created": created}, "balance transactions"):
        batch.entries.append(stripe_entry_row(bt, None))
    for po in listing("payouts", {"created": created}, "payouts"):
        batch.payouts.append(stripe_payout_row(po))
        for bt in listing(
            "balance_transactions", {"payout": po["id"]}, f"balance transactions of {po['id']}"
        ):
            batch.entries.append(stripe_entry_row(bt, po["id"]))
    for dispute_id in refresh or []:  # open disputes of earlier windows: their outcome may have come
        try:
            with vendor_errors("Stripe"):
                dispute = client.v1.disputes.retrieve(dispute_id).to_dict()
        except (stripe.PermissionError, stripe.InvalidRequestError) as exc:
            if exc.http_status not in (403, 404):
                raise
            batch.unreadable.append(unreadable_sdk(f"dispute {dispute_id}", exc.http_status, str(exc)))
            continue
        batch.transactions.append(stripe_dispute_row(dispute))
    return batch


@batch_task("ingest-stripe-window", task_run_name="ingest stripe {start}..{end}")
async def ingest_stripe_window(
    hub_key: str, block: StripeGateway, start: str, end: str, move_cursor: bool = True, last: bool = False
) -> dict[str, Any]:
    """Stripe charges, payment intents, refunds, disputes, balance transactions and payouts created in
    `[start, end)` (ISO times), with every payout's balance transactions; with `last` (the run's last
    window) also the disputes the hub has open. Commits them and the cursor."""
    lo, hi = _span(start, end)
    refresh = await asyncio.to_thread(_open_disputes, hub_key, "stripe") if last else None
    batch = await asyncio.to_thread(_stripe_read, block, lo, hi, refresh)
    return await _commit(hub_key, "stripe", batch, hi, move_cursor)


# --- PayPal -------------------------------------------------------------------------------------------------
@batch_task("ingest-paypal-window", task_run_name="ingest paypal {start}..{end}")
async def ingest_paypal_window(
    hub_key: str, block: PayPalGateway, start: str, end: str, move_cursor: bool = True
) -> dict[str, Any]:
    """PayPal Transaction Search rows initiated in `[start, end)` (at most 31 days a request; declined
    captures included): captures, refunds, and disputes opened (T1110, T1201) and closed (T1111, T1202,
    T1106). Rows of other event codes are counted in the summary under `skipped_events`."""
    lo, hi = _span(start, end)
    batch = LedgerBatch("paypal", lo, hi)
    if hi > lo:
        async with block.client() as client:
            async for page in client.search_transactions(
                lo, hi - _SECOND, fields="transaction_info", balance_affecting_records_only=False
            ):
                for item in page.items:
                    _paypal_item(batch, item.get("transaction_info") or {})
    return await _commit(hub_key, "paypal", batch, hi, move_cursor)


def _paypal_item(batch: LedgerBatch, info: dict[str, Any]) -> None:
    code = str(info.get("transaction_event_code") or "")
    if code in PAYPAL_CAPTURE:
        batch.transactions.append(paypal_charge_row(info))
    elif code in PAYPAL_REFUND:
        batch.transactions.append(paypal_refund_row(info))
    elif code in PAYPAL_DISPUTE_OPEN:
        batch.transactions.append(paypal_dispute_row(info))
    elif code in PAYPAL_DISPUTE_CLOSE and info.get("paypal_reference_id"):
        when = iso(info["transaction_initiation_date"])
        assert when is not None
        batch.disputes_closed.append((info["paypal_reference_id"], PAYPAL_DISPUTE_CLOSE[code], when))
    else:
        batch.skipped_events[code or "?"] = batch.skipped_events.get(code or "?", 0) + 1


# --- Square -------------------------------------------------------------------------------------------------
def _square_read(
    block: SquareGateway, start: datetime, end: datetime, refresh: list[str] | None = None
) -> LedgerBatch:
    from square.core.api_error import ApiError as SquareApiError

    client = block.client()
    batch = LedgerBatch("square", start, end)
    window = {"begin_time": _rfc3339(start), "end_time": _rfc3339(end)}

    def listing(what: str, call: Any, **kwargs: Any) -> list[dict[str, Any]]:
        try:
            with vendor_errors("Square"):
                return [_dump(item) for item in call(**kwargs)]
        except SquareApiError as exc:
            if exc.status_code in (403, 404):
                batch.unreadable.append(unreadable_sdk(what, exc.status_code, str(exc.body)[:300]))
                return []
            raise

    locations = list(block.location_ids)
    if not locations:
        with vendor_errors("Square"):
            locations = [loc.id for loc in client.locations.list().locations or [] if loc.id]
    for loc in locations:
        for p in listing(f"payments of {loc}", client.payments.list, location_id=loc, limit=100, **window):
            batch.transactions.append(square_payment_row(p))
        for r in listing(f"refunds of {loc}", client.refunds.list, location_id=loc, limit=100, **window):
            batch.transactions.append(square_refund_row(r))
        for d in listing(f"disputes of {loc}", client.disputes.list, location_id=loc):
            created = iso(d.get("created_at"))
            if created is not None and start <= created < end:  # ListDisputes has no time filter
                batch.transactions.append(square_dispute_row(d))
        for po in listing(f"payouts of {loc}", client.payouts.list, location_id=loc, limit=100, **window):
            batch.payouts.append(square_payout_row(po))
            for e in listing(f"entries of {po['id']}", client.payouts.list_entries, payout_id=po["id"]):
                batch.entries.append(square_entry_row(e))
    for dispute_id in refresh or []:  # open disputes of earlier windows: their outcome may have come
        try:
            with vendor_errors("Square"):
                dispute = client.disputes.get(dispute_id).dispute
        except SquareApiError as exc:
            if exc.status_code not in (403, 404):
                raise
            batch.unreadable.append(
                unreadable_sdk(f"dispute {dispute_id}", exc.status_code, str(exc.body)[:300])
            )
            continue
        if dispute is not None:
            batch.transactions.append(square_dispute_row(_dump(dispute)))
    return batch


def _rfc3339(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _dump(item: Any) -> dict[str, Any]:
    if isinstance(item, dict):
        return item
    return dict(item.model_dump(mode="json", exclude_none=True))


@batch_task("ingest-square-window", task_run_name="ingest square {start}..{end}")
async def ingest_square_window(
    hub_key: str, block: SquareGateway, start: str, end: str, move_cursor: bool = True, last: bool = False
) -> dict[str, Any]:
    """Square payments, refunds, disputes, payouts and payout entries created in `[start, end)`, for
    every location of the block (or every location the token sees); with `last`, also the disputes the
    hub has open."""
    lo, hi = _span(start, end)
    refresh = await asyncio.to_thread(_open_disputes, hub_key, "square") if last else None
    batch = await asyncio.to_thread(_square_read, block, lo, hi, refresh)
    return await _commit(hub_key, "square", batch, hi, move_cursor)


# --- Authorize.Net ------------------------------------------------------------------------------------------
@batch_task("ingest-authorizenet-window", task_run_name="ingest authorizenet {start}..{end}")
async def ingest_authorizenet_window(
    hub_key: str,
    block: AuthorizeNetGateway,
    start: str,
    end: str,
    move_cursor: bool = True,
    unsettled: bool = False,
) -> dict[str, Any]:
    """Authorize.Net batches settled in `[start, end)` (as payouts) and their transactions (charges,
    refunds with their `refTransId`, and as the batch's entries); with `unsettled`, also the
    transactions not settled yet."""
    lo, hi = _span(start, end)
    currency = block.currency.upper()
    batch = LedgerBatch("authorizenet", lo, hi)
    async with block.client() as client:
        if hi > lo:
            async for b in client.settled_batches(lo, hi - _SECOND):
                batch.payouts.append(anet_batch_row(b, currency))
                bid = str(b["batchId"])
                async for page in client.batch_transactions(bid):
                    await _anet_transactions(client, batch, page, currency, bid)
                    batch.entries.extend(anet_entry_row(t, currency, bid) for t in page)
        if unsettled:
            async for page in client.unsettled_transactions():
                await _anet_transactions(client, batch, page, currency, None)
    return await _commit(hub_key, "authorizenet", batch, hi, move_cursor)


async def _anet_transactions(
    client: Any, batch: LedgerBatch, page: Iterable[dict[str, Any]], currency: str, batch_id: str | None
) -> None:
    for t in page:
        parent = None
        if str(t.get("transactionStatus") or "").lower().startswith("refund"):
            try:  # the list does not name the refunded transaction; its details do
                details = await client.transaction_details(str(t["transId"]))
                parent = details.get("refTransId")
            except NotFound as exc:
                batch.unreadable.append(unreadable_sdk(f"refund {t['transId']}", 404, str(exc)))
                continue
            if not parent:
                batch.unreadable.append(unreadable_sdk(f"refund {t['transId']}", 200, "no refTransId"))
                continue
        batch.transactions.append(anet_transaction_row(t, currency, batch_id=batch_id, parent_id=parent))
