"""Set-based writes to the store mirror.

One batch is one `INSERT ... ON CONFLICT (store, remote_id) DO UPDATE` statement (PostgreSQL and SQLite
both speak it), preceded by one `SELECT` of the batch's existing hashes so that unchanged rows are not
written at all and the result can say what was inserted, updated or left alone. The conflict clause
repeats the guards (hash changed or row tombstoned; row not dirty) so a concurrent writer can never make
the statement overwrite a hub-side edit or rewrite an identical row.

Mutable resources (products, customers, orders) are merged on id like this; rows that vanish from the
store get a `deleted_at` tombstone instead of being deleted, so history and foreign references survive.

Orders written here also raise their customer notifications (`hub.notifications.raise_order_events`) in
the same transaction: the statuses before the write come from the same `SELECT`, so every path that
changes the mirror (pull pages, webhook re-reads, push answers, settled conflicts) raises them, set-wise.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

from hub.dialect import upsert_insert
from hub.models import MIRROR_TABLES, OrderLineItem, OrderRefund, utcnow
from hub.notifications import raise_order_events

_IN_CHUNK = 500  # ids per IN (...) list: well under every backend's parameter limit


@dataclass
class UpsertResult:
    """What one upsert did. `written` holds the remote ids inserted or updated (children follow them)."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped_dirty: list[int] = field(default_factory=list)
    written: list[int] = field(default_factory=list)
    notifications: int = 0  # outbox rows the written orders raised

    def __iadd__(self, other: UpsertResult) -> UpsertResult:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.skipped_dirty += other.skipped_dirty
        self.written += other.written
        self.notifications += other.notifications
        return self


def upsert_mirror(
    conn: Connection,
    resource: str,
    store: str,
    rows: Sequence[Mapping[str, Any]],
    *,
    overwrite_dirty: bool = False,
) -> UpsertResult:
    """Insert or update one batch of mirror rows for `store`; skip rows whose content hash is unchanged.

    Args:
        conn: a connection inside the caller's transaction (the caller commits, then moves its cursor).
        resource: `products`, `customers` or `orders`.
        store: the store name (the WooCommerce block name).
        rows: column dicts with at least `remote_id`, `content_hash` and `data`. Later duplicates win.
        overwrite_dirty: also overwrite rows with unpushed hub edits (conflict resolution decided so).

    Returns:
        Counts, the remote ids written, the ids skipped because the hub row has unpushed edits, and (orders)
        how many notifications the written orders raised.
    """
    table = MIRROR_TABLES[resource].__table__
    batch = {int(r["remote_id"]): dict(r) for r in rows}
    if not batch:
        return UpsertResult()
    existing = _existing(conn, table, store, batch.keys())
    result = UpsertResult()
    to_write: list[dict[str, Any]] = []
    now = utcnow()
    for remote_id, row in batch.items():
        found = existing.get(remote_id)
        if found is not None:
            content_hash, deleted_at, dirty, _ = found
            if content_hash == row["content_hash"] and deleted_at is None:
                result.unchanged += 1
                continue
            if dirty and not overwrite_dirty:
                result.skipped_dirty.append(remote_id)
                continue
            result.updated += 1
        else:
            result.inserted += 1
        result.written.append(remote_id)
        to_write.append(
            {**row, "store": store, "synced_at": now, "deleted_at": None}
            | ({"dirty": False, "local_changes": None, "push_error": None} if overwrite_dirty else {})
        )
    if to_write:
        _insert_on_conflict(conn, table, to_write, overwrite_dirty=overwrite_dirty)
    if resource == "orders" and result.written:
        before = {rid: found[3] for rid, found in existing.items()}
        result.notifications = raise_order_events(
            conn, store, [(rid, before.get(rid), batch[rid]) for rid in result.written]
        )
    return result


def replace_order_children(
    conn: Connection,
    store: str,
    order_ids: Iterable[int],
    line_items: Sequence[Mapping[str, Any]],
    refunds: Sequence[Mapping[str, Any]],
) -> None:
    """Replace the line items and refunds of `order_ids` (orders just written) in two set-based steps."""
    ids = list(order_ids)
    if not ids:
        return
    for model in (OrderLineItem, OrderRefund):
        t = model.__table__
        for chunk in _chunks(ids):
            conn.execute(sa.delete(t).where(t.c.store == store, t.c.order_remote_id.in_(chunk)))
    wanted = set(ids)
    for model, rows in ((OrderLineItem, line_items), (OrderRefund, refunds)):
        keep = [{**r, "store": store} for r in rows if int(r["order_remote_id"]) in wanted]
        if keep:
            conn.execute(sa.insert(model.__table__), keep)


def tombstone(conn: Connection, resource: str, store: str, remote_ids: Iterable[int]) -> int:
    """Mark these records deleted in the store (webhook `*.deleted`, batch delete). Returns rows marked."""
    table = MIRROR_TABLES[resource].__table__
    marked = 0
    now = utcnow()
    for chunk in _chunks(list(remote_ids)):
        marked += conn.execute(
            sa.update(table)
            .where(table.c.store == store, table.c.remote_id.in_(chunk), table.c.deleted_at.is_(None))
            .values(deleted_at=now)
        ).rowcount
    return marked


