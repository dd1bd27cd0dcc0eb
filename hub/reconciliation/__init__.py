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

import contextlib
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection, Engine

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
from hub.reconciliation.alerts import OperatorAlert, alert_operators
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
    "OperatorAlert",
    "alert_operators",
    "check_gateways",
    "close_flow_run_runs",
    "count_items",
    "default_window",
    "finish_run",
    "lock_name",
    "reconcile_window",
    "reconcile_windows",
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
    runs = None if run_id is None else {gateway: run_id}
    return reconcile_windows(
        engine,
        gateways=[gateway],
        store=store,
        window=window,
        settings=settings,
        now=now,
        run_ids=runs,
        flow_run_id=flow_run_id,
    )[0]


def reconcile_windows(
    engine: Engine,
    *,
    gateways: list[str] | tuple[str, ...],
    store: str,
    window: Window,
    settings: ReconciliationSettings | None = None,
    now: datetime | None = None,
    run_ids: dict[str, int] | None = None,
    flow_run_id: str | None = None,
) -> list[WindowResult]:
    """`reconcile_window` for several gateways, one after the other, under their leases taken together.
    Each gateway gets its own run row and result, in the order given.

    Raises:
        WindowError: an unknown gateway or a window that is not a `Window`.
        ReconciliationBusy: another reconciliation of one of these gateways and the store is running.
    """
    wanted = check_gateways(list(gateways))
    if not isinstance(window, Window):
        raise WindowError("window must be a Window (Window.of(start, end))")
    settings = settings or ReconciliationSettings()
    now = now or utcnow()
    owner = f"reconcile {uuid.uuid4().hex[:12]}"
    held: list[str] = []
    try:
        for gateway in sorted(wanted):  # one order for everyone: two runs never wait on each other
            name = lock_name(gateway, store)
            if not locks.acquire(engine, name, owner, LOCK_TTL_S):
                holder = locks.holder(engine, name)
                raise ReconciliationBusy(
                    f"a reconciliation of {gateway} for store {store} is running"
                    + (f": {holder.describe()}" if holder else "")
                    + "; wait for it to finish"
                )
            held.append(name)
        runs = dict(run_ids or {})
        own = [g for g in wanted if g not in runs]
        if own:
            with engine.begin() as conn:
                for gateway in own:
                    runs[gateway] = start_run(
                        conn, gateway=gateway, store=store, window=window, flow_run_id=flow_run_id
                    )
        # One gateway at a time: reading them together was measured no faster on either backend (the
        # per-row work is the same) and holds three times the memory (docs/performance.md).
        try:
            results = [
                r for g in wanted for r in _reconcile(engine, (g,), store, window, settings, now, runs)
            ]
        except BaseException as exc:
            with engine.begin() as conn:
                for gateway in own:
                    finish_run(conn, runs[gateway], status="failed", summary={}, error=_one_line(exc))
            raise
        with engine.begin() as conn:
            for result in results:
                if result.gateway in own:
                    finish_run(conn, result.run_id, status="completed", summary=result.as_dict())
        return results
    finally:
        for name in held:
            locks.release(engine, name, owner)


def _reconcile(
    engine: Engine,
    gateways: tuple[str, ...],
    store: str,
    window: Window,
    settings: ReconciliationSettings,
    now: datetime,
    runs: dict[str, int],
) -> list[WindowResult]:
    started = time.perf_counter()
    with _read_transaction(engine) as (conn, store_conn):
        everything = read_sides(
            conn, gateways=gateways, store=store, window=window, settings=settings, store_conn=store_conn
        )
        parts = {g: everything.of(g) for g in gateways}
        money = {g: totals(conn, parts[g], gateway=g, window=window) for g in gateways}
    del everything
    read_s = (time.perf_counter() - started) / len(gateways)  # shared: each gateway carries its part
    results = []
    for gateway in gateways:
        began = time.perf_counter()
        classified = classify(
            parts.pop(gateway), gateway=gateway, store=store, window=window, settings=settings, now=now
        )
        matched = time.perf_counter()
        with engine.begin() as conn:
            changes = persist_items(
                conn,
                classified.items,
                gateway=gateway,
                store=store,
                window=window,
                run_id=runs[gateway],
                extra_anchors=classified.extra_anchors,
                now=now,
            )
        items = classified.items
        by = items.groupby(["status", "category"]).size() if len(items) else pd.Series(dtype=np.int64)
        results.append(
            WindowResult(
                run_id=runs[gateway],
                gateway=gateway,
                store=store,
                window=window,
                breaks={c: int(by.get(("open", c), 0)) for c in CATEGORIES},
                pending={c: int(by.get(("pending", c), 0)) for c in CATEGORIES},
                changes=changes,
                read=classified.stats,
                totals=money[gateway],
                seconds={
                    "read": round(read_s, 3),
                    "match": round(matched - began, 3),
                    "persist": round(time.perf_counter() - matched, 3),
                },
            )
        )
    return results


_SNAPSHOT = re.compile(r"^[0-9A-F]+-[0-9A-F]+(-[0-9]+)?$")


@contextlib.contextmanager
def _read_transaction(engine: Engine) -> Iterator[tuple[Connection, Connection | None]]:
    """A read-only view of the hub for one window: one snapshot for every read.

    PostgreSQL: a REPEATABLE READ transaction, and a second connection that imports its snapshot
    (`pg_export_snapshot`, as parallel pg_dump does) to read the store's side meanwhile, when the pool
    has room for two. SQLite: one deferred transaction (pysqlite opens none for reads by itself); a second
    connection would not help there, reading is bound by this process's interpreter.
    """
    with engine.connect() as conn:
        if conn.dialect.name != "postgresql":
            with conn.begin():
                conn.exec_driver_sql("BEGIN")
                yield conn, None
            return
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            if _pool_capacity(engine) < 2:
                yield conn, None
                return
            snapshot = str(conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one())
            if not _SNAPSHOT.match(snapshot):
                raise ReconciliationError(f"PostgreSQL exported an unexpected snapshot id {snapshot!r}")
            with engine.connect() as other:
                other = other.execution_options(isolation_level="REPEATABLE READ")
                with other.begin():
                    other.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
                    yield conn, other


def _pool_capacity(engine: Engine) -> int:
    pool = engine.pool
    size = getattr(pool, "size", None)
    overflow = getattr(pool, "_max_overflow", 0)
    if size is None:
        return 2
    return 1_000 if overflow < 0 else int(size()) + int(overflow)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:1000]
