"""Writing one fetched batch of WooCommerce records into the hub, in one transaction.

`write_records` maps, upserts, replaces order children, settles conflicts and quarantines records that
cannot be stored (malformed, or refused by the database: then the batch is written again one savepoint per
record); `commit_page` does that for one listing page and advances the listing's cursor in the same
transaction, and `commit_variations` stores the variation lists a product page left pending. Both are plain
functions of a connection or engine; the pull tasks call them from a worker thread. No Prefect here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from hub import cursors, pending
from hub.db import refusal_reason, savepoint
from hub.edits import settle
from hub.models import MIRROR_TABLES
from hub.records import (
    MalformedRecord,
    customer_row,
    is_variable_product,
    order_rows,
    parse_gmt,
    product_row,
)
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


def commit_page(
    engine: Engine,
    target: BatchTarget,
    objects: Sequence[Any],
    *,
    page: int,
    total_pages: int,
    unconfirmed_from: str | None = None,
) -> dict[str, int]:
    """Write one listing page and advance its listing's cursor in ONE transaction; return the counts.

    The page's variable products are recorded as pending (`hub.pending`) in the same transaction: their
    variation lists are read and committed separately (`commit_variations`), so a page never waits for
    them and a kill loses neither. Incremental listings keep `unconfirmed_from` (where the read window that
    is not yet confirmed complete starts) in the cursor's state until the listing is confirmed.
    """
    counts: Counter[str] = Counter(fetched=len(objects))
    with engine.begin() as conn:
        counts.update(write_records(conn, target, objects))
        if target.resource == "products":
            pending.add(
                conn, target.store, pending.VARIATIONS, [o["id"] for o in objects if is_variable_product(o)]
            )
        if target.incremental:
            cursors.advance(
                conn,
                target.store,
                target.listing,
                modified_after=newest_modified(objects),
                state={"unconfirmed_from": unconfirmed_from} if unconfirmed_from else {},
            )
        else:
            done = page >= total_pages
            cursors.advance(
                conn,
                target.store,
                target.listing,
                modified_after=None,
                state={"next_page": 1 if done else page + 1, "complete": done},
            )
    return dict(counts)


def commit_variations(
    engine: Engine, target: BatchTarget, variations: dict[int, list[Any]], gone: Sequence[int] = ()
) -> dict[str, int]:
    """Store the variation lists of pending variable products and mark them done, in ONE transaction.

    `gone` are parents the store no longer has (their pending entry is dropped; the parent's own listing
    or confirmation tombstones it).
    """
    counts: Counter[str] = Counter(fetched=sum(len(v) for v in variations.values()))
    with engine.begin() as conn:
        if variations:
            counts.update(write_records(conn, target, [], variations))
        pending.done(conn, target.store, pending.VARIATIONS, [*variations, *gone])
    return dict(counts)


def write_records(
    conn: Connection,
    target: BatchTarget,
    objects: Sequence[Any],
    variations: dict[int, list[Any]] | None = None,
) -> Counter[str]:
    """Upsert remote objects of one resource (and product variations) in the caller's transaction.

    Records `hub.records` refuses are quarantined with the reason. The batch is then written set-based
    inside a savepoint; if the database refuses that (a value it will not take), the batch is written
    again one savepoint per record, and each record the database refuses is quarantined with the
    database's reason. Either way the caller's transaction, and so the cursor, goes on.
    """
    batch = _parse(target.resource, objects, variations or {})
    counts: Counter[str] = Counter()
    try:
        with savepoint(conn):
            counts.update(_write(conn, target, batch))
    except DBAPIError as exc:
        if refusal_reason(exc) is None:
            raise
        for one in batch.split():
            try:
                with savepoint(conn):
                    counts.update(_write(conn, target, one))
            except DBAPIError as exc:
                reason = refusal_reason(exc)
                if reason is None:
                    raise
                rid = one.rows[0]["remote_id"]
                batch.bad.append((rid, f"the database refused it: {reason}", one.objects[rid]))
    if variations:
        counts["tombstoned"] += _tombstone_vanished_variations(conn, target.store, variations)
    if batch.bad:
        quarantine(conn, store=target.store, resource=target.resource, run_id=target.run_id, items=batch.bad)
    counts.update(quarantined=len(batch.bad))
    return counts


@dataclass
class _Batch:
    """Mapped rows of one batch, keyed by remote id (a later duplicate wins), plus what was refused."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    objects: dict[int, Any] = field(default_factory=dict)  # the cleaned remote object, for conflicts
    line_items: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    refunds: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    bad: list[tuple[Any, str, Any]] = field(default_factory=list)

    def add(self, row: dict[str, Any]) -> None:
        rid = row["remote_id"]
        if rid in self.objects:
            self.rows = [r for r in self.rows if r["remote_id"] != rid]
        self.rows.append(row)
        self.objects[rid] = row["data"]

    def split(self) -> list[_Batch]:
        """One batch per record, for the one-savepoint-per-record fallback."""
        return [
            _Batch(
                rows=[row],
                objects={row["remote_id"]: row["data"]},
                line_items={row["remote_id"]: self.line_items.get(row["remote_id"], [])},
                refunds={row["remote_id"]: self.refunds.get(row["remote_id"], [])},
            )
            for row in self.rows
        ]


def _parse(resource: str, objects: Sequence[Any], variations: dict[int, list[Any]]) -> _Batch:
    batch = _Batch()
    for obj in objects:
        try:
            if resource == "orders":
                parsed = order_rows(obj)
                batch.add(parsed.order)
                batch.line_items[parsed.order["remote_id"]] = parsed.line_items
                batch.refunds[parsed.order["remote_id"]] = parsed.refunds
            elif resource == "products":
                batch.add(product_row(obj))
            else:
                batch.add(customer_row(obj))
        except MalformedRecord as exc:
            batch.bad.append((obj.get("id") if isinstance(obj, dict) else None, str(exc), obj))
    for parent_id, children in variations.items():
        for obj in children:
            try:
                batch.add(product_row(obj, parent_id=parent_id))
            except MalformedRecord as exc:
                batch.bad.append((obj.get("id") if isinstance(obj, dict) else None, f"variation: {exc}", obj))
    return batch


def _write(conn: Connection, target: BatchTarget, batch: _Batch) -> Counter[str]:
    """The set-based write of a parsed batch: upsert, order children, conflicts."""
    resource, store = target.resource, target.store
    counts: Counter[str] = Counter()
    result = upsert_mirror(conn, resource, store, batch.rows)
    if resource == "orders":
        written = result.written
        items = [i for rid in written for i in batch.line_items.get(rid, [])]
        refunds = [r for rid in written for r in batch.refunds.get(rid, [])]
        replace_order_children(conn, store, written, items, refunds)
    if result.skipped_dirty:
        settled = settle(
            conn, resource, store, target.strategy, {i: batch.objects[i] for i in result.skipped_dirty}
        )
        counts["conflicts"] += sum(settled.values())
        counts["conflicts_manual"] += settled["manual"]
    counts.update(inserted=result.inserted, updated=result.updated, unchanged=result.unchanged)
    if result.notifications:
        counts["notifications"] += result.notifications  # the flow starts a dispatch when this is > 0
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
            t.c.store == store,
            t.c.parent_remote_id.in_(list(variations)),
            t.c.deleted_at.is_(None),
            t.c.remote_id.is_not(None),  # a variation created in the hub and not pushed yet stays
        )
    ).scalars()
    gone = [rid for rid in stored if rid not in listed]
    return tombstone(conn, "products", store, gone) if gone else 0
