"""The hub's tables, as SQLAlchemy 2 typed models.

Groups: the store mirror (products, customers, orders with line items and refunds), sync state (cursors,
runs, conflicts, quarantine), payments (ledger, payouts, reconciliation), notifications (outbox,
suppressions), the webhook inbox, and the old service's analytics tables under their exact names.

Conventions: times are `UTCDateTime` (aware UTC); store money is `Money` (exact decimals); ledger money is
integer minor units plus a currency. Mirror rows are keyed by (`store`, `remote_id`) and keep the remote JSON,
its content hash and a `deleted_at` tombstone; hub-side edits wait in `local_changes` with `dirty` set.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hub.types import Money, UTCDateTime

# Constraint names are explicit so migrations are identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")
#: `Index.info` key of indexes that exist on SQLite only (created with `ddl_if(dialect="sqlite")`).
SQLITE_ONLY = "sqlite_only"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    # Every model maps one table: say so, so `Model.__table__` types as a Table (insert/update targets).
    __table__: ClassVar[sa.Table]  # type: ignore[misc]
    metadata = sa.MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), Decimal: Money(), dict[str, Any]: JSONType}


def _enum_check(column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    quoted = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({quoted})", name=f"{column}_valid")


# --------------------------------------------------------------------------------------------------
# Store mirror


class _Mirrored:
    """Columns every mirrored WooCommerce record has."""

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    store: Mapped[str] = mapped_column(sa.String(100))
    # NULL for a record created in the hub and not pushed yet; (store, remote_id) stays unique otherwise
    # (both backends treat NULLs as distinct in a unique constraint).
    remote_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    date_modified_gmt: Mapped[datetime | None]
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]
    # Push side: hub edits not yet in the store, when they were made, and the last push error.
    local_changes: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    local_modified_at: Mapped[datetime | None]
    dirty: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    push_error: Mapped[str | None] = mapped_column(sa.Text)
    # Set before a hub-created record is sent to the store: a push that finds it set looks for the
    # record in the store before creating it again (the earlier attempt may have created it).
    create_attempted_at: Mapped[datetime | None]


class Product(_Mirrored, Base):
    """A product or, with `parent_remote_id` set, a variation of a variable product."""

    __tablename__ = "products"
    parent_remote_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    # Free text where WooCommerce has free text: a product type is a taxonomy slug (200 characters in
    # WordPress), statuses and stock statuses come from plugins too. Lengths are checked in hub.records.
    type: Mapped[str] = mapped_column(sa.Text)
    sku: Mapped[str | None] = mapped_column(sa.Text)
    name: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[str | None] = mapped_column(sa.Text)
    regular_price: Mapped[Decimal | None]
    sale_price: Mapped[Decimal | None]
    stock_quantity: Mapped[int | None]
    stock_status: Mapped[str | None] = mapped_column(sa.Text)
    __table_args__ = (
        sa.UniqueConstraint("store", "remote_id"),
        sa.Index("ix_products_store_modified", "store", "date_modified_gmt"),
        sa.Index("ix_products_store_parent", "store", "parent_remote_id"),
        sa.Index("ix_products_store_sku", "store", "sku"),
        sa.Index("ix_products_dirty", "store", "dirty"),
    )


class Customer(_Mirrored, Base):
    __tablename__ = "customers"
    email: Mapped[str | None] = mapped_column(sa.Text)
    first_name: Mapped[str | None] = mapped_column(sa.Text)
    last_name: Mapped[str | None] = mapped_column(sa.Text)
    phone: Mapped[str | None] = mapped_column(sa.Text)  # free text in WooCommerce
    __table_args__ = (
        sa.UniqueConstraint("store", "remote_id"),
        sa.Index("ix_customers_store_email", "store", "email"),
        sa.Index("ix_customers_dirty", "store", "dirty"),
    )


class Order(_Mirrored, Base):
    __tablename__ = "orders"
    number: Mapped[str | None] = mapped_column(sa.Text)  # order-number plugins make their own
    status: Mapped[str] = mapped_column(sa.Text)  # plugins register custom statuses
    currency: Mapped[str] = mapped_column(sa.String(10))  # ISO 4217, or a plugin's code (USDT)
    total: Mapped[Decimal]
    customer_remote_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    billing_email: Mapped[str | None] = mapped_column(sa.Text)
    billing_phone: Mapped[str | None] = mapped_column(sa.Text)
    payment_method: Mapped[str | None] = mapped_column(sa.Text)
    transaction_id: Mapped[str | None] = mapped_column(sa.Text)
    date_created_gmt: Mapped[datetime | None]
    date_paid_gmt: Mapped[datetime | None]
    __table_args__ = (
        sa.UniqueConstraint("store", "remote_id"),
        sa.Index("ix_orders_store_modified", "store", "date_modified_gmt"),
        sa.Index("ix_orders_store_status", "store", "status"),
        sa.Index("ix_orders_transaction", "payment_method", "transaction_id"),
        sa.Index("ix_orders_store_customer", "store", "customer_remote_id"),
        sa.Index("ix_orders_dirty", "store", "dirty"),
        # Reconciliation (hub.reconciliation) reads orders by time window and looks them up by transaction
        # id. On SQLite the covering index holds every column it reads: `data` (kilobytes of JSON) comes
        # before them in the row, so reading them from the table goes through its overflow pages.
        # PostgreSQL keeps large `data` out of line (TOAST), and three long TEXT columns in one b-tree
        # entry could pass its size limit, so it has no such index (`SQLITE_ONLY`).
        sa.Index("ix_orders_store_created", "store", "date_created_gmt"),
        sa.Index("ix_orders_store_paid", "store", "date_paid_gmt"),
        sa.Index("ix_orders_store_transaction", "store", "transaction_id"),
        sa.Index(
            "ix_orders_reconcile",
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
            info={SQLITE_ONLY: True},
        ).ddl_if(dialect="sqlite"),
    )


class OrderLineItem(Base):
    __tablename__ = "order_line_items"
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    store: Mapped[str] = mapped_column(sa.String(100))
    order_remote_id: Mapped[int] = mapped_column(sa.BigInteger)
    remote_id: Mapped[int] = mapped_column(sa.BigInteger)
    product_remote_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    variation_remote_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    sku: Mapped[str | None] = mapped_column(sa.Text)
    name: Mapped[str | None] = mapped_column(sa.Text)
    quantity: Mapped[int]
    price: Mapped[Decimal | None]
    subtotal: Mapped[Decimal | None]
    total: Mapped[Decimal | None]
    __table_args__ = (
        sa.UniqueConstraint("store", "remote_id"),
        sa.ForeignKeyConstraint(
            ["store", "order_remote_id"], ["orders.store", "orders.remote_id"], ondelete="CASCADE"
        ),
        sa.Index("ix_order_line_items_order", "store", "order_remote_id"),
        sa.Index("ix_order_line_items_product", "store", "product_remote_id"),
    )


class OrderRefund(Base):
    __tablename__ = "order_refunds"
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    store: Mapped[str] = mapped_column(sa.String(100))
    order_remote_id: Mapped[int] = mapped_column(sa.BigInteger)
    remote_id: Mapped[int] = mapped_column(sa.BigInteger)
    amount: Mapped[Decimal]  # positive, as /orders/{id}/refunds reports it
    reason: Mapped[str | None] = mapped_column(sa.Text)
    date_created_gmt: Mapped[datetime | None]
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    __table_args__ = (
        sa.UniqueConstraint("store", "remote_id"),
        sa.ForeignKeyConstraint(
            ["store", "order_remote_id"], ["orders.store", "orders.remote_id"], ondelete="CASCADE"
        ),
        sa.Index("ix_order_refunds_order", "store", "order_remote_id"),
    )


# --------------------------------------------------------------------------------------------------
# Sync state

SYNC_STATUSES = ("running", "completed", "failed", "crashed")


class SyncCursor(Base):
    """Where the last committed batch of (store, resource) ended. Advanced in the batch's transaction."""

    __tablename__ = "sync_cursors"
    store: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    resource: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    modified_after: Mapped[datetime | None]
    state: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SyncRun(Base):
    __tablename__ = "sync_runs"
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    store: Mapped[str] = mapped_column(sa.String(100))
    sync_type: Mapped[str] = mapped_column(sa.String(30))
    direction: Mapped[str] = mapped_column(sa.String(20))
    status: Mapped[str] = mapped_column(sa.String(20), default="running")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    duration_ms: Mapped[int | None]
    flow_run_id: Mapped[str | None] = mapped_column(sa.String(64))
    counts: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    error: Mapped[str | None] = mapped_column(sa.Text)
    __table_args__ = (
        _enum_check("status", SYNC_STATUSES),
        sa.Index("ix_sync_runs_store_started", "store", "started_at"),
        sa.Index("ix_sync_runs_status", "status"),
    )


