"""the gateways' ledger and reconciliation items (issue 10)

- `gateway_transactions` holds charges, refunds and disputes, merged on (gateway, kind, gateway_id), with
  the ids an order may name (`alt_id`: a Stripe payment intent, a PayPal or Square order), the order the
  gateway carries (`order_ref`, parsed into `order_id`), the parent charge of a refund or dispute,
  captured, refunded amount, fee, net, failure and decline codes, and the payout that carried it.
- `payouts` (Stripe and Square payouts, Authorize.Net settled batches) gain `updated_at` and statuses as
  a contract; `payout_entries` (new) holds what a payout pays out, append-only.
- `reconciliation_runs` gain the store; `reconciliation_items` become one row per discrepancy kept across
  runs by a stable `item_key` (pending / open / resolved, resolved automatically or by a person).
- `orders` get the indexes reconciliation reads by: (store, date_created_gmt), (store, date_paid_gmt),
  (store, transaction_id), and one covering every column it reads (on SQLite those columns lie past the
  kilobytes of `data` in the row).

The four payment tables were never written before this revision, so they are dropped and created anew.
The downgrade restores their 0001 shape; it is refused while items resolved by a person exist (their
decisions would be lost); ledger rows themselves can be read again from the gateways.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hub.types
from hub.errors import HubConfigError

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = hub.types.UTCDateTime(timezone=True)
_ORDER_INDEXES = (
    ("ix_orders_store_created", ["store", "date_created_gmt"]),
    ("ix_orders_store_paid", ["store", "date_paid_gmt"]),
    ("ix_orders_store_transaction", ["store", "transaction_id"]),
    # SQLite only: covers every column reconciliation reads, so it never reads them past `data` in the row
    # (PostgreSQL keeps a large `data` out of line).
    (
        "ix_orders_reconcile",
        [
            "store",
            "payment_method",
            "date_created_gmt",
            "date_paid_gmt",
            "date_modified_gmt",
            "deleted_at",
            "remote_id",
            "status",
            "currency",
            "total",
            "transaction_id",
        ],
    ),
)


def upgrade() -> None:
    op.drop_table("reconciliation_items")
    op.drop_table("reconciliation_runs")
    op.drop_table("gateway_transactions")
    op.drop_table("payouts")

    op.create_table(
        "gateway_transactions",
        sa.Column("id", _ID, nullable=False),
        sa.Column("gateway", sa.String(length=30), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("gateway_id", sa.String(length=255), nullable=False),
        sa.Column("alt_id", sa.String(length=255), nullable=True),
        sa.Column("parent_id", sa.String(length=255), nullable=True),
        sa.Column("order_ref", sa.String(length=255), nullable=True),
        sa.Column("order_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("captured", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_refunded_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("fee_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("net_minor", sa.BigInteger(), nullable=True),
        sa.Column("settlement_currency", sa.String(length=3), nullable=True),
        sa.Column("failure_code", sa.String(length=100), nullable=True),
        sa.Column("decline_code", sa.String(length=100), nullable=True),
        sa.Column("failure_message", sa.Text(), nullable=True),
        sa.Column("reason", sa.String(length=100), nullable=True),
        sa.Column("payout_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=True),
        sa.Column("raw", _JSON, nullable=True),
        sa.Column("ingested_at", _TIME, nullable=False),
        sa.CheckConstraint(
            "kind IN ('charge', 'refund', 'dispute')", name=op.f("ck_gateway_transactions_kind_valid")
        ),
        sa.CheckConstraint(
            "(kind = 'charge' AND status IN ('succeeded', 'pending', 'failed', 'canceled')) OR "
            "(kind = 'refund' AND status IN ('succeeded', 'pending', 'failed')) OR "
            "(kind = 'dispute' AND status IN ('open', 'won', 'lost'))",
            name=op.f("ck_gateway_transactions_status_valid"),
        ),
        sa.CheckConstraint("amount_minor >= 0", name=op.f("ck_gateway_transactions_amount_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_transactions")),
        sa.UniqueConstraint(
            "gateway", "kind", "gateway_id", name=op.f("uq_gateway_transactions_gateway_kind_gateway_id")
        ),
    )
    with op.batch_alter_table("gateway_transactions") as batch:
        batch.create_index(
            "ix_gateway_transactions_created",
            [
                "gateway",
                "kind",
                "created_at",
                "gateway_id",
                "alt_id",
                "order_id",
                "status",
                "captured",
                "amount_minor",
                "currency",
                "amount_refunded_minor",
                "decline_code",
            ],
        )
        batch.create_index("ix_gateway_transactions_parent", ["gateway", "parent_id"])
        batch.create_index("ix_gateway_transactions_order", ["gateway", "order_id"])
        batch.create_index("ix_gateway_transactions_alt", ["gateway", "alt_id"])
        batch.create_index("ix_gateway_transactions_updated", ["gateway", "updated_at"])

    op.create_table(
        "payouts",
        sa.Column("id", _ID, nullable=False),
        sa.Column("gateway", sa.String(length=30), nullable=False),
        sa.Column("gateway_id", sa.String(length=255), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("fee_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("arrival_at", _TIME, nullable=True),
        sa.Column("updated_at", _TIME, nullable=True),
        sa.Column("raw", _JSON, nullable=True),
        sa.Column("ingested_at", _TIME, nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'in_transit', 'paid', 'failed', 'canceled')",
            name=op.f("ck_payouts_status_valid"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts")),
        sa.UniqueConstraint("gateway", "gateway_id", name=op.f("uq_payouts_gateway_gateway_id")),
    )
    with op.batch_alter_table("payouts") as batch:
        batch.create_index("ix_payouts_created", ["gateway", "created_at"])

    op.create_table(
        "payout_entries",
        sa.Column("id", _ID, nullable=False),
        sa.Column("gateway", sa.String(length=30), nullable=False),
        sa.Column("gateway_id", sa.String(length=255), nullable=False),
        sa.Column("payout_id", sa.String(length=255), nullable=True),
        sa.Column("type", sa.String(length=30), nullable=False),
        sa.Column("source_id", sa.String(length=255), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("fee_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("net_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("available_at", _TIME, nullable=True),
        sa.Column("raw", _JSON, nullable=True),
        sa.Column("ingested_at", _TIME, nullable=False),
        sa.CheckConstraint(
            "type IN ('charge', 'refund', 'dispute', 'dispute_reversal', 'payout', 'fee', 'adjustment', "
            "'other')",
            name=op.f("ck_payout_entries_type_valid"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_entries")),
        sa.UniqueConstraint("gateway", "gateway_id", name=op.f("uq_payout_entries_gateway_gateway_id")),
    )
    with op.batch_alter_table("payout_entries") as batch:
        batch.create_index("ix_payout_entries_payout", ["gateway", "payout_id"])
        batch.create_index("ix_payout_entries_created", ["gateway", "created_at"])

    op.create_table(
        "reconciliation_runs",
        sa.Column("id", _ID, nullable=False),
        sa.Column("gateway", sa.String(length=30), nullable=False),
        sa.Column("store", sa.String(length=100), nullable=False),
        sa.Column("window_start", _TIME, nullable=False),
        sa.Column("window_end", _TIME, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_at", _TIME, nullable=False),
        sa.Column("finished_at", _TIME, nullable=True),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        sa.Column("summary", _JSON, nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'completed', 'failed', 'crashed')",
            name=op.f("ck_reconciliation_runs_status_valid"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_runs")),
    )
    with op.batch_alter_table("reconciliation_runs") as batch:
        batch.create_index("ix_reconciliation_runs_gateway", ["gateway", "started_at"])
        batch.create_index("ix_reconciliation_runs_status", ["status"])

    op.create_table(
        "reconciliation_items",
        sa.Column("id", _ID, nullable=False),
        sa.Column("item_key", sa.String(length=1000), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("resolution", sa.String(length=10), nullable=True),
        sa.Column("gateway", sa.String(length=30), nullable=False),
        sa.Column("store", sa.String(length=100), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=True),
        sa.Column("gateway_id", sa.String(length=255), nullable=True),
        sa.Column("related_id", sa.String(length=255), nullable=True),
        sa.Column("anchor_id", sa.String(length=400), nullable=False),
        sa.Column("expected_minor", sa.BigInteger(), nullable=True),
        sa.Column("actual_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=10), nullable=True),
        sa.Column("order_currency", sa.String(length=10), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("occurred_at", _TIME, nullable=False),
        sa.Column("evidence_at", _TIME, nullable=False),
        sa.Column("first_seen_at", _TIME, nullable=False),
        sa.Column("last_seen_at", _TIME, nullable=False),
        sa.Column("resolved_at", _TIME, nullable=True),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("first_run_id", _ID, nullable=True),
        sa.Column("last_run_id", _ID, nullable=True),
        sa.CheckConstraint(
            "category IN ('missing_order', 'missing_payment', 'amount_mismatch', 'currency_mismatch', "
            "'status_mismatch', 'refund_not_mirrored', 'duplicate_charge', 'open_dispute', "
            "'payout_mismatch')",
            name=op.f("ck_reconciliation_items_category_valid"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'open', 'resolved')", name=op.f("ck_reconciliation_items_status_valid")
        ),
        sa.CheckConstraint(
            "severity IN ('info', 'warning', 'error', 'critical')",
            name=op.f("ck_reconciliation_items_severity_valid"),
        ),
        sa.CheckConstraint(
            "(status = 'resolved') = (resolution IS NOT NULL)",
            name=op.f("ck_reconciliation_items_resolution_when_resolved"),
        ),
        sa.ForeignKeyConstraint(
            ["first_run_id"],
            ["reconciliation_runs.id"],
            name=op.f("fk_reconciliation_items_first_run_id_reconciliation_runs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["last_run_id"],
            ["reconciliation_runs.id"],
            name=op.f("fk_reconciliation_items_last_run_id_reconciliation_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_items")),
        sa.UniqueConstraint("item_key", name=op.f("uq_reconciliation_items_item_key")),
    )
    with op.batch_alter_table("reconciliation_items") as batch:
        batch.create_index("ix_reconciliation_items_window", ["gateway", "store", "occurred_at"])
        batch.create_index("ix_reconciliation_items_anchor", ["gateway", "anchor_id"])
        batch.create_index("ix_reconciliation_items_status", ["status", "gateway"])
        batch.create_index("ix_reconciliation_items_order", ["store", "order_id"])
        batch.create_index("ix_reconciliation_items_last_run", ["last_run_id"])

    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("orders") as batch:
        for name, columns in _ORDER_INDEXES:
            if name != "ix_orders_reconcile" or sqlite:
                batch.create_index(name, columns)


def downgrade() -> None:
    conn = op.get_bind()
    decided = conn.execute(
        sa.text("SELECT count(*) FROM reconciliation_items WHERE resolution = 'manual'")
    ).scalar()
    if decided:
        raise HubConfigError(
            f"{decided} reconciliation items were resolved by a person and revision 0003 cannot keep "
            "them; export them (nxt payments reconcile --csv) and delete those rows before downgrading "
            "below revision 0004"
        )
    sqlite = conn.dialect.name == "sqlite"
    with op.batch_alter_table("orders") as batch:
        for name, _ in _ORDER_INDEXES:
            if name != "ix_orders_reconcile" or sqlite:
                batch.drop_index(name)
    for table in ("reconciliation_items", "reconciliation_runs", "payout_entries", "payouts"):
        op.drop_table(table)
    op.drop_table("gateway_transactions")
    _create_0001_tables()


def _create_0001_tables() -> None:
    """The payment tables exactly as revision 0001 created them."""
    op.create_table(
        "gateway_transactions",
        sa.Column("id", _ID, nullable=False),
        sa.Column("gateway", sa.String(length=30), nullable=False),
        sa.Column("gateway_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("order_ref", sa.String(length=100), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("net_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("available_at", _TIME, nullable=True),
        sa.Column("payout_id", sa.String(length=100), nullable=True),
        sa.Column("raw", _JSON, nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "kind IN ('charge', 'refund', 'fee', 'payout', 'dispute', 'adjustment')",
            name=op.f("ck_gateway_transactions_kind_valid"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_transactions")),
        sa.UniqueConstraint("gateway", "gateway_id", name=op.f("uq_gateway_transactions_gateway_gateway_id")),
    )
    with op.batch_alter_table("gateway_transactions") as batch:
        batch.create_index("ix_gateway_transactions_created", ["gateway", "created_at"])
        batch.create_index("ix_gateway_transactions_order", ["order_ref"])
        batch.create_index("ix_gateway_transactions_payout", ["gateway", "payout_id"])

    op.create_table(
        "payouts",
        sa.Column("id", _ID, nullable=False),
        sa.Column("gateway", sa.String(length=30), nullable=False),
        sa.Column("gateway_id", sa.String(length=100), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("arrival_at", _TIME, nullable=True),
        sa.Column("raw", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts")),
        sa.UniqueConstraint("gateway", "gateway_id", name=op.f("uq_payouts_gateway_gateway_id")),
    )
    with op.batch_alter_table("payouts") as batch:
        batch.create_index("ix_payouts_arrival", ["gateway", "arrival_at"])

    op.create_table(
        "reconciliation_runs",
        sa.Column("id", _ID, nullable=False),
        sa.Column("gateway", sa.String(length=30), nullable=False),
        sa.Column("window_start", _TIME, nullable=False),
        sa.Column("window_end", _TIME, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_at", _TIME, nullable=False),
        sa.Column("finished_at", _TIME, nullable=True),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        sa.Column("summary", _JSON, nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'completed', 'failed', 'crashed')",
            name=op.f("ck_reconciliation_runs_status_valid"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_runs")),
    )
    with op.batch_alter_table("reconciliation_runs") as batch:
        batch.create_index("ix_reconciliation_runs_gateway", ["gateway", "started_at"])

    op.create_table(
        "reconciliation_items",
        sa.Column("id", _ID, nullable=False),
        sa.Column("run_id", _ID, nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("gateway", sa.String(length=30), nullable=False),
        sa.Column("order_ref", sa.String(length=100), nullable=True),
        sa.Column("gateway_id", sa.String(length=100), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("details", _JSON, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("resolved_at", _TIME, nullable=True),
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
    with op.batch_alter_table("reconciliation_items") as batch:
        batch.create_index("ix_reconciliation_items_open", ["status", "severity"])
        batch.create_index("ix_reconciliation_items_order", ["order_ref"])
        batch.create_index("ix_reconciliation_items_run", ["run_id"])
