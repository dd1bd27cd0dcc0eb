"""Where reconciliation's results live: `reconciliation_runs` rows, `reconciliation_items` kept across runs.

An item's `item_key` is `category|gateway|store|order id|gateway id[|extra]` (the ids involved), unique, so
re-running a window updates the items it finds again instead of adding them twice. Writing one window's
findings is four set-based statements in one transaction:

1. the findings go into a temporary table (SQLite `executemany`, PostgreSQL `COPY`);
2. `INSERT ... SELECT ... ON CONFLICT (item_key) DO UPDATE`: new items are inserted; items found again
   take the new values and `last_seen_at`/`last_run_id`, and become `pending` or `open` again if they had
   been resolved automatically; items a person resolved (`resolution = 'manual'`) stay resolved;
3. items of the same gateway and store that are `pending` or `open`, whose anchor lies in the window
   (`occurred_at` in it, or an anchor the window covered though its time is outside it) and that this run
   did not find, are resolved automatically (`resolution = 'auto'`, `resolved_by = 'reconciliation'`):
   the record that was missing arrived, or the side that was wrong was corrected;
4. the temporary tables are dropped.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hub.dialect import upsert_insert
from hub.models import ReconciliationItem, ReconciliationRun, utcnow
from hub.reconciliation._classify import ITEM_COLUMNS
from hub.reconciliation._read import NO_ORDER
from hub.reconciliation.settings import ReconciliationError, Window
from hub.types import UTCDateTime

_runs = ReconciliationRun.__table__
_items = ReconciliationItem.__table__
_FINDINGS = "nxt_recon_findings"
_EXTRAS = "nxt_recon_extras"
REPORT_COLUMNS = [
    "id",
    "category",
    "status",
    "severity",
    "gateway",
    "store",
    "order_id",
    "gateway_id",
    "related_id",
    "expected_minor",
    "actual_minor",
    "currency",
    "order_currency",
    "message",
    "occurred_at",
    "evidence_at",
    "first_seen_at",
    "last_seen_at",
    "resolution",
    "resolved_at",
    "resolved_by",
    "note",
    "item_key",
]


# --- runs --------------------------------------------------------------------------------------------------
def start_run(
    conn: Connection, *, gateway: str, store: str, window: Window, flow_run_id: str | None = None
) -> int:
    """Insert a `running` reconciliation run and return its id."""
    return int(
        conn.execute(
            sa.insert(_runs)
            .values(
                gateway=gateway,
                store=store,
                window_start=window.start,
                window_end=window.end,
                status="running",
                started_at=utcnow(),
                flow_run_id=flow_run_id,
                summary={},
            )
            .returning(_runs.c.id)
        ).scalar_one()
    )


def finish_run(
    conn: Connection, run_id: int, *, status: str, summary: Mapping[str, Any], error: str | None = None
) -> None:
    """Close a run with its status, summary and error (one line)."""
    conn.execute(
        sa.update(_runs)
        .where(_runs.c.id == run_id)
        .values(status=status, finished_at=utcnow(), summary=dict(summary), error=error)
    )


def close_flow_run_runs(conn: Connection, flow_run_id: str, reason: str) -> int:
    """Mark `crashed` the runs of a flow run that are still `running` (its crash or cancel hook)."""
    return int(
        conn.execute(
            sa.update(_runs)
            .where(_runs.c.flow_run_id == flow_run_id, _runs.c.status == "running")
            .values(status="crashed", finished_at=utcnow(), error=reason[:1000])
        ).rowcount
    )


# --- items -------------------------------------------------------------------------------------------------
def _time_text(epoch: pd.Series, pg: bool) -> pd.Series:
    """Epoch seconds as the text a UTCDateTime column holds (SQLite) or a timestamptz literal (COPY)."""
    stamps = pd.to_datetime(epoch.astype(np.int64), unit="s")
    if pg:
        return stamps.dt.strftime("%Y-%m-%d %H:%M:%S+00")
    return stamps.dt.strftime("%Y-%m-%d %H:%M:%S.000000")


def _temp_tables(conn: Connection) -> tuple[sa.Table, sa.Table]:
    meta = sa.MetaData()
    big = sa.BigInteger
    findings = sa.Table(
        _FINDINGS,
        meta,
        sa.Column("item_key", sa.String(1000), primary_key=True),
        sa.Column("category", sa.String(40)),
        sa.Column("severity", sa.String(10)),
        sa.Column("status", sa.String(10)),
        sa.Column("gateway", sa.String(30)),
        sa.Column("store", sa.String(100)),
        sa.Column("order_id", big),
        sa.Column("gateway_id", sa.String(255)),
        sa.Column("related_id", sa.String(255)),
        sa.Column("anchor_id", sa.String(400)),
        sa.Column("expected_minor", big),
        sa.Column("actual_minor", big),
        sa.Column("currency", sa.String(10)),
        sa.Column("order_currency", sa.String(10)),
        sa.Column("message", sa.Text),
        sa.Column("occurred_at", UTCDateTime()),
        sa.Column("evidence_at", UTCDateTime()),
        prefixes=["TEMPORARY"],
    )
    extras = sa.Table(
        _EXTRAS, meta, sa.Column("anchor_id", sa.String(400), primary_key=True), prefixes=["TEMPORARY"]
    )
    for table in (findings, extras):
        table.drop(conn, checkfirst=True)
        table.create(conn)
    return findings, extras


def _load(conn: Connection, table: sa.Table, frame: pd.DataFrame) -> None:
    """Bulk-load `frame` (columns named as the table's) into a temporary table."""
    if not len(frame):
        return
    columns = list(frame.columns)
    driver = conn.connection.driver_connection
    assert driver is not None
    if conn.dialect.name == "postgresql":
        buf = io.StringIO()
        frame.to_csv(buf, index=False, header=False, na_rep="\\N", quoting=csv.QUOTE_MINIMAL)
        with driver.cursor() as cur:  # type: ignore[attr-defined]
            with cur.copy(
                f"COPY {table.name} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
            ) as copy:
                copy.write(buf.getvalue())
        return
    rows = list(frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None))
    cur = driver.cursor()
    try:
        cur.executemany(
            f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", rows
        )
    finally:
        cur.close()


