"""Building reconciliation scenarios in a hub: orders written the way the sync writes them (WooCommerce
JSON through `hub.records` and `hub.upserts`), ledger rows through `hub.ledger`'s writes."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from hub.ledger import append_payout_entries, upsert_payouts, upsert_transactions
from hub.records import order_rows
from hub.upserts import replace_order_children, upsert_mirror

STORE = "shop"
T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
METHOD = {
    "stripe": "stripe",
    "paypal": "ppcp-gateway",
    "square": "square_credit_card",
    "authorizenet": "authorize_net_cim_credit_card",
}
_refund_ids = itertools.count(90_000)


def gmt(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def order_json(
    order_id: int,
    *,
    total: str = "25.00",
    currency: str = "USD",
    status: str = "completed",
    gateway: str | None = "stripe",
    method: str | None = None,
    txn: str | None = None,
    created: datetime = T0,
    paid: datetime | None | bool = True,
    modified: datetime | None = None,
    refunds: list[str] | None = None,
) -> dict[str, Any]:
    """A WooCommerce order as the REST API serves it. `paid=True` means paid a minute after creation."""
    paid_at = created + timedelta(minutes=1) if paid is True else (paid or None)
    return {
        "id": order_id,
        "number": str(order_id),
        "status": status,
        "currency": currency,
        "total": total,
        "customer_id": 0,
        "billing": {"email": f"buyer{order_id}@example.com", "phone": ""},
        "payment_method": method if method is not None else (METHOD[gateway] if gateway else "bacs"),
        "transaction_id": txn if txn is not None else (f"ch_{order_id}" if paid_at else ""),
        "date_created_gmt": gmt(created),
        "date_paid_gmt": gmt(paid_at),
        "date_modified_gmt": gmt(modified or (paid_at or created) + timedelta(minutes=5)),
        "line_items": [],
        "refunds": [{"id": next(_refund_ids), "reason": "", "total": f"-{a}"} for a in (refunds or [])],
    }


def write_orders(engine: sa.Engine, *orders: dict[str, Any], store: str = STORE) -> None:
    """Mirror orders exactly as the sync does (rows, then line items and refunds)."""
    parsed = [order_rows(o) for o in orders]
    with engine.begin() as conn:
        upsert_mirror(conn, "orders", store, [p.order for p in parsed])
        replace_order_children(
            conn,
            store,
            [p.order["remote_id"] for p in parsed],
            [i for p in parsed for i in p.line_items],
            [r for p in parsed for r in p.refunds],
        )


def charge(
    gateway_id: str,
    *,
    gateway: str = "stripe",
    order_id: int | None = None,
    amount: int = 2500,
    currency: str = "USD",
    status: str = "succeeded",
    captured: bool = True,
    created: datetime = T0 + timedelta(minutes=1),
    alt_id: str | None = None,
    refunded: int = 0,
    decline_code: str | None = None,
) -> dict[str, Any]:
    return {
        "gateway": gateway,
        "kind": "charge",
        "gateway_id": gateway_id,
        "alt_id": alt_id,
        "order_ref": None if order_id is None else str(order_id),
        "order_id": order_id,
        "status": status,
        "captured": captured,
        "amount_minor": amount,
        "currency": currency,
        "amount_refunded_minor": refunded,
        "decline_code": decline_code,
        "failure_code": "card_declined" if decline_code else None,
        "created_at": created,
    }


def child(
    kind: str,
    gateway_id: str,
    parent: str,
    *,
    gateway: str = "stripe",
    amount: int = 2500,
    currency: str = "USD",
    status: str | None = None,
    created: datetime = T0 + timedelta(hours=2),
    updated: datetime | None = None,
) -> dict[str, Any]:
    return {
        "gateway": gateway,
        "kind": kind,
        "gateway_id": gateway_id,
        "parent_id": parent,
        "status": status or ("succeeded" if kind == "refund" else "open"),
        "amount_minor": amount,
        "currency": currency,
        "created_at": created,
        "updated_at": updated,
    }


def write_ledger(
    engine: sa.Engine,
    transactions: list[dict[str, Any]] = (),  # type: ignore[assignment]
    payouts: list[dict[str, Any]] = (),  # type: ignore[assignment]
    entries: list[dict[str, Any]] = (),  # type: ignore[assignment]
) -> None:
    with engine.begin() as conn:
        upsert_transactions(conn, list(transactions))
        upsert_payouts(conn, list(payouts))
        append_payout_entries(conn, list(entries))


def paid_pair(
    order_id: int, *, gateway: str = "stripe", amount: int = 2500, **order: Any
) -> tuple[dict, dict]:
    """A consistent order and its charge."""
    total = f"{amount // 100}.{amount % 100:02d}"
    return (
        order_json(order_id, total=total, gateway=gateway, txn=f"ch_{order_id}", **order),
        charge(f"ch_{order_id}", gateway=gateway, order_id=order_id, amount=amount),
    )


def items(
    engine: sa.Engine, *, statuses: tuple[str, ...] = ("open", "pending", "resolved")
) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT id, category, status, resolution, gateway, order_id, gateway_id, related_id, "
                "item_key, "
                "message, expected_minor, actual_minor FROM reconciliation_items ORDER BY id"
            )
        ).mappings()
        return [dict(r) for r in rows if r["status"] in statuses]


def keys(found: list[dict[str, Any]]) -> set[tuple[str, str, int | None, str]]:
    return {(i["category"], i["gateway"], i["order_id"], i["gateway_id"]) for i in found}
