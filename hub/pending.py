"""Work a committed page left for later, kept in the hub so a killed run cannot lose it.

Today one kind: `variations`, the variable products whose variation lists are still to be read. A product
page adds its variable products in the transaction that stores the page; the transaction that stores a
product's variations removes it. A run starts with whatever an earlier run left.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hub.dialect import upsert_insert
from hub.models import SyncPending, utcnow

VARIATIONS = "variations"

_t = SyncPending.__table__


def add(conn: Connection, store: str, kind: str, remote_ids: Iterable[int]) -> None:
    """Record pending work (already pending ids are left as they are)."""
    rows = [{"store": store, "kind": kind, "remote_id": int(i), "created_at": utcnow()} for i in remote_ids]
    if not rows:
        return
    insert = partial(upsert_insert, conn)
    conn.execute(
        insert(_t).on_conflict_do_nothing(index_elements=[_t.c.store, _t.c.kind, _t.c.remote_id]), rows
    )


def done(conn: Connection, store: str, kind: str, remote_ids: Iterable[int]) -> None:
    """Remove work that has been done, in the transaction that stored its result."""
    ids = [int(i) for i in remote_ids]
    for start in range(0, len(ids), 500):
        conn.execute(
            sa.delete(_t).where(
                _t.c.store == store, _t.c.kind == kind, _t.c.remote_id.in_(ids[start : start + 500])
            )
        )


def pending(conn: Connection, store: str, kind: str) -> list[int]:
    """What is still to do, oldest first."""
    return list(
        conn.execute(
            sa.select(_t.c.remote_id)
            .where(_t.c.store == store, _t.c.kind == kind)
            .order_by(_t.c.created_at, _t.c.remote_id)
        ).scalars()
    )