def tombstone_missing(conn: Connection, resource: str, store: str, present_ids: Iterable[int]) -> int:
    """Tombstone every live row of `store` whose id is not in `present_ids` (a full listing's ids).

    The ids go through a temporary table so the anti-join is one statement however large the store is.
    """
    table = MIRROR_TABLES[resource].__table__
    present = sa.Table(
        "nxt_present_ids",
        sa.MetaData(),
        sa.Column("remote_id", sa.BigInteger, primary_key=True),
        prefixes=["TEMPORARY"],
    )
    present.create(conn, checkfirst=True)
    conn.execute(sa.delete(present))
    ids = sorted(set(int(i) for i in present_ids))
    for chunk in _chunks(ids, 5000):
        conn.execute(sa.insert(present), [{"remote_id": i} for i in chunk])
    marked = conn.execute(
        sa.update(table)
        .where(
            table.c.store == store,
            table.c.deleted_at.is_(None),
            ~table.c.remote_id.in_(sa.select(present.c.remote_id)),
        )
        .values(deleted_at=utcnow())
    ).rowcount
    present.drop(conn)
    return marked


def _existing(
    conn: Connection, table: sa.Table, store: str, ids: Iterable[int]
) -> dict[int, tuple[str, datetime | None, bool, str | None]]:
    """(hash, tombstone, dirty, status) of the stored rows among `ids`; status is None for customers."""
    status = table.c.status if "status" in table.c else sa.null()
    found: dict[int, tuple[str, datetime | None, bool, str | None]] = {}
    for chunk in _chunks(list(ids)):
        for remote_id, content_hash, deleted_at, dirty, old_status in conn.execute(
            sa.select(
                table.c.remote_id, table.c.content_hash, table.c.deleted_at, table.c.dirty, status
            ).where(table.c.store == store, table.c.remote_id.in_(chunk))
        ):
            found[int(remote_id)] = (content_hash, deleted_at, bool(dirty), old_status)
    return found


def _insert_on_conflict(
    conn: Connection, table: sa.Table, rows: list[dict[str, Any]], *, overwrite_dirty: bool
) -> None:
    columns = tuple(sorted(set().union(*(r.keys() for r in rows))))
    sql, names, processors, defaults, positional = _compiled_upsert(
        conn.dialect, table, columns, overwrite_dirty
    )
    # The statement is compiled once per shape; each row only goes through the columns' own bind
    # processors. SQLAlchemy's per-row parameter handling was most of the upsert's time for 100-row
    # batches of 3-4 KB objects (profiled in bench/woocommerce_sync.py).
    spec = list(zip(names, processors, defaults, strict=True))

    def value(row: dict[str, Any], name: str, proc: Any, default: Any) -> Any:
        raw = default() if default is not None else row.get(name)
        return proc(raw) if proc else raw

    if positional:
        params: list[Any] = [tuple(value(row, *item) for item in spec) for row in rows]
    else:
        params = [{item[0]: value(row, *item) for item in spec} for row in rows]
    conn.exec_driver_sql(sql, params)


@functools.lru_cache(maxsize=64)
def _compiled_upsert(
    dialect: Dialect, table: sa.Table, columns: tuple[str, ...], overwrite_dirty: bool
) -> tuple[str, tuple[str, ...], tuple[Any, ...], tuple[Any, ...], bool]:
    """SQL text, bind names in order, their bind processors, defaults for the columns the rows do not
    carry (Python-side column defaults, which SQLAlchemy adds to the statement), and whether the
    paramstyle is positional."""
    insert = partial(upsert_insert, dialect)
    stmt = insert(table)
    update_cols = [c for c in columns if c not in ("store", "remote_id", "id")]
    guard = sa.or_(table.c.content_hash != stmt.excluded.content_hash, table.c.deleted_at.is_not(None))
    if not overwrite_dirty:
        guard = sa.and_(guard, table.c.dirty == sa.false())
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.store, table.c.remote_id],
        set_={c: stmt.excluded[c] for c in update_cols},
        where=guard,
    )
    compiled = stmt.compile(dialect=dialect, column_keys=list(columns))
    positional = compiled.positiontup is not None
    names = tuple(compiled.positiontup) if positional else tuple(compiled.binds)
    processors = tuple(table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names)
    defaults = tuple(None if name in columns else _default_of(table.c[name]) for name in names)
    return compiled.string, names, processors, defaults, positional


def _default_of(column: sa.Column[Any]) -> Any:
    default = column.default
    if default is None:
        raise AssertionError(f"the upsert binds {column.name!r}, which has no default and no value")
    arg = getattr(default, "arg", None)  # a ColumnDefault: a scalar, or a callable taking a context
    if default.is_scalar:
        return lambda: arg
    return lambda: arg(None)  # type: ignore[misc]  # SQLAlchemy wraps zero-argument callables  # SQLAlchemy wraps zero-argument callables to take a context


def _chunks(items: Sequence[int], size: int = _IN_CHUNK) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
