"""Pulling WooCommerce pages into the hub: retryable tasks, one per page batch.

A listing (products, customers, orders, trashed orders) is read as page 1 (which tells the page count) and
then batches of pages. Batches fetch concurrently, but commit strictly in page order, each in ONE
transaction that also advances the listing's cursor, so a run killed at any point resumes from the last
committed batch. Incremental listings ask for `modified_after = cursor - 1 s` ordered by modification time
(WooCommerce's bound is exclusive, so the overlap keeps records modified at the boundary second); rows
whose content hash did not change are not written. Customers have no modified filter and are listed in
full; their cursor is the next page, so an interrupted listing continues where it stopped.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from prefect.runtime import task_run

from hub import cursors
from hub.batches import BatchTarget, commit_batch, write_records
from hub.models import MIRROR_TABLES
from hub.records import is_variable_product
from hub.upserts import tombstone_missing
from tasks.context import SyncContext, lookup
from tasks.log import run_logger
from tasks.policy import batch_task

OVERLAP = timedelta(seconds=1)


@dataclass(frozen=True)
class Listing:
    """One paged read of a resource with fixed parameters for the whole run."""

    name: str  # cursor key: products | customers | orders | orders:trash
    resource: str  # hub table
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    incremental: bool = True  # cursor is a modification time (else: the next page of a full listing)


def listings(resource: str, conn: sa.Connection, store: str, *, force: bool) -> list[Listing]:
    """The listings that bring `resource` up to date, with windows taken from the saved cursors."""

    def window(name: str) -> dict[str, Any]:
        after = None if force else cursors.read(conn, store, name).modified_after
        params: dict[str, Any] = {"orderby": "modified", "order": "asc", "dates_are_gmt": "true"}
        if after is not None:
            params["modified_after"] = _wc_time(after - OVERLAP)
        return params

    if resource == "products":
        return [Listing("products", "products", "products", window("products"))]
    if resource == "orders":
        return [
            Listing("orders", "orders", "orders", window("orders")),
            # `status=any` (the default) leaves trashed orders out; read them on their own.
            Listing("orders:trash", "orders", "orders", {**window("orders:trash"), "status": "trash"}),
        ]
    if resource == "customers":
        return [
            Listing(
                "customers", "customers", "customers", {"orderby": "id", "order": "asc"}, incremental=False
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


def _batch_run_name() -> str:
    """`orders pages 3-10` (what the UI shows for a task run)."""
    params = task_run.parameters
    pages = params.get("pages") or [0]
    listing = params.get("listing")
    name = getattr(listing, "name", "listing")
    return f"{name} page {pages[0]}" if len(pages) == 1 else f"{name} pages {pages[0]}-{pages[-1]}"


@batch_task("pull-page-batch", task_run_name=_batch_run_name)
async def pull_page_batch(ctx_key: str, listing: Listing, pages: list[int]) -> dict[str, int]:
    """Fetch `pages` of `listing` concurrently, then commit them (after the batch before) in one transaction.

    Returns:
        This batch's counts, plus `total` and `total_pages` as the store reported them.
    """
    ctx = lookup(ctx_key)
    logger = run_logger()
    fetched = await fetch_pages(ctx, listing, pages)
    counts = await commit_in_turn(ctx, listing, pages, fetched)
    logger.info(
        "%s pages %s-%s: %s",
        listing.name,
        pages[0],
        pages[-1],
        ", ".join(
            f"{k}={v}"
            for k, v in sorted(counts.items())
            if k not in ("total", "total_pages", "last_page_items")
        ),
    )
    return counts


@dataclass
class Fetched:
    """A fetched page batch: the pages in order and, for products, each variable product's variations."""

    pages: list[Any]
    variations: dict[int, list[Any]] = field(default_factory=dict)


async def fetch_pages(ctx: SyncContext, listing: Listing, pages: Sequence[int]) -> Fetched:
    """Fetch `pages` of `listing` concurrently (and the variations of variable products on them)."""
    results = await asyncio.gather(
        *(
            ctx.client.list_page(listing.path, page=p, per_page=ctx.per_page, params=listing.params)
            for p in pages
        )
    )
    fetched = Fetched(list(results))
    if listing.resource == "products":
        parents = [o["id"] for page in results for o in page.items if is_variable_product(o)]
        if parents:
            children = await asyncio.gather(*(ctx.client.variations(pid) for pid in parents))
            fetched.variations = dict(zip(parents, children, strict=True))
    return fetched


