"""Sync cursors: where the last committed batch of (store, resource) ended.

A cursor is written with `advance()` on the SAME connection, inside the same transaction, as the batch it
covers, so a crash either keeps both or neither: a resumed run refetches at most the batch in flight.
Mutable WooCommerce resources use a `modified_after` cursor (WooCommerce's bound is exclusive, so readers
overlap it); `state` holds anything else a resource needs to resume (e.g. the page a full listing reached).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hub.dialect import upsert_insert
from hub.models import SyncCursor, utcnow

_t = SyncCursor.__table__


@dataclass(frozen=True)
class Cursor:
    modified_after: datetime | None
    state: dict[str, Any]


def read(conn: Connection, store: str, resource: str) -> Cursor:
    """The cursor of (store, resource); an empty cursor when none was saved."""
    row = conn.execute(
        sa.select(_t.c.modified_after, _t.c.state).where(_t.c.store == store, _t.c.resource == resource)
    ).first()
    if row is None:
        return Cursor(None, {})
    return Cursor(row.modified_after, dict(row.state or {}))


def advance(
    conn: Connection,
    store: str,
    resource: str,
    *,
    modified_after: datetime | None,
    state: dict[str, Any] | None = None,
) -> None:
    """Save the cursor in the caller's transaction. It never moves backwards in time."""
    insert = partial(upsert_insert, conn)
    stmt = insert(_t).values(
        store=store, resource=resource, modified_after=modified_after, state=state or {}, updated_at=utcnow()
    )
    newer = sa.case(
        (_t.c.modified_after.is_(None), stmt.excluded.modified_after),
        (stmt.excluded.modified_after.is_(None), _t.c.modified_after),
        (stmt.excluded.modified_after > _t.c.modified_after, stmt.excluded.modified_after),
        else_=_t.c.modified_after,
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[_t.c.store, _t.c.resource],
            set_={
                "modified_after": newer,
                "state": stmt.excluded.state,
                "updated_at": stmt.excluded.updated_at,
            },
        )
    )


def reset(conn: Connection, store: str, resource: str | None = None) -> None:
    """Forget the cursors of a store (or one resource of it): the next run reads everything."""
    where = [_t.c.store == store] + ([_t.c.resource == resource] if resource else [])
    conn.execute(sa.delete(_t).where(*where))
