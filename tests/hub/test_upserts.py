"""Upsert semantics on both backends: insert, update, unchanged hash is a no-op, tombstones, dirty rows."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from hub import cursors
from hub.db import create_hub_engine
from hub.models import Order, OrderLineItem, OrderRefund, Product
from hub.records import MalformedRecord, order_rows, product_row
from hub.upserts import replace_order_children, tombstone, tombstone_missing, upsert_mirror

P = Product.__table__


def _product(pid: int, price: str = "10.00", modified: str = "2024-05-01T10:00:00") -> dict:
    return {
        "id": pid,
        "name": f"Product {pid}",
        "type": "simple",
        "sku": f"SKU-{pid}",
        "status": "publish",
        "regular_price": price,
        "sale_price": "",
        "stock_quantity": 5,
        "stock_status": "instock",
        "date_modified_gmt": modified,
    }


@pytest.fixture
def engine(hub_url: str) -> sa.Engine:
    return create_hub_engine(hub_url)


def _upsert(engine: sa.Engine, objs: list[dict], **kw):  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        return upsert_mirror(conn, "products", "s1", [product_row(o) for o in objs], **kw)


def test_insert_then_update_then_noop(engine: sa.Engine) -> None:
    r = _upsert(engine, [_product(1), _product(2)])
    assert (r.inserted, r.updated, r.unchanged) == (2, 0, 0)

    with engine.connect() as conn:
        synced_before = conn.execute(sa.select(P.c.synced_at).where(P.c.remote_id == 2)).scalar_one()

    r = _upsert(engine, [_product(1, price="12.50", modified="2024-05-02T10:00:00"), _product(2)])
    assert (r.inserted, r.updated, r.unchanged) == (0, 1, 1)
    assert r.written == [1]

    with engine.connect() as conn:
        rows = {row.remote_id: row for row in conn.execute(sa.select(P))}
    assert rows[1].regular_price == Decimal("12.50")
    assert rows[1].date_modified_gmt == datetime(2024, 5, 2, 10, tzinfo=UTC)
    assert rows[2].synced_at == synced_before, "an unchanged row must not be rewritten"


def test_same_store_ids_do_not_collide_across_stores(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        upsert_mirror(conn, "products", "a", [product_row(_product(1))])
        upsert_mirror(conn, "products", "b", [product_row(_product(1, price="99"))])
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(P)).scalar_one() == 2


def test_duplicates_in_one_batch_keep_the_last(engine: sa.Engine) -> None:
    r = _upsert(engine, [_product(1, price="1"), _product(1, price="2")])
    assert r.inserted == 1
    with engine.connect() as conn:
        assert conn.execute(sa.select(P.c.regular_price)).scalar_one() == Decimal("2")


def test_tombstone_and_revival(engine: sa.Engine) -> None:
    _upsert(engine, [_product(1), _product(2), _product(3)])
    with engine.begin() as conn:
        assert tombstone(conn, "products", "s1", [2]) == 1
        assert tombstone(conn, "products", "s1", [2]) == 0, "already tombstoned"
        assert tombstone_missing(conn, "products", "s1", [1, 2]) == 1  # 3 vanished
    with engine.connect() as conn:
        deleted = dict(conn.execute(sa.select(P.c.remote_id, P.c.deleted_at)).all())
    assert deleted[1] is None and deleted[2] is not None and deleted[3] is not None
    assert deleted[3].tzinfo is not None

    # A tombstoned record that comes back unchanged is revived (counts as an update).
    r = _upsert(engine, [_product(3)])
    assert (r.updated, r.unchanged) == (1, 0)
    with engine.connect() as conn:
        assert conn.execute(sa.select(P.c.deleted_at).where(P.c.remote_id == 3)).scalar_one() is None


def test_dirty_rows_are_not_overwritten_unless_asked(engine: sa.Engine) -> None:
    _upsert(engine, [_product(1)])
    with engine.begin() as conn:
        conn.execute(
            sa.update(P).values(dirty=True, local_changes={"regular_price": "8.00"}).where(P.c.remote_id == 1)
        )
    r = _upsert(engine, [_product(1, price="15.00")])
    assert r.skipped_dirty == [1] and r.updated == 0
    with engine.connect() as conn:
        assert conn.execute(sa.select(P.c.regular_price)).scalar_one() == Decimal("10.00")

    r = _upsert(engine, [_product(1, price="15.00")], overwrite_dirty=True)
    assert r.updated == 1
    with engine.connect() as conn:
        row = conn.execute(sa.select(P)).one()
    assert row.regular_price == Decimal("15.00") and row.dirty is False and row.local_changes is None


def test_order_children_are_replaced(engine: sa.Engine) -> None:
    order = {
        "id": 7,
        "number": "7",
        "status": "processing",
        "currency": "usd",
        "total": "29.35",
        "customer_id": 0,
        "billing": {"email": "a@example.com", "phone": ""},
        "payment_method": "stripe",
        "transaction_id": "ch_1",
        "date_created_gmt": "2024-05-01T10:00:00",
        "date_paid_gmt": None,
        "date_modified_gmt": "2024-05-01T10:00:00",
        "line_items": [
            {
                "id": 70,
                "product_id": 1,
                "variation_id": 0,
                "quantity": 2,
                "price": 12.5,
                "subtotal": "25.00",
                "total": "25.00",
                "sku": "A",
                "name": "A",
            },
        ],
        "refunds": [{"id": 700, "reason": "", "total": "-5.00"}],
    }
    rows = order_rows(order)
    with engine.begin() as conn:
        r = upsert_mirror(conn, "orders", "s1", [rows.order])
        replace_order_children(conn, "s1", r.written, rows.line_items, rows.refunds)
    with engine.connect() as conn:
        o = conn.execute(sa.select(Order.__table__)).one()
        assert (o.total, o.currency, o.customer_remote_id) == (Decimal("29.35"), "USD", None)
        item = conn.execute(sa.select(OrderLineItem.__table__)).one()
        assert item.price == Decimal("12.5") and item.quantity == 2
        assert conn.execute(sa.select(OrderRefund.__table__.c.amount)).scalar_one() == Decimal("5.00")

    order["line_items"] = [dict(order["line_items"][0], id=71, quantity=1)]
    order["date_modified_gmt"] = "2024-05-02T10:00:00"
    rows = order_rows(order)
    with engine.begin() as conn:
        r = upsert_mirror(conn, "orders", "s1", [rows.order])
        replace_order_children(conn, "s1", r.written, rows.line_items, rows.refunds)
    with engine.connect() as conn:
        ids = conn.execute(sa.select(OrderLineItem.__table__.c.remote_id)).scalars().all()
    assert ids == [71]


def test_cursor_moves_with_its_batch_and_never_backwards(engine: sa.Engine) -> None:
    t1 = datetime(2024, 5, 1, tzinfo=UTC)
    t0 = datetime(2024, 4, 1, tzinfo=UTC)
    with pytest.raises(RuntimeError):
        with engine.begin() as conn:
            upsert_mirror(conn, "products", "s1", [product_row(_product(1))])
            cursors.advance(conn, "s1", "products", modified_after=t1)
            raise RuntimeError("crash before commit")
    with engine.connect() as conn:
        assert cursors.read(conn, "s1", "products").modified_after is None
        assert conn.execute(sa.select(sa.func.count()).select_from(P)).scalar_one() == 0
    with engine.begin() as conn:
        cursors.advance(conn, "s1", "products", modified_after=t1, state={"page": 3})
        cursors.advance(conn, "s1", "products", modified_after=t0)
    with engine.connect() as conn:
        assert cursors.read(conn, "s1", "products").modified_after == t1


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"id": None}, "invalid id"),
        ({"date_modified_gmt": "yesterday"}, "not an ISO 8601 date"),
        ({"regular_price": "ten"}, "regular_price is not a number"),
    ],
    ids=["missing-id", "bad-date", "bad-price"],
)
def test_malformed_records_name_the_reason(change: dict, reason: str) -> None:
    with pytest.raises(MalformedRecord, match=reason):
        product_row({**_product(1), **change})
