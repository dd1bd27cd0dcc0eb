"""Bookkeeping of notification runs: one `notification_runs` row per dispatch, direct send or status
update, opened when it starts and closed with its status, counts and error (crash and cancel hooks close
what a dead run left open)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hub.models import NotificationRun, utcnow

__all__ = ["close_flow_run_runs", "finish_run", "recent_runs", "start_run"]

_t = NotificationRun.__table__


def start_run(conn: Connection, *, kind: str, flow_run_id: str | None) -> int:
    """Insert a `running` row and return its id."""
    return int(
        conn.execute(
            sa.insert(_t)
            .values(kind=kind, status="running", started_at=utcnow(), flow_run_id=flow_run_id, counts={})
            .returning(_t.c.id)
        ).scalar_one()
    )


def finish_run(
    conn: Connection, run_id: int, *, status: str, counts: Mapping[str, int], error: str | None = None
) -> int:
    """Close a run; returns its duration in milliseconds."""
    started = conn.execute(sa.select(_t.c.started_at).where(_t.c.id == run_id)).scalar_one()
    finished = utcnow()
    duration_ms = int((finished - started).total_seconds() * 1000)
    conn.execute(
        sa.update(_t)
        .where(_t.c.id == run_id)
        .values(
            status=status,
            finished_at=finished,
            duration_ms=duration_ms,
            counts=dict(counts),
            error=error[:2000] if error else None,
        )
    )
    return duration_ms


def close_flow_run_runs(conn: Connection, flow_run_id: str, reason: str) -> int:
    """Close the rows a crashed or cancelled flow run left `running`; returns how many."""
    return int(
        conn.execute(
            sa.update(_t)
            .where(_t.c.flow_run_id == flow_run_id, _t.c.status == "running")
            .values(status="crashed", finished_at=utcnow(), error=reason[:2000])
        ).rowcount
    )


def recent_runs(conn: Connection, kind: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """The newest runs, newest first."""
    query = sa.select(_t).order_by(_t.c.id.desc()).limit(limit)
    if kind:
        query = query.where(_t.c.kind == kind)
    return [dict(r._mapping) for r in conn.execute(query)]
