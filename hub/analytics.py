"""Writes to the old service's analytics tables (`dashboard_metrics`, `dashboard_events`, `real_time_data`).

Dashboards built on the old service read these tables with its documented SQL, so every flow reports
here in the same vocabulary (`wc_sync_duration`, `webhook_processed`, `payment_processed`, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hub.models import DashboardEvent, DashboardMetric, RealTimeData, utcnow


def record_metrics(
    conn: Connection, metrics: Mapping[str, tuple[float, str | None]], tags: Mapping[str, Any] | None = None
) -> None:
    """Insert one `dashboard_metrics` row per `name -> (value, unit)`, all with the same time and tags."""
    now = utcnow()
    rows = [
        {
            "metric_name": name,
            "metric_value": float(value),
            "unit": unit,
            "tags": dict(tags or {}),
            "timestamp": now,
        }
        for name, (value, unit) in metrics.items()
    ]
    if rows:
        conn.execute(sa.insert(DashboardMetric.__table__), rows)


def record_event(
    conn: Connection,
    event_type: str,
    *,
    message: str | None = None,
    severity: str = "info",
    data: Mapping[str, Any] | None = None,
    source: str = "api_integration",
) -> None:
    """Insert one `dashboard_events` row."""
    conn.execute(
        sa.insert(DashboardEvent.__table__).values(
            event_type=event_type,
            event_source=source,
            severity=severity,
            message=message,
            data=dict(data or {}),
            timestamp=utcnow(),
        )
    )


def record_real_time(
    conn: Connection, data_type: str, data: Mapping[str, Any], source: str | None = None
) -> None:
    """Insert one `real_time_data` row."""
    conn.execute(
        sa.insert(RealTimeData.__table__).values(
            data_type=data_type, data=dict(data), source=source, timestamp=utcnow()
        )
    )