def persist_items(
    conn: Connection,
    items: pd.DataFrame,
    *,
    gateway: str,
    store: str,
    window: Window,
    run_id: int,
    extra_anchors: Sequence[str],
    now: datetime,
) -> dict[str, int]:
    """Write one window's findings (see the module docstring); return what changed.

    Counts: `new` items, `reopened` (resolved automatically before, found again), `kept_resolved`
    (resolved by a person, found again: they stay resolved), `updated` (still open or pending),
    `auto_resolved` (not found again).
    """
    pg = conn.dialect.name == "postgresql"
    findings, extras = _temp_tables(conn)
    frame = items[ITEM_COLUMNS].copy()
    frame["order_id"] = frame["order_id"].astype(object).where(frame["order_id"] != NO_ORDER, None)
    for column in ("gateway_id", "related_id", "currency", "order_currency"):
        frame[column] = frame[column].where(frame[column] != "", None)
    for column in ("occurred_at", "evidence_at"):
        frame[column] = _time_text(frame[column], pg)
    for column in ("expected_minor", "actual_minor"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    _load(conn, findings, frame)
    _load(conn, extras, pd.DataFrame({"anchor_id": sorted(set(extra_anchors))}))

    counts = dict.fromkeys(("new", "reopened", "kept_resolved", "updated", "auto_resolved"), 0)
    f, i = findings, _items
    for status, resolution, n in conn.execute(
        sa.select(i.c.status, i.c.resolution, sa.func.count())
        .select_from(f.outerjoin(i, i.c.item_key == f.c.item_key))
        .group_by(i.c.status, i.c.resolution)
    ):
        if status is None:
            counts["new"] += n
        elif resolution == "manual":
            counts["kept_resolved"] += n
        elif status == "resolved":
            counts["reopened"] += n
        else:
            counts["updated"] += n

    seen = sa.literal(now, UTCDateTime())
    columns = list(ITEM_COLUMNS)
    insert = partial(upsert_insert, conn)
    select = sa.select(
        *(f.c[c] for c in columns),
        seen.label("first_seen_at"),
        seen.label("last_seen_at"),
        sa.literal(run_id, sa.BigInteger).label("first_run_id"),
        sa.literal(run_id, sa.BigInteger).label("last_run_id"),
    ).where(sa.true())  # SQLite needs a WHERE before ON CONFLICT in INSERT ... SELECT
    stmt = insert(i).from_select(
        [*columns, "first_seen_at", "last_seen_at", "first_run_id", "last_run_id"], select
    )
    ex = stmt.excluded
    manual = i.c.resolution == "manual"
    stmt = stmt.on_conflict_do_update(
        index_elements=[i.c.item_key],
        set_={
            **{c: ex[c] for c in columns if c not in ("item_key", "status", "category", "gateway", "store")},
            "status": sa.case((manual, i.c.status), else_=ex.status),
            "resolution": sa.case((manual, i.c.resolution), else_=sa.null()),
            "resolved_at": sa.case((manual, i.c.resolved_at), else_=sa.null()),
            "resolved_by": sa.case((manual, i.c.resolved_by), else_=sa.null()),
            "last_seen_at": ex.last_seen_at,
            "last_run_id": ex.last_run_id,
        },
    )
    if len(frame):
        conn.execute(stmt)

    in_window = sa.and_(i.c.occurred_at >= window.start, i.c.occurred_at < window.end)
    covered = sa.or_(in_window, i.c.anchor_id.in_(sa.select(extras.c.anchor_id)))
    counts["auto_resolved"] = int(
        conn.execute(
            sa.update(i)
            .where(
                i.c.gateway == gateway,
                i.c.store == store,
                i.c.status.in_(("open", "pending")),
                covered,
                ~sa.exists().where(f.c.item_key == i.c.item_key),
            )
            .values(status="resolved", resolution="auto", resolved_at=now, resolved_by="reconciliation")
        ).rowcount
    )
    findings.drop(conn)
    extras.drop(conn)
    return counts


def resolve_items(conn: Connection, item_ids: Iterable[int], *, by: str, note: str | None = None) -> int:
    """Resolve items by hand: they stay resolved whatever later runs find. Returns the items changed.

    Raises:
        ReconciliationError: `by` is empty (say who decided).
    """
    if not by or not by.strip():
        raise ReconciliationError("say who resolves the items (by=...)")
    ids = sorted({int(x) for x in item_ids})
    changed = 0
    for start in range(0, len(ids), 500):
        changed += conn.execute(
            sa.update(_items)
            .where(_items.c.id.in_(ids[start : start + 500]))
            .where(sa.or_(_items.c.resolution.is_(None), _items.c.resolution != "manual"))
            .values(
                status="resolved",
                resolution="manual",
                resolved_at=utcnow(),
                resolved_by=by.strip()[:200],
                note=note,
            )
        ).rowcount
    return int(changed)


def run_items(
    conn: Connection, run_ids: Sequence[int], *, statuses: Sequence[str] = ("open",), limit: int | None = None
) -> list[dict[str, Any]]:
    """Items the runs found, in the given statuses, worst first (category order, then time)."""
    if not run_ids:
        return []
    query = (
        sa.select(*(_items.c[c] for c in REPORT_COLUMNS))
        .where(_items.c.last_run_id.in_(list(run_ids)), _items.c.status.in_(list(statuses)))
        .order_by(_items.c.gateway, _items.c.category, _items.c.occurred_at, _items.c.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [dict(row._mapping) for row in conn.execute(query)]


def count_items(conn: Connection, run_ids: Sequence[int], *, statuses: Sequence[str] = ("open",)) -> int:
    if not run_ids:
        return 0
    return int(
        conn.execute(
            sa.select(sa.func.count())
            .select_from(_items)
            .where(_items.c.last_run_id.in_(list(run_ids)), _items.c.status.in_(list(statuses)))
        ).scalar_one()
    )


def write_csv(
    conn: Connection,
    run_ids: Sequence[int],
    path: str | Path,
    *,
    statuses: Sequence[str] = ("open", "pending"),
) -> int:
    """Write the runs' items (breaks and pending ones) to a CSV file; returns the rows written.

    Raises:
        ReconciliationError: the file cannot be written (the reason and the path).
    """
    rows = run_items(conn, run_ids, statuses=statuses)
    target = Path(path).expanduser()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, fieldnames=REPORT_COLUMNS)
            writer.writeheader()
            for row in rows:
                writer.writerow({k: _csv_value(v) for k, v in row.items()})
    except OSError as exc:
        raise ReconciliationError(f"cannot write the CSV file {target}: {exc.strerror or exc}") from None
    return len(rows)


def _csv_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value