class SyncConflict(Base):
    """Both sides changed since the last sync; held for a person when the strategy is `manual`."""

    __tablename__ = "sync_conflicts"
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    store: Mapped[str] = mapped_column(sa.String(100))
    resource: Mapped[str] = mapped_column(sa.String(30))
    remote_id: Mapped[int] = mapped_column(sa.BigInteger)
    hub_version: Mapped[dict[str, Any]] = mapped_column(JSONType)
    remote_version: Mapped[dict[str, Any]] = mapped_column(JSONType)
    hub_modified_at: Mapped[datetime | None]
    remote_modified_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(sa.String(10), default="open")
    resolution: Mapped[str | None] = mapped_column(sa.String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    __table_args__ = (
        _enum_check("status", ("open", "resolved")),
        sa.Index("ix_sync_conflicts_open", "store", "status", "resource", "remote_id"),
    )


class SyncLock(Base):
    """A lease: who holds `name` (e.g. one store's sync) until when. See `hub.locks`."""

    __tablename__ = "sync_locks"
    name: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    owner: Mapped[str] = mapped_column(sa.String(200))
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class SyncPending(Base):
    """Work a committed page left for later: a variable product whose variation list is still to be read.

    Written in the same transaction as the product page (so a kill cannot lose it) and deleted in the one
    that stores the variations; the next run starts with whatever is left.
    """

    __tablename__ = "sync_pending"
    store: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(30), primary_key=True)
    remote_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SyncQuarantine(Base):
    """A remote record that could not be mirrored (missing id, bad date, non-numeric price, ...)."""

    __tablename__ = "sync_quarantine"
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    store: Mapped[str] = mapped_column(sa.String(100))
    resource: Mapped[str] = mapped_column(sa.String(30))
    remote_id: Mapped[str | None] = mapped_column(sa.String(64))
    reason: Mapped[str] = mapped_column(sa.Text)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    sync_run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sync_runs.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (sa.Index("ix_sync_quarantine_store", "store", "resource", "created_at"),)


