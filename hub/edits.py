"""Hub-side edits waiting to be pushed to the store, and what happens when both sides changed.

An edit is a dict of WooCommerce fields (`{"regular_price": "12.00", "stock_quantity": 3}`) merged into the
row's `local_changes`, with `dirty` set and `local_modified_at` stamped. The row's `data`, `content_hash` and
`date_modified_gmt` keep describing the last version seen in the store, which is how a later pull or push
tells "the store changed too" (a conflict) from "only we changed".

Strategies when both changed: `wc_priority` (the store wins), `nxt_priority` (the hub wins), `timestamp`
(the newer modification wins; a tie goes to the store), `manual` (nothing moves; a conflict is queued).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hub.models import MIRROR_TABLES, Order, SyncConflict, utcnow
from hub.records import MalformedRecord, mirror_row, product_row, strip_nul
from hub.upserts import upsert_mirror

DELETE = "__delete__"
STRATEGIES = ("timestamp", "manual", "wc_priority", "nxt_priority")
_conflicts = SyncConflict.__table__


class EditError(ValueError):
    """An edit that cannot be staged (unknown record, tombstoned record, bad field)."""


def stage_update(
    conn: Connection, resource: str, store: str, remote_id: int, changes: Mapping[str, Any]
) -> None:
    """Record hub-side field changes for one record; the next push sends them to the store."""
    if not changes or "id" in changes:
        raise EditError("changes must be a non-empty dict of WooCommerce fields, without 'id'")
    table = MIRROR_TABLES[resource].__table__
    row = conn.execute(
        sa.select(table.c.data, table.c.local_changes, table.c.deleted_at).where(
            table.c.store == store, table.c.remote_id == remote_id
        )
    ).first()
    if row is None:
        raise EditError(f"no {resource} record {remote_id} in store {store!r}")
    if row.deleted_at is not None:
        raise EditError(f"{resource} record {remote_id} was deleted in the store")
    merged = {**(row.local_changes or {}), **changes}
    preview = mirror_row(resource, {**row.data, **merged})  # validates the values (MalformedRecord)
    typed = {
        k: v
        for k, v in preview.items()
        if k not in ("remote_id", "data", "content_hash", "date_modified_gmt")
    }
    conn.execute(
        sa.update(table)
        .where(table.c.store == store, table.c.remote_id == remote_id)
        .values(**typed, local_changes=merged, local_modified_at=utcnow(), dirty=True, push_error=None)
    )


def stage_create(conn: Connection, resource: str, store: str, fields: Mapping[str, Any]) -> int:
    """Create a record in the hub; the next push creates it in the store. Returns the hub row id.

    `fields` are WooCommerce fields as the create endpoint takes them (`{"name": ..., "sku": ...,
    "regular_price": "9.99"}`; customers need `email`). A variation names its parent with `parent_id`
    (a product already in the store). The row has `remote_id` NULL until the push records the store's id;
    until then its typed columns show `fields` (an order's `total` is 0 unless given: the store computes
    it, and its answer replaces the row).

    Raises:
        EditError: unknown resource, empty fields or an `id`, a customer without email, a variation whose
            parent is not in the store, an order without a currency the hub can tell, or a value the hub
            cannot store.
    """
    if resource not in MIRROR_TABLES:
        raise EditError(f"cannot create {resource!r}; use one of {', '.join(MIRROR_TABLES)}")
    if not isinstance(fields, Mapping) or not fields or "id" in fields:
        raise EditError("fields must be a non-empty dict of WooCommerce fields, without 'id'")
    table = MIRROR_TABLES[resource].__table__
    payload = strip_nul(dict(fields))
    preview = dict(payload)
    parent: int | None = None
    try:
        if resource == "products" and (payload.get("parent_id") or payload.get("type") == "variation"):
            parent = _live_parent(conn, store, payload.get("parent_id"))
            payload.pop("parent_id", None)
            payload.pop("type", None)  # the variations endpoint makes variations
            typed = product_row({**preview, "type": "variation"}, parent_id=parent, require_id=False)
        elif resource == "orders":
            preview.setdefault("total", "0")
            if not preview.get("currency"):
                preview["currency"] = _store_currency(conn, store)
            typed = mirror_row(resource, preview, require_id=False)
        else:
            if resource == "customers" and not payload.get("email"):
                raise EditError("a customer needs an email to be created in WooCommerce")
            typed = mirror_row(resource, preview, require_id=False)
    except MalformedRecord as exc:
        raise EditError(f"cannot create this {resource[:-1]}: {exc}") from None
    now = utcnow()
    values = {k: v for k, v in typed.items() if k != "remote_id"}
    return int(
        conn.execute(
            sa.insert(table)
            .values(
                **values,
                store=store,
                remote_id=None,
                synced_at=now,
                local_changes=payload,
                local_modified_at=now,
                dirty=True,
                push_error=None,
                create_attempted_at=None,
            )
            .returning(table.c.id)
        ).scalar_one()
    )


def discard_create(conn: Connection, resource: str, store: str, row_id: int) -> None:
    """Drop a record created in the hub that no push has tried to send yet.

    Raises:
        EditError: no such unsent record, or a push already sent it (it may exist in the store: push again,
            which adopts it if it does, then delete it with `stage_delete`).
    """
    table = MIRROR_TABLES[resource].__table__
    row = conn.execute(
        sa.select(table.c.remote_id, table.c.create_attempted_at).where(
            table.c.store == store, table.c.id == row_id
        )
    ).first()
    if row is None or row.remote_id is not None:
        raise EditError(f"no {resource} created in the hub with row id {row_id} in store {store!r}")
    if row.create_attempted_at is not None:
        raise EditError(
            f"a push already sent {resource} row {row_id} to the store; push again (it is adopted if the "
            "store created it), then use stage_delete"
        )
    conn.execute(sa.delete(table).where(table.c.id == row_id))


def _live_parent(conn: Connection, store: str, parent_id: Any) -> int:
    if isinstance(parent_id, bool) or not isinstance(parent_id, int) or parent_id <= 0:
        raise EditError(f"a variation needs parent_id, the store id of its product, not {parent_id!r}")
    table = MIRROR_TABLES["products"].__table__
    found = conn.execute(
        sa.select(table.c.id).where(
            table.c.store == store, table.c.remote_id == parent_id, table.c.deleted_at.is_(None)
        )
    ).first()
    if found is None:
        raise EditError(f"parent product {parent_id} is not in store {store!r}; push or pull it first")
    return parent_id


def _store_currency(conn: Connection, store: str) -> str:
    orders = Order.__table__
    currency = conn.execute(
        sa.select(orders.c.currency)
        .where(orders.c.store == store, orders.c.remote_id.is_not(None))
        .order_by(orders.c.id.desc())
        .limit(1)
    ).scalar()
    if currency is None:
        raise EditError(f"give the order's currency: the hub has no order of store {store!r} to take it from")
    return str(currency)


def stage_delete(conn: Connection, resource: str, store: str, remote_id: int) -> None:
    """Ask the next push to delete this record in the store (WooCommerce batch delete is permanent)."""
    table = MIRROR_TABLES[resource].__table__
    done = conn.execute(
        sa.update(table)
        .where(table.c.store == store, table.c.remote_id == remote_id, table.c.deleted_at.is_(None))
        .values(local_changes={DELETE: True}, local_modified_at=utcnow(), dirty=True, push_error=None)
    ).rowcount
    if not done:
        raise EditError(f"no live {resource} record {remote_id} in store {store!r}")


def winner(
    strategy: str, local_modified_at: datetime | None, remote_modified_at: datetime | None
) -> str | None:
    """Who wins a both-sides-changed record: `wc`, `nxt`, or None for `manual`."""
    if strategy == "wc_priority":
        return "wc"
    if strategy == "nxt_priority":
        return "nxt"
    if strategy == "timestamp":
        if local_modified_at is None:
            return "wc"
        if remote_modified_at is None:
            return "nxt"
        # WooCommerce keeps whole seconds: compare at that precision, and a tie goes to the store.
        return "nxt" if local_modified_at.replace(microsecond=0) > remote_modified_at else "wc"
    if strategy == "manual":
        return None
    raise ValueError(f"unknown conflict strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")


def settle(
    conn: Connection,
    resource: str,
    store: str,
    strategy: str,
    remote_objects: Mapping[int, dict[str, Any]],
) -> dict[str, int]:
    """Apply `strategy` to records that changed in the store while the hub had unpushed edits.

    `wc` wins: the store's version overwrites the hub and the edit is dropped. `nxt` wins: the hub adopts
    the store's version as its new base and keeps the edit, so the next push sends it. `manual`: a
    conflict is queued with both versions (once per record) and neither side is touched.

    Returns counts: `wc`, `nxt`, `manual` (new conflicts queued).
    """
    table = MIRROR_TABLES[resource].__table__
    counts = {"wc": 0, "nxt": 0, "manual": 0}
    if not remote_objects:
        return counts
    rows = conn.execute(
        sa.select(table).where(table.c.store == store, table.c.remote_id.in_(list(remote_objects)))
    ).all()
    for row in rows:
        remote = remote_objects[row.remote_id]
        remote_row = mirror_row(resource, remote)
        side = winner(strategy, row.local_modified_at, remote_row["date_modified_gmt"])
        if side == "wc":
            upsert_mirror(conn, resource, store, [remote_row], overwrite_dirty=True)
        elif side == "nxt":
            rebase(conn, resource, store, remote, row.local_changes or {})
        elif open_conflict(conn, resource, store, row, remote, remote_row["date_modified_gmt"]):
            side = "manual"
        else:
            continue
        counts[side] += 1
    return counts


def rebase(
    conn: Connection, resource: str, store: str, remote: dict[str, Any], local_changes: Mapping[str, Any]
) -> None:
    """Make `remote` the hub's known store version while keeping the unpushed edit on top of it."""
    table = MIRROR_TABLES[resource].__table__
    base = mirror_row(resource, remote)
    shown = base if DELETE in local_changes else mirror_row(resource, {**remote, **local_changes})
    typed = {
        k: v for k, v in shown.items() if k not in ("remote_id", "data", "content_hash", "date_modified_gmt")
    }
    conn.execute(
        sa.update(table)
        .where(table.c.store == store, table.c.remote_id == base["remote_id"])
        .values(
            **typed,
            data=base["data"],
            content_hash=base["content_hash"],
            date_modified_gmt=base["date_modified_gmt"],
            synced_at=utcnow(),
            deleted_at=None,
        )
    )


