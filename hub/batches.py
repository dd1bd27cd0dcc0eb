"""Writing one fetched batch of WooCommerce records into the hub, in one transaction.

`write_records` maps, upserts, replaces order children, settles conflicts and quarantines malformed
records; `commit_batch` does that and advances the listing's cursor in the same transaction. Both are plain
functions of a connection or engine; the pull tasks call them from a worker thread. No Prefect here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from hub import cursors
from hub.edits import settle
from hub.models import MIRROR_TABLES
from hub.records import MalformedRecord, customer_row, order_rows, parse_gmt, product_row
from hub.sync_runs import quarantine
from hub.upserts import replace_order_children, tombstone, upsert_mirror


@dataclass(frozen=True)
class BatchTarget:
    """Where a batch goes: the store, the hub table, the listing whose cursor it moves, and how."""

    store: str
    resource: str  # products | customers | orders
    listing: str  # cursor key: products | customers | orders | orders:trash
    incremental: bool  # cursor is a modification time (else: the next page of a full listing)
    strategy: str  # conflict resolution
    run_id: int | None


def commit_batch(
    engine: Engine,
    target: BatchTarget,
    objects: Sequence[Any],
    variations: dict[int, list[Any]],
    *,
    last_page: int,
    total_pages: int,
) -> dict[str, int]:
    """Write a batch and advance its listing's cursor in ONE transaction; return the counts."""
    counts: Counter[str] = Counter(fetched=len(objects) + sum(len(v) for v in variations.values()))
    with engine.begin() as conn:
        counts.update(write_records(conn, target, objects, variations))
        if target.incremental:
            newest = newest_modified(objects)
            if newest is not None:
                cursors.advance(conn, target.store, target.listing, modified_after=newest)
        else:
            done = last_page >= total_pages
            cursors.advance(
                conn,
                target.store,
                target.listing,
                modified_after=None,
                state={"next_page": 1 if done else last_page + 1, "complete": done},
            )
    return dict(counts)


def write_records(
    conn: Connection,
    target: BatchTarget,
    objects: Sequence[Any],
    variations: dict[int, list[Any]] | None = None,
) -> Counter[str]:
    """Upsert remote objects of one resource (and product variations) in the caller's transaction."""
    resource, store = target.resource, target.store
    counts: Counter[str] = Counter()
    rows: list[dict[str, Any]] = []
    by_id: dict[int, Any] = {}
    items: list[dict[str, Any]] = []
    refunds: list[dict[str, Any]] = []
    bad: list[tuple[Any, str, Any]] = []
    for obj in objects:
        try:
            if resource == "orders":
                parsed = order_rows(obj)
                rows.append(parsed.order)
                items += parsed.line_items
                refunds += parsed.refunds
            elif resource == "products":
                rows.append(product_row(obj))
            else:
                rows.append(customer_row(obj))
            by_id[rows[-1]["remote_id"]] = obj
        except MalformedRecord as exc:
            bad.append((obj.get("id") if isinstance(obj, dict) else None, str(exc), obj))
    for parent_id, children in (variations or {}).items():
        for obj in children:
            try:
                rows.append(product_row(obj, parent_id=parent_id))
                by_id[rows[-1]["remote_id"]] = obj
            except MalformedRecord as exc:
                bad.append((obj.get("id") if isinstance(obj, dict) else None, f"variation: {exc}", obj))
    result = upsert_mirror(conn, resource, store, rows)
    if resource == "orders":
        replace_order_children(conn, store, result.written, items, refunds)
    if variations:
        counts["tombstoned"] += _tombstone_vanished_variations(conn, store, variations)
    if result.skipped_dirty:
        settled = settle(conn, resource, store, target.strategy, {i: by_id[i] for i in result.skipped_dirty})
        counts["conflicts"] += sum(settled.values())
        counts["conflicts_manual"] += settled["manual"]
    if bad:
        quarantine(conn, store=store, resource=resource, run_id=target.run_id, items=bad)
    counts.update(
        inserted=result.inserted, updated=result.updated, unchanged=result.unchanged, quarantined=len(bad)
    )
    return counts


def newest_modified(objects: Iterable[Any]) -> datetime | None:
    """The latest `date_modified_gmt` among well-formed objects (the cursor after their batch)."""
    newest = None
    for obj in objects:
        try:
            modified = (
                parse_gmt(obj.get("date_modified_gmt"), "date_modified_gmt")
                if isinstance(obj, dict)
                else None
            )
        except MalformedRecord:
            continue
        if modified is not None and (newest is None or modified > newest):
            newest = modified
    return newest


def _tombstone_vanished_variations(conn: Connection, store: str, variations: dict[int, list[Any]]) -> int:
    """Tombstone stored variations of these parents that their fresh variation listings no longer have."""
    t = MIRROR_TABLES["products"].__table__
    listed = {c["id"] for children in variations.values() for c in children if isinstance(c, dict)}
    stored = conn.execute(
        sa.select(t.c.remote_id).where(
            t.c.store == store, t.c.parent_remote_id.in_(list(variations)), t.c.deleted_at.is_(None)
        )
    ).scalars()
    gone = [rid for rid in stored if rid not in listed]
    return tombstone(conn, "products", store, gone) if gone else 0
