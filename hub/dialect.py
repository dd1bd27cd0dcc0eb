"""INSERT ... ON CONFLICT in the hub's dialect (PostgreSQL or SQLite), written once."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect

__all__ = ["upsert_insert"]


def upsert_insert(bind: Connection | Dialect, table: sa.Table) -> Any:
    """An INSERT into `table` that has `.on_conflict_do_nothing()`, `.on_conflict_do_update()` and
    `.excluded`, for the connection's dialect (both dialects spell them the same way).

    Typed `Any`: the two dialects' Insert classes share these methods but no common type declares them.
    """
    name = bind.dialect.name if isinstance(bind, Connection) else bind.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise ValueError(f"the hub runs on PostgreSQL or SQLite, not {name}")