# --------------------------------------------------------------------------------------------------
# Payments: the gateways' ledger and its reconciliation. The row contract (what each column holds, which
# rows are merged and which appended) is in `hub.ledger` and docs/payments.md.

GATEWAYS = ("stripe", "paypal", "square", "authorizenet")
LEDGER_KINDS = ("charge", "refund", "dispute")
CHARGE_STATUSES = ("succeeded", "pending", "failed", "canceled")
REFUND_STATUSES = ("succeeded", "pending", "failed")
DISPUTE_STATUSES = ("open", "won", "lost")
PAYOUT_STATUSES = ("pending", "in_transit", "paid", "failed", "canceled")
ENTRY_TYPES = ("charge", "refund", "dispute", "dispute_reversal", "payout", "fee", "adjustment", "other")
RECONCILIATION_CATEGORIES = (
    "missing_order",
    "missing_payment",
    "amount_mismatch",
    "currency_mismatch",
    "status_mismatch",
    "refund_not_mirrored",
    "duplicate_charge",
    "open_dispute",
    "payout_mismatch",
)
ITEM_STATUSES = ("pending", "open", "resolved")
ITEM_RESOLUTIONS = ("auto", "manual")
ID_LENGTH = 255  # Stripe documents object ids of up to 255 characters; the others are shorter


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


