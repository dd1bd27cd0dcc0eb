"""Sync-run bookkeeping: one `sync_runs` row per run, quarantined records, and the status JSON that the
old service served at `GET /api/integrations/woocommerce/status` and `.../sync/history`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from hub.models import SyncQuarantine, SyncRun, utcnow
from hub.records import strip_nul

_runs = SyncRun.__table__


def start_run(
    conn: Connection, *, store: str, sync_type: str, direction: str, flow_run_id: str | None
) -> int:
    """Insert a `running` sync-run row and return its id."""
    return int(
        conn.execute(
            sa.insert(_runs)
            .values(
                store=store,
                sync_type=sync_type,
                direction=direction,
                status="running",
                started_at=utcnow(),
                flow_run_id=flow_run_id,
                counts={},
            )
            .returning(_runs.c.id)
        ).scalar_one()
    )


def finish_run(
    conn: Connection, run_id: int, *, status: str, counts: Mapping[str, int], error: str | None = None
) -> int:
    """Close a run: status, counts, error and duration. Returns the duration in milliseconds."""
    started = conn.execute(sa.select(_runs.c.started_at).where(_runs.c.id == run_id)).scalar_one()
    finished = utcnow()
    duration_ms = int((finished - started).total_seconds() * 1000)
    conn.execute(
        sa.update(_runs)
        .where(_runs.c.id == run_id)
        .values(
            status=status, finished_at=finished, duration_ms=duration_ms, counts=dict(counts), error=error
        )
    )
    return duration_ms


def running_runs(conn: Connection, store: str) -> list[tuple[int, str | None]]:
    """(id, flow-run id) of the store's runs still marked running."""
    return [
        (int(r.id), r.flow_run_id)
        for r in conn.execute(
            sa.select(_runs.c.id, _runs.c.flow_run_id).where(
                _runs.c.store == store, _runs.c.status == "running"
            )
        )
    ]


def mark_crashed(conn: Connection, run_id: int, reason: str) -> None:
    """Close a run whose process died without closing it (killed, out of memory, machine lost)."""
    conn.execute(
        sa.update(_runs)
        .where(_runs.c.id == run_id, _runs.c.status == "running")
        .values(status="crashed", finished_at=utcnow(), error=reason)
    )


def close_flow_run_runs(conn: Connection, flow_run_id: str, reason: str) -> int:
    """Close the runs a flow run left `running` (its crash or cancel hook); returns how many."""
    return int(
        conn.execute(
            sa.update(_runs)
            .where(_runs.c.flow_run_id == flow_run_id, _runs.c.status == "running")
            .values(status="crashed", finished_at=utcnow(), error=reason[:2000])
        ).rowcount
    )


def quarantine(
    conn: Connection, *, store: str, resource: str, run_id: int | None, items: Sequence[tuple[Any, str, Any]]
) -> None:
    """Keep records that could not be mirrored: `(remote_id or None, reason, payload)` each.

    Payloads and reasons are stored without NUL characters (PostgreSQL refuses them in jsonb and text).
    """
    if not items:
        return
    now = utcnow()
    conn.execute(
        sa.insert(SyncQuarantine.__table__),
        [
            {
                "store": store,
                "resource": resource,
                "remote_id": None if rid is None else str(rid)[:64],
                "reason": strip_nul(reason),
                "payload": strip_nul(payload) if isinstance(payload, dict) else {"value": repr(payload)},
                "sync_run_id": run_id,
                "created_at": now,
            }
            for rid, reason, payload in items
        ],
    )


def status(engine: Engine, store: str) -> dict[str, Any]:
    """`stats` and `syncState` of the old status endpoint, computed from `sync_runs`."""
    with engine.connect() as conn:
        agg = conn.execute(
            sa.select(
                sa.func.count().filter(_runs.c.status != "running"),
                sa.func.count().filter(_runs.c.status == "completed"),
                sa.func.count().filter(_runs.c.status.in_(("failed", "crashed"))),
                sa.func.avg(_runs.c.duration_ms).filter(_runs.c.status == "completed"),
                sa.func.count().filter(_runs.c.status == "running"),
                sa.func.max(_runs.c.finished_at).filter(
                    _runs.c.status == "completed", _runs.c.sync_type == "full"
                ),
            ).where(_runs.c.store == store)
        ).one()
        last_duration = conn.execute(
            sa.select(_runs.c.duration_ms)
            .where(_runs.c.store == store, _runs.c.status != "running")
            .order_by(_runs.c.finished_at.desc())
            .limit(1)
        ).scalar()
    total, ok, failed, avg, running, last_full = agg
    return {
        "stats": {
            "totalSyncs": total,
            "successfulSyncs": ok,
            "failedSyncs": failed,
            "lastSyncDuration": last_duration,
            "avgSyncDuration": round(avg) if avg is not None else None,
        },
        "syncState": {
            "isRunning": running > 0,
            "activeSyncs": running,
            "lastFullSync": _iso(last_full),
        },
    }


def history(engine: Engine, store: str, limit: int = 50) -> list[dict[str, Any]]:
    """The newest sync runs of `store`, newest first, as JSON-friendly dicts."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(_runs).where(_runs.c.store == store).order_by(_runs.c.id.desc()).limit(limit)
        ).all()
    return [
        {
            "id": r.id,
            "store": r.store,
            "syncType": r.sync_type,
            "direction": r.direction,
            "status": r.status,
            "startedAt": _iso(r.started_at),
            "finishedAt": _iso(r.finished_at),
            "duration": r.duration_ms,
            "flowRunId": r.flow_run_id,
            "counts": r.counts,
            "error": r.error,
        }
        for r in rows
    ]


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat(timespec="milliseconds").replace("+00:00", "Z")
