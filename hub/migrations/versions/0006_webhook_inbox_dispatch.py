"""webhook inbox: dispatcher bookkeeping

- `webhook_events.account`: the block the event is for (a WooCommerce store, a third-party service).
- `webhook_events.resource`: the object the event is about (`order.123`, `charge.ch_...`), for coalescing
  bursts about one resource into one flow run and for the Prefect event's resource id.
- `next_attempt_at`, `lease_until`, `claimed_by`: when a pending row is due (debounce, backoff), and who
  holds a `processing` row until when (a row whose lease ran out is claimed again).
- `run_key`, `replays`: the idempotency key of the flow run the row's handler starts (kept across retries,
  so a retry never starts a second run; a replay gets a new one).
- index `ix_webhook_events_due` (status, next_attempt_at): the dispatcher's query.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_events") as batch:
        batch.add_column(sa.Column("account", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("resource", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("next_attempt_at", hub.types.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("lease_until", hub.types.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("run_key", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("replays", sa.Integer(), server_default=sa.text("0"), nullable=False))
        batch.create_index("ix_webhook_events_due", ["status", "next_attempt_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("webhook_events") as batch:
        batch.drop_index("ix_webhook_events_due")
        for column in (
            "replays",
            "run_key",
            "claimed_by",
            "lease_until",
            "next_attempt_at",
            "resource",
            "account",
        ):
            batch.drop_column(column)
