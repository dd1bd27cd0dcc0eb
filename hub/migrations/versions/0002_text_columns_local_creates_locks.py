"""text columns, hub-created records, sync locks

- Mirror columns sized for what WooCommerce and its plugins really send: product types are taxonomy
  slugs (up to 200 characters in WordPress: `variable-subscription`), statuses, order numbers and
  phone numbers come from plugins. They become TEXT; `orders.currency` takes codes up to 10
  characters (USDT). Lengths that matter (indexed columns) are checked in `hub.records`.
- `remote_id` of the mirror tables may be NULL: a record created in the hub has no store id until it
  is pushed. (store, remote_id) stays unique for every non-NULL id.
- `create_attempted_at`: the stamp that lets a push find a record an interrupted push created.
- `sync_locks`: leases, so two syncs of one store do not run at once (`hub.locks`).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.types
from hub.errors import HubConfigError

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MIRRORS = ("products", "customers", "orders")

# (table, column, length before this revision)
TEXT_COLUMNS = (
    ("products", "type", 20),
    ("products", "sku", 100),
    ("products", "name", 400),
    ("products", "status", 20),
    ("products", "stock_status", 20),
    ("customers", "email", 320),
    ("customers", "first_name", 200),
    ("customers", "last_name", 200),
    ("customers", "phone", 50),
    ("orders", "number", 40),
    ("orders", "status", 30),
    ("orders", "billing_email", 320),
    ("orders", "billing_phone", 50),
    ("orders", "payment_method", 100),
    ("orders", "transaction_id", 200),
    ("order_line_items", "sku", 100),
    ("order_line_items", "name", 400),
)
NOT_NULL = {("products", "type"), ("orders", "status")}


def upgrade() -> None:
    tables = dict.fromkeys(t for t, _, _ in TEXT_COLUMNS)
    for table in tables:
        # One batch per table: on SQLite that is one table rebuild (see hub/migrations/env.py for why
        # foreign keys are off meanwhile); on PostgreSQL plain ALTERs (varchar to text rewrites nothing).
        with op.batch_alter_table(table) as batch:
            for t, column, length in TEXT_COLUMNS:
                if t == table:
                    batch.alter_column(
                        column,
                        existing_type=sa.String(length),
                        type_=sa.Text(),
                        existing_nullable=(t, column) not in NOT_NULL,
                    )
            if table == "orders":
                batch.alter_column(
                    "currency", existing_type=sa.String(3), type_=sa.String(10), existing_nullable=False
                )
            if table in MIRRORS:
                batch.alter_column("remote_id", existing_type=sa.BigInteger(), nullable=True)
                batch.add_column(
                    sa.Column("create_attempted_at", hub.types.UTCDateTime(timezone=True), nullable=True)
                )
    op.create_table(
        "sync_locks",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("acquired_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sync_locks")),
    )


def downgrade() -> None:
    conn = op.get_bind()
    for table in MIRRORS:
        pending = conn.execute(sa.text(f"SELECT count(*) FROM {table} WHERE remote_id IS NULL")).scalar()
        if pending:
            raise HubConfigError(
                f"{pending} {table} created in the hub are not in the store yet (remote_id is NULL); "
                "push them, or delete those rows, before downgrading below revision 0002"
            )
    op.drop_table("sync_locks")
    tables = dict.fromkeys(t for t, _, _ in TEXT_COLUMNS)
    for table in tables:
        with op.batch_alter_table(table) as batch:
            if table in MIRRORS:
                batch.drop_column("create_attempted_at")
                batch.alter_column("remote_id", existing_type=sa.BigInteger(), nullable=False)
            if table == "orders":
                batch.alter_column(
                    "currency",
                    existing_type=sa.String(10),
                    type_=sa.String(3),
                    existing_nullable=False,
                    postgresql_using="left(currency, 3)",
                )
            for t, column, length in TEXT_COLUMNS:
                if t == table:
                    # Longer values are cut to the old size: the typed columns are copies of `data`,
                    # which keeps every record whole.
                    batch.alter_column(
                        column,
                        existing_type=sa.Text(),
                        type_=sa.String(length),
                        existing_nullable=(t, column) not in NOT_NULL,
                        postgresql_using=f"left({column}, {length})",
                    )
