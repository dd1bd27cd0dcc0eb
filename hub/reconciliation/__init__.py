"""Reconciliation of the gateways' ledger (`hub.ledger`) against the store's orders. Pure pandas, no Prefect.

`reconcile_window(engine, gateway=..., store=..., window=Window.of(start, end))` reads both sides of one
gateway's window set-wise (`_read`), matches and classifies them with vectorised merges and group-bys
(`_classify`: the matching rules, the categories and the scope are in its docstring), and writes the
findings as `reconciliation_items` kept across runs by a stable key (`_persist`: re-runs update, items not
found again are resolved automatically, items a person resolved stay resolved). A lease in `sync_locks`
(`reconcile-payments:<gateway>:<store>`) keeps two reconciliations of the same gateway and store apart.

Errors: `WindowError` (a `ValueError`) for bad parameters, `ReconciliationBusy` when another run holds the
lease; both are `HubError`s with one-line messages.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from hub import locks
from hub.models import utcnow
from hub.reconciliation._classify import classify
from hub.reconciliation._persist import (
    REPORT_COLUMNS,
    close_flow_run_runs,
    count_items,
    finish_run,
    persist_items,
    resolve_items,
    run_items,
    start_run,
    write_csv,
)
from hub.reconciliation._read import read_sides, totals
from hub.reconciliation.alerts import alert_operators
from hub.reconciliation.settings import (
    CATEGORIES,
    DEFAULT_GRACE,
    DEFAULT_PAYMENT_METHODS,
    GATEWAYS,
    MAX_WINDOW,
    SEVERITY,
    ReconciliationBusy,
    ReconciliationError,
    ReconciliationSettings,
    Window,
    WindowError,
    check_gateways,
    default_window,
)

__all__ = [
    "CATEGORIES",
    "DEFAULT_GRACE",
    "DEFAULT_PAYMENT_METHODS",
    "GATEWAYS",
    "MAX_WINDOW",
    "REPORT_COLUMNS",
    "SEVERITY",
    "ReconciliationBusy",
    "ReconciliationError",
    "ReconciliationSettings",
    "Window",
    "WindowError",
    "WindowResult",
    "alert_operators",
    "check_gateways",
    "close_flow_run_runs",
    "count_items",
    "default_window",
    "finish_run",
    "lock_name",
    "reconcile_window",
    "resolve_items",
    "run_items",
    "start_run",
    "write_csv",
]

LOCK_TTL_S = 30 * 60  # a window of a million records takes seconds; a holder that died frees it after this


def lock_name(gateway: str, store: str) -> str:
    """The lease that keeps two reconciliations of one gateway and store apart."""
    return f"reconcile-payments:{gateway}:{store}"


@dataclass
class WindowResult:
    """What reconciling one gateway's window found and did (JSON-ready through `as_dict`)."""

    run_id: int
    gateway: str
    store: str
    window: Window
    breaks: dict[str, int]  # open items found, by category
    pending: dict[str, int]  # items inside the grace window, by category
    changes: dict[str, int]  # new, updated, reopened, kept_resolved, auto_resolved
    read: dict[str, int]  # orders, charges, refunds, disputes, payouts, matched, ...
    totals: list[dict[str, Any]]  # per currency: charges, gross, fees, refunds, disputes, net
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def break_count(self) -> int:
        return sum(self.breaks.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "gateway": self.gateway,
            "store": self.store,
            "window_start": self.window.start.isoformat(),
            "window_end": self.window.end.isoformat(),
            "breaks": dict(self.breaks),
            "break_count": self.break_count,
            "pending": dict(self.pending),
            "changes": dict(self.changes),
            "read": dict(self.read),
            "totals": [dict(t) for t in self.totals],
            "seconds": dict(self.seconds),
        }


