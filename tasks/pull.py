"""Pulling WooCommerce into the hub: retryable tasks for page batches, variation lists and confirmations.

A listing (products, trashed products, customers, orders, trashed orders) is read as page 1 (which tells
the page count) and then batches of pages. Pages are fetched concurrently but committed one by one in page
order, each in ONE transaction that also advances the listing's cursor, and no page is fetched more than
one batch ahead of the last committed one: a run killed at any point resumes from the last committed page
and re-reads at most one batch. Incremental listings ask for `modified_after = cursor - 1 s` ordered by
modification time (WooCommerce's bound is exclusive, so the overlap keeps records modified at the boundary
second); rows whose content hash did not change are not written.

A product page records its variable products as pending (`hub.pending`) instead of waiting for their
variation lists: those are read by `pull-variations` tasks at full concurrency while pages go on, each
committing the variations and the end of their pending entry together.

Offset paging over a set that changes while it is read can skip a record at a page boundary, and counts
cannot tell (a skipped record plus a new one leave the total equal). So every listing ends with a
confirmation: the ids and modification times of its whole window (`_fields=id,date_modified_gmt`, tiny
pages) are compared with the hub, and what is missing or older in the hub is fetched by id. Until then the
listing's cursor keeps `unconfirmed_from`, the start of the window no confirmation has covered, so a run
killed before confirming leaves the next run to confirm from there. Customers have no modified filter:
once the hub has them, a run only lists their ids and modification times and fetches what changed.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from prefect.runtime import task_run

from clients.woocommerce import Page
from hub import cursors, pending
from hub.batches import BatchTarget, commit_page, commit_variations, write_records
from hub.completeness import stale_ids
from hub.models import MIRROR_TABLES
from hub.records import is_variable_product
from hub.upserts import tombstone_missing
from tasks.context import PageMeta, SyncContext, lookup
from tasks.log import run_logger
from tasks.policy import batch_task, first_failure

OVERLAP = timedelta(seconds=1)
ALL = "all"  # `unconfirmed_from` when the whole listing (no modified filter) is to be confirmed


@dataclass(frozen=True)
class Listing:
    """One read of a resource with fixed parameters for the whole run.

    Attributes:
        name: Cursor key: products | products:trash | customers | orders | orders:trash.
        resource: Hub table.
        path: Collection path.
        params: The read window (filters, order).
        incremental: The cursor is a modification time (else: the next page of a full listing).
        confirm: The window whose ids are compared with the hub at the end (filters only).
        unconfirmed_from: Saved with each page until the listing is confirmed: `all`, or the ISO time the
            unconfirmed window starts at.
        read_pages: False when the confirmation alone brings the resource up to date (customers once the
            hub has them: nothing to page through).
    """

    name: str
    resource: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    incremental: bool = True
    confirm: dict[str, Any] = field(default_factory=dict)
    unconfirmed_from: str = ALL
    read_pages: bool = True

    @property
    def unfiltered(self) -> bool:
        """The confirmation covers the whole listing, so what it does not list is gone from the store."""
        return self.unconfirmed_from == ALL


def listings(resource: str, conn: sa.Connection, store: str, *, force: bool) -> list[Listing]:
    """The listings that bring `resource` up to date, with windows taken from the saved cursors."""

    def incremental(name: str, status: str | None = None) -> Listing:
        cursor = cursors.read(conn, store, name)
        after = None if force else cursor.modified_after
        read: dict[str, Any] = {"orderby": "modified", "order": "asc", "dates_are_gmt": "true"}
        confirm: dict[str, Any] = {"dates_are_gmt": "true"}
        if status:
            read["status"] = confirm["status"] = status
        if after is not None:
            read["modified_after"] = _wc_time(after - OVERLAP)
        earlier = None if force else cursor.state.get("unconfirmed_from")
        start = ALL if after is None or earlier == ALL else min(filter(None, (earlier, _iso(after))))
        if start != ALL:
            confirm["modified_after"] = _wc_time(datetime.fromisoformat(start) - OVERLAP)
        return Listing(name, resource, resource, read, confirm=confirm, unconfirmed_from=start)

    if resource == "products":
        # The default `status=any` leaves trashed products (and orders) out; they are a listing of their own.
        return [incremental("products"), incremental("products:trash", "trash")]
    if resource == "orders":
        return [incremental("orders"), incremental("orders:trash", "trash")]
    if resource == "customers":
        table = MIRROR_TABLES["customers"].__table__
        state = cursors.read(conn, store, "customers").state
        have = conn.execute(
            sa.select(table.c.id).where(table.c.store == store, table.c.deleted_at.is_(None)).limit(1)
        ).first()
        interrupted = not state.get("complete", True)
        read_pages = force or have is None or interrupted
        return [
            Listing(
                "customers",
                "customers",
                "customers",
                {"orderby": "id", "order": "asc"},
                incremental=False,
                read_pages=read_pages,
            )
        ]
    raise ValueError(f"unknown resource {resource!r}")


def first_page_of(ctx: SyncContext, listing: Listing, *, force: bool) -> int:
    """Where a listing starts: page 1, or where an interrupted full listing stopped."""
    if listing.incremental or force:
        return 1
    with ctx.engine.connect() as conn:
        state = cursors.read(conn, ctx.store, listing.name).state
    return int(state.get("next_page") or 1) if not state.get("complete", True) else 1


# ------------------------------------------------------------------------------------------------------
# Page batches


def _batch_run_name() -> str:
    """`orders pages 3-10` (what the UI shows for a task run)."""
    params = task_run.parameters
    pages = params.get("pages") or [0]
    name = getattr(params.get("listing"), "name", "listing")
    return f"{name} page {pages[0]}" if len(pages) == 1 else f"{name} pages {pages[0]}-{pages[-1]}"


@batch_task("pull-page-batch", task_run_name=_batch_run_name)
async def pull_page_batch(ctx_key: str, listing: Listing, pages: list[int]) -> dict[str, int]:
    """Fetch `pages` of `listing` concurrently and commit each in page order, after the pages before it.

    Returns:
        The counts of these pages, plus `total` and `total_pages` as the store reported them on the first
        and `last_page_items` (records on the last).
    """
    ctx = lookup(ctx_key)
    frontier = ctx.frontier(listing.name, start=pages[0])

    def after(page: Page, counts: dict[str, int]) -> None:
        frontier.meta[page.page] = PageMeta(page.total, page.total_pages, len(page.items))
        ctx.counts.update(counts)
        if listing.resource == "products":
            ctx.variations_due.extend(o["id"] for o in page.items if is_variable_product(o))
        ctx.pages_committed(listing.resource, 1)

    async def one(number: int) -> None:
        if frontier.committed(number):  # a retried task: this page made it before the failure
            return
        await frontier.room_for(number)
        page = await ctx.client.list_page(
            listing.path, page=number, per_page=ctx.per_page, params=listing.params
        )
        await frontier.deliver(number, page, lambda p: _commit(ctx, listing, p), after)

    try:
        async with asyncio.TaskGroup() as group:  # one page failing stops its siblings (and fails the task)
            for number in pages:
                group.create_task(one(number))
    except BaseExceptionGroup as failed:
        raise first_failure(failed) from None
    counts: Counter[str] = Counter()
    for number in pages:
        counts.update(frontier.counts.get(number, {}))
    first, last = frontier.meta[pages[0]], frontier.meta[pages[-1]]
    name = f"{listing.name} page{'s' if len(pages) > 1 else ''} {pages[0]}" + (
        f"-{pages[-1]}" if len(pages) > 1 else ""
    )
    run_logger().info("%s: %s", name, _show(counts))
    return {**counts, "total": first.total, "total_pages": first.total_pages, "last_page_items": last.items}


def _commit(ctx: SyncContext, listing: Listing, page: Page) -> dict[str, int]:
    """Commit one page (records, conflicts, quarantine, pending variations and the cursor together)."""
    with ctx.write_lock:
        return commit_page(
            ctx.engine,
            _target(ctx, listing),
            page.items,
            page=page.page,
            total_pages=page.total_pages,
            unconfirmed_from=listing.unconfirmed_from if listing.incremental else None,
        )


# ------------------------------------------------------------------------------------------------------
# Variations


def _variations_run_name() -> str:
    parents = task_run.parameters.get("parent_ids") or []
    return f"variations of {len(parents)} products"


@batch_task("pull-variations", task_run_name=_variations_run_name)
async def pull_variations(ctx_key: str, parent_ids: list[int]) -> dict[str, int]:
    """Read every variation of these variable products and commit them with the end of their pending
    entries (a product the store no longer has just leaves the pending list).

    Returns:
        Counts: fetched, inserted, updated, unchanged, tombstoned (vanished variations), ...
    """
    from clients.errors import NotFound

    ctx = lookup(ctx_key)

    async def one(parent: int) -> list[Any] | None:
        try:
            return await ctx.client.variations(parent)
        except NotFound as exc:
            if exc.gone:
                return None
            raise

    lists = await asyncio.gather(*(one(p) for p in parent_ids))
    found = {p: v for p, v in zip(parent_ids, lists, strict=True) if v is not None}
    gone = [p for p, v in zip(parent_ids, lists, strict=True) if v is None]
    target = BatchTarget(ctx.store, "products", "products", True, ctx.strategy, ctx.run_id)

    def write() -> dict[str, int]:
        with ctx.write_lock:
            return commit_variations(ctx.engine, target, found, gone)

    counts = await asyncio.to_thread(write)
    ctx.counts.update(counts)
    ctx.pages_committed("variations", 1)
    run_logger().info("variations of %s products: %s", len(parent_ids), _show(counts))
    return counts


def pending_variations(ctx: SyncContext) -> list[int]:
    """Variable products an earlier run committed but whose variations it did not read."""
    with ctx.engine.connect() as conn:
        return pending.pending(conn, ctx.store, pending.VARIATIONS)


# ------------------------------------------------------------------------------------------------------
# Confirmation


def _confirm_run_name() -> str:
    return f"confirm {getattr(task_run.parameters.get('listing'), 'name', 'listing')}"


@batch_task("confirm-listing", task_run_name=_confirm_run_name)
async def confirm_listing(ctx_key: str, listing: Listing) -> dict[str, Any]:
    """Compare the ids and modification times of the listing's window with the hub; fetch what the paged
    read missed or what changed since; then mark the listing confirmed.

    Returns:
        Counts (`missed` is what the hub lacked or had older). Every id the window listed is kept in the
        run's context (`listed`) for tombstoning after an unfiltered confirmation.
    """
    ctx = lookup(ctx_key)
    listed = await ctx.client.list_ids(listing.path, params=listing.confirm)
    stale = await asyncio.to_thread(_stale, ctx, listing.resource, listed)
    fetched = await ctx.client.fetch_by_ids(listing.resource, stale) if stale else None
    objects = list(fetched.found.values()) if fetched else []

    def write() -> Counter[str]:
        with ctx.write_lock, ctx.engine.begin() as conn:
            counts = write_records(conn, _target(ctx, listing), objects)
            counts["fetched"] += len(objects)
            variable = [o["id"] for o in objects if is_variable_product(o)]
            pending.add(conn, ctx.store, pending.VARIATIONS, variable)
            if listing.incremental:
                cursors.advance(conn, ctx.store, listing.name, modified_after=None, state={})
            return counts

    counts = await asyncio.to_thread(write)
    counts["missed"] = len(stale)
    ctx.counts.update(counts)
    if listing.resource == "products":
        ctx.variations_due.extend(o["id"] for o in objects if is_variable_product(o))
    ctx.listed[listing.name] = set(listed)
    run_logger().info("%s confirmed: %s listed, %s", listing.name, len(listed), _show(counts))
    return dict(counts)


def tombstone_unlisted(ctx: SyncContext, resource: str, present: Iterable[int]) -> int:
    """After an unfiltered confirmation of every listing of a resource, tombstone what the store lacks."""
    keep = set(present)
    with ctx.write_lock, ctx.engine.begin() as conn:
        if resource == "products":
            # Variations are not in the product listings; they go with their parent's variation list.
            t = MIRROR_TABLES["products"].__table__
            variations = sa.select(t.c.remote_id).where(
                t.c.store == ctx.store, t.c.parent_remote_id.is_not(None)
            )
            keep |= set(conn.execute(variations).scalars())
        marked = tombstone_missing(conn, resource, ctx.store, keep)
    ctx.counts["tombstoned"] += marked
    return marked


def _stale(ctx: SyncContext, resource: str, listed: dict[int, str | None]) -> list[int]:
    with ctx.engine.connect() as conn:
        return stale_ids(conn, ctx.store, resource, listed)


# ------------------------------------------------------------------------------------------------------


def _target(ctx: SyncContext, listing: Listing) -> BatchTarget:
    return BatchTarget(
        store=ctx.store,
        resource=listing.resource,
        listing=listing.name,
        incremental=listing.incremental,
        strategy=ctx.strategy,
        run_id=ctx.run_id,
    )


def _show(counts: Counter[str] | dict[str, int]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(counts.items()) if v) or "nothing new"


def _wc_time(value: datetime) -> str:
    """WooCommerce's ISO 8601 form for a GMT bound (`dates_are_gmt=true`)."""
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def _iso(value: datetime) -> str:
    return value.isoformat()


__all__ = [
    "Listing",
    "confirm_listing",
    "first_page_of",
    "listings",
    "pending_variations",
    "pull_page_batch",
    "pull_variations",
    "tombstone_unlisted",
]
