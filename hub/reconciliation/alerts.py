"""Telling operators that reconciliation found breaks: ONE function, so the notifications outbox can take
over from the dashboard event without touching the flow."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Connection

from hub.analytics import record_event

ALERT_EVENT = "payment_reconciliation_breaks"


def alert_operators(
    conn: Connection,
    *,
    breaks: int,
    threshold: int,
    gateways: str,
    window: str,
    by_category: Mapping[str, Any],
    run_ids: list[int],
) -> bool:
    """Alert operators when `breaks` exceed `threshold`; returns True when an alert was raised.

    Until the notifications outbox exists (issue 11) the alert is a `dashboard_events` row of severity
    `warning` (event type `payment_reconciliation_breaks`, source `api_integration`), which the old
    service's dashboards show. The notifications work redirects this function to the outbox; callers
    stay as they are.
    """
    if breaks <= threshold:
        return False
    counts = ", ".join(f"{n} {c}" for c, n in sorted(by_category.items()) if n)
    record_event(
        conn,
        ALERT_EVENT,
        severity="warning",
        message=(
            f"payment reconciliation of {gateways} for {window}: {breaks} breaks (threshold {threshold}): "
            f"{counts}"
        ),
        data={
            "gateways": gateways,
            "window": window,
            "breaks": breaks,
            "threshold": threshold,
            "by_category": dict(by_category),
            "run_ids": run_ids,
        },
    )
    return True