_LEDGER_STATUS_CHECK = sa.CheckConstraint(
    f"(kind = 'charge' AND status IN ({_quoted(CHARGE_STATUSES)})) OR "
    f"(kind = 'refund' AND status IN ({_quoted(REFUND_STATUSES)})) OR "
    f"(kind = 'dispute' AND status IN ({_quoted(DISPUTE_STATUSES)}))",
    name="status_valid",
)


class GatewayTransaction(Base):
    """A charge, refund or dispute at a gateway, merged on (gateway, kind, gateway_id): the gateway edits
    these (a charge's refunded amount and status, a dispute's status), so a later read replaces the
    mutable columns. Amounts are positive integers in minor units of `currency`."""

    __tablename__ = "gateway_transactions"
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    gateway: Mapped[str] = mapped_column(sa.String(30))
    kind: Mapped[str] = mapped_column(sa.String(10))
    gateway_id: Mapped[str] = mapped_column(sa.String(ID_LENGTH))
    alt_id: Mapped[str | None] = mapped_column(sa.String(ID_LENGTH))
    parent_id: Mapped[str | None] = mapped_column(sa.String(ID_LENGTH))
    order_ref: Mapped[str | None] = mapped_column(sa.String(ID_LENGTH))
    order_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    status: Mapped[str] = mapped_column(sa.String(20))
    captured: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    amount_refunded_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    fee_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    net_minor: Mapped[int | None] = mapped_column(sa.BigInteger)
    settlement_currency: Mapped[str | None] = mapped_column(sa.String(3))
    failure_code: Mapped[str | None] = mapped_column(sa.String(100))
    decline_code: Mapped[str | None] = mapped_column(sa.String(100))
    failure_message: Mapped[str | None] = mapped_column(sa.Text)
    reason: Mapped[str | None] = mapped_column(sa.String(100))
    payout_id: Mapped[str | None] = mapped_column(sa.String(ID_LENGTH))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime | None]
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    ingested_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (
        sa.UniqueConstraint("gateway", "kind", "gateway_id"),
        _enum_check("kind", LEDGER_KINDS),
        _LEDGER_STATUS_CHECK,
        sa.CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
        # Covering what reconciliation reads of a window's charges (hub.reconciliation._read).
        sa.Index(
            "ix_gateway_transactions_created",
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
        ),
        sa.Index("ix_gateway_transactions_parent", "gateway", "parent_id"),
        sa.Index("ix_gateway_transactions_order", "gateway", "order_id"),
        sa.Index("ix_gateway_transactions_alt", "gateway", "alt_id"),
        sa.Index("ix_gateway_transactions_updated", "gateway", "updated_at"),
    )


class Payout(Base):
    """Money a gateway sent to the bank (Stripe and Square payouts; Authorize.Net settled batches), merged
    on (gateway, gateway_id): its status changes (in transit, paid, failed). `amount_minor` is signed."""

    __tablename__ = "payouts"
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    gateway: Mapped[str] = mapped_column(sa.String(30))
    gateway_id: Mapped[str] = mapped_column(sa.String(ID_LENGTH))
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger)
    fee_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    currency: Mapped[str] = mapped_column(sa.String(3))
    status: Mapped[str] = mapped_column(sa.String(20))
    created_at: Mapped[datetime]
    arrival_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    ingested_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (
        sa.UniqueConstraint("gateway", "gateway_id"),
        _enum_check("status", PAYOUT_STATUSES),
        sa.Index("ix_payouts_created", "gateway", "created_at"),
    )