def open_conflict(
    conn: Connection,
    resource: str,
    store: str,
    row: Any,
    remote: dict[str, Any],
    remote_modified: datetime | None,
) -> bool:
    """Queue a conflict with both versions unless one is already open for this record. True if queued."""
    already = conn.execute(
        sa.select(_conflicts.c.id).where(
            _conflicts.c.store == store,
            _conflicts.c.resource == resource,
            _conflicts.c.remote_id == row.remote_id,
            _conflicts.c.status == "open",
        )
    ).first()
    if already:
        conn.execute(
            sa.update(_conflicts)
            .where(_conflicts.c.id == already.id)
            .values(remote_version=strip_nul(remote), remote_modified_at=remote_modified)
        )
        return False
    conn.execute(
        sa.insert(_conflicts).values(
            store=store,
            resource=resource,
            remote_id=row.remote_id,
            hub_version={**row.data, **(row.local_changes or {})},
            remote_version=strip_nul(remote),
            hub_modified_at=row.local_modified_at,
            remote_modified_at=remote_modified,
            status="open",
            created_at=utcnow(),
        )
    )
    return True


def open_conflict_ids(conn: Connection, resource: str, store: str) -> set[int]:
    """Remote ids with an open conflict: push leaves them alone until a person decides."""
    return set(
        conn.execute(
            sa.select(_conflicts.c.remote_id).where(
                _conflicts.c.store == store, _conflicts.c.resource == resource, _conflicts.c.status == "open"
            )
        ).scalars()
    )


