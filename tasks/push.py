"""Pushing hub-side edits back to the store through WooCommerce's batch endpoints.

Before a batch is sent, the records' current `date_modified_gmt` is re-read from the store: a record that
changed there since the hub last saw it changed on both sides, and the store's conflict strategy decides
(see `hub.edits`). Per-item errors are recorded on their rows (`push_error`, still dirty) and never fail
the batch. A record pushed successfully takes the store's answer as its new mirror version.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from hub.edits import DELETE, open_conflict, open_conflict_ids, winner
from hub.models import MIRROR_TABLES
from hub.records import MalformedRecord, mirror_row, parse_gmt
from hub.upserts import tombstone, upsert_mirror
from tasks.context import SyncContext, lookup
from tasks.log import run_logger
from tasks.policy import batch_task

PUSH_RESOURCES = ("products", "customers", "orders")


def dirty_batches(ctx: SyncContext, resource: str, size: int) -> list[list[int]]:
    """Remote ids with unpushed edits (and no open conflict), in batches that share one endpoint."""
    table = MIRROR_TABLES[resource].__table__
    columns = [table.c.remote_id] + ([table.c.parent_remote_id] if resource == "products" else [])
    with ctx.engine.connect() as conn:
        held = open_conflict_ids(conn, resource, ctx.store)
        rows = conn.execute(
            sa.select(*columns)
            .where(table.c.store == ctx.store, table.c.dirty.is_(True), table.c.deleted_at.is_(None))
            .order_by(table.c.remote_id)
        ).all()
    groups: dict[int | None, list[int]] = {}
    for row in rows:
        if row.remote_id in held:
            continue
        parent = row.parent_remote_id if resource == "products" else None
        groups.setdefault(parent, []).append(row.remote_id)
    size = max(1, min(size, 100))
    return [ids[i : i + size] for ids in groups.values() for i in range(0, len(ids), size)]


@batch_task("push-batch")
async def push_batch(ctx_key: str, resource: str, remote_ids: list[int]) -> dict[str, int]:
    """Send the edits of `remote_ids` (one endpoint: a resource, or one product's variations) to the store."""
    ctx = lookup(ctx_key)
    counts = await push_records(ctx, resource, remote_ids)
    run_logger().info(
        "pushed %s %s: %s",
        len(remote_ids),
        resource,
        ", ".join(f"{k}={v}" for k, v in sorted(counts.items())),
    )
    return counts


async def push_records(ctx: SyncContext, resource: str, remote_ids: Sequence[int]) -> dict[str, int]:
    table = MIRROR_TABLES[resource].__table__
    with ctx.engine.connect() as conn:
        rows = {
            r.remote_id: r
            for r in conn.execute(
                sa.select(table).where(
                    table.c.store == ctx.store,
                    table.c.remote_id.in_(list(remote_ids)),
                    table.c.dirty.is_(True),
                )
            )
        }
    if not rows:
        return {}
    parent = next(iter(rows.values())).parent_remote_id if resource == "products" else None
    path = f"products/{parent}/variations" if parent else resource
    counts: Counter[str] = Counter()

    # 1. What does the store have now?
    params: dict[str, Any] = {"include": ",".join(map(str, rows))}
    if resource == "orders":
        params["status"] = "any"
    page = await ctx.client.list_page(path, page=1, per_page=100, params=params)
    current = {o["id"]: o for o in page.items if isinstance(o, dict) and isinstance(o.get("id"), int)}

    update: list[dict[str, Any]] = []
    delete: list[int] = []
    errors: dict[int, str] = {}
    take_remote: dict[int, Any] = {}
    with ctx.engine.begin() as conn:
        for rid, row in rows.items():
            remote = current.get(rid)
            if remote is None:
                errors[rid] = "not found in the store (deleted or trashed there); pull to refresh"
                continue
            try:
                remote_modified = parse_gmt(remote.get("date_modified_gmt"), "date_modified_gmt")
            except MalformedRecord as exc:
                errors[rid] = f"store answered a malformed record: {exc}"
                continue
            changed_there = (
                remote_modified is not None
                and row.date_modified_gmt is not None
                and remote_modified > row.date_modified_gmt
            )
            if changed_there:
                side = winner(ctx.strategy, row.local_modified_at, remote_modified)
                counts["conflicts"] += 1
                if side == "wc":
                    take_remote[rid] = remote
                    continue
                if side is None:
                    open_conflict(conn, resource, ctx.store, row, remote, remote_modified)
                    counts["conflicts_manual"] += 1
                    continue
            changes = row.local_changes or {}
            if changes.get(DELETE):
                delete.append(rid)
            else:
                update.append({"id": rid, **changes})
        if take_remote:
            upsert_mirror(
                conn,
                resource,
                ctx.store,
                [mirror_row(resource, o) for o in take_remote.values()],
                overwrite_dirty=True,
            )
        _record_errors(conn, table, ctx.store, errors)
    counts["errors"] += len(errors)
    if not update and not delete:
        ctx.counts.update(counts)
        return dict(counts)

    # 2. Send the batch (the client splits it at 100 items); per-item errors stay per item.
    result = await ctx.client.batch(path, update=update, delete=delete)
    item_errors = {
        int(e["id"]): f"{e['code']}: {e['message']}" for e in result.errors if isinstance(e.get("id"), int)
    }

    def write() -> None:
        with ctx.engine.begin() as conn:
            good = [o for o in result.updated if isinstance(o, dict)]
            if good:
                upsert_mirror(
                    conn, resource, ctx.store, [mirror_row(resource, o) for o in good], overwrite_dirty=True
                )
            deleted = [o["id"] for o in result.deleted if isinstance(o, dict) and "id" in o]
            if deleted:
                conn.execute(
                    sa.update(table)
                    .where(table.c.store == ctx.store, table.c.remote_id.in_(deleted))
                    .values(dirty=False, local_changes=None, push_error=None)
                )
                tombstone(conn, resource, ctx.store, deleted)
            _record_errors(conn, table, ctx.store, item_errors)
            counts["pushed"] += len(good) + len(deleted)

    await asyncio.to_thread(write)
    counts["errors"] += len(item_errors)
    ctx.counts.update(counts)
    return dict(counts)


def _record_errors(conn: sa.Connection, table: sa.Table, store: str, errors: dict[int, str]) -> None:
    for rid, message in errors.items():
        conn.execute(
            sa.update(table)
            .where(table.c.store == store, table.c.remote_id == rid)
            .values(push_error=message[:2000])
        )
