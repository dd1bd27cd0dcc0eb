"""Leases in the hub: at most one holder of a name (e.g. one store's sync) at a time, across processes.

A lease is a `sync_locks` row: `name`, `owner`, `acquired_at`, `expires_at`. `acquire` is ONE statement,
`INSERT ... ON CONFLICT (name) DO UPDATE ... WHERE the lease expired or is the caller's RETURNING owner`,
so two processes racing for a name cannot both win (PostgreSQL re-checks the condition on the row it
waited for; SQLite runs one writer at a time). A holder that dies stops renewing, and its lease is taken
once it expires; `release` is refused to anyone but the owner, so a run that lost its lease cannot free
the next run's.

Time is the database's clock on PostgreSQL (several hosts agree on it) and this host's on SQLite (a file
on this host). Every function takes an engine (its own transaction, committed at once) or a connection
(the caller's transaction, committed by the caller).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from hub.db import transaction
from hub.dialect import upsert_insert
from hub.models import SyncLock, utcnow
from hub.types import UTCDateTime

_t = SyncLock.__table__
_MAX = 200  # characters of a name or owner (the columns' size)


@dataclass(frozen=True)
class LockHolder:
    """Who holds a lease, since when, and until when unless renewed."""

    name: str
    owner: str
    acquired_at: datetime
    expires_at: datetime

    def describe(self) -> str:
        """One line for an error message: `run X has held it since ... (lease until ...)`."""
        return (
            f"{self.owner} has held it since {self.acquired_at.isoformat(timespec='seconds')} "
            f"(lease until {self.expires_at.isoformat(timespec='seconds')})"
        )


def store_sync_lock(store: str) -> str:
    """The lease name for syncing one store."""
    return f"woocommerce-sync:{store}"


def acquire(bind: Engine | Connection, name: str, owner: str, ttl_s: float) -> bool:
    """Take the lease `name` for `ttl_s` seconds if it is free, expired, or already `owner`'s.

    Taking one's own lease again extends it and keeps its `acquired_at`. Returns True when `owner` holds
    the lease afterwards.
    """
    _check(name, owner, ttl_s)
    with transaction(bind) as conn:
        now, expires = _now_and_expiry(conn, ttl_s)
        insert = partial(upsert_insert, conn)
        stmt = insert(_t).values(name=name, owner=owner, acquired_at=now, expires_at=expires)
        stmt = stmt.on_conflict_do_update(
            index_elements=[_t.c.name],
            set_={
                "owner": stmt.excluded.owner,
                "acquired_at": sa.case(
                    (_t.c.owner == stmt.excluded.owner, _t.c.acquired_at), else_=stmt.excluded.acquired_at
                ),
                "expires_at": stmt.excluded.expires_at,
            },
            # `excluded.acquired_at` is this statement's "now".
            where=sa.or_(_t.c.expires_at <= stmt.excluded.acquired_at, _t.c.owner == stmt.excluded.owner),
        ).returning(_t.c.owner)
        return conn.execute(stmt).first() is not None


def renew(bind: Engine | Connection, name: str, owner: str, ttl_s: float) -> bool:
    """Extend `owner`'s lease to `ttl_s` seconds from now. False when `owner` no longer holds it."""
    _check(name, owner, ttl_s)
    with transaction(bind) as conn:
        _, expires = _now_and_expiry(conn, ttl_s)
        done = conn.execute(
            sa.update(_t).where(_t.c.name == name, _t.c.owner == owner).values(expires_at=expires)
        ).rowcount
        return bool(done)


def release(bind: Engine | Connection, name: str, owner: str) -> bool:
    """Give the lease up. Only its owner can; False for anyone else or when it is not held."""
    with transaction(bind) as conn:
        return bool(conn.execute(sa.delete(_t).where(_t.c.name == name, _t.c.owner == owner)).rowcount)


def holder(bind: Engine | Connection, name: str) -> LockHolder | None:
    """Who holds the lease now, or None (never taken, released, or expired)."""
    with transaction(bind) as conn:
        now, _ = _now_and_expiry(conn, 0)
        row = conn.execute(
            sa.select(_t.c.owner, _t.c.acquired_at, _t.c.expires_at).where(
                _t.c.name == name, _t.c.expires_at > now
            )
        ).first()
    return None if row is None else LockHolder(name, row.owner, row.acquired_at, row.expires_at)


def _check(name: str, owner: str, ttl_s: float) -> None:
    if not name or len(name) > _MAX:
        raise ValueError(f"a lock name has 1 to {_MAX} characters, not {len(name)}")
    if not owner or len(owner) > _MAX:
        raise ValueError(f"a lock owner has 1 to {_MAX} characters, not {len(owner)}")
    if not ttl_s > 0:
        raise ValueError(f"ttl_s must be a positive number of seconds, not {ttl_s!r}")


def _now_and_expiry(conn: Connection, ttl_s: float) -> tuple[Any, Any]:
    if conn.dialect.name == "postgresql":
        now = sa.func.statement_timestamp()
        return now, now + sa.func.make_interval(0, 0, 0, 0, 0, 0, float(ttl_s))
    current = utcnow()
    return (
        sa.literal(current, UTCDateTime()),
        sa.literal(current + timedelta(seconds=ttl_s), UTCDateTime()),
    )
