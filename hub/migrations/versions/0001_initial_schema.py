"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hub.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("first_name", sa.String(length=200), nullable=True),
        sa.Column("last_name", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("store", sa.String(length=100), nullable=False),
        sa.Column("remote_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("date_modified_gmt", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("synced_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "local_changes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("local_modified_at", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("dirty", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("push_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("store", "remote_id", name=op.f("uq_customers_store_remote_id")),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index("ix_customers_dirty", ["store", "dirty"], unique=False)
        batch_op.create_index("ix_customers_store_email", ["store", "email"], unique=False)

    op.create_table(
        "dashboard_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("event_source", sa.String(length=100), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("timestamp", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_events")),
    )
    with op.batch_alter_table("dashboard_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_dashboard_events_source_sev",
            ["event_source", "severity", "timestamp"],
            unique=False,
        )
        batch_op.create_index("ix_dashboard_events_type_ts", ["event_type", "timestamp"], unique=False)

    op.create_table(
        "dashboard_metrics",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("metric_name", sa.String(length=100), nullable=False),
        sa.Column("metric_value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=True),
        sa.Column(
            "tags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("timestamp", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_metrics")),
    )
    with op.batch_alter_table("dashboard_metrics", schema=None) as batch_op:
        batch_op.create_index("ix_dashboard_metrics_name_ts", ["metric_name", "timestamp"], unique=False)

    op.create_table(
        "gateway_transactions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("gateway", sa.String(length=30), nullable=False),
        sa.Column("gateway_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("order_ref", sa.String(length=100), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("net_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("created_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("available_at", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("payout_id", sa.String(length=100), nullable=True),
        sa.Column(
            "raw",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "kind IN ('charge', 'refund', 'fee', 'payout', 'dispute', 'adjustment')",
            name=op.f("ck_gateway_transactions_kind_valid"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_transactions")),
        sa.UniqueConstraint("gateway", "gateway_id", name=op.f("uq_gateway_transactions_gateway_gateway_id")),
    )
    with op.batch_alter_table("gateway_transactions", schema=None) as batch_op:
        batch_op.create_index("ix_gateway_transactions_created", ["gateway", "created_at"], unique=False)
        batch_op.create_index("ix_gateway_transactions_order", ["order_ref"], unique=False)
        batch_op.create_index("ix_gateway_transactions_payout", ["gateway", "payout_id"], unique=False)

    op.create_table(
        "orders",
        sa.Column("number", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total", hub.types.Money(precision=20, scale=6), nullable=False),
        sa.Column("customer_remote_id", sa.BigInteger(), nullable=True),
        sa.Column("billing_email", sa.String(length=320), nullable=True),
        sa.Column("billing_phone", sa.String(length=50), nullable=True),
        sa.Column("payment_method", sa.String(length=100), nullable=True),
        sa.Column("transaction_id", sa.String(length=200), nullable=True),
        sa.Column("date_created_gmt", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("date_paid_gmt", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("store", sa.String(length=100), nullable=False),
        sa.Column("remote_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("date_modified_gmt", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("synced_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "local_changes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("local_modified_at", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("dirty", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("push_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("store", "remote_id", name=op.f("uq_orders_store_remote_id")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_dirty", ["store", "dirty"], unique=False)
        batch_op.create_index("ix_orders_store_customer", ["store", "customer_remote_id"], unique=False)
        batch_op.create_index("ix_orders_store_modified", ["store", "date_modified_gmt"], unique=False)
        batch_op.create_index("ix_orders_store_status", ["store", "status"], unique=False)
        batch_op.create_index("ix_orders_transaction", ["payment_method", "transaction_id"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("template", sa.String(length=100), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("provider_id", sa.String(length=200), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("channel IN ('sms', 'email')", name=op.f("ck_outbox_channel_valid")),
        sa.CheckConstraint(
            "status IN ('queued', 'sending', 'sent', 'delivered', 'failed', 'suppressed', 'unknown')",
            name=op.f("ck_outbox_status_valid"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_idempotency_key")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index("ix_outbox_provider", ["channel", "provider_id"], unique=False)

    op.create_table(
        "payouts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("gateway", sa.String(length=30), nullable=False),
        sa.Column("gateway_id", sa.String(length=100), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("created_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("arrival_at", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "raw",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts")),
        sa.UniqueConstraint("gateway", "gateway_id", name=op.f("uq_payouts_gateway_gateway_id")),
    )
    with op.batch_alter_table("payouts", schema=None) as batch_op:
        batch_op.create_index("ix_payouts_arrival", ["gateway", "arrival_at"], unique=False)

    op.create_table(
        "products",
        sa.Column("parent_remote_id", sa.BigInteger(), nullable=True),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=True),
        sa.Column("name", sa.String(length=400), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("regular_price", hub.types.Money(precision=20, scale=6), nullable=True),
        sa.Column("sale_price", hub.types.Money(precision=20, scale=6), nullable=True),
        sa.Column("stock_quantity", sa.Integer(), nullable=True),
        sa.Column("stock_status", sa.String(length=20), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("store", sa.String(length=100), nullable=False),
        sa.Column("remote_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("date_modified_gmt", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("synced_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "local_changes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("local_modified_at", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("dirty", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("push_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("store", "remote_id", name=op.f("uq_products_store_remote_id")),
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index("ix_products_dirty", ["store", "dirty"], unique=False)
        batch_op.create_index("ix_products_store_modified", ["store", "date_modified_gmt"], unique=False)
        batch_op.create_index("ix_products_store_parent", ["store", "parent_remote_id"], unique=False)
        batch_op.create_index("ix_products_store_sku", ["store", "sku"], unique=False)

    op.create_table(
        "real_time_data",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("data_type", sa.String(length=100), nullable=False),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("source", sa.String(length=100), nullable=True),
        sa.Column("timestamp", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_real_time_data")),
    )
    with op.batch_alter_table("real_time_data", schema=None) as batch_op:
        batch_op.create_index("ix_real_time_data_type_ts", ["data_type", "timestamp"], unique=False)

    op.create_table(
        "reconciliation_runs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("gateway", sa.String(length=30), nullable=False),
        sa.Column("window_start", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("window_end", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        sa.Column(
            "summary",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'completed', 'failed', 'crashed')",
            name=op.f("ck_reconciliation_runs_status_valid"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_runs")),
    )
    with op.batch_alter_table("reconciliation_runs", schema=None) as batch_op:
        batch_op.create_index("ix_reconciliation_runs_gateway", ["gateway", "started_at"], unique=False)

    op.create_table(
        "suppressions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("channel IN ('sms', 'email')", name=op.f("ck_suppressions_channel_valid")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppressions")),
        sa.UniqueConstraint("channel", "recipient", name=op.f("uq_suppressions_channel_recipient")),
    )
    op.create_table(
        "sync_conflicts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("store", sa.String(length=100), nullable=False),
        sa.Column("resource", sa.String(length=30), nullable=False),
        sa.Column("remote_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "hub_version",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "remote_version",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("hub_modified_at", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("remote_modified_at", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("resolution", sa.String(length=10), nullable=True),
        sa.Column("created_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('open', 'resolved')", name=op.f("ck_sync_conflicts_status_valid")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_conflicts")),
    )
    with op.batch_alter_table("sync_conflicts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sync_conflicts_open", ["store", "status", "resource", "remote_id"], unique=False
        )

    op.create_table(
        "sync_cursors",
        sa.Column("store", sa.String(length=100), nullable=False),
        sa.Column("resource", sa.String(length=50), nullable=False),
        sa.Column("modified_after", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "state",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("updated_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("store", "resource", name=op.f("pk_sync_cursors")),
    )
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("store", sa.String(length=100), nullable=False),
        sa.Column("sync_type", sa.String(length=30), nullable=False),
        sa.Column("direction", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        sa.Column(
            "counts",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'completed', 'failed', 'crashed')",
            name=op.f("ck_sync_runs_status_valid"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.create_index("ix_sync_runs_status", ["status"], unique=False)
        batch_op.create_index("ix_sync_runs_store_started", ["store", "started_at"], unique=False)

    op.create_table(
        "webhook_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("source", sa.String(length=50), nullable=False),
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("received_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("processed_at", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'processing', 'done', 'failed', 'ignored')",
            name=op.f("ck_webhook_events_status_valid"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_events")),
        sa.UniqueConstraint("source", "event_key", name=op.f("uq_webhook_events_source_event_key")),
    )
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_events_status", ["status", "received_at"], unique=False)

    op.create_table(
        "order_line_items",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("store", sa.String(length=100), nullable=False),
        sa.Column("order_remote_id", sa.BigInteger(), nullable=False),
        sa.Column("remote_id", sa.BigInteger(), nullable=False),
        sa.Column("product_remote_id", sa.BigInteger(), nullable=True),
        sa.Column("variation_remote_id", sa.BigInteger(), nullable=True),
        sa.Column("sku", sa.String(length=100), nullable=True),
        sa.Column("name", sa.String(length=400), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("price", hub.types.Money(precision=20, scale=6), nullable=True),
        sa.Column("subtotal", hub.types.Money(precision=20, scale=6), nullable=True),
        sa.Column("total", hub.types.Money(precision=20, scale=6), nullable=True),
        sa.ForeignKeyConstraint(
            ["store", "order_remote_id"],
            ["orders.store", "orders.remote_id"],
            name=op.f("fk_order_line_items_store_order_remote_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_line_items")),
        sa.UniqueConstraint("store", "remote_id", name=op.f("uq_order_line_items_store_remote_id")),
    )
    with op.batch_alter_table("order_line_items", schema=None) as batch_op:
        batch_op.create_index("ix_order_line_items_order", ["store", "order_remote_id"], unique=False)
        batch_op.create_index("ix_order_line_items_product", ["store", "product_remote_id"], unique=False)

    op.create_table(
        "order_refunds",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("store", sa.String(length=100), nullable=False),
        sa.Column("order_remote_id", sa.BigInteger(), nullable=False),
        sa.Column("remote_id", sa.BigInteger(), nullable=False),
        sa.Column("amount", hub.types.Money(precision=20, scale=6), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("date_created_gmt", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["store", "order_remote_id"],
            ["orders.store", "orders.remote_id"],
            name=op.f("fk_order_refunds_store_order_remote_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_refunds")),
        sa.UniqueConstraint("store", "remote_id", name=op.f("uq_order_refunds_store_remote_id")),
    )
    with op.batch_alter_table("order_refunds", schema=None) as batch_op:
        batch_op.create_index("ix_order_refunds_order", ["store", "order_remote_id"], unique=False)

    op.create_table(
        "reconciliation_items",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("gateway", sa.String(length=30), nullable=False),
        sa.Column("order_ref", sa.String(length=100), nullable=True),
        sa.Column("gateway_id", sa.String(length=100), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "severity IN ('info', 'warning', 'error', 'critical')",
            name=op.f("ck_reconciliation_items_severity_valid"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'resolved')", name=op.f("ck_reconciliation_items_status_valid")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["reconciliation_runs.id"],
            name=op.f("fk_reconciliation_items_run_id_reconciliation_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_items")),
    )
    with op.batch_alter_table("reconciliation_items", schema=None) as batch_op:
        batch_op.create_index("ix_reconciliation_items_open", ["status", "severity"], unique=False)
        batch_op.create_index("ix_reconciliation_items_order", ["order_ref"], unique=False)
        batch_op.create_index("ix_reconciliation_items_run", ["run_id"], unique=False)

    op.create_table(
        "sync_quarantine",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("store", sa.String(length=100), nullable=False),
        sa.Column("resource", sa.String(length=30), nullable=False),
        sa.Column("remote_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("sync_run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["sync_run_id"],
            ["sync_runs.id"],
            name=op.f("fk_sync_quarantine_sync_run_id_sync_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_quarantine")),
    )
    with op.batch_alter_table("sync_quarantine", schema=None) as batch_op:
        batch_op.create_index("ix_sync_quarantine_store", ["store", "resource", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sync_quarantine", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_quarantine_store")

    op.drop_table("sync_quarantine")
    with op.batch_alter_table("reconciliation_items", schema=None) as batch_op:
        batch_op.drop_index("ix_reconciliation_items_run")
        batch_op.drop_index("ix_reconciliation_items_order")
        batch_op.drop_index("ix_reconciliation_items_open")

    op.drop_table("reconciliation_items")
    with op.batch_alter_table("order_refunds", schema=None) as batch_op:
        batch_op.drop_index("ix_order_refunds_order")

    op.drop_table("order_refunds")
    with op.batch_alter_table("order_line_items", schema=None) as batch_op:
        batch_op.drop_index("ix_order_line_items_product")
        batch_op.drop_index("ix_order_line_items_order")

    op.drop_table("order_line_items")
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_events_status")

    op.drop_table("webhook_events")
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_runs_store_started")
        batch_op.drop_index("ix_sync_runs_status")

    op.drop_table("sync_runs")
    op.drop_table("sync_cursors")
    with op.batch_alter_table("sync_conflicts", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_conflicts_open")

    op.drop_table("sync_conflicts")
    op.drop_table("suppressions")
    with op.batch_alter_table("reconciliation_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_reconciliation_runs_gateway")

    op.drop_table("reconciliation_runs")
    with op.batch_alter_table("real_time_data", schema=None) as batch_op:
        batch_op.drop_index("ix_real_time_data_type_ts")

    op.drop_table("real_time_data")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index("ix_products_store_sku")
        batch_op.drop_index("ix_products_store_parent")
        batch_op.drop_index("ix_products_store_modified")
        batch_op.drop_index("ix_products_dirty")

    op.drop_table("products")
    with op.batch_alter_table("payouts", schema=None) as batch_op:
        batch_op.drop_index("ix_payouts_arrival")

    op.drop_table("payouts")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_provider")
        batch_op.drop_index("ix_outbox_due")

    op.drop_table("outbox")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_transaction")
        batch_op.drop_index("ix_orders_store_status")
        batch_op.drop_index("ix_orders_store_modified")
        batch_op.drop_index("ix_orders_store_customer")
        batch_op.drop_index("ix_orders_dirty")

    op.drop_table("orders")
    with op.batch_alter_table("gateway_transactions", schema=None) as batch_op:
        batch_op.drop_index("ix_gateway_transactions_payout")
        batch_op.drop_index("ix_gateway_transactions_order")
        batch_op.drop_index("ix_gateway_transactions_created")

    op.drop_table("gateway_transactions")
    with op.batch_alter_table("dashboard_metrics", schema=None) as batch_op:
        batch_op.drop_index("ix_dashboard_metrics_name_ts")

    op.drop_table("dashboard_metrics")
    with op.batch_alter_table("dashboard_events", schema=None) as batch_op:
        batch_op.drop_index("ix_dashboard_events_type_ts")
        batch_op.drop_index("ix_dashboard_events_source_sev")

    op.drop_table("dashboard_events")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index("ix_customers_store_email")
        batch_op.drop_index("ix_customers_dirty")

    op.drop_table("customers")