async def commit_in_turn(
    ctx: SyncContext, listing: Listing, pages: Sequence[int], fetched: Fetched
) -> dict[str, int]:
    """Wait until every earlier batch of `listing` committed, then commit this one and pass the turn on."""
    cond = ctx.condition(listing.name)
    async with cond:
        await cond.wait_for(lambda: ctx._turns.get(listing.name, pages[0]) >= pages[0])
    first = fetched.pages[0]
    counts = await asyncio.to_thread(store_pages, ctx, listing, fetched)
    ctx.seen.setdefault(listing.name, set()).update(
        o["id"]
        for page in fetched.pages
        for o in page.items
        if isinstance(o, dict) and isinstance(o.get("id"), int)
    )
    ctx.counts.update(counts)
    async with cond:
        ctx._turns[listing.name] = pages[-1] + 1
        cond.notify_all()
    ctx.pages_committed(listing.resource, len(pages))
    last_items = len(fetched.pages[-1].items)
    return {**counts, "total": first.total, "total_pages": first.total_pages, "last_page_items": last_items}


def store_pages(ctx: SyncContext, listing: Listing, fetched: Fetched) -> dict[str, int]:
    """Commit a batch in this process: records, conflicts, quarantine and the cursor in one transaction."""
    last = fetched.pages[-1]
    with ctx.write_lock:
        return commit_batch(
            ctx.engine,
            _target(ctx, listing),
            [o for page in fetched.pages for o in page.items],
            fetched.variations,
            last_page=last.page,
            total_pages=last.total_pages,
        )


def _target(ctx: SyncContext, listing: Listing) -> BatchTarget:
    return BatchTarget(
        store=ctx.store,
        resource=listing.resource,
        listing=listing.name,
        incremental=listing.incremental,
        strategy=ctx.strategy,
        run_id=ctx.run_id,
    )


async def catch_up(ctx: SyncContext, listing: Listing, expected: int) -> dict[str, int]:
    """Fetch records the paged read skipped because the listing shifted while it was read.

    Offset paging over a changing set can skip a record at a page boundary (another one moved away).
    When fewer distinct ids were seen than page 1 announced, list only the ids (`_fields=id`) and fetch
    what is missing with `include`.
    """
    seen = ctx.seen.get(listing.name, set())
    if len(seen) >= expected:
        return {}
    ids: set[int] = set()
    async for page in ctx.client.iter_pages(
        listing.path, per_page=100, params={**listing.params, "_fields": "id"}
    ):
        ids.update(o["id"] for o in page.items if isinstance(o, dict) and isinstance(o.get("id"), int))
    missing = sorted(ids - seen)
    counts: Counter[str] = Counter(catch_up_missing=len(missing))
    for start in range(0, len(missing), 100):
        chunk = missing[start : start + 100]
        page = await ctx.client.list_page(
            listing.path,
            page=1,
            per_page=100,
            params={k: v for k, v in listing.params.items() if k in ("status",)}
            | {"include": ",".join(map(str, chunk))},
        )
        objects = page.items
        variations: dict[int, list[Any]] = {}
        if listing.resource == "products":
            for o in objects:
                if is_variable_product(o):
                    variations[o["id"]] = await ctx.client.variations(o["id"])

        def write(
            objects: list[Any] = objects, variations: dict[int, list[Any]] = variations
        ) -> Counter[str]:
            with ctx.write_lock, ctx.engine.begin() as conn:
                return write_records(conn, _target(ctx, listing), objects, variations)

        counts.update(await asyncio.to_thread(write))
        seen.update(chunk)
    ctx.counts.update(counts)
    return dict(counts)


def tombstone_unlisted(ctx: SyncContext, resource: str, listing_names: Iterable[str]) -> int:
    """After a complete listing of a resource, tombstone hub rows the store no longer has."""
    present: set[int] = set()
    for name in listing_names:
        present |= ctx.seen.get(name, set())
    with ctx.engine.begin() as conn:
        if resource == "products":
            # Variations are not in the product listing; they are tombstoned with their parent's listing.
            t = MIRROR_TABLES["products"].__table__
            parents_only = sa.select(t.c.remote_id).where(
                t.c.store == ctx.store, t.c.parent_remote_id.is_not(None)
            )
            present |= set(conn.execute(parents_only).scalars())
        marked = tombstone_missing(conn, resource, ctx.store, present)
    ctx.counts["tombstoned"] += marked
    return marked


def _wc_time(value: datetime) -> str:
    """WooCommerce's ISO 8601 form for a GMT bound (`dates_are_gmt=true`)."""
    return value.strftime("%Y-%m-%dT%H:%M:%S")
