"""notification dispatch: outbox claims, leases and rendered text; per-store event start; dispatch runs

- `outbox`: `priority` (urgent first), `reference` (what a row is about), `send_at` (a requested send
  time), `rendered` (the text as sent, to match a send in doubt against the provider's records),
  `claimed_by`/`claimed_at`/`lease_until` (claims by several workers, recovery of expired ones),
  `error_code`, `provider_status`, `fallback_email`; statuses `claimed`, `undelivered` and `cancelled`.
- `notification_stores`: from when a store's order changes raise customer notifications (its first full
  sync's end), so the first sync never messages customers about past orders.
- `notification_runs`: one row per dispatch, direct send or status update run.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hub.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OLD_STATUSES = ("queued", "sending", "sent", "delivered", "failed", "suppressed", "unknown")
NEW_STATUSES = (
    "queued",
    "claimed",
    "sending",
    "sent",
    "delivered",
    "undelivered",
    "failed",
    "suppressed",
    "cancelled",
    "unknown",
)
# Where the statuses this revision adds go on a downgrade (nothing is lost that the old ones can say).
DOWNGRADE_STATUS = {"claimed": "queued", "undelivered": "failed", "cancelled": "failed"}


def _in(values: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("priority", sa.SmallInteger(), server_default="0", nullable=False))
        batch.add_column(sa.Column("reference", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("send_at", hub.types.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("rendered", _json(), nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("claimed_at", hub.types.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("lease_until", hub.types.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("error_code", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("provider_status", sa.String(length=30), nullable=True))
        batch.add_column(sa.Column("fallback_email", sa.String(length=320), nullable=True))
        batch.drop_constraint(op.f("ck_outbox_status_valid"), type_="check")
        batch.create_check_constraint(op.f("ck_outbox_status_valid"), _in(NEW_STATUSES))
        batch.create_index("ix_outbox_claim", ["channel", "status", "priority", "id"], unique=False)
        batch.create_index("ix_outbox_lease", ["status", "lease_until"], unique=False)
        batch.create_index("ix_outbox_reference", ["reference"], unique=False)
    op.create_table(
        "notification_stores",
        sa.Column("store", sa.String(length=100), nullable=False),
        sa.Column("events_from", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("store", name=op.f("pk_notification_stores")),
    )
    op.create_table(
        "notification_runs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        sa.Column("counts", _json(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'completed', 'failed', 'crashed')",
            name=op.f("ck_notification_runs_status_valid"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_runs")),
    )
    with op.batch_alter_table("notification_runs") as batch:
        batch.create_index("ix_notification_runs_started", ["kind", "started_at"], unique=False)


def downgrade() -> None:
    op.drop_table("notification_runs")
    op.drop_table("notification_stores")
    outbox = sa.table("outbox", sa.column("status", sa.String))
    for new, old in DOWNGRADE_STATUS.items():
        op.execute(outbox.update().where(outbox.c.status == new).values(status=old))
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_reference")
        batch.drop_index("ix_outbox_lease")
        batch.drop_index("ix_outbox_claim")
        batch.drop_constraint(op.f("ck_outbox_status_valid"), type_="check")
        batch.create_check_constraint(op.f("ck_outbox_status_valid"), _in(OLD_STATUSES))
        for column in (
            "fallback_email",
            "provider_status",
            "error_code",
            "lease_until",
            "claimed_at",
            "claimed_by",
            "rendered",
            "send_at",
            "reference",
            "priority",
        ):
            batch.drop_column(column)
