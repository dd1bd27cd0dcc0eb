"""Telling operators that reconciliation found breaks: ONE function decides and words the alert.

`alert_operators` records a `dashboard_events` row (severity `warning`, `payment_reconciliation_breaks`,
for the old service's dashboards) and returns the `OperatorAlert` the flow hands to the notifications
outbox (`flows.notification_dispatch.operator_alert`: email and text to the operators, Prefect
notification blocks), keyed by gateways and window so a re-run of a window alerts once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection

from hub.analytics import record_event

ALERT_EVENT = "payment_reconciliation_breaks"


@dataclass(frozen=True)
class OperatorAlert:
    """What the operators are told: the outbox's `operator_alert` arguments."""

    key: str
    subject: str
    message: str
    severity: str = "warning"
    source: str = "reconcile-payments"
    details: dict[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return True


def alert_operators(
    conn: Connection,
    *,
    breaks: int,
    threshold: int,
    gateways: str,
    window: str,
    by_category: Mapping[str, Any],
    run_ids: list[int],
) -> OperatorAlert | None:
    """When `breaks` exceed `threshold`: record the `dashboard_events` row (severity `warning`, event type
    `payment_reconciliation_breaks`) and return the alert to queue through the notifications outbox;
    else None. The alert's key is `payment-reconciliation-breaks:<gateways>:<window>`."""
    if breaks <= threshold:
        return None
    counts = ", ".join(f"{n} {c}" for c, n in sorted(by_category.items()) if n)
    message = (
        f"payment reconciliation of {gateways} for {window}: {breaks} breaks (threshold {threshold}): "
        f"{counts}"
    )
    record_event(
        conn,
        ALERT_EVENT,
        severity="warning",
        message=message,
        data={
            "gateways": gateways,
            "window": window,
            "breaks": breaks,
            "threshold": threshold,
            "by_category": dict(by_category),
            "run_ids": run_ids,
        },
    )
    return OperatorAlert(
        key=f"payment-reconciliation-breaks:{gateways}:{window}",
        subject=f"Payment reconciliation: {breaks} breaks in {gateways} for {window}",
        message=message + " (run `nxt payments reconcile` or open the run's breaks artifact)",
        details={
            "gateways": gateways,
            "window": window,
            "breaks": breaks,
            "run_ids": ",".join(map(str, run_ids)),
        },
    )