def reconcile_window(
    engine: Engine,
    *,
    gateway: str,
    store: str,
    window: Window,
    settings: ReconciliationSettings | None = None,
    now: datetime | None = None,
    run_id: int | None = None,
    flow_run_id: str | None = None,
) -> WindowResult:
    """Reconcile `gateway`'s `window` against `store`'s orders and persist the findings.

    Args:
        engine: The hub.
        gateway: One of `GATEWAYS`.
        store: The WooCommerce store whose orders are the other side (its block name).
        window: The half-open window of gateway and order times (`Window.of(start, end)`).
        settings: Payment-method map, grace windows, match tolerance, read margin (defaults otherwise).
        now: The time grace windows count back from (default: now).
        run_id: A `reconciliation_runs` row the caller opened and closes; None opens and closes one here.
        flow_run_id: The Prefect flow run, recorded on a run opened here.

    Raises:
        WindowError: unknown gateway or a window that is not a `Window`.
        ReconciliationBusy: another reconciliation of this gateway and store holds the lease.
    """
    check_gateways([gateway])
    if not isinstance(window, Window):
        raise WindowError("window must be a Window (Window.of(start, end))")
    settings = settings or ReconciliationSettings()
    now = now or utcnow()
    name, owner = lock_name(gateway, store), f"run {run_id or '?'} {uuid.uuid4().hex[:8]}"
    if not locks.acquire(engine, name, owner, LOCK_TTL_S):
        holder = locks.holder(engine, name)
        raise ReconciliationBusy(
            f"a reconciliation of {gateway} for store {store} is running"
            + (f": {holder.describe()}" if holder else "")
            + "; wait for it to finish"
        )
    own_run = run_id is None
    try:
        if run_id is None:
            with engine.begin() as conn:
                run_id = start_run(conn, gateway=gateway, store=store, window=window, flow_run_id=flow_run_id)
        try:
            result = _reconcile(engine, gateway, store, window, settings, now, run_id)
        except BaseException as exc:
            if own_run:
                with engine.begin() as conn:
                    finish_run(conn, run_id, status="failed", summary={}, error=_one_line(exc))
            raise
        if own_run:
            with engine.begin() as conn:
                finish_run(conn, run_id, status="completed", summary=result.as_dict())
        return result
    finally:
        locks.release(engine, name, owner)


def _reconcile(
    engine: Engine,
    gateway: str,
    store: str,
    window: Window,
    settings: ReconciliationSettings,
    now: datetime,
    run_id: int,
) -> WindowResult:
    started = time.perf_counter()
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":  # one snapshot for every read of the window
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN")  # pysqlite opens no transaction for reads by itself
            sides = read_sides(conn, gateway=gateway, store=store, window=window, settings=settings)
            money = totals(conn, sides, gateway=gateway, window=window)
    read_s = time.perf_counter() - started
    classified = classify(sides, gateway=gateway, store=store, window=window, settings=settings, now=now)
    del sides
    match_s = time.perf_counter() - started - read_s
    with engine.begin() as conn:
        changes = persist_items(
            conn,
            classified.items,
            gateway=gateway,
            store=store,
            window=window,
            run_id=run_id,
            extra_anchors=classified.extra_anchors,
            now=now,
        )
    persist_s = time.perf_counter() - started - read_s - match_s
    items = classified.items
    by = items.groupby(["status", "category"]).size() if len(items) else None
    breaks = (
        {c: int(by.get(("open", c), 0)) for c in CATEGORIES}
        if by is not None
        else dict.fromkeys(CATEGORIES, 0)
    )
    pending = (
        {c: int(by.get(("pending", c), 0)) for c in CATEGORIES}
        if by is not None
        else dict.fromkeys(CATEGORIES, 0)
    )
    return WindowResult(
        run_id=run_id,
        gateway=gateway,
        store=store,
        window=window,
        breaks=breaks,
        pending=pending,
        changes=changes,
        read=classified.stats,
        totals=money,
        seconds={"read": round(read_s, 3), "match": round(match_s, 3), "persist": round(persist_s, 3)},
    )


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:1000]
