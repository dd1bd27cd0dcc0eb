"""pending work a committed page left behind

- `sync_pending`: variable products whose variation lists are still to be read. The product page and its
  pending rows commit together; the variations and the removal of their pending row commit together; so a
  killed run loses neither, and product pages no longer wait for their variations (issue 7).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_pending",
        sa.Column("store", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("remote_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("store", "kind", "remote_id", name=op.f("pk_sync_pending")),
    )


def downgrade() -> None:
    op.drop_table("sync_pending")
