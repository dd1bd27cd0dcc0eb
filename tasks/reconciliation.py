"""Reconciliation tasks: one per gateway window. The matching and the items live in `hub.reconciliation`;
a task runs it for one gateway in a worker thread (it is CPU and database work) and returns its summary."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from hub.reconciliation import ReconciliationSettings, Window, reconcile_window
from tasks.context import shared_engine
from tasks.log import run_logger
from tasks.policy import batch_task


@batch_task("reconcile-gateway-window", task_run_name="reconcile {gateway} {window}")
async def reconcile_gateway_window(
    hub_key: str,
    gateway: str,
    store: str,
    window: str,
    run_id: int,
    now: str,
    grace_hours: dict[str, float] | None = None,
    payment_methods: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Reconcile one gateway's window against the store's orders and persist the items.

    Args:
        hub_key: The flow run's shared hub engine (`tasks.context.share_engine`).
        gateway: `stripe`, `paypal`, `square` or `authorizenet`.
        store: The WooCommerce store whose orders are the other side.
        window: `start..end` (ISO dates or times, end exclusive), as `Window.label` prints it.
        run_id: The `reconciliation_runs` row the flow opened for this gateway.
        now: ISO time the grace windows count back from (the flow's start).
        grace_hours: Per-gateway grace windows replacing the defaults.
        payment_methods: WooCommerce payment method ids added to (or, mapped to "", removed from) the map.

    Returns:
        `WindowResult.as_dict()`: breaks and pending items by category, changes, what was read, totals.
    """
    start, _, end = window.partition("..")
    settings = ReconciliationSettings.with_overrides(payment_methods=payment_methods, grace_hours=grace_hours)
    result = await asyncio.to_thread(
        reconcile_window,
        shared_engine(hub_key),
        gateway=gateway,
        store=store,
        window=Window.of(start, end),
        settings=settings,
        now=datetime.fromisoformat(now),
        run_id=run_id,
    )
    run_logger().info(
        "reconciled %s %s: %s breaks, %s pending, %s resolved (%s orders, %s charges)",
        gateway,
        window,
        result.break_count,
        sum(result.pending.values()),
        result.changes.get("auto_resolved", 0),
        result.read.get("orders_in_scope", 0),
        result.read.get("charges_in_scope", 0),
    )
    return result.as_dict()