class PayoutEntry(Base):
    """A movement of a gateway balance (Stripe balance transaction, Square payout entry, a transaction of an
    Authorize.Net batch). Append-only on (gateway, gateway_id): gateways never edit them; the one column
    filled later is `payout_id`, set once when the payout that pays the entry out becomes known."""

    __tablename__ = "payout_entries"
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    gateway: Mapped[str] = mapped_column(sa.String(30))
    gateway_id: Mapped[str] = mapped_column(sa.String(ID_LENGTH))
    payout_id: Mapped[str | None] = mapped_column(sa.String(ID_LENGTH))
    type: Mapped[str] = mapped_column(sa.String(30))
    source_id: Mapped[str | None] = mapped_column(sa.String(ID_LENGTH))
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger)
    fee_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    net_minor: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    created_at: Mapped[datetime]
    available_at: Mapped[datetime | None]
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    ingested_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (
        sa.UniqueConstraint("gateway", "gateway_id"),
        _enum_check("type", ENTRY_TYPES),
        sa.Index("ix_payout_entries_payout", "gateway", "payout_id"),
        sa.Index("ix_payout_entries_created", "gateway", "created_at"),
    )


class ReconciliationRun(Base):
    """One reconciliation of one gateway's window against one store's orders."""

    __tablename__ = "reconciliation_runs"
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    gateway: Mapped[str] = mapped_column(sa.String(30))
    store: Mapped[str] = mapped_column(sa.String(100))
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    status: Mapped[str] = mapped_column(sa.String(20), default="running")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    flow_run_id: Mapped[str | None] = mapped_column(sa.String(64))
    summary: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    error: Mapped[str | None] = mapped_column(sa.Text)
    __table_args__ = (
        _enum_check("status", SYNC_STATUSES),
        sa.Index("ix_reconciliation_runs_gateway", "gateway", "started_at"),
        sa.Index("ix_reconciliation_runs_status", "status"),
    )


class ReconciliationItem(Base):
    """A discrepancy reconciliation found, kept across runs by `item_key` (see `hub.reconciliation`)."""

    __tablename__ = "reconciliation_items"
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    item_key: Mapped[str] = mapped_column(sa.String(1000))
    category: Mapped[str] = mapped_column(sa.String(40))
    severity: Mapped[str] = mapped_column(sa.String(10))
    status: Mapped[str] = mapped_column(sa.String(10))
    resolution: Mapped[str | None] = mapped_column(sa.String(10))
    gateway: Mapped[str] = mapped_column(sa.String(30))
    store: Mapped[str] = mapped_column(sa.String(100))
    order_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    gateway_id: Mapped[str | None] = mapped_column(sa.String(ID_LENGTH))
    related_id: Mapped[str | None] = mapped_column(sa.String(ID_LENGTH))
    anchor_id: Mapped[str] = mapped_column(sa.String(400))
    expected_minor: Mapped[int | None] = mapped_column(sa.BigInteger)
    actual_minor: Mapped[int | None] = mapped_column(sa.BigInteger)
    currency: Mapped[str | None] = mapped_column(sa.String(10))
    order_currency: Mapped[str | None] = mapped_column(sa.String(10))
    message: Mapped[str] = mapped_column(sa.Text)
    occurred_at: Mapped[datetime]
    evidence_at: Mapped[datetime]
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(sa.String(200))
    note: Mapped[str | None] = mapped_column(sa.Text)
    first_run_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("reconciliation_runs.id", ondelete="SET NULL")
    )
    last_run_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("reconciliation_runs.id", ondelete="SET NULL")
    )
    __table_args__ = (
        sa.UniqueConstraint("item_key"),
        _enum_check("category", RECONCILIATION_CATEGORIES),
        _enum_check("status", ITEM_STATUSES),
        _enum_check("severity", ("info", "warning", "error", "critical")),
        sa.CheckConstraint(
            "(status = 'resolved') = (resolution IS NOT NULL)", name="resolution_when_resolved"
        ),
        sa.Index("ix_reconciliation_items_window", "gateway", "store", "occurred_at"),
        sa.Index("ix_reconciliation_items_anchor", "gateway", "anchor_id"),
        sa.Index("ix_reconciliation_items_status", "status", "gateway"),
        sa.Index("ix_reconciliation_items_order", "store", "order_id"),
        sa.Index("ix_reconciliation_items_last_run", "last_run_id"),
    )