def list_conflicts(conn: Connection, store: str | None = None, status: str = "open") -> list[dict[str, Any]]:
    """Conflicts (open by default), oldest first."""
    query = sa.select(_conflicts).where(_conflicts.c.status == status).order_by(_conflicts.c.id)
    if store:
        query = query.where(_conflicts.c.store == store)
    return [dict(r._mapping) for r in conn.execute(query)]


def resolve_conflict(conn: Connection, conflict_id: int, keep: str) -> dict[str, Any]:
    """Resolve an open conflict: `keep="wc"` takes the store's version; `keep="nxt"` keeps the hub's edit
    (it is pushed by the next push run). Returns the conflict as it was."""
    if keep not in ("wc", "nxt"):
        raise EditError(f"--keep must be wc or nxt, not {keep!r}")
    conflict = conn.execute(sa.select(_conflicts).where(_conflicts.c.id == conflict_id)).first()
    if conflict is None:
        raise EditError(f"no conflict with id {conflict_id}; see `nxt conflicts list`")
    if conflict.status != "open":
        raise EditError(f"conflict {conflict_id} is already resolved ({conflict.resolution})")
    table = MIRROR_TABLES[conflict.resource].__table__
    row = conn.execute(
        sa.select(table).where(table.c.store == conflict.store, table.c.remote_id == conflict.remote_id)
    ).first()
    if keep == "wc" or row is None:
        upsert_mirror(
            conn,
            conflict.resource,
            conflict.store,
            [mirror_row(conflict.resource, conflict.remote_version)],
            overwrite_dirty=True,
        )
    else:
        rebase(conn, conflict.resource, conflict.store, conflict.remote_version, row.local_changes or {})
    conn.execute(
        sa.update(_conflicts)
        .where(_conflicts.c.id == conflict_id)
        .values(status="resolved", resolution=keep, resolved_at=utcnow())
    )
    return dict(conflict._mapping)