# --------------------------------------------------------------------------------------------------
# Notifications

# queued -> claimed (a dispatch took it) -> sending (marked before the provider call) -> sent (the provider
# accepted it) -> delivered | undelivered. Final without a provider: failed (bad input or a permanent
# refusal), suppressed (the recipient opted out), cancelled (the settings turn its channel or event off),
# unknown (a send in doubt that the provider cannot settle: a person decides).
OUTBOX_STATUSES = (
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


class OutboxMessage(Base):
    """A notification to send exactly once: the idempotency key is unique and travels to the provider."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    channel: Mapped[str] = mapped_column(sa.String(10))
    recipient: Mapped[str] = mapped_column(sa.String(320))
    template: Mapped[str] = mapped_column(sa.String(100))  # the event: order-confirmation, direct, ...
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(sa.String(12), default="queued")
    provider_id: Mapped[str | None] = mapped_column(sa.String(200))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    # Higher goes first (the seed's `urgent`, an email's `priority`, operator alerts).
    priority: Mapped[int] = mapped_column(sa.SmallInteger, default=0, server_default="0")
    # What it is about, e.g. `order:default:123` (for people and the CLI; never parsed for decisions).
    reference: Mapped[str | None] = mapped_column(sa.String(200))
    # A requested send time: emails sharing a template and a send time go out in one request.
    send_at: Mapped[datetime | None]
    # The text as sent (SMS `body`; email `subject`, `text`, `html`), stored when the row is marked
    # `sending`, so a send in doubt can be matched against what the provider has.
    rendered: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # Who holds the row and until when: a claim, then the send. An expired lease is recovered.
    claimed_by: Mapped[str | None] = mapped_column(sa.String(64))
    claimed_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    error_code: Mapped[str | None] = mapped_column(sa.String(40))
    provider_status: Mapped[str | None] = mapped_column(sa.String(30))
    # Where a permanently failed SMS falls back to (the customer's email), when the settings allow.
    fallback_email: Mapped[str | None] = mapped_column(sa.String(320))
    __table_args__ = (
        _enum_check("status", OUTBOX_STATUSES),
        _enum_check("channel", ("sms", "email")),
        sa.Index("ix_outbox_due", "status", "next_attempt_at"),
        sa.Index("ix_outbox_provider", "channel", "provider_id"),
        sa.Index("ix_outbox_claim", "channel", "status", "priority", "id"),
        sa.Index("ix_outbox_lease", "status", "lease_until"),
        sa.Index("ix_outbox_reference", "reference"),
    )


class Suppression(Base):
    """A phone or email that opted out; never message it."""

    __tablename__ = "suppressions"
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(10))
    recipient: Mapped[str] = mapped_column(sa.String(320))
    reason: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (
        sa.UniqueConstraint("channel", "recipient"),
        _enum_check("channel", ("sms", "email")),
    )


class NotificationStore(Base):
    """Per store: from when order changes raise customer notifications (the end of its first full sync).

    A store without a row raises none: the first sync mirrors past orders without messaging anyone.
    """

    __tablename__ = "notification_stores"
    store: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    events_from: Mapped[datetime]


class NotificationRun(Base):
    """One dispatch (or direct send, or status update) run: status, counts, error."""

    __tablename__ = "notification_runs"
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(30))
    status: Mapped[str] = mapped_column(sa.String(20), default="running")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    duration_ms: Mapped[int | None]
    flow_run_id: Mapped[str | None] = mapped_column(sa.String(64))
    counts: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    error: Mapped[str | None] = mapped_column(sa.Text)
    __table_args__ = (
        _enum_check("status", SYNC_STATUSES),
        sa.Index("ix_notification_runs_started", "kind", "started_at"),
    )


# --------------------------------------------------------------------------------------------------
# Webhook inbox

INBOX_STATUSES = ("pending", "processing", "done", "failed", "ignored")


class WebhookEvent(Base):
    """A vendor webhook, stored before it is acknowledged; `event_key` dedupes redeliveries.

    The receiver's dispatcher (see `hub.inbox`) claims `pending` rows that are due (`next_attempt_at`),
    holds them `processing` under a lease (`lease_until`, `claimed_by`) while their handler starts a
    flow run keyed by `run_key`, and closes them `done` (or `failed` after its retries, or `ignored`).
    """

    __tablename__ = "webhook_events"
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    source: Mapped[str] = mapped_column(sa.String(50))
    event_key: Mapped[str] = mapped_column(sa.String(200))
    topic: Mapped[str] = mapped_column(sa.String(100))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(sa.String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    flow_run_id: Mapped[str | None] = mapped_column(sa.String(64))
    error: Mapped[str | None] = mapped_column(sa.Text)
    processed_at: Mapped[datetime | None]
    # Added by 0006 (issue 12): which block/account the event is for (a store, a third-party service),
    # the object it is about (`order.123`, `charge.ch_...`), and the dispatcher's bookkeeping.
    account: Mapped[str | None] = mapped_column(sa.String(100))
    resource: Mapped[str | None] = mapped_column(sa.String(200))
    next_attempt_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(sa.String(100))
    run_key: Mapped[str | None] = mapped_column(sa.String(100))
    replays: Mapped[int] = mapped_column(default=0, server_default=sa.text("0"))
    __table_args__ = (
        sa.UniqueConstraint("source", "event_key"),
        _enum_check("status", INBOX_STATUSES),
        sa.Index("ix_webhook_events_status", "status", "received_at"),
        sa.Index("ix_webhook_events_due", "status", "next_attempt_at"),
    )


# --------------------------------------------------------------------------------------------------
# The old service's analytics tables: same names and columns its documented SQL uses.


class RealTimeData(Base):
    __tablename__ = "real_time_data"
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    data_type: Mapped[str] = mapped_column(sa.String(100))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    source: Mapped[str | None] = mapped_column(sa.String(100))
    timestamp: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (sa.Index("ix_real_time_data_type_ts", "data_type", "timestamp"),)


class DashboardMetric(Base):
    __tablename__ = "dashboard_metrics"
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    metric_name: Mapped[str] = mapped_column(sa.String(100))
    metric_value: Mapped[float] = mapped_column(sa.Float)  # a measurement (durations, rates), not money
    unit: Mapped[str | None] = mapped_column(sa.String(20))
    tags: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    timestamp: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (sa.Index("ix_dashboard_metrics_name_ts", "metric_name", "timestamp"),)


class DashboardEvent(Base):
    __tablename__ = "dashboard_events"
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    event_type: Mapped[str] = mapped_column(sa.String(100))
    event_source: Mapped[str] = mapped_column(sa.String(100), default="api_integration")
    severity: Mapped[str] = mapped_column(sa.String(10), default="info")
    message: Mapped[str | None] = mapped_column(sa.Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    timestamp: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (
        sa.Index("ix_dashboard_events_type_ts", "event_type", "timestamp"),
        sa.Index("ix_dashboard_events_source_sev", "event_source", "severity", "timestamp"),
    )


MIRROR_TABLES: dict[str, type[Base]] = {
    "products": Product,
    "customers": Customer,
    "orders": Order,
}
